#include "abi/sink_adapter.hpp"

#include "abi/host_args.hpp"

namespace ce::abi {
namespace {

conn_attr to_conn(const Attr &a) {
    conn_attr ca{};
    ca.key = cstr(a.key);
    switch (a.kind) {
    case Attr::Kind::string:
        ca.kind = CONN_ATTR_STRING;
        ca.str = cstr(a.str);
        break;
    case Attr::Kind::integer:
        ca.kind = CONN_ATTR_INT;
        ca.num = a.num;
        break;
    case Attr::Kind::boolean:
        ca.kind = CONN_ATTR_BOOL;
        ca.num = a.num ? 1 : 0;
        break;
    }
    return ca;
}

}  // namespace

bool SinkAdapter::answer(int32_t reply) {
    stopped_ = reply != CONN_SINK_CONTINUE;
    return !stopped_;
}

bool SinkAdapter::resource(const Resource &r) {
    if (stopped_) return false;
    if (!open_ || !sink_ || !sink_->on_resource) return true;
    attrs_.clear();
    for (const auto &a : r.attrs) attrs_.push_back(to_conn(a));
    conn_resource cr{};
    cr.struct_size = sizeof cr;
    cr.type = cstr(r.type);
    cr.id = cstr(r.id);
    cr.display_name = cstr(r.display_name);
    cr.attrs = attrs_.empty() ? nullptr : attrs_.data();
    cr.attr_count = attrs_.size();
    return answer(sink_->on_resource(sink_->ctx, &cr));
}

bool SinkAdapter::entitlement(const Entitlement &e) {
    if (stopped_) return false;
    if (!open_ || !sink_ || !sink_->on_entitlement) return true;
    conn_entitlement ce{};
    ce.struct_size = sizeof ce;
    ce.purpose = CONN_PURPOSE_ASSIGNMENT;
    ce.id = cstr(e.id);
    ce.resource_type = cstr(e.resource_type);
    ce.resource_id = cstr(e.resource_id);
    ce.slug = cstr(e.slug);
    ce.display_name = cstr(e.display_name);
    return answer(sink_->on_entitlement(sink_->ctx, &ce));
}

bool SinkAdapter::grant(const Grant &g) {
    if (stopped_) return false;
    if (!open_ || !sink_ || !sink_->on_grant) return true;
    conn_grant cg{};
    cg.struct_size = sizeof cg;
    cg.flags = g.unresolved ? CONN_GRANT_UNRESOLVED_PRINCIPAL : 0u;
    cg.id = cstr(g.id);
    cg.entitlement_id = cstr(g.entitlement_id);
    cg.principal_type = cstr(g.principal_type);
    cg.principal_id = cstr(g.principal_id);
    return answer(sink_->on_grant(sink_->ctx, &cg));
}

bool SinkAdapter::warning(std::string_view code, std::string_view message) {
    if (stopped_) return false;
    if (!open_ || !sink_ || !sink_->on_warning) return true;
    return answer(sink_->on_warning(sink_->ctx, cstr(code), cstr(message)));
}

bool SinkAdapter::checkpoint(std::string_view token) {
    if (stopped_) return false;
    if (!open_ || !sink_ || !sink_->on_checkpoint) return true;
    return answer(sink_->on_checkpoint(sink_->ctx, cstr(token)));
}

}  // namespace ce::abi
