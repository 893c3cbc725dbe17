#include "http/http_engine.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <ctime>
#include <stdexcept>
#include <string_view>

#include "common/text.hpp"
#include "common/units.hpp"

namespace ce::http {

const char *method_name(Method m) {
    switch (m) {
    case Method::get: return "GET";
    case Method::post: return "POST";
    case Method::put: return "PUT";
    case Method::patch: return "PATCH";
    case Method::del: return "DELETE";
    }
    return "GET";
}

struct Engine::Job {
    Request request;
    Completion done;
    Response response;
    unsigned attempts = 0;
    Clock::time_point first_start{};
    Clock::time_point attempt_start{};
    curl_slist *headers = nullptr;
    void *easy = nullptr;
    Engine *owner = nullptr;
    size_t max_bytes = 0;
    size_t received = 0;
    size_t held = 0;           // counted in Engine::held_total_
    size_t unchecked = 0;      // body bytes since the cancel predicate was last asked
    bool too_large = false;
    bool over_budget = false;  // too_large because all bodies in flight together passed max_held_bytes
    bool body_cut = false;     // a non-2xx body ended at max_error_body_bytes (not a failure)
    int streaming = -1;  // -1: not decided yet for this attempt; 1: the body goes to request.stream; 0: buffered
    bool success = false;  // the status is 2xx (decided with streaming)
    ~Job() { curl_slist_free_all(headers); }
};

namespace {

CURL *as_easy(void *p) { return static_cast<CURL *>(p); }
CURLM *as_multi(void *p) { return static_cast<CURLM *>(p); }

// Connections kept in the cache beyond one a transfer in flight.
constexpr long kSpareConnections = 2;
// How long new requests are held back after a 429 (or a 503 with Retry-After) that does not say.
constexpr int64_t kDefaultThrottleMs = 1000;
// A Retry-After up to this long, once a pace is learnt, holds back only the request it answered.
constexpr int64_t kPacedRetryAfterMs = 2000;

constexpr std::string_view kRetryAfter = "retry-after";
constexpr std::string_view kRemaining[] = {"ratelimit-remaining", "x-ratelimit-remaining"};
constexpr std::string_view kReset[] = {"ratelimit-reset", "x-ratelimit-reset"};
// The longest wait an allowance header may impose (a reset further off is not believed).
constexpr int64_t kMaxAllowanceWaitMs = 60'000;
// A reset value this large is epoch seconds, not a delay.
constexpr int64_t kEpochSeconds = 1'000'000'000;

// A non-negative whole number of a header, nullopt when it is not one.
std::optional<int64_t> header_number(std::string_view v) {
    int64_t n = 0;
    if (v.empty() || v.size() > 15) return std::nullopt;
    for (char c : v) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + (c - '0');
    }
    return n;
}

std::optional<int64_t> reset_ms(std::string_view v) {
    const auto n = header_number(v);
    if (!n) return std::nullopt;
    const int64_t seconds = *n >= kEpochSeconds ? *n - static_cast<int64_t>(std::time(nullptr)) : *n;
    return std::max<int64_t>(0, seconds) * 1000;
}

constexpr std::string_view kContentType = "content-type";

bool header_is(std::string_view line, std::string_view name) {
    return line.size() > name.size() && line[name.size()] == ':' && text::istarts_with(line, name);
}

std::string_view header_value(std::string_view line, size_t name_len) {
    line.remove_prefix(name_len + 1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n' || line.back() == ' ')) line.remove_suffix(1);
    return line;
}

// The rate-limit headers of an answer; whether the line was one.
// 429, or 503 with Retry-After: a server saying it is too busy.
bool is_throttling(const Response &r) { return r.is(429) || (r.is(503) && r.retry_after_ms); }

bool read_allowance(Engine::Job &job, std::string_view line) {
    for (std::string_view name : kRemaining)
        if (header_is(line, name)) {
            job.response.ratelimit_remaining = header_number(header_value(line, name.size()));
            return true;
        }
    for (std::string_view name : kReset)
        if (header_is(line, name)) {
            job.response.ratelimit_reset_ms = reset_ms(header_value(line, name.size()));
            return true;
        }
    return false;
}

size_t on_header(char *data, size_t size, size_t nmemb, void *userp) {
    auto *job = static_cast<Engine::Job *>(userp);
    const size_t n = size * nmemb;
    std::string_view line(data, n);
    if (line.rfind("HTTP/", 0) == 0) {  // a new response (after 100 Continue): forget earlier headers
        job->response.retry_after_ms.reset();
        job->response.ratelimit_remaining.reset();
        job->response.ratelimit_reset_ms.reset();
        job->response.content_type.clear();
    } else if (header_is(line, kRetryAfter)) {
        job->response.retry_after_ms =
            parse_retry_after(header_value(line, kRetryAfter.size()), static_cast<int64_t>(std::time(nullptr)));
    } else if (header_is(line, kContentType)) {
        job->response.content_type = std::string(header_value(line, kContentType.size()));
    } else {
        read_allowance(*job, line);
    }
    return n;
}

Failure classify(CURLcode code) {
    switch (code) {
    case CURLE_OK: return Failure::none;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT: return Failure::connect;
    case CURLE_OPERATION_TIMEDOUT: return Failure::timeout;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
    case CURLE_WEIRD_SERVER_REPLY: return Failure::network;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_USE_SSL_FAILED: return Failure::tls;
    default: return Failure::other;
    }
}

bool is_plain_http(std::string_view url) { return text::istarts_with(url, "http:"); }

bool failure_is_transient(Failure f) { return f == Failure::connect || f == Failure::timeout || f == Failure::network; }

int64_t ms_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
}

}  // namespace

