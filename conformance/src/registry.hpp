// The conformance tests: each has a dotted name "<level>.<what>", the rule it checks (for --list and the
// README), what it needs to run, and a function that throws TestFailure/TestSkip or returns a note.
#pragma once

#include "support.hpp"

#include <connector_host/plugin_loader.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace conformance {

enum class Needs {
    nothing,     // only the plugin file
    service,     // a working service: --sim, or a real config (read-only use)
    sim,         // the simulator started by --sim (its truth is compared)
    sim_binary,  // a scim-sim executable the test starts itself, and the plugin's URL/secret fields
    writes,      // provisioning: --sim, or a real config with --allow-writes
};

struct TestCase {
    std::string name;
    Needs needs;
    std::string rule;
    std::function<std::string(const Context &)> run;
    bool report_note = false; // the PASS line shows the note (measurements)
    int depth = 0;            // --level: 1 library, 2 instance, 3 sync and provision, 4 soak (set by all_tests)
};

// The --level a test belongs to, from its name's prefix (library 1, instance 2, sync/provision 3, soak 4).
int depth_of(const std::string &name);
constexpr int kMaxDepth = 4;
// The default: everything that finishes within a minute for our plugin against the simulator (all of it,
// about 11 s with the checkpoint tests; level 4's soak adds under a second). Lower levels are for quicker runs.
constexpr int kDefaultDepth = kMaxDepth;

const std::vector<TestCase> &all_tests();

void register_library_tests(std::vector<TestCase> &out);
void register_instance_tests(std::vector<TestCase> &out);
void register_sync_tests(std::vector<TestCase> &out);
void register_provisioning_tests(std::vector<TestCase> &out);
void register_string_tests(std::vector<TestCase> &out);
void register_error_tests(std::vector<TestCase> &out);
void register_purity_tests(std::vector<TestCase> &out);
void register_manners_tests(std::vector<TestCase> &out);
void register_soak_tests(std::vector<TestCase> &out);
void register_fault_tests(std::vector<TestCase> &out);
void register_checkpoint_tests(std::vector<TestCase> &out);

// ---- Helpers shared by the test files ------------------------------------------------------------------

// Loads through the host's loader; a refusal fails the test with the loader's words.
std::unique_ptr<connector_host::LoadedPlugin> load_plugin(const Context &ctx);

// The plugin loaded for one test, with its vtable and descriptor (load_plugin's failures and skips apply).
struct PluginUnderTest {
    explicit PluginUnderTest(const Context &ctx);
    std::unique_ptr<connector_host::LoadedPlugin> plugin;
    const conn_connector_v1 *v = nullptr;
    const conn_descriptor *d = nullptr;
    bool has(uint32_t cap) const { return (d->capabilities & cap) != 0; }
};

// Fails the test with the first problem, how many more there are and the second (then `suffix`); nothing if none.
void fail_if_any(const std::vector<std::string> &problems, const std::string &suffix = "");

// A distinctive secret derived from the seed (never a real credential).
std::string distinctive_secret(const Context &ctx, const char *salt);

// The config for a working instance: the run's config, or one synthesised from the descriptor.
ConfigEntries working_config(const Context &ctx, const conn_descriptor &d);

// Creates an instance (owned by the returned conn::Instance) or fails the test with the plugin's error.
conn::Instance open_instance(const connector_host::LoadedPlugin &plugin, const ConfigEntries &config,
                             const conn_host *host);

// "status: message (field: f) ..." for failure reasons, message and field quoted and escaped (printable());
// scrubbed of the context's secrets by the runner.
std::string describe_error(conn_status st, const conn_error &err);

// Runs a sync into rec (begin/end bracketed): a full one unless options say resume_from. Returns the status.
conn_status run_sync(const conn_connector_v1 &v, conn_instance *inst, Recorder &rec, conn_sync_result *result,
                     conn_error *err, const conn_call *call = nullptr, const conn_sink *sink = nullptr,
                     const conn_sync_options *options = nullptr);

// What a sync delivered that differs from the simulator's truth (see README "How the truth is mapped"), and
// the recorder's own problems (malformed records). Defined in tests_sync.cpp.
std::vector<std::string> truth_problems(const conn_descriptor &d, const Truth &t, Recorder &rec);

}  // namespace conformance
