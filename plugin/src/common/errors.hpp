// The one exception type of the plugin: a kind a host can act on (the ABI glue maps it to a conn_status), the
// HTTP status behind it, a retry-after, the config field or argument at fault, and one line of text a person can
// act on. Text never holds the token (the glue scrubs it once more anyway).
//
// Every layer throws Error (or a type derived from it) or converts its own exceptions into one where they leave
// it, so the ABI wall knows Error, and std::bad_alloc, and nothing else.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

namespace ce {

enum class ErrorKind {
    invalid_argument,
    invalid_config,
    unsupported,
    not_found,
    already_exists,
    unauthenticated,
    permission_denied,
    rate_limited,
    transient,
    cancelled,
    stopped,
    invalid_state,
    failed_precondition,
    internal,
};

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, std::string message, std::string field = {}, long http_status = 0,
          int64_t retry_after_ms = 0)
        : std::runtime_error(std::move(message)),
          kind_(kind),
          http_status_(http_status),
          retry_after_ms_(retry_after_ms),
          field_(std::move(field)) {}

    // Named factories: the field (config key or argument) at fault first, where there is one.
    static Error invalid_argument(std::string field, std::string text) {
        return {ErrorKind::invalid_argument, std::move(text), std::move(field)};
    }
    static Error invalid_config(std::string field, std::string text) {
        return {ErrorKind::invalid_config, std::move(text), std::move(field)};
    }
    static Error unsupported(std::string field, std::string text) {
        return {ErrorKind::unsupported, std::move(text), std::move(field)};
    }
    static Error not_found(std::string field, std::string text) {
        return {ErrorKind::not_found, std::move(text), std::move(field)};
    }
    static Error already_exists(std::string field, std::string text) {
        return {ErrorKind::already_exists, std::move(text), std::move(field)};
    }
    static Error failed_precondition(std::string field, std::string text) {
        return {ErrorKind::failed_precondition, std::move(text), std::move(field)};
    }
    static Error invalid_state(std::string text) { return {ErrorKind::invalid_state, std::move(text)}; }
    static Error transient(std::string text) { return {ErrorKind::transient, std::move(text)}; }
    static Error internal(std::string text, std::string field = {}) {
        return {ErrorKind::internal, std::move(text), std::move(field)};
    }
    static Error cancelled() { return {ErrorKind::cancelled, "the operation was cancelled by the host"}; }
    static Error stopped() { return {ErrorKind::stopped, "the host's sink asked to stop"}; }

    // The HTTP answer behind the error.
    Error &&with_http(long status, int64_t retry_after_ms = 0) && {
        http_status_ = status;
        retry_after_ms_ = retry_after_ms;
        return std::move(*this);
    }

    ErrorKind kind() const { return kind_; }
    long http_status() const { return http_status_; }
    int64_t retry_after_ms() const { return retry_after_ms_; }
    const std::string &field() const { return field_; }

private:
    ErrorKind kind_;
    long http_status_;
    int64_t retry_after_ms_;
    std::string field_;
};

// 400 invalid argument, 401 unauthenticated, 403 permission denied, 404 not found, 409 already exists,
// 412 failed precondition, 413 invalid argument (too large), 429 rate limited, 408/5xx transient; any other
// 4xx invalid argument; anything else (1xx, 3xx, 2xx handed here by mistake) internal.
ErrorKind error_kind_for_http_status(long status);

}  // namespace ce
