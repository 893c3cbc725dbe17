// Test harness: loads the REAL claude-enterprise plugin (.so) with dlopen through connector_plugin_entry,
// creates instances, runs operations and records everything the plugin hands back (records, warnings,
// progress, log lines, errors). Every text the plugin produces is checked for the test tokens.
#pragma once

#include <connector/connector_abi.h>

#include "plugin_harness_core.hpp"

#include <chrono>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace harness {

// Distinctive tokens: neither may ever appear in anything the plugin writes.
inline const std::string kToken = "tok-SECRET-7f3a9c2e-DO-NOT-LEAK";
inline const std::string kWrongToken = "tok-WRONG-55d1e0-NEVER-ECHO";

struct Plugin {
    void *handle = nullptr;
    const conn_plugin_entry *entry = nullptr;
    const conn_connector_v1 *v = nullptr;
    static Plugin &get();  // loaded and initialised once per process
};

// Fails the current test when `text` holds a test token.
void expect_clean(const std::string &text, const char *what);

using Entries = plugin_test::Entries;
Entries config_for(const std::string &url, const std::string &token = kToken, Entries extra = {});

using plugin_test::EntRec;
using plugin_test::GrantRec;
using plugin_test::Record;  // INT attributes as decimal text

// An instance with its log lines; destroying it destroys the instance, then checks the log for the tokens.
struct Instance {
    conn::Instance inst;  // inst.get() for the ABI calls
    std::mutex log_mu;
    std::vector<std::pair<int, std::string>> log;
    conn_host host{};

    Instance() = default;
    ~Instance();
    Instance(const Instance &) = delete;
    Instance &operator=(const Instance &) = delete;
    // Creates; returns the status (err filled).
    conn_status create(const Entries &config, conn_error &err);
    // Creates and REQUIREs success.
    void open(const Entries &config);
    std::vector<std::string> log_lines();
};

struct Outcome {
    conn_status status = -1;
    conn_error err{};
    conn_outcome outcome = CONN_OUTCOME_NONE;
    std::vector<Record> resources;
    std::vector<GrantRec> grants;
};

// A checkpoint a sync gave, and how many records it had delivered before it.
struct CheckpointAt {
    std::string token;
    size_t resources = 0, entitlements = 0, grants = 0;
};

struct SyncRun {
    conn_status status = -1;
    conn_error err{};
    conn_sync_result result{};
    std::vector<Record> resources;
    std::vector<EntRec> entitlements;
    std::vector<GrantRec> grants;
    std::vector<std::pair<std::string, std::string>> warnings;
    std::set<std::string> phases;
    uint64_t progress_calls = 0;
    bool callback_after_return = false;
    double seconds = 0;
    std::vector<CheckpointAt> checkpoints;  // when SyncControls::take_checkpoints
};

struct SyncControls {
    std::function<bool()> cancel;        // polled through conn_call.is_cancelled
    int stop_after_resources = -1;       // answer STOP on this resource (0-based), -1 never
    int stop_after_grants = -1;          // answer STOP on this grant (0-based), -1 never
    bool take_checkpoints = false;       // the sink has on_checkpoint
    int stop_at_checkpoint = -1;         // answer STOP on this checkpoint (0-based), -1 never
    std::string resume_from;             // conn_sync_options.resume_from
};

SyncRun sync(Instance &in, const SyncControls &controls = {});
// A resumed sync as the host keeps it: what `stopped` delivered before its checkpoint `at`, then all of `resumed`
// (status, result and warnings are the resumed run's; the record counts of the result are the union's).
SyncRun joined_at(const SyncRun &stopped, size_t at, const SyncRun &resumed);
conn_status check(Instance &in, conn_check_result &result, conn_error &err);
Outcome create_account(Instance &in, const Entries &fields);
Outcome delete_resource(Instance &in, const std::string &type, const std::string &id);
Outcome grant(Instance &in, const std::string &entitlement, const std::string &ptype, const std::string &pid);
Outcome revoke(Instance &in, const std::string &entitlement, const std::string &ptype, const std::string &pid);

// The simulator's truth (GET /_admin/state), parsed.
using plugin_test::parse_truth;
using plugin_test::Truth;

// Checks a sync against the truth: every user (login, display name, status), every group (display name,
// member_count), one entitlement per group, every membership as exactly one grant, nothing else.
// `skip_user` excludes users (e.g. drift-*) from the comparison of users and grants.
void expect_sync_equals_truth(const SyncRun &run, const Truth &truth,
                              const std::function<bool(const std::string &user_name)> &skip_user = {});

// A tiny HTTP server on 127.0.0.1 (OS-chosen port) whose handler the test writes; stops on destruction.
// The handler sees the path with the decoded query parameters (plugin_test::Req::path_and_query).
class ScriptedServer {
public:
    using Reply = plugin_test::Reply;
    using Handler = std::function<Reply(const std::string &method, const std::string &path_and_query, int nth)>;
    explicit ScriptedServer(Handler handler);
    std::string url() const { return server_.url(); }  // http://127.0.0.1:PORT/scim/v2
    int port() const { return server_.port(); }
    int requests() const { return static_cast<int>(server_.requests().size()); }
    std::vector<std::chrono::steady_clock::time_point> request_times() const;
    std::vector<std::string> authorization_headers() const;

private:
    plugin_test::ScriptServer server_;
};

// A port on 127.0.0.1 that nothing listens on (bound, then closed).
using plugin_test::closed_port;

}  // namespace harness
