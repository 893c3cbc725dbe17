#include "connector_host/cli/host_services.hpp"

#include "connector_host/cli/record_validation.hpp"

#include <connector_host/plugin_loader.hpp>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace connector_host::cli {

// ---- log levels ---------------------------------------------------------------------------------------
int parse_log_level(std::string_view name) {
    if (name == "error") return CONN_LOG_ERROR;
    if (name == "warn" || name == "warning") return CONN_LOG_WARN;
    if (name == "info") return CONN_LOG_INFO;
    if (name == "debug") return CONN_LOG_DEBUG;
    if (name == "trace") return CONN_LOG_TRACE;
    throw std::invalid_argument("unknown log level '" + std::string(name) + "' (error, warn, info, debug, trace)");
}

std::string_view log_level_name(int32_t level) noexcept {
    switch (level) {
    case CONN_LOG_ERROR: return "error";
    case CONN_LOG_WARN: return "warn";
    case CONN_LOG_INFO: return "info";
    case CONN_LOG_DEBUG: return "debug";
    case CONN_LOG_TRACE: return "trace";
    default: return level < 0 ? "error" : "trace";
    }
}

// ---- console ------------------------------------------------------------------------------------------
void Console::add_secret(const std::string &secret) {
    std::lock_guard lock(mu_);
    scrubber_.add(secret);
}

void Console::line(std::string_view text) {
    std::lock_guard lock(mu_);
    std::string out = printable_line(scrubber_.scrub(text));
    if (progress_shown_) {
        std::fputs("\r\x1b[K", err_);
        progress_shown_ = false;
    }
    out.push_back('\n');
    std::fwrite(out.data(), 1, out.size(), err_);
    std::fflush(err_);
}

void Console::progress(std::string_view text) {
    if (!tty_) return;
    std::lock_guard lock(mu_);
    std::string out = "\r\x1b[K" + printable_line(scrubber_.scrub(text));
    std::fwrite(out.data(), 1, out.size(), err_);
    std::fflush(err_);
    progress_shown_ = true;
}

void Console::clear_progress() {
    std::lock_guard lock(mu_);
    if (progress_shown_) {
        std::fputs("\r\x1b[K", err_);
        std::fflush(err_);
        progress_shown_ = false;
    }
}

// ---- plugin log ----------------------------------------------------------------------------------------
PluginLog::PluginLog(Console &console, std::string plugin_id) : console_(console), plugin_id_(std::move(plugin_id)) {
    host_ = conn::make<conn_host>();
    host_.ctx = this;
    host_.log = &PluginLog::on_log;
}

PluginLog::~PluginLog() {
    try {
        report_suppressed();
    } catch (...) {
    }
}

void PluginLog::report_suppressed() {
    if (reported_.exchange(true)) return;
    for (int32_t level = CONN_LOG_ERROR; level <= CONN_LOG_INFO; ++level) {
        const uint64_t n = lines_[level].load();
        if (n <= line_limit) continue;
        console_.line("connector-host: " + with_thousands(n - line_limit) + " more " + std::string(log_level_name(level)) +
                      " lines from " + plugin_id_ + " were not shown (at most " + std::to_string(line_limit) +
                      " per level are printed)");
    }
}

void CONN_CALL PluginLog::on_log(void *ctx, int32_t level, conn_str message) {
    try {
        auto *self = static_cast<PluginLog *>(ctx);
        if (self == nullptr) return;
        if (level > self->console_.level()) return;
        if (level <= CONN_LOG_INFO) {
            const int32_t slot = level < CONN_LOG_ERROR ? CONN_LOG_ERROR : level;
            if (self->lines_[slot].fetch_add(1) >= line_limit) return;
        }
        std::string_view text;
        if (message.data != nullptr) text = std::string_view(message.data, std::min<size_t>(message.size, 64 * 1024));
        self->console_.line("[" + std::string(log_level_name(level)) + "] " + self->plugin_id_ + ": " + std::string(text));
    } catch (...) {
        // Never let an exception cross the ABI; a lost log line is the lesser harm.
    }
}

// ---- warning tally ---------------------------------------------------------------------------------------
bool WarningTally::note(std::string_view code) {
    auto it = counts_.find(code);
    if (it == counts_.end()) it = counts_.emplace(std::string(code), 0).first;
    return ++it->second <= limit_;
}

