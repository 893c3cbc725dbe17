#include "abi/wall.hpp"

#include <exception>
#include <new>
#include <string>

#include "common/errors.hpp"

namespace ce::abi {

conn_status fail_with_current_exception(conn_error *err, const Scrubber *scrubber) noexcept {
    std::string field, message;
    conn_status status = CONN_OK;
    long http_status = 0;
    int64_t retry_after = 0;
    try {
        try {
            throw;
        } catch (const Error &e) {
            status = status_for(e.kind());
            http_status = e.http_status();
            retry_after = e.retry_after_ms();
            field = e.field();
            message = e.what();
        } catch (const std::bad_alloc &) {
            status = CONN_ERR_INTERNAL;
            message = "out of memory";
        } catch (const std::exception &e) {
            status = CONN_ERR_INTERNAL;
            message = std::string("internal error: ") + e.what();
        } catch (...) {
            status = CONN_ERR_INTERNAL;
            message = "internal error (unknown exception)";
        }
        if (scrubber) {
            message = scrubber->scrub(message);
            field = scrubber->scrub(field);
        }
        fill_error(err, status, http_status, retry_after, sanitize_utf8(field), sanitize_utf8(message));
    } catch (...) {
        if (status == CONN_OK) status = CONN_ERR_INTERNAL;
        fill_error(err, status, http_status, retry_after, "", "internal error (out of memory)");
    }
    return status;
}

}  // namespace ce::abi