size_t Engine::on_body(char *data, size_t size, size_t nmemb, void *userp) {
    auto *job = static_cast<Engine::Job *>(userp);
    const size_t n = size * nmemb;
    if (job->owner->cancel_due(*job, n)) return 0;  // aborts the transfer; run() throws Error::cancelled()
    if (job->received + n > job->max_bytes) {
        job->too_large = true;
        return 0;  // aborts the transfer with CURLE_WRITE_ERROR
    }
    job->received += n;
    return job->owner->take_body(*job, data, n);
}

size_t Engine::take_body(Job &job, const char *data, size_t n) {
    if (job.streaming < 0) {
        long status = 0;
        curl_easy_getinfo(as_easy(job.easy), CURLINFO_RESPONSE_CODE, &status);
        job.success = is_success_status(status);
        job.streaming = job.request.stream && job.success ? 1 : 0;
    }
    if (job.streaming == 1) {
        try {
            job.request.stream->write(std::string_view(data, n));
        } catch (...) {  // never through libcurl's C frames
            job.response.stream_error = std::current_exception();
            return 0;
        }
        return hold(job, job.request.stream->held_bytes()) ? n : 0;
    }
    std::string &body = job.response.body;
    if (!job.success && body.size() + n > options_.max_error_body_bytes) {
        // An error body: its beginning is enough for the message; the rest is never read.
        body.append(data, options_.max_error_body_bytes - body.size());
        job.body_cut = true;
        hold(job, body.size());
        return 0;
    }
    body.append(data, n);
    // The bytes written (what is resident: a large buffer's spare capacity is address space until touched), so a
    // body alone passes its own cap first and is reported as too large; only bodies together pass the total.
    return hold(job, body.size()) ? n : 0;
}

bool Engine::hold(Job &job, size_t now_held) {
    held_total_ = held_total_ - job.held + now_held;
    job.held = now_held;
    const size_t budget = options_.max_held_bytes ? options_.max_held_bytes : options_.max_response_bytes;
    if (held_total_ <= budget || job.body_cut) return true;
    job.too_large = job.over_budget = true;
    return false;
}

void Engine::release(Job &job) {
    held_total_ -= std::min(held_total_, job.held);
    job.held = 0;
}

bool Engine::cancel_due(Job &job, size_t n) {
    job.unchecked += n;
    if (job.unchecked < kCancelCheckBytes) return false;
    job.unchecked = 0;
    if (cancel_seen_ || (cancelled_ && cancelled_())) cancel_seen_ = true;
    return cancel_seen_;
}

