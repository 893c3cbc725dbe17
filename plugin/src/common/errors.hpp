// The error every layer above HTTP throws: a kind a host can act on (the ABI glue maps it to a conn_status),
// the HTTP status behind it, a retry-after, the config field or argument at fault, and one line of text a
// person can act on. Text never holds the token (the glue scrubs it once more anyway).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

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

const char *error_kind_name(ErrorKind kind);

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, std::string message, long http_status = 0, int64_t retry_after_ms = 0, std::string field = {})
        : std::runtime_error(std::move(message)),
          kind_(kind),
          http_status_(http_status),
          retry_after_ms_(retry_after_ms),
          field_(std::move(field)) {}
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
