// HTTP over libcurl's multi interface, on the calling thread.
//
// One Engine per connector instance: one CURLM (its connection cache keeps connections alive across
// requests and operations), a free list of reused easy handles, up to `window` transfers in flight (HTTP/2
// multiplexed when the server offers it), completions dispatched on the thread that calls run(). run()
// waits at most kMaxWaitMs at a time and checks the cancel predicate on every turn: once it answers true every
// in-flight transfer is removed at once and run() throws Error::cancelled().
//
// Transient failures (connection errors, timeouts, 408/429/5xx) are retried inside the engine with
// exponential backoff and full jitter, honouring Retry-After, within a bounded total time per request.
// A 429 halves the concurrency window and holds new requests back for Retry-After; a run of successes grows
// the window back by one. Completions may ask for a retry of a GET whose body did not parse.
//
// TLS verification is always on (optional CA file; no way to turn it off). Redirects are never followed: a
// 3xx is handed to the completion like any other status, so the token never travels to another origin. Plain
// http (allowed to loopback only) never goes through a proxy, whatever the environment says, so the token never
// crosses a network in clear; https uses the environment's proxies as libcurl does.
//
// Memory a server can make it hold is bounded, counted in decompressed bytes (libcurl inflates gzip/deflate/br
// before the write callback, where every cap applies): a buffered body is at most its request's cap; the body of
// a non-2xx answer keeps its first max_error_body_bytes and the transfer ends there (the answer is handed over
// with its status, never as a failure); and all bodies in flight together (buffered bodies plus what streams
// report they hold) stay within max_held_bytes, else the transfer that passes it fails as too_large. The cancel
// predicate is also asked inside the write callback every kCancelCheckBytes, so a long inflate or read stops.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/errors.hpp"
#include "common/log.hpp"
#include "http/request_pacer.hpp"
#include "http/retry_policy.hpp"
#include "http/throughput_pacer.hpp"

namespace ce::http {

enum class Method { get, post, put, patch, del };
const char *method_name(Method m);

// Why a transfer produced no HTTP response (or an unusable one).
enum class Failure {
    none,       // an HTTP status was received (any status, including errors and redirects)
    connect,    // could not resolve or connect (transient)
    timeout,    // connect, total or low-speed timeout (transient)
    network,    // connection reset, nothing received, partial body (transient)
    tls,        // certificate or TLS handshake refused (not retried)
    too_large,  // the body passed the configured cap (not retried)
    other,      // anything else libcurl reported (not retried)
};

// Takes the body of a 2xx answer piece by piece as it arrives, instead of Response::body (the body of any other
// status is still buffered, for the error message). reset() is called before every attempt, so a retried
// request starts from the beginning. An exception thrown by write() ends the transfer at once; the completion
// finds it in Response::stream_error (the status is the answer's, failure is none). write() runs inside
// libcurl's callbacks, on the thread that called Engine::run().
class BodyStream {
public:
    virtual ~BodyStream() = default;
    virtual void reset() = 0;
    virtual void write(std::string_view bytes) = 0;
    // What the stream keeps in memory now (counted against EngineOptions::max_held_bytes after every write).
    virtual size_t held_bytes() const { return 0; }
};

struct Request {
    Method method = Method::get;
    std::string url;
    std::vector<std::string> headers;  // "Name: value"
    std::string body;                  // sent when not empty (or always for POST/PUT/PATCH)
    std::shared_ptr<BodyStream> stream;  // optional: a 2xx body goes here, not into Response::body
    size_t max_body_bytes = 0;           // 0: EngineOptions::max_response_bytes
    std::string limit_name;              // the setting a too-large body names ("" = EngineOptions::limit_name)
};

// The statuses of a success.
constexpr bool is_success_status(long status) { return status >= 200 && status <= 299; }

struct Response {
    long status = 0;
    std::string body;
    std::string content_type;
    std::optional<int64_t> retry_after_ms;  // from a Retry-After header
    // From RateLimit-Remaining / X-RateLimit-Remaining and RateLimit-Reset / X-RateLimit-Reset (delta seconds, or
    // epoch seconds as some services send): what is left of the service's allowance, and when it refills.
    std::optional<int64_t> ratelimit_remaining;
    std::optional<int64_t> ratelimit_reset_ms;
    Failure failure = Failure::none;
    std::string error;                      // libcurl's description when failure != none
    unsigned attempts = 0;                  // attempts made for this request (1 = no retry)
    bool can_retry = false;                 // a completion may still ask for a retry (GET within budget)
    std::exception_ptr stream_error;        // what Request::stream's write() threw, if it did
    std::string limit_name;                 // with Failure::too_large: the setting that capped the body

