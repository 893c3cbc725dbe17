// The learnt pace (plugin/src/http/throughput_pacer.hpp) against a simulated token-bucket server, in simulated
// time: a client that would send as fast as it can must end near requests ÷ limit with a handful of 429s.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "http/throughput_pacer.hpp"

using ce::http::ThroughputPacer;
using Clock = ThroughputPacer::Clock;

namespace {

// A token bucket of `rate` a second holding at most `burst` (as scim-sim --rate-limit: burst = rate).
struct BucketServer {
    double rate, burst, tokens;
    Clock::time_point at{};
    BucketServer(double r, double b) : rate(r), burst(b), tokens(b) {}
    bool admit(Clock::time_point now) {
        if (at != Clock::time_point{})
            tokens = std::min(burst, tokens + std::chrono::duration<double>(now - at).count() * rate);
        at = now;
        if (tokens < 1) return false;
        tokens -= 1;
        return true;
    }
};

struct Outcome {
    double seconds = 0;
    int throttled = 0;
    double pace = 0;
};

// `wanted` requests from a client that could send one every `gap`, honouring a 1 s Retry-After for everything
// while it has no pace (as the engine does), only for the retried request once it has one.
Outcome drive(ThroughputPacer &pacer, BucketServer &server, int wanted, std::chrono::microseconds gap) {
    const Clock::time_point start = Clock::now();
    Clock::time_point now = start, paused_until = start;
    Outcome o;
    int admitted = 0;
    while (admitted < wanted) {
        now = std::max({now + gap, paused_until, pacer.next_start(now)});
        if (pacer.next_start(now) > now) continue;
        pacer.started(now);
        if (server.admit(now)) {
            ++admitted;
            pacer.admitted(now);
        } else {
            ++o.throttled;
            pacer.throttled(now);
            if (pacer.rate() <= 0) paused_until = now + std::chrono::seconds(1);
        }
    }
    o.seconds = std::chrono::duration<double>(now - start).count();
    o.pace = pacer.rate();
    return o;
}

}  // namespace

TEST_CASE("a learnt pace ends near requests / limit with few 429s, whatever the limit") {
    for (double limit : {5.0, 20.0, 50.0, 200.0}) {
        for (auto gap : {std::chrono::microseconds(200), std::chrono::microseconds(2000)}) {
            CAPTURE(limit);
            CAPTURE(gap.count());
            ThroughputPacer pacer;
            BucketServer server(limit, limit);
            const int wanted = static_cast<int>(limit * 40);
            const Outcome o = drive(pacer, server, wanted, gap);
            const double floor = wanted / limit;
            CHECK(o.seconds <= 1.1 * floor);
            // A 429 or two a probe cycle (every few seconds), whatever the rate: 1% of these requests at 20/s and up.
            CHECK(o.throttled <= std::max(5, wanted / 100));
            MESSAGE("limit ", limit, "/s: ", o.seconds, " s for ", wanted, " (floor ", floor, " s), ", o.throttled,
                    " 429s, pace ", o.pace);
        }
    }
}

TEST_CASE("a ceiling is never exceeded, and holds from the first request") {
    ThroughputPacer pacer(10);
    BucketServer server(1000, 1000);
    const Outcome o = drive(pacer, server, 200, std::chrono::microseconds(100));
    CHECK(o.throttled == 0);
    CHECK(o.seconds >= 200 / 10.0 - 1);  // the first requests may spend the small burst
    CHECK(pacer.rate() == 10);
}

TEST_CASE("unpaced until a 429: a service without a limit is never slowed") {
    ThroughputPacer pacer;
    BucketServer server(1e9, 1e9);
    const Outcome o = drive(pacer, server, 5000, std::chrono::microseconds(100));
    CHECK(o.throttled == 0);
    CHECK(pacer.rate() == 0);
    CHECK(o.seconds < 0.6);
}

TEST_CASE("a pace learnt too low grows back to the service's rate") {
    ThroughputPacer pacer;
    BucketServer server(40, 40);
    const auto t0 = Clock::now();
    // A first episode that measured little (a slow client then): 3 answers in the last second.
    for (int i = 0; i < 3; ++i) pacer.admitted(t0 + std::chrono::milliseconds(100 * i));
    pacer.throttled(t0 + std::chrono::milliseconds(400));
    CHECK(pacer.rate() < 5);
    drive(pacer, server, 1200, std::chrono::microseconds(500));
    CHECK(pacer.rate() > 30);
}
