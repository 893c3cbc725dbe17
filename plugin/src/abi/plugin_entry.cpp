// The extern "C" edge: the exported entry, init/deinit, get_interface and the connector.v1 vtable. Each vtable
// function reads its arguments (abi/host_args.hpp), runs the connector behind the wall (abi/wall.hpp) and writes
// its results; records reach the host through abi/sink_adapter.hpp.
#include <connector/connector_abi.h>
#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "abi/abi_text.hpp"
#include "abi/descriptor.hpp"
#include "abi/host_args.hpp"
#include "abi/sink_adapter.hpp"
#include "abi/wall.hpp"
#include "common/errors.hpp"
#include "common/scrubber.hpp"
#include "config/fields.hpp"
#include "connector/connector.hpp"

using ce::Error;
using namespace ce::abi;
using namespace ce::connector;

struct conn_instance {
    std::unique_ptr<Connector> connector;
    ce::Scrubber scrubber;
    void *host_ctx = nullptr;
    void(CONN_CALL *host_log)(void *, int32_t, conn_str) = nullptr;
    std::atomic<bool> busy{false};
};

namespace {

// Whether a config key names a secret field (config/fields.hpp).
bool is_secret_field(std::string_view key) {
    for (const auto &f : ce::config::kFields)
        if (f.kind == ce::config::Kind::secret && f.name == key) return true;
    return false;
}

std::atomic<bool> g_initialised{false};
std::atomic<int> g_instances{0};
std::atomic<bool> g_curl_leaked{false};  // a deinit ran with live instances and kept libcurl initialised

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
    if (!g_initialised.load()) throw Error::invalid_state("the plugin is not initialised (call init first)");
}

// Marks the instance busy for the duration of an operation (the host serialises; this catches hosts that do not).
class BusyGuard {
public:
    explicit BusyGuard(conn_instance *inst) : inst_(inst) {
        bool expected = false;
        if (!inst_->busy.compare_exchange_strong(expected, true))
            throw Error::invalid_state("another operation is running on this instance");
    }
    ~BusyGuard() { inst_->busy.store(false); }
    BusyGuard(const BusyGuard &) = delete;
    BusyGuard &operator=(const BusyGuard &) = delete;

private:
    conn_instance *inst_;
};

conn_instance *require_instance(conn_instance *inst) {
    require_initialised();
    if (!inst) throw Error::invalid_argument("instance", "the instance is NULL");
    return inst;
}

// The checks every operation on an instance starts with (the library, the instance), then its optional call.
std::optional<conn_call> open_operation(conn_instance *inst, const conn_call *call) {
    require_instance(inst);
    return read_struct(call, "call", true);
}

void require_outcome(const conn_outcome *outcome) {
    if (!outcome) throw Error::invalid_argument("outcome", "the outcome pointer is NULL");
}

// grant / revoke: the entitlement and the principal.
void require_grant_args(conn_str entitlement_id, conn_str principal_type, conn_str principal_id) {
    require_str(entitlement_id, "entitlement_id");
    require_str(principal_type, "principal_type");
    require_str(principal_id, "principal_id");
}

// The lowest minor any host of this process negotiated: an outcome appended in a later minor is never sent to a
// host that cannot know it (the entry has no instance to tell them apart, so the oldest host decides for all).
std::atomic<uint32_t> g_negotiated_minor{CONN_ABI_VERSION_MINOR};

void negotiated(uint32_t minor) {
    uint32_t seen = g_negotiated_minor.load();
    while (minor < seen && !g_negotiated_minor.compare_exchange_weak(seen, minor)) {
    }
}

conn_outcome to_outcome(Outcome o) {
    switch (o) {
    case Outcome::created: return CONN_OUTCOME_CREATED;
    case Outcome::already_exists: return CONN_OUTCOME_ALREADY_EXISTS;
    case Outcome::reactivated:
        return g_negotiated_minor.load() >= 1 ? CONN_OUTCOME_REACTIVATED : CONN_OUTCOME_ALREADY_EXISTS;
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
    // The secrets are looked up first, so that even a refusal of another field is scrubbed of them.
    std::vector<std::string> secrets;
    if (config && config->struct_size >= offsetof(conn_config, entry_count) + sizeof(size_t) && config->entries) {
        for (size_t i = 0; i < config->entry_count; ++i)
            if (valid_str(config->entries[i].key) && valid_str(config->entries[i].value) &&
                is_secret_field(view(config->entries[i].key)))
                secrets.emplace_back(view(config->entries[i].value));
    }
    const ce::Scrubber token_scrubber(secrets);
    return guarded(err, &token_scrubber, [&] {
        require_initialised();
        if (!out) throw Error::invalid_argument("out", "the output pointer is NULL");
        const conn_config cfg_in = *read_struct(config, "config", false);
        const auto host_in = read_struct(host, "host", true);
        ce::config::Config cfg = ce::config::parse_config(
            read_kvs(cfg_in.entries, cfg_in.entry_count, "config", "entries is NULL with a non-zero count"));
        auto inst = std::make_unique<conn_instance>();
        inst->scrubber = ce::Scrubber(cfg.secrets());
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
        if (!result) throw Error::invalid_argument("result", "the result pointer is NULL");
        if (result->struct_size < sizeof(uint32_t))
            throw Error::invalid_argument("result", "struct_size is too small");
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
        const std::string_view resume_from = options_in ? view(options_in->resume_from) : std::string_view();
        BusyGuard busy(instance);
        SinkAdapter adapter(ptr(sink_in));
        SinkScope scope{adapter};
        instance->connector->sync(make_context(ptr(call_in)), adapter, stats, resume_from);
    });
    if (result && result->struct_size > 0) {
        conn_sync_result full{};
        full.struct_size = result->struct_size;
        ce::abi::copy_counts(full, stats);
        full.retries = stats.retries;
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
    negotiated(abi_minor ? *abi_minor : 0);
    return &g_entry;
}
