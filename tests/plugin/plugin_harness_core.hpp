// The part of the plugin-through-ABI test harness that the plugin's integration tests (plugin_harness.hpp,
// doctest) and the reliability tests (tests/reliability/rel_support.hpp, also used by the fault-soak tool)
// share: the ABI plumbing (config, conn_host, conn_call, conn_sink, the six operations), the records a sink
// hands back, the simulator's truth, a scriptable HTTP server on 127.0.0.1 and a closed port.
// No test framework here: failures are thrown as std::runtime_error (a test framework reports them).
// Library: connector_plugin_test_harness (tests/plugin/CMakeLists.txt).
#pragma once

#include <connector/connector_abi.h>
#include <connector/connector_abi.hpp>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace plugin_test {

using Entries = std::vector<std::pair<std::string, std::string>>;

// A copy of an ABI string ("" for a null one: conn::view's rule). conn::str goes the other way.
inline std::string str(conn_str s) { return std::string(conn::view(s)); }
// A fixed-size, NUL-terminated ABI text field (conn_error.message, conn_check_result.message...), bounded.
template <size_t N>
std::string text(const char (&field)[N]) {
    return std::string(conn::field_text(field));
}

struct Record {
    std::string type, id, display_name;
    std::map<std::string, std::string> attrs;  // INT as decimal text, BOOL as "true"/"false"
};
struct GrantRec {
    std::string id, entitlement_id, principal_type, principal_id;
    uint32_t flags = 0;
};
struct EntRec {
    std::string id, resource_type, resource_id, slug, display_name;
    int32_t purpose = -1;
};
Record to_record(const conn_resource *r);
GrantRec to_grant(const conn_grant *g);
EntRec to_entitlement(const conn_entitlement *e);

// A conn_sink (a conn::Sink) that converts what it receives and hands it to these handlers (an empty handler:
// the item is dropped and the answer is CONN_SINK_CONTINUE; a handler that throws answers CONN_SINK_STOP). The
// handlers must outlive the operation and stay where they are while it runs.
struct SinkHandlers {
    std::function<int32_t(Record &&)> resource;
    std::function<int32_t(EntRec &&)> entitlement;
    std::function<int32_t(GrantRec &&)> grant;
    std::function<int32_t(const std::string &code, const std::string &message)> warning;
    std::function<int32_t(const std::string &token)> checkpoint;  // the sink takes checkpoints only when set
    conn::Sink adapter;  // filled by make_sink
};
conn_sink make_sink(SinkHandlers &handlers);

// A conn_call: is_cancelled / progress are set only for the handlers given. They must outlive the operation.
struct CallHandlers {
    std::function<bool()> cancelled;
    std::function<void(const conn_progress &)> progress;
};
conn_call make_call(CallHandlers &handlers);

// instance_create with `config` as conn_kv entries into `inst` (which owns the instance on success); `host`
// is (re)filled with struct_size, log_ctx and log, and must outlive the instance; err is refreshed first.
conn_status create_instance(const conn_connector_v1 &v, const Entries &config, conn_host &host, void *log_ctx,
                            void(CONN_CALL *log)(void *ctx, int32_t level, conn_str message), conn::Instance &inst,
                            conn_error &err);

// The operations, with their request structs, result and error prepared (struct_size set, err refreshed).
conn_status run_check(const conn_connector_v1 &v, conn_instance *inst, const conn_call &call,
                      conn_check_result &result, conn_error &err);
conn_status run_sync(const conn_connector_v1 &v, conn_instance *inst, const conn_call &call, const conn_sink &sink,
                     conn_sync_result &result, conn_error &err, std::string_view resume_from = {});
conn_status run_create_account(const conn_connector_v1 &v, conn_instance *inst, const conn_call &call,
                               const Entries &fields, const conn_sink &sink, conn_outcome &outcome, conn_error &err);
conn_status run_delete_resource(const conn_connector_v1 &v, conn_instance *inst, const conn_call &call,
                                const std::string &type, const std::string &id, conn_outcome &outcome, conn_error &err);
conn_status run_grant(const conn_connector_v1 &v, conn_instance *inst, const conn_call &call,
                      const std::string &entitlement, const std::string &ptype, const std::string &pid,
                      const conn_sink &sink, conn_outcome &outcome, conn_error &err);
conn_status run_revoke(const conn_connector_v1 &v, conn_instance *inst, const conn_call &call,
                       const std::string &entitlement, const std::string &ptype, const std::string &pid,
                       conn_outcome &outcome, conn_error &err);

// The simulator's truth (GET /_admin/state), parsed; throws when it is not a JSON object.
struct Truth {
    struct User {
        std::string id, user_name, display_name;
        bool active = true;
    };
    struct Group {
        std::string id, display_name;
        std::vector<std::string> members;
    };
    std::map<std::string, User> users;
    std::map<std::string, Group> groups;
};
Truth parse_truth(const std::string &state_json);

// A scriptable HTTP server on 127.0.0.1 (OS-chosen port); stops on destruction. The handler sees every request
// (any method, any path); what it returns is sent. Records every request.
struct Req {
    std::string method;
    std::string target;  // raw, as sent
    std::string authorization, body;
    std::string path_and_query;  // the path, then '?' and the query parameters decoded (sorted by name)
    int nth = 0;                 // 0 for the first request the server received
    std::chrono::steady_clock::time_point received;
};
struct Reply {
    int status = 200;
    std::string body;
    std::string content_type = "application/scim+json";
    std::vector<std::pair<std::string, std::string>> headers;
    int delay_ms = 0;  // sleep before answering (cut short when the server stops)
    // When > 0: `body` is ignored and this many bytes of filler are streamed with chunked encoding (no
    // Content-Length), in 64 KiB chunks, until done, the client goes away or the server stops.
    size_t stream_bytes = 0;
};
class ScriptServer {
public:
    using Handler = std::function<Reply(const Req &req)>;
    explicit ScriptServer(Handler handler);  // throws when it cannot bind or start
    ~ScriptServer();
    ScriptServer(const ScriptServer &) = delete;
    ScriptServer &operator=(const ScriptServer &) = delete;
    int port() const;
    std::string origin() const;  // http://127.0.0.1:PORT
    std::string url() const;     // origin + /scim/v2
    std::vector<Req> requests() const;
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// A port on 127.0.0.1 where nothing listens (bound, never listened, closed): connections are refused.
int closed_port();

}  // namespace plugin_test
