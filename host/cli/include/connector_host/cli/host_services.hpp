// What the host gives a plugin and how it watches an operation: the console (stderr, with a live progress
// line on a terminal), the plugin log sink, cancellation on SIGINT/SIGTERM or --timeout, progress, and
// sinks that validate every record before passing it on. Also the atomic output file.
#pragma once

#include "connector_host/cli/output_error.hpp"
#include "connector_host/cli/text_safety.hpp"

#include <connector/connector_abi.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace connector_host::cli {

// ---- log levels ------------------------------------------------------------------------------------
// error < warn < info < debug < trace, the ABI's CONN_LOG_* numbers.
int parse_log_level(std::string_view name); // throws std::invalid_argument
std::string_view log_level_name(int32_t level) noexcept;

// ---- the console: every byte the host writes to stderr goes through here -------------------------------
class Console {
public:
    Console(std::FILE *err, bool is_terminal) : err_(err), tty_(is_terminal) {}
    bool is_terminal() const noexcept { return tty_; }
    void set_level(int level) noexcept { level_ = level; }
    int level() const noexcept { return level_; }
    void add_secret(const std::string &secret);
    // A line of text: scrubbed, made printable, newline-terminated; clears a live progress line first.
    void line(std::string_view text);
    void error(std::string_view text) { line("connector-host: error: " + std::string(text)); }
    void warning(std::string_view text) {
        if (level_ >= CONN_LOG_WARN) line("connector-host: warning: " + std::string(text));
    }
    void info(std::string_view text) {
        if (level_ >= CONN_LOG_INFO) line("connector-host: " + std::string(text));
    }
    // On a terminal only: replaces the live progress line.
    void progress(std::string_view text);
    void clear_progress();
    const SecretScrubber &scrubber() const noexcept { return scrubber_; }

private:
    std::mutex mu_;
    std::FILE *err_;
    bool tty_;
    int level_ = CONN_LOG_WARN;
    bool progress_shown_ = false;
    SecretScrubber scrubber_;
};

// ---- plugin log sink ----------------------------------------------------------------------------------
// conn_host for instance_create: log lines become "[level] <plugin-id>: message" on the console. A plugin
// cannot flood stderr: past line_limit lines of one level (error, warn, info; debug and trace are what the
// user asked for) the lines of that level are counted, not printed, and the destructor (the end of the
// command's one operation) prints one line per level saying how many were not shown.
class PluginLog {
public:
    static constexpr uint64_t line_limit = 100;
    PluginLog(Console &console, std::string plugin_id);
    ~PluginLog();
    PluginLog(const PluginLog &) = delete;
    PluginLog &operator=(const PluginLog &) = delete;
    const conn_host *host() const noexcept { return &host_; }
    // Prints the "N more ... lines" notes now (once).
    void report_suppressed();

private:
    static void CONN_CALL on_log(void *ctx, int32_t level, conn_str message);
    Console &console_;
    std::string plugin_id_;
    conn_host host_{};
    std::atomic<uint64_t> lines_[CONN_LOG_INFO + 1] = {};
    std::atomic<bool> reported_{false};
};

// ---- warnings of a sync, per code -----------------------------------------------------------------------
// Decides which warnings the console prints one by one: the first `limit` of each code; the rest are only
// counted, and summary_lines() says how many ("... and 999,900 more `unresolved_member` warnings").
class WarningTally {
public:
    explicit WarningTally(uint64_t limit) : limit_(limit) {}
    // Counts one warning of `code`; true when it should be printed.
    bool note(std::string_view code);
    uint64_t count(std::string_view code) const;
    // (code, line) for every code past the limit, and the lines alone.
    std::vector<std::pair<std::string, std::string>> summaries() const;
    std::vector<std::string> summary_lines() const;

private:
    uint64_t limit_;
    std::map<std::string, uint64_t, std::less<>> counts_;
};

// 1234567 -> "1,234,567".
std::string with_thousands(uint64_t n);