Engine::Engine(EngineOptions options, LogFn log)
    : options_(std::move(options)), log_(std::move(log)), window_(options_.concurrency) {
    if (options_.seed == 0) {
        std::random_device rd;
        options_.seed = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    }
    rng_.seed(options_.seed);
    if (options_.requests_per_minute > 0) pacer_.emplace(options_.requests_per_minute);
    if (options_.learn_rate || options_.max_requests_per_second > 0) throughput_.emplace(options_.max_requests_per_second);
    multi_ = curl_multi_init();
    if (!multi_) throw std::runtime_error("could not create a libcurl multi handle");
    const long conns = static_cast<long>(std::max(1u, options_.concurrency));
    curl_multi_setopt(as_multi(multi_), CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    curl_multi_setopt(as_multi(multi_), CURLMOPT_MAX_HOST_CONNECTIONS, conns);
    curl_multi_setopt(as_multi(multi_), CURLMOPT_MAXCONNECTS, conns + kSpareConnections);
}

Engine::~Engine() {
    abort_all();
    for (void *e : free_easy_) curl_easy_cleanup(as_easy(e));
    curl_multi_cleanup(as_multi(multi_));
}

void Engine::log(LogLevel level, const std::string &msg) const {
    if (log_) log_(level, msg);
}

void Engine::submit(Request request, Completion done) {
    auto job = std::make_unique<Job>();
    job->request = std::move(request);
    job->done = std::move(done);
    ready_.push_back(std::move(job));
}

void Engine::abort_all() {
    for (auto &[easy, job] : active_) {
        curl_multi_remove_handle(as_multi(multi_), as_easy(easy));
        curl_easy_reset(as_easy(easy));
        free_easy_.push_back(easy);
    }
    active_.clear();
    ready_.clear();
    delayed_.clear();
    held_total_ = 0;
}

void Engine::begin_attempt(Job &job, void *easy) {
    job.attempt_start = Clock::now();
    if (job.attempts == 0) job.first_start = job.attempt_start;
    ++job.attempts;
    ++stats_.requests;
    release(job);
    job.owner = this;
    job.response = Response{};
    job.too_large = job.over_budget = job.body_cut = false;
    job.received = job.unchecked = 0;
    job.streaming = -1;
    job.easy = easy;
    if (job.request.stream) job.request.stream->reset();
    job.max_bytes = job.request.max_body_bytes ? job.request.max_body_bytes : options_.max_response_bytes;
}

// Everything but the method: the URL, protocols and proxies, TLS, timeouts, the callbacks.
void Engine::set_options(void *easy_ptr, Job &job) {
    CURL *easy = as_easy(easy_ptr);
    curl_easy_setopt(easy, CURLOPT_URL, job.request.url.c_str());
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    // Plain http is for loopback only: never through a proxy, whatever http_proxy / ALL_PROXY say.
    if (is_plain_http(job.request.url)) curl_easy_setopt(easy, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, job.headers);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, options_.user_agent.c_str());
    curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options_.ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, options_.ca_file.c_str());
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, options_.connect_timeout_ms);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, options_.request_timeout_ms);
    curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, options_.low_speed_bytes_per_s);
    curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, options_.low_speed_time_s);
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    curl_easy_setopt(easy, CURLOPT_PIPEWAIT, 1L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Engine::on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &job);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, &job);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, &job);
}

void Engine::start(std::unique_ptr<Job> job) {
    CURL *easy = nullptr;
    if (!free_easy_.empty()) {
        easy = as_easy(free_easy_.back());
        free_easy_.pop_back();
        curl_easy_reset(easy);
    } else {
        easy = curl_easy_init();
        if (!easy) throw std::runtime_error("could not create a libcurl easy handle");
    }
    begin_attempt(*job, easy);
    curl_slist_free_all(job->headers);
    job->headers = nullptr;
    for (const auto &h : job->request.headers) job->headers = curl_slist_append(job->headers, h.c_str());
    // An empty Expect header: no "100 Continue" round trip before bodies.
    job->headers = curl_slist_append(job->headers, "Expect:");

    set_options(easy, *job);
    switch (job->request.method) {
    case Method::get: curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L); break;
    case Method::post:
    case Method::put:
    case Method::patch:
        curl_easy_setopt(easy, CURLOPT_POST, 1L);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, job->request.body.c_str());
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(job->request.body.size()));
        if (job->request.method != Method::post)
            curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method_name(job->request.method));
        break;
    case Method::del: curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, "DELETE"); break;
    }
    if (curl_multi_add_handle(as_multi(multi_), easy) != CURLM_OK) {
        curl_easy_cleanup(easy);
        throw std::runtime_error("could not start a transfer");
    }
    active_.emplace(easy, std::move(job));
}

