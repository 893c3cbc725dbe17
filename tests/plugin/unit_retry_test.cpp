// Retry-After parsing, backoff with full jitter, the retry budget and the adaptive window.
#include <doctest/doctest.h>

#include "http/retry_policy.hpp"

using namespace ce::http;

TEST_CASE("Retry-After in seconds") {
    CHECK(parse_retry_after("0", 0) == 0);
    CHECK(parse_retry_after("3", 0) == 3000);
    CHECK(parse_retry_after(" 120 ", 0) == 120000);
    CHECK(parse_retry_after("99999999999999999999999", 0) == int64_t{24} * 3600 * 1000);  // clamped
    CHECK_FALSE(parse_retry_after("", 0).has_value());
    CHECK_FALSE(parse_retry_after("-1", 0).has_value());
    CHECK_FALSE(parse_retry_after("1.5", 0).has_value());
    CHECK_FALSE(parse_retry_after("soon", 0).has_value());
}

TEST_CASE("Retry-After as an HTTP date (all three formats)") {
    // Sun, 06 Nov 1994 08:49:37 GMT = 784111777
    const int64_t t = 784111777;
    CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", t - 10) == 10000);
    CHECK(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", t - 5) == 5000);
    CHECK(parse_retry_after("Sun Nov  6 08:49:37 1994", t - 1) == 1000);
    CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", t + 100) == 0);  // in the past: now
    CHECK(parse_retry_after("Wed, 01 Jan 2031 00:00:00 GMT", 1924992000 - 2) == 2000);
    CHECK_FALSE(parse_retry_after("Sun, 06 Foo 1994 08:49:37 GMT", 0).has_value());
    CHECK_FALSE(parse_retry_after("Sun, 06 Nov 1994 25:49:37 GMT", 0).has_value());
}

TEST_CASE("transient statuses") {
    for (long s : {408L, 429L, 500L, 502L, 503L, 504L}) CHECK(is_transient_status(s));
    for (long s : {200L, 204L, 301L, 400L, 401L, 403L, 404L, 409L, 412L, 413L, 501L, 505L}) CHECK_FALSE(is_transient_status(s));
}

TEST_CASE("full-jitter backoff stays under the growing cap and never under Retry-After") {
    BackoffSettings s;
    s.base_ms = 100;
    s.max_ms = 1000;
    std::mt19937_64 rng(42);
    for (unsigned attempt = 0; attempt < 10; ++attempt) {
        const int64_t cap = std::min<int64_t>(1000, 100LL << attempt);
        int64_t seen_max = 0;
        for (int i = 0; i < 200; ++i) {
            auto d = backoff_delay_ms(s, attempt, std::nullopt, rng);
            CHECK(d >= 0);
            CHECK(d <= cap);
            seen_max = std::max(seen_max, d);
        }
        CHECK(seen_max > cap / 2);  // jitter spreads over the whole range
    }
    for (int i = 0; i < 50; ++i) CHECK(backoff_delay_ms(s, 0, 2500, rng) >= 2500);
}

TEST_CASE("the retry budget bounds the total time") {
    BackoffSettings s;
    s.budget_ms = 1000;
    CHECK(retry_fits_budget(s, 0, 1000));
    CHECK(retry_fits_budget(s, 400, 500));
    CHECK_FALSE(retry_fits_budget(s, 600, 500));
    s.budget_ms = 0;
    CHECK_FALSE(retry_fits_budget(s, 0, 1));
}

TEST_CASE("adaptive window: halves on 429, grows back by one after a run of successes") {
    AdaptiveWindow w(8);
    CHECK(w.window() == 8);
    w.on_throttled();
    CHECK(w.window() == 4);
    w.on_throttled();
    CHECK(w.window() == 2);
    w.on_throttled();
    w.on_throttled();
    CHECK(w.window() == 1);
    w.on_success();
    CHECK(w.window() == 2);  // a run of 1 at window 1
    w.on_success();
    CHECK(w.window() == 2);
    w.on_success();
    CHECK(w.window() == 3);
    for (int i = 0; i < 100; ++i) w.on_success();
    CHECK(w.window() == 8);  // never past the configured concurrency
    AdaptiveWindow zero(0);
    CHECK(zero.window() == 1);
}