uint64_t WarningTally::count(std::string_view code) const {
    auto it = counts_.find(code);
    return it == counts_.end() ? 0 : it->second;
}

std::vector<std::pair<std::string, std::string>> WarningTally::summaries() const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto &[code, n] : counts_)
        if (n > limit_)
            out.emplace_back(code, "\xE2\x80\xA6 and " + with_thousands(n - limit_) + " more `" + code + "` warnings");
    return out;
}

std::vector<std::string> WarningTally::summary_lines() const {
    std::vector<std::string> out;
    for (auto &[code, line] : summaries()) out.push_back(line);
    return out;
}

std::string with_thousands(uint64_t n) {
    std::string digits = std::to_string(n), out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
        out.push_back(digits[i]);
    }
    return out;
}

// ---- small input files -------------------------------------------------------------------------------------
namespace {

std::string kind_problem(mode_t mode) {
    if (S_ISDIR(mode)) return "is a directory";
    if (S_ISREG(mode)) return {};
    return "is not a regular file";
}

}  // namespace

std::optional<std::string> read_small_file(const std::string &path, std::string &why, size_t max_bytes) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        why = path + ": " + std::strerror(errno);
        return std::nullopt;
    }
    if (std::string problem = kind_problem(st.st_mode); !problem.empty()) {
        why = path + " " + problem;
        return std::nullopt;
    }
    // O_NONBLOCK: should the path be swapped for a FIFO after the stat, open does not wait for a writer.
    int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        why = path + ": " + std::strerror(errno);
        return std::nullopt;
    }
    std::string text;
    if (::fstat(fd, &st) != 0 || !kind_problem(st.st_mode).empty()) {
        ::close(fd);
        why = path + " " + (kind_problem(st.st_mode).empty() ? std::string("cannot be read") : kind_problem(st.st_mode));
        return std::nullopt;
    }
    char buf[64 * 1024];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) {
        text.append(buf, static_cast<size_t>(n));
        if (text.size() > max_bytes) break;
    }
    const int read_errno = errno;
    ::close(fd);
    if (n < 0) {
        why = path + ": " + std::strerror(read_errno);
        return std::nullopt;
    }
    if (text.size() > max_bytes) {
        why = path + " is larger than " + (max_bytes == (size_t{1} << 20) ? std::string("1 MiB") : std::to_string(max_bytes) + " bytes");
        return std::nullopt;
    }
    return text;
}

// ---- signals -------------------------------------------------------------------------------------------
namespace {
std::atomic<int> g_signal{0};
char g_temp_path[PATH_MAX + 1];
std::atomic<bool> g_temp_registered{false};

extern "C" void on_signal(int sig) {
    int previous = g_signal.exchange(sig);
    if (previous != 0) {
        // Second signal: the user insists. Only async-signal-safe calls here.
        if (g_temp_registered.load()) ::unlink(g_temp_path);
        static const char msg[] = "connector-host: interrupted again; exiting now\n";
        ssize_t ignored = ::write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)ignored;
        ::_exit(130);
    }
}
}  // namespace

void install_signal_handlers() {
    struct sigaction sa {};
    sa.sa_handler = &on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
    ::sigaction(SIGHUP, &sa, nullptr);
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    ::sigaction(SIGPIPE, &ign, nullptr);
}

int received_signal() noexcept { return g_signal.load(); }

void register_temp_file(const std::string &path) {
    if (path.size() > PATH_MAX) return;
    g_temp_registered = false;
    std::memcpy(g_temp_path, path.c_str(), path.size() + 1);
    g_temp_registered = true;
}

void unregister_temp_file() { g_temp_registered = false; }

void emergency_exit(int code) {
    if (g_temp_registered.load()) ::unlink(g_temp_path);
    std::fflush(stderr);
    ::_exit(code);
}

// ---- operation ------------------------------------------------------------------------------------------
Operation::Operation(Console &console, std::chrono::milliseconds timeout, bool show_progress, std::string label)
    : console_(console), timeout_(timeout), show_progress_(show_progress && console.is_terminal()),
      label_(std::move(label)), start_(std::chrono::steady_clock::now()) {
    call_ = conn::make<conn_call>();
    call_.ctx = this;
    call_.is_cancelled = &Operation::is_cancelled;
    call_.progress = &Operation::on_progress;
    if (received_signal() != 0) {
        cancelled_ = true;
        reason_ = static_cast<int>(CancelReason::signal);
    }
    thread_ = std::thread([this] { monitor(); });
}