bool Engine::schedule_retry(std::unique_ptr<Job> &job, std::optional<int64_t> retry_after_ms) {
    const int64_t delay = backoff_delay_ms(options_.backoff, job->attempts - 1, retry_after_ms, rng_);
    if (!retry_fits_budget(options_.backoff, ms_between(job->first_start, Clock::now()), delay)) return false;
    enqueue_retry(job, delay);
    return true;
}

void Engine::enqueue_retry(std::unique_ptr<Job> &job, int64_t delay) {
    ++stats_.retries;
    note_slow_retry(*job, delay);
    release(*job);
    if (job->response.body.capacity() > 0) std::string().swap(job->response.body);
    log(LogLevel::debug, std::string("retrying ") + method_name(job->request.method) + " after " +
                             (job->response.failure == Failure::none
                                  ? "HTTP " + std::to_string(job->response.status)
                                  : job->response.error) +
                             " (attempt " + std::to_string(job->attempts + 1) + ", waiting " + std::to_string(delay) +
                             " ms)");
    delayed_.emplace(Clock::now() + std::chrono::milliseconds(delay), std::move(job));
}

void Engine::finish(void *easy_ptr, int code_int) {
    auto it = active_.find(easy_ptr);
    if (it == active_.end()) return;
    std::unique_ptr<Job> job = std::move(it->second);
    active_.erase(it);
    CURL *easy = as_easy(easy_ptr);
    const auto code = static_cast<CURLcode>(code_int);
    Response &r = job->response;
    r.attempts = job->attempts;
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(as_multi(multi_), easy);
    free_easy_.push_back(easy_ptr);

    if (cancel_seen_) throw Error::cancelled();  // run() drops every transfer
    if (code == CURLE_OK || (code == CURLE_WRITE_ERROR && (r.stream_error || job->body_cut))) {
        r.status = status;
    } else if (job->too_large) {
        describe_too_large(*job, status);
    } else {
        r.failure = classify(code);
        r.error = curl_easy_strerror(code);
        r.status = 0;
    }

    const auto now = Clock::now();
    log_exchange(*job, now);
    if (is_throttling(r)) on_throttled(r, now);
    else if (throughput_ && r.failure == Failure::none) throughput_->admitted(now);
    on_allowance(r, now);
    const bool transient =
        failure_is_transient(r.failure) || (r.failure == Failure::none && is_transient_status(r.status));
    if (transient && schedule_retry(job, r.retry_after_ms)) return;
    if (!transient) window_.on_success();

    // A completion may ask to retry a GET whose body it could not parse: the delay is drawn now, so that
    // can_retry is exact (a completion told it may retry is always retried).
    const int64_t delay = backoff_delay_ms(options_.backoff, job->attempts - 1, std::nullopt, rng_);
    r.can_retry = job->request.method == Method::get &&
                  retry_fits_budget(options_.backoff, ms_between(job->first_start, now), delay);
    if (job->done(r) == Disposition::retry && r.can_retry) enqueue_retry(job, delay);
    else if (job) release(*job);
}

