// Shared machinery of the conformance runner: the context every test receives, the failure/skip
// exceptions, low-level library access (raw dlopen, exported-symbol listing from the ELF .dynsym),
// process statistics, config synthesis, the simulator process and its truth, and recording sinks.
#pragma once

#include <connector/connector_abi.h>
#include <connector/connector_abi.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace conformance {

// ---- Results -----------------------------------------------------------------------------------------

enum class Verdict { pass, fail, skip };

struct TestFailure : std::runtime_error {
    using std::runtime_error::runtime_error;
};
struct TestSkip : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Throws TestFailure(message) unless cond holds.
void require(bool cond, const std::string &message);
[[noreturn]] void fail(const std::string &message);
[[noreturn]] void skip(const std::string &why);

// ---- Context --------------------------------------------------------------------------------------------

using ConfigEntries = std::vector<std::pair<std::string, std::string>>;

// What a test knows about the run. Serialised from the runner to each child process (over a pipe, so
// that the secret never appears on a command line).
struct Context {
    std::string plugin_path;
    ConfigEntries config;              // the config a test should use for a working instance
    bool config_from_user = false;     // --set/--config given (a real service) and no --sim
    bool sim = false;                  // the config points at a simulator started by the runner
    std::string sim_url;               // the SCIM base URL of that simulator
    std::string sim_admin;             // http://127.0.0.1:<port> (for /_admin/state)
    std::string sim_token;
    std::string sim_binary;            // scim-sim, for tests that start their own (slow) simulator
    std::string url_field, secret_field; // the config fields the sim values go to ("" if none)
    std::string plugins_dir, plugin_id;  // for the child that finds a plugin by id (connector-conformance <id>)
    bool allow_writes = false;
    uint64_t seed = 1;
    double timeout_s = 60;

    std::string to_json() const;
    static Context from_json(std::string_view json);

    // True when a working service is configured (simulator or user's config).
    bool has_service() const { return sim || config_from_user; }
    // Every value of a secret field in the config (for scrubbing and leak checks).
    std::vector<std::string> secrets;
};

// ---- Text helpers ---------------------------------------------------------------------------------------

std::string str(conn_str s); // a copy; NULL reads as "" (conn::view)
bool valid_utf8(std::string_view s);
std::string printable(std::string_view s, size_t max = 120); // quoted, control bytes escaped, truncated
std::string outcome_text(conn_outcome o); // "ALREADY_GRANTED" (conn::outcome_code_name), else "outcome N"
std::string json_escape(std::string_view s);
std::string scrub(std::string text, const std::vector<std::string> &secrets);
// The whole file, or nullopt when it cannot be read.
std::optional<std::string> read_whole_file(const std::string &path);

// ---- Raw library access (for the checks the host loader cannot do) ---------------------------------------

class RawLibrary {
public:
    // dlopen(path, flags); throws TestFailure with dlerror() on failure.
    RawLibrary(const std::string &path, int flags);
    ~RawLibrary();
    RawLibrary(const RawLibrary &) = delete;
    RawLibrary &operator=(const RawLibrary &) = delete;
    void *symbol(const char *name) const; // NULL when absent
    conn_plugin_entry_fn entry_fn() const; // fails the test when absent
    void close();                        // dlclose now

private:
    void *handle_ = nullptr;
};

// Names of the dynamic symbols a shared object defines and exports (global or weak, defined, not a
// version node), read from the ELF .dynsym. Throws TestFailure when the file is not a readable ELF.
std::vector<std::string> exported_symbols(const std::string &path);

// ---- Process statistics ---------------------------------------------------------------------------------

size_t thread_count();      // entries in /proc/self/task
size_t resident_bytes();    // RSS from /proc/self/statm
// What memory growth is measured by: RSS, or under AddressSanitizer (whose quarantine keeps freed memory
// resident) the live heap.
size_t memory_in_use();
const char *memory_measure_name(); // "RSS" or "live heap (AddressSanitizer)"
// Waits (up to max) until thread_count() <= target; returns the last count.
size_t settle_threads(size_t target, std::chrono::milliseconds max = std::chrono::milliseconds(2000));

