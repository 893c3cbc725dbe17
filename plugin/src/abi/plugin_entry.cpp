// The thin ABI glue: the exported entry, init/deinit, the connector.v1 vtable, argument validation, the
// conversion between C views and the connector's C++ records, and the wall that no exception crosses.
#include <connector/connector_abi.h>
#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "abi/abi_text.hpp"
#include "abi/descriptor.hpp"
#include "common/scrubber.hpp"
#include "connector/connector.hpp"
#include "scim/paging_planner.hpp"
#include "scim/scim_json.hpp"

using ce::ErrorKind;
using namespace ce::connector;

struct conn_instance {
    std::unique_ptr<Connector> connector;
    ce::Scrubber scrubber;
    void *host_ctx = nullptr;
    void(CONN_CALL *host_log)(void *, int32_t, conn_str) = nullptr;
    std::atomic<bool> busy{false};
};

namespace {

std::atomic<bool> g_initialised{false};
std::atomic<int> g_instances{0};
std::atomic<bool> g_curl_leaked{false};  // a deinit ran with live instances and kept libcurl initialised

std::string_view view(conn_str s) { return s.size ? std::string_view(s.data, s.size) : std::string_view(); }
conn_str cstr(const std::string &s) { return conn_str{s.data(), s.size()}; }
bool valid_str(conn_str s) { return s.data != nullptr || s.size == 0; }

// An error raised by the glue itself (before any connector code runs).
struct GlueError {
    conn_status status;
    const char *field;
    const char *message;
};

void log_to_host(void *ctx, void(CONN_CALL *fn)(void *, int32_t, conn_str), const ce::Scrubber &scrubber,
                 ce::LogLevel level, const std::string &message) noexcept {
    if (!fn) return;
    try {
        const std::string clean = ce::abi::sanitize_utf8(scrubber.scrub(message));
        fn(ctx, static_cast<int32_t>(level), cstr(clean));
    } catch (...) {
        // Logging never fails an operation.
    }
}

// Runs `body`, mapping every exception to a status and a filled conn_error.
template <typename F>
conn_status guarded(conn_error *err, const ce::Scrubber *scrubber, F &&body) noexcept {
    std::string field, message;
    conn_status status = CONN_OK;
    long http_status = 0;
    int64_t retry_after = 0;
    try {
        try {
            body();
            ce::abi::fill_error(err, CONN_OK, 0, 0, "", "");
            return CONN_OK;
        } catch (const GlueError &e) {
            status = e.status;
            field = e.field;
            message = e.message;
        } catch (const ce::Error &e) {
            status = ce::abi::status_for(e.kind());
            http_status = e.http_status();
            retry_after = e.retry_after_ms();
            field = e.field();
            message = e.what();
        } catch (const ce::http::Cancelled &) {
            status = CONN_ERR_CANCELLED;
            message = "the operation was cancelled by the host";
        } catch (const ce::scim::ParseError &e) {
            status = CONN_ERR_TRANSIENT;
            message = std::string("the service sent a malformed response: ") + e.what();
        } catch (const ce::scim::PagingError &e) {
            status = CONN_ERR_TRANSIENT;
            message = e.what();
        } catch (const std::bad_alloc &) {
            status = CONN_ERR_INTERNAL;
            message = "out of memory";
        } catch (const std::exception &e) {
            status = CONN_ERR_INTERNAL;
            message = std::string("internal error: ") + e.what();
        } catch (...) {
            status = CONN_ERR_INTERNAL;
            message = "internal error (unknown exception)";
        }
        if (scrubber) {
            message = scrubber->scrub(message);
            field = scrubber->scrub(field);
        }
        ce::abi::fill_error(err, status, http_status, retry_after, ce::abi::sanitize_utf8(field),
                            ce::abi::sanitize_utf8(message));
    } catch (...) {
        if (status == CONN_OK) status = CONN_ERR_INTERNAL;
        ce::abi::fill_error(err, status, http_status, retry_after, "", "internal error (out of memory)");
    }
    return status;
}

// An operation on `instance` behind the wall: errors are scrubbed of the instance's token (when there is one).
template <typename F>
conn_status guarded_op(conn_instance *instance, conn_error *err, F &&body) noexcept {
    return guarded(err, instance ? &instance->scrubber : nullptr, std::forward<F>(body));
}

// The same for an operation with an outcome: *outcome (when given) is CONN_OUTCOME_NONE unless it succeeds.
template <typename F>
conn_status guarded_outcome(conn_instance *instance, conn_outcome *outcome, conn_error *err, F &&body) noexcept {
    if (outcome) *outcome = CONN_OUTCOME_NONE;
    return guarded_op(instance, err, std::forward<F>(body));
}

void require_initialised() {
    if (!g_initialised.load()) throw GlueError{CONN_ERR_INVALID_STATE, "", "the plugin is not initialised (call init first)"};
}

// Reads a host struct the ABI way: min(struct_size, sizeof) bytes, a missing tail (an older host) as zero.
template <typename T>
std::optional<T> read_struct(const T *p, const char *field, bool optional) {
    if (!p) {
        if (optional) return std::nullopt;
        throw GlueError{CONN_ERR_INVALID_ARGUMENT, field, "a required argument is NULL"};
    }
    if (p->struct_size < sizeof(uint32_t)) throw GlueError{CONN_ERR_INVALID_ARGUMENT, field, "struct_size is too small"};
    T out{};
    std::memcpy(static_cast<void *>(&out), p, std::min<size_t>(p->struct_size, sizeof(T)));
    return out;
}

template <typename T>
const T *ptr(const std::optional<T> &o) {
    return o ? &*o : nullptr;
}

void require_str(conn_str s, const char *field) {
    if (!valid_str(s)) throw GlueError{CONN_ERR_INVALID_ARGUMENT, field, "a string has a NULL pointer and a non-zero size"};
}

// Marks the instance busy for the duration of an operation (the host serialises; this catches hosts that do not).
class BusyGuard {
public:
    explicit BusyGuard(conn_instance *inst) : inst_(inst) {
        bool expected = false;
        if (!inst_->busy.compare_exchange_strong(expected, true))
            throw GlueError{CONN_ERR_INVALID_STATE, "", "another operation is running on this instance"};
    }
    ~BusyGuard() { inst_->busy.store(false); }
    BusyGuard(const BusyGuard &) = delete;
    BusyGuard &operator=(const BusyGuard &) = delete;

private:
    conn_instance *inst_;
};

conn_instance *require_instance(conn_instance *inst) {
    require_initialised();
    if (!inst) throw GlueError{CONN_ERR_INVALID_ARGUMENT, "instance", "the instance is NULL"};
    return inst;
}

// The checks every operation on an instance starts with (the library, the instance), then its optional call.
std::optional<conn_call> open_operation(conn_instance *inst, const conn_call *call) {
    require_instance(inst);
    return read_struct(call, "call", true);
}

void require_outcome(const conn_outcome *outcome) {
    if (!outcome) throw GlueError{CONN_ERR_INVALID_ARGUMENT, "outcome", "the outcome pointer is NULL"};
}

// grant / revoke: the entitlement and the principal.
void require_grant_args(conn_str entitlement_id, conn_str principal_type, conn_str principal_id) {
    require_str(entitlement_id, "entitlement_id");
    require_str(principal_type, "principal_type");
    require_str(principal_id, "principal_id");
}

// Key/value pairs from the host (config entries, account fields), every string checked; `field` names the
// argument in errors, `null_entries` is the message when the array is NULL with a non-zero count.
std::vector<std::pair<std::string, std::string>> read_kvs(const conn_kv *kvs, size_t count, const char *field,
                                                          const char *null_entries) {
    if (count > 0 && !kvs) throw GlueError{CONN_ERR_INVALID_ARGUMENT, field, null_entries};
    std::vector<std::pair<std::string, std::string>> out;
    for (size_t i = 0; i < count; ++i) {
        require_str(kvs[i].key, field);
        require_str(kvs[i].value, field);
        out.emplace_back(std::string(view(kvs[i].key)), std::string(view(kvs[i].value)));
    }
    return out;
}

// Writes a result struct the ABI way: `full` (whose struct_size is the host's) truncated to what the host's
// struct holds; struct_size is left as the host set it.
template <typename T>
void write_result(T *result, const T &full) {
    std::memcpy(static_cast<void *>(result), &full, std::min<size_t>(result->struct_size, sizeof full));
    result->struct_size = full.struct_size;
}

CallContext make_context(const conn_call *call) {
    CallContext ctx;
    if (!call) return ctx;
    if (call->is_cancelled) {
        auto fn = call->is_cancelled;
        void *c = call->ctx;
        ctx.cancelled = [fn, c]() { return fn(c) != 0; };
    }
    if (call->progress) {
        auto fn = call->progress;
        void *c = call->ctx;
        ctx.progress = [fn, c](const Progress &p) {
            conn_progress cp{};
            cp.struct_size = sizeof cp;
            cp.phase = conn_str{p.phase.data(), p.phase.size()};
            cp.requests = p.requests;
            cp.pages = p.pages;
            cp.resources = p.resources;
            cp.entitlements = p.entitlements;
            cp.grants = p.grants;
            cp.total_hint = p.total_hint;
            fn(c, &cp);
        };
    }
    return ctx;
}

// The host's conn_sink behind the connector's RecordSink. Callbacks only while `open` (never after return).
class SinkAdapter final : public RecordSink {
public:
    explicit SinkAdapter(const conn_sink *sink) : sink_(sink) {}
    void close() { open_ = false; }

