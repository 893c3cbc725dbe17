// Retry policy for the HTTP engine: which failures are transient, how long to wait before the next attempt
// (exponential backoff with full jitter, honouring Retry-After), and the adaptive concurrency window
// (halve on 429, grow back by one after a run of successes). Pure logic: no I/O, unit-tested.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string_view>

namespace ce::http {

// Parses a Retry-After header value: delta-seconds ("120") or an HTTP date (IMF-fixdate, RFC 850 or asctime).
// `now_unix` is the current time in seconds since the epoch (for dates). Returns milliseconds to wait
// (0 for a date in the past), or nullopt when the value is not understood.
std::optional<int64_t> parse_retry_after(std::string_view value, int64_t now_unix);

// True for HTTP statuses worth retrying: 408, 429, 500, 502, 503, 504 (and other 5xx except 501/505).
bool is_transient_status(long status);

struct BackoffSettings {
    int64_t base_ms = 200;        // first backoff cap
    int64_t max_ms = 10'000;      // cap of one wait
    int64_t budget_ms = 0;        // total time a request may spend being retried (from its first attempt): the
                                  // connector sets it from retry-budget-ms
};

// Full-jitter exponential backoff: a uniform draw in [0, min(max, base * 2^attempt)], and never below
// the server's Retry-After when one was given. attempt counts from 0 (the wait after the first failure).
int64_t backoff_delay_ms(const BackoffSettings &settings, unsigned attempt, std::optional<int64_t> retry_after_ms,
                         std::mt19937_64 &rng);

// Whether a retry that would start `delay_ms` from now still fits in the budget, given how long the request
// has been going (elapsed_ms since its first attempt).
bool retry_fits_budget(const BackoffSettings &settings, int64_t elapsed_ms, int64_t delay_ms);

// Adaptive concurrency: starts at `max`; a 429 halves it (never below 1); `max(window, 1)` successes in a row
// grow it by one, up to `max`.
class AdaptiveWindow {
public:
    explicit AdaptiveWindow(unsigned max_window) : max_(max_window ? max_window : 1), window_(max_) {}
    unsigned window() const { return window_; }
    void on_success() {
        if (window_ >= max_) return;
        if (++streak_ >= window_) {
            ++window_;
            streak_ = 0;
        }
    }
    void on_throttled() {
        window_ = window_ > 1 ? window_ / 2 : 1;
        streak_ = 0;
    }

private:
    unsigned max_;
    unsigned window_;
    unsigned streak_ = 0;
};

}  // namespace ce::http