Operation::~Operation() { finished(); }

void Operation::finished() noexcept {
    done_ = true;
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (show_progress_) console_.clear_progress();
}

double Operation::elapsed_seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

ProgressSnapshot Operation::progress() const {
    std::lock_guard lock(progress_mu_);
    return progress_;
}

int32_t CONN_CALL Operation::is_cancelled(void *ctx) {
    auto *self = static_cast<Operation *>(ctx);
    return (self != nullptr && self->cancelled_.load()) ? 1 : 0;
}

void CONN_CALL Operation::on_progress(void *ctx, const conn_progress *p) {
    auto *self = static_cast<Operation *>(ctx);
    if (self == nullptr || p == nullptr) return;
    try {
        conn_progress copy{};
        uint32_t size = 0;
        std::memcpy(&size, p, sizeof size);
        std::memcpy(&copy, p, std::min<size_t>(size, sizeof copy));
        std::string phase;
        if (copy.phase.data != nullptr && copy.phase.size <= 64 && is_valid_utf8(view(copy.phase)))
            phase = std::string(view(copy.phase));
        std::lock_guard lock(self->progress_mu_);
        self->progress_seen_ = true;
        self->progress_ = ProgressSnapshot{phase, copy.requests, copy.pages, copy.resources, copy.entitlements,
                                           copy.grants, copy.total_hint};
    } catch (...) {
    }
}

void Operation::draw_progress() {
    ProgressSnapshot p;
    bool seen;
    {
        std::lock_guard lock(progress_mu_);
        p = progress_;
        seen = progress_seen_;
    }
    if (!seen) {
        p.resources = seen_resources;
        p.entitlements = seen_entitlements;
        p.grants = seen_grants;
    }
    double secs = elapsed_seconds();
    double rate = secs > 0.05 ? static_cast<double>(p.resources + p.grants) / secs : 0.0;
    char buf[256];
    std::snprintf(buf, sizeof buf, "%s%s%s: %llu resources, %llu entitlements, %llu grants, %llu pages, %.0f rec/s, %.1f s",
                  label_.c_str(), p.phase.empty() ? "" : " ", p.phase.c_str(),
                  static_cast<unsigned long long>(p.resources), static_cast<unsigned long long>(p.entitlements),
                  static_cast<unsigned long long>(p.grants), static_cast<unsigned long long>(p.pages), rate, secs);
    console_.progress(buf);
}

void Operation::monitor() {
    using namespace std::chrono;
    auto last_draw = steady_clock::now() - seconds(1);
    std::optional<steady_clock::time_point> cancelled_at;
    while (!stop_) {
        std::this_thread::sleep_for(milliseconds(20));
        auto now = steady_clock::now();
        if (!cancelled_) {
            if (received_signal() != 0) {
                reason_ = static_cast<int>(CancelReason::signal);
                cancelled_ = true;
            } else if (timeout_.count() > 0 && now - start_ >= timeout_) {
                reason_ = static_cast<int>(CancelReason::timeout);
                cancelled_ = true;
            }
        }
        if (cancelled_ && !done_) {
            if (!cancelled_at) cancelled_at = now;
            if (now - *cancelled_at >= cancel_grace) {
                // The plugin ignored cancellation: do not wait for it. Exit without running its code again.
                bool timeout = cancel_reason() == CancelReason::timeout;
                console_.error("the plugin did not stop within " + std::to_string(cancel_grace.count()) +
                               " ms of being asked to cancel; exiting");
                emergency_exit(timeout ? 13 : 130);
            }
        }
        if (show_progress_ && !done_ && now - last_draw >= milliseconds(250)) {
            last_draw = now;
            draw_progress();
        }
    }
}