    bool resource(const Resource &r) override {
        if (!open_ || !sink_ || !sink_->on_resource) return true;
        attrs_.clear();
        for (const auto &a : r.attrs) {
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
            attrs_.push_back(ca);
        }
        conn_resource cr{};
        cr.struct_size = sizeof cr;
        cr.type = cstr(r.type);
        cr.id = cstr(r.id);
        cr.display_name = cstr(r.display_name);
        cr.attrs = attrs_.empty() ? nullptr : attrs_.data();
        cr.attr_count = attrs_.size();
        return sink_->on_resource(sink_->ctx, &cr) == CONN_SINK_CONTINUE;
    }
    bool entitlement(const Entitlement &e) override {
        if (!open_ || !sink_ || !sink_->on_entitlement) return true;
        conn_entitlement ce{};
        ce.struct_size = sizeof ce;
        ce.purpose = CONN_PURPOSE_ASSIGNMENT;
        ce.id = cstr(e.id);
        ce.resource_type = cstr(e.resource_type);
        ce.resource_id = cstr(e.resource_id);
        ce.slug = cstr(e.slug);
        ce.display_name = cstr(e.display_name);
        return sink_->on_entitlement(sink_->ctx, &ce) == CONN_SINK_CONTINUE;
    }
    bool grant(const Grant &g) override {
        if (!open_ || !sink_ || !sink_->on_grant) return true;
        conn_grant cg{};
        cg.struct_size = sizeof cg;
        cg.flags = g.unresolved ? CONN_GRANT_UNRESOLVED_PRINCIPAL : 0u;
        cg.id = cstr(g.id);
        cg.entitlement_id = cstr(g.entitlement_id);
        cg.principal_type = cstr(g.principal_type);
        cg.principal_id = cstr(g.principal_id);
        return sink_->on_grant(sink_->ctx, &cg) == CONN_SINK_CONTINUE;
    }
    bool warning(std::string_view code, std::string_view message) override {
        if (!open_ || !sink_ || !sink_->on_warning) return true;
        return sink_->on_warning(sink_->ctx, conn_str{code.data(), code.size()},
                                 conn_str{message.data(), message.size()}) == CONN_SINK_CONTINUE;
    }

private:
    const conn_sink *sink_;
    std::vector<conn_attr> attrs_;
    bool open_ = true;
};

struct SinkScope {
    SinkAdapter &s;
    ~SinkScope() { s.close(); }
};

conn_outcome to_outcome(Outcome o) {
    switch (o) {
    case Outcome::created: return CONN_OUTCOME_CREATED;
    case Outcome::already_exists: return CONN_OUTCOME_ALREADY_EXISTS;
    case Outcome::deleted: return CONN_OUTCOME_DELETED;
    case Outcome::already_deleted: return CONN_OUTCOME_ALREADY_DELETED;
    case Outcome::granted: return CONN_OUTCOME_GRANTED;
    case Outcome::already_granted: return CONN_OUTCOME_ALREADY_GRANTED;
    case Outcome::revoked: return CONN_OUTCOME_REVOKED;
    case Outcome::already_revoked: return CONN_OUTCOME_ALREADY_REVOKED;
    }
    return CONN_OUTCOME_NONE;
}

// ---- the vtable -------------------------------------------------------------------------------------------

const conn_descriptor *CONN_CALL describe() { return ce::abi::descriptor(); }

conn_status CONN_CALL instance_create(const conn_config *config, const conn_host *host, conn_instance **out,
                                      conn_error *err) {
    if (out) *out = nullptr;
    ce::Scrubber token_scrubber;
    // The token is looked up first, so that even a refusal of another field is scrubbed of it.
    if (config && config->struct_size >= offsetof(conn_config, entry_count) + sizeof(size_t) && config->entries) {
        for (size_t i = 0; i < config->entry_count; ++i)
            if (valid_str(config->entries[i].key) && valid_str(config->entries[i].value) &&
                view(config->entries[i].key) == "scim-token")
                token_scrubber = ce::Scrubber(view(config->entries[i].value));
    }
    return guarded(err, &token_scrubber, [&] {
        require_initialised();
        if (!out) throw GlueError{CONN_ERR_INVALID_ARGUMENT, "out", "the output pointer is NULL"};
        const conn_config cfg_in = *read_struct(config, "config", false);
        const auto host_in = read_struct(host, "host", true);
        Config cfg = parse_config(
            read_kvs(cfg_in.entries, cfg_in.entry_count, "config", "entries is NULL with a non-zero count"));
        auto inst = std::make_unique<conn_instance>();
        inst->scrubber = ce::Scrubber(cfg.scim_token);
        if (host_in) {
            inst->host_ctx = host_in->ctx;
            inst->host_log = host_in->log;  // NULL when the host's struct ends before it
        }
        conn_instance *raw = inst.get();
        ce::LogFn log = [raw](ce::LogLevel level, const std::string &message) {
            log_to_host(raw->host_ctx, raw->host_log, raw->scrubber, level, message);
        };
        inst->connector = std::make_unique<Connector>(std::move(cfg), std::move(log));
        ++g_instances;
        *out = inst.release();
    });
}

void CONN_CALL instance_destroy(conn_instance *instance) {
    if (!instance) return;
    try {
        delete instance;
    } catch (...) {
    }
    --g_instances;
}

conn_status CONN_CALL check(conn_instance *instance, const conn_call *call, conn_check_result *result,
                            conn_error *err) {
    return guarded_op(instance, err, [&] {
        const auto call_in = open_operation(instance, call);
        if (!result) throw GlueError{CONN_ERR_INVALID_ARGUMENT, "result", "the result pointer is NULL"};
        if (result->struct_size < sizeof(uint32_t))
            throw GlueError{CONN_ERR_INVALID_ARGUMENT, "result", "struct_size is too small"};
        BusyGuard busy(instance);
        CheckResult r = instance->connector->check(make_context(ptr(call_in)));
        conn_check_result full{};
        full.struct_size = result->struct_size;
        full.user_count = r.user_count;
        ce::abi::copy_text(full.message, sizeof full.message,
                           ce::abi::sanitize_utf8(instance->scrubber.scrub(r.message)));
        write_result(result, full);
    });
}

conn_status CONN_CALL sync(conn_instance *instance, const conn_call *call, const conn_sync_options *options,
                           const conn_sink *sink, conn_sync_result *result, conn_error *err) {
    SyncStats stats;
    conn_status st = guarded_op(instance, err, [&] {
        const auto call_in = open_operation(instance, call);
        const auto options_in = read_struct(options, "options", true);
        const auto sink_in = read_struct(sink, "sink", false);
        if (options_in) require_str(options_in->resume_from, "options");
        if (options_in && options_in->resume_from.size > 0)
            throw GlueError{CONN_ERR_UNSUPPORTED, "resume_from", "this plugin does not emit checkpoints; run a full sync"};
        BusyGuard busy(instance);
        SinkAdapter adapter(ptr(sink_in));
        SinkScope scope{adapter};
        instance->connector->sync(make_context(ptr(call_in)), adapter, stats);
    });
    if (result && result->struct_size > 0) {
        conn_sync_result full{};
        full.struct_size = result->struct_size;
        full.resources = stats.resources;
        full.entitlements = stats.entitlements;
        full.grants = stats.grants;
        full.requests = stats.requests;
        full.retries = stats.retries;
        full.pages = stats.pages;
        full.warnings = stats.warnings;
        full.unresolved_principals = stats.unresolved;
        write_result(result, full);
    }
    return st;
}

conn_status CONN_CALL create_account(conn_instance *instance, const conn_call *call,
                                     const conn_account_request *request, const conn_sink *sink,
                                     conn_outcome *outcome, conn_error *err) {
    return guarded_outcome(instance, outcome, err, [&] {
        const auto call_in = open_operation(instance, call);
        const conn_account_request req = *read_struct(request, "request", false);
        const auto sink_in = read_struct(sink, "sink", true);
        require_outcome(outcome);
        const auto fields = read_kvs(req.fields, req.field_count, "request", "fields is NULL with a non-zero count");
        BusyGuard busy(instance);
        SinkAdapter adapter(ptr(sink_in));
        SinkScope scope{adapter};
        *outcome = to_outcome(
            instance->connector->create_account(make_context(ptr(call_in)), fields, sink_in ? &adapter : nullptr));
    });
}

conn_status CONN_CALL delete_resource(conn_instance *instance, const conn_call *call, conn_str type, conn_str id,
                                      conn_outcome *outcome, conn_error *err) {
    return guarded_outcome(instance, outcome, err, [&] {
        const auto call_in = open_operation(instance, call);
        require_str(type, "resource_type");
        require_str(id, "resource_id");
        require_outcome(outcome);
        BusyGuard busy(instance);
        *outcome = to_outcome(instance->connector->delete_resource(make_context(ptr(call_in)), view(type), view(id)));
    });
}

conn_status CONN_CALL grant(conn_instance *instance, const conn_call *call, conn_str entitlement_id,
                            conn_str principal_type, conn_str principal_id, const conn_sink *sink,
                            conn_outcome *outcome, conn_error *err) {
    return guarded_outcome(instance, outcome, err, [&] {
        const auto call_in = open_operation(instance, call);
        const auto sink_in = read_struct(sink, "sink", true);
        require_grant_args(entitlement_id, principal_type, principal_id);
        require_outcome(outcome);
        BusyGuard busy(instance);
        SinkAdapter adapter(ptr(sink_in));
        SinkScope scope{adapter};
        *outcome = to_outcome(instance->connector->grant(make_context(ptr(call_in)), view(entitlement_id),
                                                         view(principal_type), view(principal_id),
                                                         sink_in ? &adapter : nullptr));
    });
}

conn_status CONN_CALL revoke(conn_instance *instance, const conn_call *call, conn_str entitlement_id,
                             conn_str principal_type, conn_str principal_id, conn_outcome *outcome, conn_error *err) {
    return guarded_outcome(instance, outcome, err, [&] {
        const auto call_in = open_operation(instance, call);
        require_grant_args(entitlement_id, principal_type, principal_id);
        require_outcome(outcome);
        BusyGuard busy(instance);
        *outcome = to_outcome(instance->connector->revoke(make_context(ptr(call_in)), view(entitlement_id),
                                                          view(principal_type), view(principal_id)));
    });
}

const conn_connector_v1 g_vtable{sizeof(conn_connector_v1), 0, &describe, &instance_create, &instance_destroy,
                                 &check, &sync, &create_account, &delete_resource, &grant, &revoke};

// ---- the entry ---------------------------------------------------------------------------------------------

conn_status CONN_CALL plugin_init() {
    if (g_initialised.load()) return CONN_ERR_INVALID_STATE;
    if (g_curl_leaked.exchange(false)) curl_global_cleanup();  // balance a deinit that had to skip it
    // Thread-safe since libcurl 7.84; reference counted, balanced by deinit.
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return CONN_ERR_INTERNAL;
    g_initialised.store(true);
    return CONN_OK;
}

void CONN_CALL plugin_deinit() {
    if (!g_initialised.exchange(false)) return;
    // The host must destroy every instance first; if it did not, libcurl stays initialised rather than being
    // pulled from under live handles.
    if (g_instances.load() == 0) curl_global_cleanup();
    else g_curl_leaked.store(true);
}

const void *CONN_CALL get_interface(const char *id) {
    if (!g_initialised.load() || !id) return nullptr;
    if (std::strcmp(id, CONN_IFACE_CONNECTOR_V1) == 0) return &g_vtable;
    return nullptr;
}

const conn_plugin_entry g_entry{sizeof(conn_plugin_entry), CONN_ABI_VERSION_MAJOR, CONN_ABI_VERSION_MINOR, 0,
                                &plugin_init, &plugin_deinit, &get_interface};

}  // namespace

extern "C" CONN_PLUGIN_ENTRY {
    if (abi_major != CONN_ABI_VERSION_MAJOR) return nullptr;
    if (abi_minor) *abi_minor = std::min<uint32_t>(*abi_minor, CONN_ABI_VERSION_MINOR);
    return &g_entry;
}