// ---- small input files ------------------------------------------------------------------------------------
// A config file or an @FILE value: a regular file (after following symlinks) of at most max_bytes (1 MiB).
// Anything else is refused, with why = "<path> is a directory" / "is not a regular file" / "is larger than
// 1 MiB" / the system's words. Never blocks on a FIFO, never reads a device.
std::optional<std::string> read_small_file(const std::string &path, std::string &why, size_t max_bytes = size_t{1} << 20);

// ---- signals and emergency cleanup ----------------------------------------------------------------------
// Installs SIGINT/SIGTERM/SIGHUP handlers that set a flag (a second signal exits at once with 130, after
// removing the registered temporary file), and ignores SIGPIPE (a closed pipe is seen as EPIPE: exit 141).
void install_signal_handlers();
// The signal received so far, 0 if none.
int received_signal() noexcept;
// A temporary file to remove if the process must exit abruptly (only one at a time).
void register_temp_file(const std::string &path);
void unregister_temp_file();
[[noreturn]] void emergency_exit(int code);

// ---- one operation ------------------------------------------------------------------------------------
struct ProgressSnapshot {
    std::string phase;
    uint64_t requests = 0, pages = 0, resources = 0, entitlements = 0, grants = 0, total_hint = 0;
};

class Operation {
public:
    enum class CancelReason { none, signal, timeout };
    // timeout 0 = none. show_progress: draw a live line on a terminal console. label e.g. "sync".
    Operation(Console &console, std::chrono::milliseconds timeout, bool show_progress, std::string label);
    ~Operation();
    Operation(const Operation &) = delete;
    Operation &operator=(const Operation &) = delete;

    const conn_call *call() const noexcept { return &call_; }
    CancelReason cancel_reason() const noexcept { return static_cast<CancelReason>(reason_.load()); }
    double elapsed_seconds() const;
    ProgressSnapshot progress() const;
    // Host-side counts to show when the plugin reports no progress.
    std::atomic<uint64_t> seen_resources{0}, seen_entitlements{0}, seen_grants{0};
    // Call when the plugin operation returned: stops the monitor (grace timer, progress line) and clears
    // the progress line, so what follows is not drawn over.
    void finished() noexcept;

    static constexpr std::chrono::milliseconds cancel_grace{1500};

private:
    static int32_t CONN_CALL is_cancelled(void *ctx);
    static void CONN_CALL on_progress(void *ctx, const conn_progress *p);
    void monitor();
    void draw_progress();

    Console &console_;
    std::chrono::milliseconds timeout_;
    bool show_progress_;
    std::string label_;
    std::chrono::steady_clock::time_point start_;
    conn_call call_{};
    std::atomic<bool> cancelled_{false}, stop_{false}, done_{false};
    std::atomic<int> reason_{0};
    mutable std::mutex progress_mu_;
    ProgressSnapshot progress_;
    bool progress_seen_ = false;
    std::thread thread_;
};

// ---- validating sinks ----------------------------------------------------------------------------------
// A conn_sink whose callbacks validate each record, check they come on the operation's thread while it
// runs, and pass it to the handlers. A refused record or a handler exception stops the stream; the reason
// is kept. Handlers may throw (never across the ABI: caught here).
class ValidatingSink {
public:
    struct Handlers {
        std::function<void(const conn_resource &)> resource;
        std::function<void(const conn_entitlement &)> entitlement;
        std::function<void(const conn_grant &)> grant;
        std::function<void(std::string_view, std::string_view)> warning;
        std::function<void(std::string_view)> checkpoint;
    };
    ValidatingSink(std::vector<std::string> declared_types, Handlers handlers);
    // Between open() and close() callbacks are accepted, on the thread that called open().
    const conn_sink *open();
    void close() noexcept;
    // Set when the plugin sent something the ABI forbids.
    const std::optional<std::string> &plugin_violation() const noexcept { return violation_; }
    // Set when a handler failed (e.g. the output could not be written).
    const std::optional<std::string> &host_failure() const noexcept { return host_failure_; }
    // The errno of a handler's OutputWriteError (EPIPE, ENOSPC, ...), 0 for other failures.
    int host_failure_errno() const noexcept { return host_failure_errno_; }

private:
    template <typename Fn>
    int32_t guarded(const char *what, Fn &&fn) noexcept;
    static int32_t CONN_CALL on_resource(void *ctx, const conn_resource *r);
    static int32_t CONN_CALL on_entitlement(void *ctx, const conn_entitlement *e);
    static int32_t CONN_CALL on_grant(void *ctx, const conn_grant *g);
    static int32_t CONN_CALL on_checkpoint(void *ctx, conn_str token);
    static int32_t CONN_CALL on_warning(void *ctx, conn_str code, conn_str message);