// ---- Descriptor helpers ---------------------------------------------------------------------------------

std::string field_type_name(int32_t type);
const conn_resource_type *find_type_with_trait(const conn_descriptor &d, uint32_t trait);
const conn_resource_type *find_type(const conn_descriptor &d, std::string_view id);

// A working config synthesised from the descriptor for tests that need only a creatable instance
// (no service): required fields without a default get a value of their type; secret fields get
// `secret`; the URL field points at a closed loopback port.
ConfigEntries synthesise_config(const conn_descriptor &d, const std::string &secret);
// Finds the config field of type URL and the SECRET field (the first of each; "" if none).
std::pair<std::string, std::string> service_fields(const conn_descriptor &d);
ConfigEntries with_value(ConfigEntries config, const std::string &name, const std::string &value);
ConfigEntries without(ConfigEntries config, const std::string &name);

// Owns the strings and the conn_kv array of a conn_config.
struct OwnedConfig {
    explicit OwnedConfig(const ConfigEntries &entries);
    ConfigEntries entries;
    std::vector<conn_kv> kvs;
    conn_config config{};
};

// Strings that are NOT NUL-terminated, as the ABI allows: each one is copied to the start of its own
// buffer and followed by poison bytes (invalid UTF-8, then text, then a NUL far behind), so a plugin that
// calls strlen/strcmp on a conn_str reads a different, invalid string instead of the one passed.
class PoisonedStrings {
public:
    conn_str view(std::string_view s);
    // Owns the kv array of a config whose keys and values are all poisoned views.
    const conn_config &config(const ConfigEntries &entries);
    // The same for key/value lists such as account fields.
    const std::vector<conn_kv> &kvs(const ConfigEntries &entries);
    static constexpr size_t kPoisonBytes = 64;

private:
    std::vector<std::unique_ptr<char[]>> buffers_;
    std::vector<std::unique_ptr<std::vector<conn_kv>>> kv_lists_;
    std::vector<std::unique_ptr<conn_config>> configs_;
};

// ---- Simulator ------------------------------------------------------------------------------------------

// A private TMPDIR for the plugin under test, for the runner's lifetime: created under the TMPDIR the runner was
// given (else /tmp), exported to every test child (and to in-process tests), removed with all it holds when the
// runner ends. Interrupted syncs leave what a resume needs (a checkpointing plugin's journal, spill files): the
// runner interrupts on purpose and must not leave that behind in the user's TMPDIR.
class ScratchTmpdir {
public:
    ScratchTmpdir();
    ~ScratchTmpdir();
    ScratchTmpdir(const ScratchTmpdir &) = delete;
    ScratchTmpdir &operator=(const ScratchTmpdir &) = delete;
    const std::string &path() const { return path_; }

private:
    std::string path_;
    std::optional<std::string> previous_;
};

struct SimOptions {
    std::string binary;
    std::string token;
    uint64_t seed = 1;
    unsigned users = 40, groups = 6, members = 90;
    unsigned latency_ms = 0;
    std::vector<std::string> extra_args; // more scim-sim flags (faults: --fail-rate 1, --rate-limit 20, ...)
};

// A running scim-sim (killed with SIGTERM, then SIGKILL, on destruction; dies with its parent).
class SimProcess {
public:
    explicit SimProcess(const SimOptions &opts);
    ~SimProcess();
    SimProcess(const SimProcess &) = delete;
    SimProcess &operator=(const SimProcess &) = delete;
    const std::string &url() const { return url_; }     // the SCIM base URL
    const std::string &admin() const { return admin_; } // http://127.0.0.1:<port>

private:
    void stop();
    int pid_ = -1;
    int out_fd_ = -1;
    std::thread drain_;
    std::string url_, admin_;
};

