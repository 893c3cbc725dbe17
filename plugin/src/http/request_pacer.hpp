// Client-side pacing for a service with a per-minute request limit (the Admin API's 100 a minute per
// organisation): at most `per_window` attempts start in any window of `window` (a sliding window, like the
// service's). The window is a little longer than the service's minute, because the service counts a request when
// it arrives: two requests started 60 s apart may arrive less than 60 s apart. Pure logic (the engine asks it
// before starting an attempt), unit-tested.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>

namespace ce::http {

class RequestPacer {
public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::chrono::milliseconds kDefaultWindow{61'000};

    explicit RequestPacer(size_t per_window, std::chrono::milliseconds window = kDefaultWindow)
        : per_window_(per_window ? per_window : 1), window_(window) {}

    // When the next attempt may start (`now` or later).
    Clock::time_point next_start(Clock::time_point now) const {
        size_t first_live = 0;
        while (first_live < starts_.size() && starts_[first_live] + window_ <= now) ++first_live;
        if (starts_.size() - first_live < per_window_) return now;
        return starts_[first_live] + window_;
    }
    bool may_start(Clock::time_point now) const { return next_start(now) <= now; }
    // An attempt started now.
    void started(Clock::time_point now) {
        forget_before(now);
        starts_.push_back(now);
    }
    size_t per_window() const { return per_window_; }

private:
    void forget_before(Clock::time_point now) {
        while (!starts_.empty() && starts_.front() + window_ <= now) starts_.pop_front();
    }

    size_t per_window_;
    std::chrono::milliseconds window_;
    std::deque<Clock::time_point> starts_;  // at most per_window_ of them
};

}  // namespace ce::http
