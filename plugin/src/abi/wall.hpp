// The wall no exception crosses: every vtable function runs its body through guarded(), which maps what the body
// threw to a conn_status and a filled conn_error (scrubbed of the instance's token, valid UTF-8, NUL-terminated).
// It knows ce::Error (the plugin's one exception type, common/errors.hpp) and std::bad_alloc; anything else is an
// internal error.
#pragma once

#include <connector/connector_abi.h>

#include "abi/abi_text.hpp"
#include "common/scrubber.hpp"

namespace ce::abi {

// Called inside a catch block: fills *err from the exception in flight and returns its status.
conn_status fail_with_current_exception(conn_error *err, const Scrubber *scrubber) noexcept;

// Runs `body`, mapping every exception to a status and a filled conn_error (CONN_OK and an empty error when it
// returns).
template <typename F>
conn_status guarded(conn_error *err, const Scrubber *scrubber, F &&body) noexcept {
    try {
        body();
        fill_error(err, CONN_OK, 0, 0, "", "");
        return CONN_OK;
    } catch (...) {
        return fail_with_current_exception(err, scrubber);
    }
}

}  // namespace ce::abi