    // An HTTP answer with a 2xx status (no transport failure).
    bool ok() const { return failure == Failure::none && is_success_status(status); }
    // An HTTP answer with exactly this status.
    bool is(long wanted) const { return failure == Failure::none && status == wanted; }
};

enum class Disposition { done, retry };
using Completion = std::function<Disposition(Response &)>;

// What the connector's config sets (concurrency, timeouts, the body caps, the retry budget) has no default here:
// the connector fills it from the config (config/fields.hpp holds the defaults). The rest are the engine's own.
struct EngineOptions {
    unsigned concurrency = 1;
    long connect_timeout_ms = 0;
    long request_timeout_ms = 0;
    long low_speed_bytes_per_s = 1;       // abort when below this ...
    long low_speed_time_s = 30;           // ... for this long
    size_t max_response_bytes = 0;
    std::string limit_name;                  // the setting a body past max_response_bytes or max_held_bytes names
    size_t max_held_bytes = 0;               // all bodies in flight together; 0: max_response_bytes
    size_t max_error_body_bytes = 64u << 10;  // kept of a non-2xx body; the rest is never read
    std::string ca_file;                  // empty: the system's CA store
    std::string user_agent = "claude-enterprise-connector";
    BackoffSettings backoff;
    uint64_t seed = 0;                    // jitter PRNG seed (0: from std::random_device)
    unsigned requests_per_minute = 0;     // attempts (retries included) started in any minute; 0: unpaced
    // Pace learnt from the service's 429s (http/throughput_pacer.hpp), never above max_requests_per_second (0: no
    // ceiling). Off: 429s only halve the window and hold new requests back for Retry-After.
    bool learn_rate = false;
    double max_requests_per_second = 0;
};

struct EngineStats {
    uint64_t requests = 0;   // attempts started, retries included
    uint64_t retries = 0;
};

class Engine {
public:
    struct Job;  // one request and its retry state (defined in the .cpp)
    static constexpr size_t kCancelCheckBytes = 1u << 20;  // body bytes between two asks of the cancel predicate
    static constexpr int64_t kMaxWaitMs = 100;              // the longest wait between two asks of it
    static constexpr int64_t kSlowRetryNoticeMs = 3000;     // a request retried this long is worth a warning

    explicit Engine(EngineOptions options, LogFn log = {});
    ~Engine();
    Engine(const Engine &) = delete;
    Engine &operator=(const Engine &) = delete;

    void set_cancel(std::function<bool()> cancelled) { cancelled_ = std::move(cancelled); }
    void submit(Request request, Completion done);
    // Drives every submitted request (and those submitted by completions) to its end. Exceptions thrown by a
    // completion abort every other transfer and propagate. Throws Error::cancelled().
    void run();
    // Convenience: one request, run to its end (not to be called from inside a completion).
    Response perform(Request request);
    void abort_all();

    const EngineStats &stats() const { return stats_; }
    void reset_stats() { stats_ = {}; }
    // The total time one request may spend being retried, for the requests submitted from now on.
    void set_retry_budget_ms(int64_t ms) { options_.backoff.budget_ms = ms; }

private:
    using Clock = std::chrono::steady_clock;

    static size_t on_body(char *data, size_t size, size_t nmemb, void *userp);
    size_t take_body(Job &job, const char *data, size_t n);
    bool hold(Job &job, size_t now_held);
    void release(Job &job);
    void describe_too_large(Job &job, long status);
    bool cancel_due(Job &job, size_t n);

    void start(std::unique_ptr<Job> job);
    void begin_attempt(Job &job, void *easy);
    void set_options(void *easy, Job &job);
    void finish(void *easy, int curl_code);
    bool schedule_retry(std::unique_ptr<Job> &job, std::optional<int64_t> retry_after_ms);
    void enqueue_retry(std::unique_ptr<Job> &job, int64_t delay_ms);
    void log_exchange(const Job &job, Clock::time_point now) const;
    void note_slow_retry(const Job &job, int64_t delay_ms);
    void on_throttled(const Response &r, Clock::time_point now);
    // An answer saying the allowance is spent (RateLimit-Remaining: 0): no new request until it refills.
    void on_allowance(const Response &r, Clock::time_point now);
    void start_ready(Clock::time_point now);
    bool complete_finished();
    int64_t wait_ms();
    void log(LogLevel level, const std::string &msg) const;

    EngineOptions options_;
    std::optional<Clock::time_point> slow_notice_at_;  // the last "retrying" warning
    LogFn log_;
    std::function<bool()> cancelled_;
    void *multi_ = nullptr;
    std::vector<void *> free_easy_;
    std::deque<std::unique_ptr<Job>> ready_;
    std::multimap<Clock::time_point, std::unique_ptr<Job>> delayed_;
    std::unordered_map<void *, std::unique_ptr<Job>> active_;
    Clock::time_point paused_until_{};
    AdaptiveWindow window_;
    std::optional<RequestPacer> pacer_;
    std::optional<ThroughputPacer> throughput_;
    // Whether the pacing allows an attempt to start now, and when it will otherwise.
    bool pacing_allows(Clock::time_point now);
    Clock::time_point paced_start(Clock::time_point now);
    std::mt19937_64 rng_;
    EngineStats stats_;
    size_t held_total_ = 0;    // bytes held by the bodies of the transfers in flight (and completions running)
    bool cancel_seen_ = false;  // the write callback saw the cancel predicate answer true
    bool running_ = false;
};

}  // namespace ce::http
