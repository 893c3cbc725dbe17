// Support for the reliability and security tests (issue 8): the REAL claude-enterprise plugin loaded through
// the host's loader (connector_host_loader), instances with captured log lines, operations that record
// everything the plugin hands back, the simulator's truth, a scriptable HTTP server on 127.0.0.1, a throwaway
// CA made with the `openssl` command, a child-process runner for connector-host, and a token scanner.
#pragma once

#include <connector/connector_abi.h>
#include <connector_host/plugin_loader.hpp>

#include "plugin_harness_core.hpp"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace rel {

// Distinctive token: it must never appear in anything written by the plugin or the host.
inline const std::string kToken = "rel-TOKEN-9b41e7d2-c0ffee-NEVER-PRINT";

// Number of (possibly overlapping) occurrences of needle in hay.
size_t count_hits(const std::string &hay, const std::string &needle);

// The plugin, loaded once per process through connector_host::LoadedPlugin (path from CLAUDE_PLUGIN_PATH).
const conn_connector_v1 &plugin();
const char *plugin_path();

using Entries = plugin_test::Entries;

// Everything text-like the plugin produced through the ABI (error messages, fields, log lines, check
// messages, warnings, record strings): scanned for the token by the tests.
class TextLog {
public:
    void add(const std::string &s);
    std::string all() const;

private:
    mutable std::mutex mu_;
    std::string text_;
};

// An instance with its log lines and texts: the conn::Instance is the last member, so the instance is destroyed
// (and may still log) before the log goes.
class Instance {
public:
    Instance() = default;
    Instance(const Instance &) = delete;
    Instance &operator=(const Instance &) = delete;
    conn_status create(const Entries &config, conn_error &err);  // err.message is also added to texts()
    bool ok() const { return static_cast<bool>(inst_); }
    conn_instance *get() const { return inst_.get(); }
    std::vector<std::string> log_lines() const;
    TextLog &texts() { return texts_; }

private:
    static void on_log(void *ctx, int32_t level, conn_str message);
    conn_host host_{};
    mutable std::mutex mu_;
    std::vector<std::string> log_;
    TextLog texts_;
    conn::Instance inst_;
};

using plugin_test::GrantRec;
using plugin_test::Record;  // INT attributes as decimal text, BOOL as "true"/"false"

struct SyncRun {
    conn_status status = -1;
    conn_error err{};
    conn_sync_result result{};
    std::vector<Record> resources;
    std::vector<std::string> entitlements;  // ids
    std::vector<GrantRec> grants;
    std::vector<std::pair<std::string, std::string>> warnings;
    // With Controls::take_checkpoints: every token, and how many resources and grants had been delivered at it.
    struct Checkpoint {
        std::string token;
        size_t resources = 0, grants = 0;
    };
    std::vector<Checkpoint> checkpoints;
};

// Cancellation: the operation's is_cancelled answers true once `cancel` is set. Checkpoints: the sink takes them
// when take_checkpoints is set, and answers STOP from checkpoint number stop_at_checkpoint (0-based; -1: never);
// resume_from is passed in conn_sync_options.
struct Controls {
    Controls() = default;
    explicit Controls(std::atomic<bool> *cancel_flag) : cancel(cancel_flag) {}
    std::atomic<bool> *cancel = nullptr;
    bool take_checkpoints = false;
    int stop_at_checkpoint = -1;
    std::string resume_from;
};

SyncRun sync(Instance &in, Controls controls = {});

struct OpResult {
    conn_status status = -1;
    conn_error err{};
    conn_outcome outcome = CONN_OUTCOME_NONE;
    Record resource;   // create_account
    GrantRec grant;    // grant
};
OpResult create_account(Instance &in, const Entries &fields, Controls controls = {});
OpResult delete_resource(Instance &in, const std::string &type, const std::string &id, Controls controls = {});
OpResult grant(Instance &in, const std::string &entitlement, const std::string &ptype, const std::string &pid,
               Controls controls = {});
OpResult revoke(Instance &in, const std::string &entitlement, const std::string &ptype, const std::string &pid,
                Controls controls = {});
conn_status check(Instance &in, conn_check_result &result, conn_error &err, Controls controls = {});

// The simulator's truth (GET /_admin/state).
using plugin_test::parse_truth;
using plugin_test::Truth;

// Differences between a sync and the truth (empty when equal): every user (login, display name, status),
// every group, one entitlement per group, every membership exactly once as a grant, nothing else, no
// duplicate record. Users for which skip_user(userName) is true (drift-*) are left out of the comparison,
// with grants naming them.
std::vector<std::string> diff_sync_truth(const SyncRun &run, const Truth &truth,
                                         const std::function<bool(const std::string &)> &skip_user = {});

// A scriptable HTTP server on 127.0.0.1 (OS-chosen port). The handler sees every request (any method, any
// path); what it returns is sent. Records the requests (raw targets, Authorization headers, bodies).
using plugin_test::Reply;
using plugin_test::Req;
using plugin_test::ScriptServer;

// A port on 127.0.0.1 where nothing listens (bound, then closed).
using plugin_test::closed_port;

// Percent-decoding of one path segment or query value ('+' stays '+').
std::string percent_decode(const std::string &s);
// The value of query parameter `name` in a request target (decoded), or "" when absent.
std::string query_param(const std::string &target, const std::string &name);

class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    const std::filesystem::path &path() const { return path_; }
    std::filesystem::path operator/(const std::string &name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

std::string slurp(const std::filesystem::path &p);
void spit(const std::filesystem::path &p, const std::string &text);

// A throwaway CA and a server certificate for 127.0.0.1 and localhost (subjectAltName), made with the
// `openssl` command in dir. Throws std::runtime_error when openssl fails.
struct TestCa {
    std::filesystem::path ca_cert, server_cert, server_key, other_ca_cert;
    // Signed by the same CA, but for the name wrong.example.com only (hostname verification must refuse it).
    std::filesystem::path wrong_name_cert, wrong_name_key;
};
TestCa make_test_ca(const std::filesystem::path &dir);

// Runs a child process (stdout/stderr captured), killed after `bound` (a sanity bound, not an assertion).
struct ProcResult {
    int code = -1;  // exit code, or 128 + signal
    std::string out, err;
};
class Child {
public:
    Child(std::vector<std::string> argv, const std::filesystem::path &capture_dir,
          std::map<std::string, std::string> env = {});
    ~Child();
    Child(const Child &) = delete;
    Child &operator=(const Child &) = delete;
    void signal(int sig);
    ProcResult wait(std::chrono::seconds bound = std::chrono::seconds(120));

private:
    int pid_ = -1;
    bool reaped_ = false;
    std::filesystem::path out_, err_;
};
ProcResult run(std::vector<std::string> argv, const std::filesystem::path &capture_dir,
               std::map<std::string, std::string> env = {});

}  // namespace rel