namespace {

// The request's path and query (what a person reads in a log): the URL without its scheme, host and port.
// Credentials never travel in our URLs (headers carry them); the host's scrubber still sees every line.
std::string_view path_of(std::string_view url) {
    const size_t scheme = url.find("://");
    const size_t path = url.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
    return path == std::string_view::npos ? std::string_view("/") : url.substr(path);
}

// The URL's host and port.
std::string_view host_of(std::string_view url) {
    const size_t scheme = url.find("://");
    const size_t start = scheme == std::string_view::npos ? 0 : scheme + 3;
    const size_t end = url.find_first_of("/?#", start);
    return url.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

}  // namespace

// A request that has been failing for seconds says why, at warn (what a terminal shows by default): at most one
// line every kSlowRetryNoticeMs, so that a sync through many failures is not a wall of them.
void Engine::note_slow_retry(const Job &job, int64_t delay) {
    const auto now = Clock::now();
    if (ms_between(job.first_start, now) + delay < kSlowRetryNoticeMs) return;
    if (slow_notice_at_ && ms_between(*slow_notice_at_, now) < kSlowRetryNoticeMs) return;
    slow_notice_at_ = now;
    const Response &r = job.response;
    const std::string host(host_of(job.request.url));
    const std::string why = r.failure == Failure::none ? host + " answers HTTP " + std::to_string(r.status)
                                                       : "cannot reach " + host + " (" + r.error + ")";
    log(LogLevel::warn, why + ", retrying (attempt " + std::to_string(job.attempts + 1) + " in " +
                            std::to_string((delay + 500) / 1000) + " s; retries stop after " +
                            std::to_string(options_.backoff.budget_ms / 1000) + " s)");
}

// One debug line per exchange: method, path, what came back, its size and time.
void Engine::log_exchange(const Job &job, Clock::time_point now) const {
    if (!log_) return;
    const Response &r = job.response;
    std::string line = std::string(method_name(job.request.method)) + " " + std::string(path_of(job.request.url)) + ": ";
    line += r.failure == Failure::none ? "HTTP " + std::to_string(r.status) : r.error;
    line += ", " + std::to_string(job.received) + " bytes in " + std::to_string(ms_between(job.attempt_start, now)) + " ms";
    if (job.attempts > 1) line += " (attempt " + std::to_string(job.attempts) + ")";
    log(LogLevel::debug, line);
}

void Engine::on_throttled(const Response &r, Clock::time_point now) {
    // Fewer requests in flight, and none started before Retry-After has passed (see below once paced).
    window_.on_throttled();
    const int64_t wait = r.retry_after_ms.value_or(kDefaultThrottleMs);
    const uint64_t episodes = throughput_ ? throughput_->episodes() : 0;
    if (throughput_) throughput_->throttled(now);
    // Paced: the retried request waits its Retry-After, the others keep the pace learnt (a short Retry-After of a
    // per-second limit says when one more request may pass, not that the service wants silence). A long one, or
    // no pace yet, holds every new request back.
    const bool paced = throughput_ && throughput_->rate() > 0 && wait <= kPacedRetryAfterMs;
    if (!paced) paused_until_ = std::max(paused_until_, now + std::chrono::milliseconds(wait));
    if (throughput_ && throughput_->episodes() == episodes) return;  // the same episode: said already
    log(LogLevel::info, "the service is throttling (HTTP " + std::to_string(r.status) + "); concurrency now " +
                            std::to_string(window_.window()) +
                            (paced ? ", pace now " + std::to_string(static_cast<int64_t>(throughput_->rate())) +
                                         " requests/s"
                                   : ", waiting " + std::to_string(wait) + " ms"));
}

void Engine::describe_too_large(Job &job, long status) {
    Response &r = job.response;
    r.failure = Failure::too_large;
    r.status = status;
    if (job.over_budget) {
        const size_t budget = options_.max_held_bytes ? options_.max_held_bytes : options_.max_response_bytes;
        const bool alone = job.held >= held_total_;
        r.limit_name = options_.limit_name;
        r.error = std::string(alone ? "the response held" : "the responses in flight together held") +
                  " more than the configured limit of " + std::to_string(budget / kMiB) + " MB (" + r.limit_name + ")";
        return;
    }
    r.limit_name = job.request.limit_name.empty() ? options_.limit_name : job.request.limit_name;
    r.error = "the response was larger than the configured limit of " + std::to_string(job.max_bytes / kMiB) + " MB (" +
              r.limit_name + ")";
}

void Engine::run() {
    if (running_) throw std::logic_error("Engine::run is not reentrant");
    running_ = true;
    struct Reset {
        bool &flag;
        ~Reset() { flag = false; }
    } reset{running_};
    try {
        cancel_seen_ = false;
        while (!ready_.empty() || !delayed_.empty() || !active_.empty()) {
            if (cancel_seen_ || (cancelled_ && cancelled_())) {
                abort_all();
                throw Error::cancelled();
            }
            start_ready(Clock::now());
            int running = 0;
            if (curl_multi_perform(as_multi(multi_), &running) != CURLM_OK)
                throw std::runtime_error("libcurl multi failure");
            if (complete_finished()) continue;
            const int64_t wait = wait_ms();
            if (wait > 0 || !active_.empty())
                curl_multi_poll(as_multi(multi_), nullptr, 0, static_cast<int>(wait), nullptr);
        }
    } catch (...) {
        abort_all();
        throw;
    }
}

// Delayed retries that are due join the ready queue; ready requests start while the window and the throttling
// pause allow.
void Engine::start_ready(Clock::time_point now) {
    while (!delayed_.empty() && delayed_.begin()->first <= now) {
        ready_.push_back(std::move(delayed_.begin()->second));
        delayed_.erase(delayed_.begin());
    }
    while (!ready_.empty() && active_.size() < window_.window() && now >= paused_until_ && pacing_allows(now)) {
        auto job = std::move(ready_.front());
        ready_.pop_front();
        if (pacer_) pacer_->started(now);
        if (throughput_) throughput_->started(now);
        start(std::move(job));
    }
}

// Hands every finished transfer to finish(); whether there was one.
bool Engine::complete_finished() {
    std::vector<std::pair<void *, int>> completed;
    int left = 0;
    while (CURLMsg *msg = curl_multi_info_read(as_multi(multi_), &left))
        if (msg->msg == CURLMSG_DONE) completed.emplace_back(msg->easy_handle, static_cast<int>(msg->data.result));
    for (auto &[easy, code] : completed) finish(easy, code);
    return !completed.empty();
}

// How long to wait for activity: at most kMaxWaitMs (the cancel predicate is asked every turn), and no longer
// than until the next delayed retry is due or the throttling pause ends.
int64_t Engine::wait_ms() {
    int64_t wait = kMaxWaitMs;
    const auto now = Clock::now();
    if (!delayed_.empty()) wait = std::min<int64_t>(wait, std::max<int64_t>(0, ms_between(now, delayed_.begin()->first)));
    if (!ready_.empty()) {
        if (now < paused_until_) wait = std::min<int64_t>(wait, std::max<int64_t>(0, ms_between(now, paused_until_)));
        else if (paced_start(now) > now)
            wait = std::min<int64_t>(wait, std::max<int64_t>(1, ms_between(now, paced_start(now))));
        else if (active_.size() < window_.window()) wait = 0;
    }
    return wait;
}

void Engine::on_allowance(const Response &r, Clock::time_point now) {
    if (!throughput_ || r.ratelimit_remaining.value_or(1) > 0 || !r.ratelimit_reset_ms) return;
    const int64_t wait = std::min(*r.ratelimit_reset_ms, kMaxAllowanceWaitMs);
    const auto until = now + std::chrono::milliseconds(wait);
    if (until <= paused_until_) return;
    paused_until_ = until;
    log(LogLevel::info, "the service says its request allowance is spent; waiting " + std::to_string(wait) +
                            " ms for it to refill");
}

bool Engine::pacing_allows(Clock::time_point now) { return paced_start(now) <= now; }

Engine::Clock::time_point Engine::paced_start(Clock::time_point now) {
    Clock::time_point at = now;
    if (pacer_) at = std::max(at, pacer_->next_start(now));
    if (throughput_) at = std::max(at, throughput_->next_start(now));
    return at;
}

Response Engine::perform(Request request) {
    Response out;
    submit(std::move(request), [&out](Response &r) {
        out = std::move(r);
        return Disposition::done;
    });
    run();
    return out;
}

}  // namespace ce::http
