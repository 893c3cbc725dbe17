// What the host gives a plugin and how it watches an operation: the console (stderr, with a live progress
// line on a terminal), the plugin log sink, cancellation on SIGINT/SIGTERM or --timeout, progress, and
// sinks that validate every record before passing it on. Also the atomic output file.
#pragma once

#include "connector_host/cli/text_safety.hpp"

#include <connector/connector_abi.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
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
// conn_host for instance_create: log lines become "[level] <plugin-id>: message" on the console.
class PluginLog {
public:
    PluginLog(Console &console, std::string plugin_id);
    const conn_host *host() const noexcept { return &host_; }

private:
    static void CONN_CALL on_log(void *ctx, int32_t level, conn_str message);
    Console &console_;
    std::string plugin_id_;
    conn_host host_{};
};

// ---- signals and emergency cleanup ----------------------------------------------------------------------
// Installs SIGINT/SIGTERM handlers that set a flag (a second signal exits at once with 130, after removing
// the registered temporary file), and ignores SIGPIPE.
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
};

// ---- atomic output file ------------------------------------------------------------------------------------
// Writes to a temporary file beside the target and renames it over the target on commit(), so a failed or
// interrupted run never leaves a half-written file and never touches an existing one.
class AtomicOutputFile {
public:
    explicit AtomicOutputFile(const std::filesystem::path &target); // throws std::runtime_error
    ~AtomicOutputFile();                                            // removes the temp file unless committed
    AtomicOutputFile(const AtomicOutputFile &) = delete;
    AtomicOutputFile &operator=(const AtomicOutputFile &) = delete;
    std::FILE *file() const noexcept { return file_; }
    void commit(); // flush, fsync, rename; throws std::runtime_error
    const std::string &temp_path() const noexcept { return temp_; }

private:
    std::filesystem::path target_;
    std::string temp_;
    std::FILE *file_ = nullptr;
    bool committed_ = false;
};

} // namespace connector_host::cli