// ---- validating sink -----------------------------------------------------------------------------------------
ValidatingSink::ValidatingSink(std::vector<std::string> declared_types, Handlers handlers)
    : types_(std::move(declared_types)), handlers_(std::move(handlers)) {
    sink_ = conn::make<conn_sink>();
    sink_.ctx = this;
    sink_.on_resource = &ValidatingSink::on_resource;
    sink_.on_entitlement = &ValidatingSink::on_entitlement;
    sink_.on_grant = &ValidatingSink::on_grant;
    if (handlers_.checkpoint) sink_.on_checkpoint = &ValidatingSink::on_checkpoint; // NULL: no checkpoints wanted
    sink_.on_warning = &ValidatingSink::on_warning;
}

const conn_sink *ValidatingSink::open() {
    thread_ = std::this_thread::get_id();
    active_ = true;
    return &sink_;
}

void ValidatingSink::close() noexcept { active_ = false; }

template <typename Fn>
int32_t ValidatingSink::guarded(const char *what, Fn &&fn) noexcept {
    try {
        if (!active_.load()) {
            std::lock_guard lock(mu_);
            if (!violation_) violation_ = std::string("the plugin called the ") + what + " sink after the operation returned";
            return CONN_SINK_STOP;
        }
        if (std::this_thread::get_id() != thread_) {
            std::lock_guard lock(mu_);
            if (!violation_) violation_ = std::string("the plugin called the ") + what + " sink from another thread";
            return CONN_SINK_STOP;
        }
        if (violation_ || host_failure_) return CONN_SINK_STOP;
        std::optional<std::string> refused = fn();
        if (refused) {
            violation_ = "the plugin sent a malformed " + std::string(what) + ": " + *refused;
            return CONN_SINK_STOP;
        }
        return CONN_SINK_CONTINUE;
    } catch (const OutputWriteError &e) {
        host_failure_errno_ = e.error();
        try {
            host_failure_ = e.what();
        } catch (...) {
        }
        return CONN_SINK_STOP;
    } catch (const std::exception &e) {
        try {
            host_failure_ = e.what();
        } catch (...) {
        }
        return CONN_SINK_STOP;
    } catch (...) {
        return CONN_SINK_STOP;
    }
}

int32_t CONN_CALL ValidatingSink::on_resource(void *ctx, const conn_resource *r) {
    auto *self = static_cast<ValidatingSink *>(ctx);
    return self->guarded("resource", [&]() -> std::optional<std::string> {
        conn_resource copy;
        if (auto e = check_resource(r, copy, self->types_)) return e;
        if (self->handlers_.resource) self->handlers_.resource(copy);
        return std::nullopt;
    });
}

int32_t CONN_CALL ValidatingSink::on_entitlement(void *ctx, const conn_entitlement *e) {
    auto *self = static_cast<ValidatingSink *>(ctx);
    return self->guarded("entitlement", [&]() -> std::optional<std::string> {
        conn_entitlement copy;
        if (auto err = check_entitlement(e, copy, self->types_)) return err;
        if (self->handlers_.entitlement) self->handlers_.entitlement(copy);
        return std::nullopt;
    });
}

int32_t CONN_CALL ValidatingSink::on_grant(void *ctx, const conn_grant *g) {
    auto *self = static_cast<ValidatingSink *>(ctx);
    return self->guarded("grant", [&]() -> std::optional<std::string> {
        conn_grant copy;
        if (auto err = check_grant(g, copy, RecordLimits{}, self->types_)) return err;
        if (self->handlers_.grant) self->handlers_.grant(copy);
        return std::nullopt;
    });
}

int32_t CONN_CALL ValidatingSink::on_checkpoint(void *ctx, conn_str token) {
    auto *self = static_cast<ValidatingSink *>(ctx);
    return self->guarded("checkpoint", [&]() -> std::optional<std::string> {
        if (auto err = check_text(token, "checkpoint token", 64 * 1024, false)) return err;
        if (self->handlers_.checkpoint) self->handlers_.checkpoint(view(token));
        return std::nullopt;
    });
}

int32_t CONN_CALL ValidatingSink::on_warning(void *ctx, conn_str code, conn_str message) {
    auto *self = static_cast<ValidatingSink *>(ctx);
    return self->guarded("warning", [&]() -> std::optional<std::string> {
        if (auto err = check_text(code, "warning code", 256, false)) return err;
        if (auto err = check_text(message, "warning message", 64 * 1024, true)) return err;
        if (self->handlers_.warning) self->handlers_.warning(view(code), view(message));
        return std::nullopt;
    });
}

}  // namespace connector_host::cli
