// Client-side pacing for a service with a per-second request limit it does not announce (SCIM servers answer 429
// past it): a token bucket whose rate is learnt from the service's own answers, so that a rate-limited sync sends
// at the rate the service allows instead of bouncing off it (each 429 costs a request, a Retry-After wait and a
// halved window; only pacing keeps a sync near requests ÷ limit).
//
// Learning: unpaced until the first 429 (or paced at a known ceiling: max-requests-per-second). A 429 starts a
// throttling episode. At the start of an episode the service has just run out of allowance; between two such
// moments it admitted exactly what its rate allows (for a token bucket, a sliding or a fixed window alike), so
// the answers admitted since the previous episode, over the time between them, measure its rate: the pace
// becomes a little under that (kUnder). A 429 before that measure means anything (less than kMinMeasure since the
// episode began and fewer than kMinAnswers admitted) belongs to the same episode. A first episode has no previous
// one: the answers of the last second stand in (an overestimate when a burst allowance was spent, corrected by
// the next episode). The measure is exact only if the client kept the service saturated between the two
// episodes; a pace held for a whole probe interval without a 429 is sustainable too, so the pace never falls
// below the last such one (a pace learnt far too low would otherwise measure itself). While the pace holds requests back and no 429 comes, it grows every kProbeEvery, by
// kFirstProbe and then twice as much each time (at most kMaxProbe), so a pace learnt too low finds the real rate
// again quickly, and one learnt right costs a 429 now and then.
//
// Pure logic (the engine asks it before starting an attempt and tells it every answer), unit-tested.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>

namespace ce::http {

class ThroughputPacer {
public:
    using Clock = std::chrono::steady_clock;
    static constexpr double kUnder = 0.97;     // the pace, as a fraction of the rate measured
    static constexpr double kFirstProbe = 0.02;
    static constexpr double kMaxProbe = 0.5;
    static constexpr std::chrono::milliseconds kProbeEvery{3'000};
    static constexpr std::chrono::milliseconds kMinMeasure{1'000};
    static constexpr uint64_t kMinAnswers = 20;
    static constexpr double kBurstSeconds = 0.1;                  // the bucket holds this much of the pace

    // ceiling: requests a second never exceeded (0: none, unpaced until the first 429).
    explicit ThroughputPacer(double ceiling = 0) : ceiling_(ceiling), rate_(ceiling) {}

    // When the next attempt may start (`now` or later). Notes that requests are being held back.
    Clock::time_point next_start(Clock::time_point now) {
        if (rate_ <= 0) return now;
        refill(now);
        if (tokens_ >= 1.0) return now;
        held_back_ = true;
        const auto wait = std::chrono::duration<double>((1.0 - tokens_) / rate_);
        return now + std::chrono::duration_cast<Clock::duration>(wait);
    }
    // An attempt started now (only when next_start allowed it).
    void started(Clock::time_point now) {
        if (rate_ <= 0) return;
        refill(now);
        tokens_ -= 1.0;
    }
    // An answer that was not a throttling one.
    void admitted(Clock::time_point now) {
        ++admitted_;
        recent_.push_back(now);
        while (!recent_.empty() && now - recent_.front() > std::chrono::seconds(1)) recent_.pop_front();
        probe(now);
    }
    // A 429 (or a 503 with Retry-After).
    void throttled(Clock::time_point now) {
        tokens_ = std::min(tokens_, 0.0);
        if (episodes_ > 0 && now - last_episode_ < kMinMeasure && admitted_ - admitted_at_episode_ < kMinAnswers)
            return;
        set_rate(measured(now));
        probe_step_ = kFirstProbe;
        sustained_ = 0;
        ++episodes_;
        last_episode_ = now;
        admitted_at_episode_ = admitted_;
        last_probe_ = now;
        held_back_ = false;
        tokens_ = 0;
        refilled_ = now;
    }

    double rate() const { return rate_; }  // requests a second; 0: unpaced
    uint64_t episodes() const { return episodes_; }

private:
    void refill(Clock::time_point now) {
        if (refilled_ != Clock::time_point{}) {
            const double dt = std::chrono::duration<double>(now - refilled_).count();
            tokens_ = std::min(capacity(), tokens_ + dt * rate_);
        } else {
            tokens_ = 1.0;
        }
        refilled_ = now;
    }
    double capacity() const { return std::max(1.0, rate_ * kBurstSeconds); }
    // The pace a new episode calls for.
    double measured(Clock::time_point now) const {
        if (episodes_ > 0) {
            const double dt = std::max(1e-3, std::chrono::duration<double>(now - last_episode_).count());
            return std::max(static_cast<double>(admitted_ - admitted_at_episode_) / dt, sustained_) * kUnder;
        }
        return static_cast<double>(recent_.size()) * kUnder;
    }
    void set_rate(double r) {
        r = std::max(r, kMinRate);
        rate_ = ceiling_ > 0 ? std::min(r, ceiling_) : r;
    }
    void probe(Clock::time_point now) {
        if (rate_ <= 0 || episodes_ == 0 || !held_back_ || now - last_probe_ < kProbeEvery) return;
        last_probe_ = now;
        held_back_ = false;
        sustained_ = rate_;
        set_rate(rate_ * (1 + probe_step_));
        probe_step_ = std::min(kMaxProbe, probe_step_ * 2);
    }

    static constexpr double kMinRate = 0.5;
    double ceiling_;
    double rate_;
    double tokens_ = 0;
    Clock::time_point refilled_{};
    std::deque<Clock::time_point> recent_;  // admitted answers of the last second
    uint64_t admitted_ = 0;
    uint64_t admitted_at_episode_ = 0;
    uint64_t episodes_ = 0;
    Clock::time_point last_episode_{};
    Clock::time_point last_probe_{};
    bool held_back_ = false;  // since the last probe, a request waited for the pace
    double probe_step_ = kFirstProbe;
    double sustained_ = 0;  // the pace before the last probe since the last episode (0: none)
};

}  // namespace ce::http
