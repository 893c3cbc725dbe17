#include "plugin_harness_core.hpp"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace plugin_test {

Record to_record(const conn_resource *r) {
    Record rec;
    rec.type = str(r->type);
    rec.id = str(r->id);
    rec.display_name = str(r->display_name);
    for (size_t i = 0; i < r->attr_count; ++i) {
        const conn_attr &a = r->attrs[i];
        if (a.kind == CONN_ATTR_STRING)
            rec.attrs[str(a.key)] = str(a.str);
        else if (a.kind == CONN_ATTR_BOOL)
            rec.attrs[str(a.key)] = a.num != 0 ? "true" : "false";
        else
            rec.attrs[str(a.key)] = std::to_string(a.num);
    }
    return rec;
}

GrantRec to_grant(const conn_grant *g) {
    return GrantRec{str(g->id), str(g->entitlement_id), str(g->principal_type), str(g->principal_id), g->flags};
}

EntRec to_entitlement(const conn_entitlement *e) {
    return EntRec{str(e->id), str(e->resource_type), str(e->resource_id), str(e->slug), str(e->display_name), e->purpose};
}

// ---- sink and call -----------------------------------------------------------------------------------------------

namespace {

int32_t CONN_CALL call_cancelled(void *ctx) { return static_cast<CallHandlers *>(ctx)->cancelled() ? 1 : 0; }
void CONN_CALL call_progress(void *ctx, const conn_progress *p) { static_cast<CallHandlers *>(ctx)->progress(*p); }

}  // namespace

conn_sink make_sink(SinkHandlers &handlers) {
    SinkHandlers *h = &handlers;
    handlers.adapter.on_resource = [h](const conn_resource &r) {
        return h->resource ? h->resource(to_record(&r)) : CONN_SINK_CONTINUE;
    };
    handlers.adapter.on_entitlement = [h](const conn_entitlement &e) {
        return h->entitlement ? h->entitlement(to_entitlement(&e)) : CONN_SINK_CONTINUE;
    };
    handlers.adapter.on_grant = [h](const conn_grant &g) { return h->grant ? h->grant(to_grant(&g)) : CONN_SINK_CONTINUE; };
    handlers.adapter.on_warning = [h](std::string_view code, std::string_view message) {
        return h->warning ? h->warning(std::string(code), std::string(message)) : CONN_SINK_CONTINUE;
    };
    if (handlers.checkpoint)
        handlers.adapter.on_checkpoint = [h](std::string_view token) { return h->checkpoint(std::string(token)); };
    return handlers.adapter.abi();
}

conn_call make_call(CallHandlers &handlers) {
    auto call = conn::make<conn_call>();
    call.ctx = &handlers;
    if (handlers.cancelled) call.is_cancelled = &call_cancelled;
    if (handlers.progress) call.progress = &call_progress;
    return call;
}

// ---- instances and operations ------------------------------------------------------------------------------------

namespace {
std::vector<conn_kv> to_kvs(const Entries &entries) {
    std::vector<conn_kv> kvs;
    for (const auto &[k, v] : entries) kvs.push_back(conn_kv{conn::str(k), conn::str(v)});
    return kvs;
}
}  // namespace

conn_status create_instance(const conn_connector_v1 &v, const Entries &config, conn_host &host, void *log_ctx,
                            void(CONN_CALL *log)(void *ctx, int32_t level, conn_str message), conn::Instance &inst,
                            conn_error &err) {
    const std::vector<conn_kv> kvs = to_kvs(config);
    auto cfg = conn::make<conn_config>();
    cfg.entries = kvs.data();
    cfg.entry_count = kvs.size();
    host = conn::make<conn_host>();
    host.ctx = log_ctx;
    host.log = log;
    err = conn::make_error();
    return inst.create(v, cfg, &host, &err);
}

conn_status run_check(const conn_connector_v1 &v, conn_instance *inst, const conn_call &call,
                      conn_check_result &result, conn_error &err) {
    result = conn::make<conn_check_result>();
    err = conn::make_error();
    return v.check(inst, &call, &result, &err);
}

conn_status run_sync(const conn_connector_v1 &v, conn_instance *inst, const conn_call &call, const conn_sink &sink,
                     conn_sync_result &result, conn_error &err, std::string_view resume_from) {
    auto opts = conn::make<conn_sync_options>();
    opts.resume_from = conn::str(resume_from);
    result = conn::make<conn_sync_result>();
    err = conn::make_error();
    return v.sync(inst, &call, &opts, &sink, &result, &err);
}

conn_status run_create_account(const conn_connector_v1 &v, conn_instance *inst, const conn_call &call,
                               const Entries &fields, const conn_sink &sink, conn_outcome &outcome, conn_error &err) {
    const std::vector<conn_kv> kvs = to_kvs(fields);
    auto req = conn::make<conn_account_request>();
    req.fields = kvs.data();
    req.field_count = kvs.size();
    err = conn::make_error();
    return v.create_account(inst, &call, &req, &sink, &outcome, &err);
}

conn_status run_delete_resource(const conn_connector_v1 &v, conn_instance *inst, const conn_call &call,
                                const std::string &type, const std::string &id, conn_outcome &outcome, conn_error &err) {
    err = conn::make_error();
    return v.delete_resource(inst, &call, conn::str(type), conn::str(id), &outcome, &err);
}

conn_status run_grant(const conn_connector_v1 &v, conn_instance *inst, const conn_call &call,
                      const std::string &entitlement, const std::string &ptype, const std::string &pid,
                      const conn_sink &sink, conn_outcome &outcome, conn_error &err) {
    err = conn::make_error();
    return v.grant(inst, &call, conn::str(entitlement), conn::str(ptype), conn::str(pid), &sink, &outcome, &err);
}