// Finds scim-sim: explicit path, env SCIM_SIM, or beside the running executable. "" when not found.
std::string find_sim_binary(const std::string &explicit_path);

struct Truth {
    struct User { std::string id, user_name, display_name; bool active = true; };
    struct Group { std::string id, display_name; std::vector<std::string> members; };
    std::vector<User> users;
    std::vector<Group> groups;
};
// GET <admin>/_admin/state. Throws TestFailure on error.
Truth fetch_truth(const std::string &admin);
// The SCIM requests the simulator at <admin> has answered (GET /_admin/stats; its own /_admin requests excluded).
uint64_t sim_requests(const std::string &admin);

// ---- Recording sinks and host services ------------------------------------------------------------------

struct Record {
    std::string type, id, display_name;
};

// One on_checkpoint call: its token, and how many records of each kind had been delivered before it.
struct CheckpointSeen {
    std::string token;  // the token, or its first kMaxKeptToken bytes
    size_t size = 0;    // the token's whole size
    size_t resources = 0, entitlements = 0, grants = 0;
    std::string phase;  // the phase of the last progress report before it ("" if none)
    static constexpr size_t kMaxKeptToken = 1u << 20;
};

// The sink's callback kinds, as indexes of Recorder::kind_calls.
enum class SinkKind { resource, entitlement, grant, warning, checkpoint, count };
const char *sink_kind_name(SinkKind kind); // "on_resource", ...

// Wraps conn_sink/conn_call/conn_host callbacks: records everything, checks the records' shape, the
// calling thread, and whether a callback arrives outside an operation. Thread-safe.
class Recorder {
public:
    Recorder();
    // A sink whose callbacks all record (struct_size as given; on_warning etc. set unless size excludes).
    conn_sink sink(uint32_t struct_size = sizeof(conn_sink));
    conn_call call(uint32_t struct_size = sizeof(conn_call));
    conn_host host(uint32_t struct_size = sizeof(conn_host));

    // Brackets an operation: callbacks outside begin()/end() are "late".
    void begin();
    void end();

    // Answer STOP once this many sink callbacks have been made (0: never).
    std::atomic<uint64_t> stop_after{0};
    // Answer STOP from the stop_kind_after-th callback of kind stop_kind (-1: none), whatever came before.
    std::atomic<int> stop_kind{-1};
    std::atomic<uint64_t> stop_kind_after{0};
    // is_cancelled answers non-zero once this is set; cancel_time records when it was set.
    std::atomic<bool> cancel{false};

    std::mutex mu;
    std::vector<Record> resources;
    std::vector<std::string> entitlement_ids;
    std::vector<std::tuple<std::string, std::string, std::string, std::string>> grants; // id, ent, ptype, pid
    std::vector<std::string> problems;   // malformed records, wrong thread, ...
    std::vector<std::string> logs;
    std::vector<std::pair<std::string, std::string>> warnings; // (code, message)
    std::vector<conn_progress> progress; // copies (phase pointer dropped)
    std::vector<std::string> progress_phases;
    std::vector<CheckpointSeen> checkpoints;
    uint64_t sink_calls = 0, calls_after_stop = 0, late_calls = 0, warning_calls = 0, checkpoint_calls = 0;
    uint64_t cancel_polls = 0;
    uint64_t kind_calls[static_cast<size_t>(SinkKind::count)] = {};
    bool stop_answered = false;
    std::string late_what;
    std::string first_after_stop; // the kind of the first sink callback after a STOP answer

private:
    friend struct RecorderCallbacks;
    std::thread::id op_thread_;
    bool in_op_ = false;
    void note_sink_call(const char *what);
    int32_t answer(SinkKind kind);
};

// Milliseconds elapsed since `start`.
double ms_since(std::chrono::steady_clock::time_point start);

}  // namespace conformance
