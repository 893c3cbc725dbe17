#include "common/errors.hpp"

namespace ce {

const char *error_kind_name(ErrorKind kind) {
    switch (kind) {
    case ErrorKind::invalid_argument: return "invalid_argument";
    case ErrorKind::invalid_config: return "invalid_config";
    case ErrorKind::unsupported: return "unsupported";
    case ErrorKind::not_found: return "not_found";
    case ErrorKind::already_exists: return "already_exists";
    case ErrorKind::unauthenticated: return "unauthenticated";
    case ErrorKind::permission_denied: return "permission_denied";
    case ErrorKind::rate_limited: return "rate_limited";
    case ErrorKind::transient: return "transient";
    case ErrorKind::cancelled: return "cancelled";
    case ErrorKind::stopped: return "stopped";
    case ErrorKind::invalid_state: return "invalid_state";
    case ErrorKind::failed_precondition: return "failed_precondition";
    case ErrorKind::internal: return "internal";
    }
    return "internal";
}

ErrorKind error_kind_for_http_status(long status) {
    switch (status) {
    case 400: return ErrorKind::invalid_argument;
    case 401: return ErrorKind::unauthenticated;
    case 403: return ErrorKind::permission_denied;
    case 404: return ErrorKind::not_found;
    case 409: return ErrorKind::already_exists;
    case 412: return ErrorKind::failed_precondition;
    case 413: return ErrorKind::invalid_argument;
    case 429: return ErrorKind::rate_limited;
    case 408: return ErrorKind::transient;
    default: break;
    }
    if (status >= 500 && status <= 599) return ErrorKind::transient;
    if (status >= 400 && status <= 499) return ErrorKind::invalid_argument;
    return ErrorKind::internal;
}

}  // namespace ce