conn_status run_revoke(const conn_connector_v1 &v, conn_instance *inst, const conn_call &call,
                       const std::string &entitlement, const std::string &ptype, const std::string &pid,
                       conn_outcome &outcome, conn_error &err) {
    err = conn::make_error();
    return v.revoke(inst, &call, conn::str(entitlement), conn::str(ptype), conn::str(pid), &outcome, &err);
}

// ---- truth ---------------------------------------------------------------------------------------------------------

Truth parse_truth(const std::string &state_json) {
    rapidjson::Document d;
    d.Parse(state_json.c_str(), state_json.size());
    if (d.HasParseError() || !d.IsObject()) throw std::runtime_error("the simulator's state is not a JSON object");
    Truth t;
    for (const auto &u : d["users"].GetArray()) {
        Truth::User user;
        user.id = u["id"].GetString();
        user.user_name = u["userName"].GetString();
        if (u.HasMember("displayName") && u["displayName"].IsString()) user.display_name = u["displayName"].GetString();
        user.active = !u.HasMember("active") || u["active"].GetBool();
        t.users[user.id] = user;
    }
    for (const auto &g : d["groups"].GetArray()) {
        Truth::Group group;
        group.id = g["id"].GetString();
        if (g.HasMember("displayName") && g["displayName"].IsString()) group.display_name = g["displayName"].GetString();
        if (g.HasMember("members"))
            for (const auto &m : g["members"].GetArray()) group.members.emplace_back(m.GetString());
        t.groups[group.id] = group;
    }
    return t;
}

// ---- scripted server -----------------------------------------------------------------------------------------------

struct ScriptServer::Impl {
    httplib::Server server;
    std::thread thread;
    int port = 0;
    Handler handler;
    std::atomic<bool> stopping{false};
    mutable std::mutex mu;
    std::vector<Req> requests;
};

namespace {
// The path, then the query parameters as httplib decoded them (sorted by name), joined again.
std::string path_and_query(const httplib::Request &req) {
    std::string target = req.path;
    if (!req.params.empty()) {
        target += '?';
        bool first = true;
        for (const auto &[k, v] : req.params) {
            if (!first) target += '&';
            first = false;
            target += k + "=" + v;
        }
    }
    return target;
}
}  // namespace

ScriptServer::ScriptServer(Handler handler) : impl_(std::make_unique<Impl>()) {
    impl_->handler = std::move(handler);
    Impl *impl = impl_.get();
    impl->server.set_payload_max_length(64u * 1024 * 1024);
    // Route handlers (not the pre-routing hook) so that request bodies have been read.
    const auto handle = [impl](const httplib::Request &req, httplib::Response &res) {
        Req r{req.method, req.target, req.get_header_value("Authorization"), req.body, path_and_query(req), 0,
              std::chrono::steady_clock::now()};
        {
            std::lock_guard<std::mutex> lock(impl->mu);
            r.nth = static_cast<int>(impl->requests.size());
            impl->requests.push_back(r);
        }
        Reply reply = impl->handler(r);
        for (int waited = 0; waited < reply.delay_ms && !impl->stopping.load(); waited += 10)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        res.status = reply.status;
        for (const auto &[k, v] : reply.headers) res.set_header(k, v);
        if (reply.stream_bytes > 0) {
            auto left = std::make_shared<size_t>(reply.stream_bytes);
            res.set_chunked_content_provider(reply.content_type, [impl, left](size_t, httplib::DataSink &sink) {
                static const std::string chunk(64 * 1024, ' ');
                if (impl->stopping.load() || *left == 0) {
                    sink.done();
                    return true;
                }
                const size_t n = std::min(*left, chunk.size());
                *left -= n;
                return sink.write(chunk.data(), n);
            });
        } else if (!reply.body.empty() || !reply.content_type.empty()) {
            res.set_content(reply.body, reply.content_type.c_str());
        }
    };
    impl->server.Get(".*", handle).Post(".*", handle).Put(".*", handle).Patch(".*", handle).Delete(".*", handle).Options(".*", handle);
    impl->port = impl->server.bind_to_any_port("127.0.0.1");
    if (impl->port <= 0) throw std::runtime_error("the scripted server could not bind 127.0.0.1");
    impl->thread = std::thread([impl] { impl->server.listen_after_bind(); });
    // stop() only stops a server that is running: wait until the accept loop has started (bounded).
    for (int i = 0; i < 2500 && !impl->server.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    if (!impl->server.is_running()) {
        stop();
        throw std::runtime_error("the scripted server did not start");
    }
}

ScriptServer::~ScriptServer() { stop(); }

void ScriptServer::stop() {
    impl_->stopping = true;
    impl_->server.stop();
    if (impl_->thread.joinable()) impl_->thread.join();
}

int ScriptServer::port() const { return impl_->port; }
std::string ScriptServer::origin() const { return "http://127.0.0.1:" + std::to_string(impl_->port); }
std::string ScriptServer::url() const { return origin() + "/scim/v2"; }
std::vector<Req> ScriptServer::requests() const {
    std::lock_guard<std::mutex> lock(impl_->mu);
    return impl_->requests;
}

int closed_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error("socket failed");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    if (::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len) != 0) {
        ::close(fd);
        throw std::runtime_error("could not bind a port on 127.0.0.1");
    }
    ::close(fd);  // never listened: connections to it are refused
    return ntohs(a.sin_port);
}

}  // namespace plugin_test
