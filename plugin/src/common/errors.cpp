#include "common/errors.hpp"

namespace ce {

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