    std::vector<std::string> types_;
    Handlers handlers_;
    conn_sink sink_{};
    std::atomic<bool> active_{false};
    std::thread::id thread_;
    std::mutex mu_; // only guards the rare cross-thread violation record
    std::optional<std::string> violation_, host_failure_;
    int host_failure_errno_ = 0;
};

// ---- atomic output file ------------------------------------------------------------------------------------
// Writes to a temporary file beside the target and renames it over the target on commit(), so a failed or
// interrupted run never leaves a half-written file and never touches an existing one. The temporary file is
// ".<name>.tmp-<pid>-XXXXXX", created 0600; stale ones of dead processes are removed first. On commit the
// file takes the mode and owner of the regular file it replaces (owner: when permitted); a new file is 0600.
// `target` must be the final path (no symlink: see open_output).
class AtomicOutputFile {
public:
    explicit AtomicOutputFile(const std::filesystem::path &target); // throws std::runtime_error
    ~AtomicOutputFile();                                            // removes the temp file unless committed
    AtomicOutputFile(const AtomicOutputFile &) = delete;
    AtomicOutputFile &operator=(const AtomicOutputFile &) = delete;
    std::FILE *file() const noexcept { return file_; }
    void commit(); // flush, fsync, keep mode/owner, rename; throws OutputWriteError / std::runtime_error
    const std::string &temp_path() const noexcept { return temp_; }

private:
    std::filesystem::path target_;
    std::string temp_;
    std::FILE *file_ = nullptr;
    bool committed_ = false;
};

// Removes ".<name>.tmp-<pid>-*" regular files beside `target` whose pid is not alive. Returns how many.
size_t remove_stale_temp_files(const std::filesystem::path &target);

// ---- the --out destination ----------------------------------------------------------------------------------
// "-" or empty: standard output. A symlink is followed to its final target and the rules apply to that:
// a regular file or a path that does not exist is written atomically (AtomicOutputFile); a character device
// (/dev/null) or a FIFO is written directly, streamed; anything else (directory, socket, block device) is
// refused with OutputRefused.
class OutputRefused : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class SyncOutput {
public:
    // Throws OutputRefused (a destination kind we do not write) or std::runtime_error (cannot open / create).
    static std::unique_ptr<SyncOutput> open(const std::string &arg);
    // Throws OutputRefused when open(arg) would refuse the kind of what is at arg (nothing is opened).
    static void check_destination(const std::string &arg);
    ~SyncOutput();
    SyncOutput(const SyncOutput &) = delete;
    SyncOutput &operator=(const SyncOutput &) = delete;
    std::FILE *file() const noexcept;
    bool atomic() const noexcept { return atomic_ != nullptr; }
    bool is_stdout() const noexcept { return stream_ == stdout; }
    // Atomic: commit (rename into place). Streamed: flush. Throws OutputWriteError / std::runtime_error.
    void commit();

private:
    SyncOutput() = default;
    std::unique_ptr<AtomicOutputFile> atomic_;
    std::FILE *stream_ = nullptr; // stdout, or a device / FIFO opened here (closed by the destructor)
};

}  // namespace connector_host::cli
