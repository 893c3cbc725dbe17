#include "abi/abi_text.hpp"

#include <algorithm>
#include <cstring>

namespace ce::abi {

std::string sanitize_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            out += (c < 0x20 || c == 0x7f) ? ' ' : static_cast<char>(c);
            ++i;
            continue;
        }
        size_t len = 0;
        uint32_t cp = 0;
        if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1F;
        else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0F;
        else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07;
        bool ok = len > 0 && i + len <= s.size();
        for (size_t k = 1; ok && k < len; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) ok = false;
            else cp = (cp << 6) | (cc & 0x3F);
        }
        if (ok) {
            // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
            if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
                (cp >= 0xD800 && cp <= 0xDFFF))
                ok = false;
        }
        if (ok) {
            out.append(s.substr(i, len));
            i += len;
        } else {
            out += '?';
            ++i;
        }
    }
    return out;
}

void copy_text(char *dst, size_t capacity, std::string_view s) noexcept {
    if (!dst || capacity == 0) return;
    size_t n = std::min(s.size(), capacity - 1);
    // Do not cut a multi-byte character: back off while the first byte left out is a continuation byte.
    while (n > 0 && n < s.size() && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    std::memcpy(dst, s.data(), n);
    dst[n] = '\0';
}

conn_status status_for(ErrorKind kind) noexcept {
    switch (kind) {
    case ErrorKind::invalid_argument: return CONN_ERR_INVALID_ARGUMENT;
    case ErrorKind::invalid_config: return CONN_ERR_INVALID_CONFIG;
    case ErrorKind::unsupported: return CONN_ERR_UNSUPPORTED;
    case ErrorKind::not_found: return CONN_ERR_NOT_FOUND;
    case ErrorKind::already_exists: return CONN_ERR_ALREADY_EXISTS;
    case ErrorKind::unauthenticated: return CONN_ERR_UNAUTHENTICATED;
    case ErrorKind::permission_denied: return CONN_ERR_PERMISSION_DENIED;
    case ErrorKind::rate_limited: return CONN_ERR_RATE_LIMITED;
    case ErrorKind::transient: return CONN_ERR_TRANSIENT;
    case ErrorKind::cancelled: return CONN_ERR_CANCELLED;
    case ErrorKind::stopped: return CONN_ERR_STOPPED;
    case ErrorKind::invalid_state: return CONN_ERR_INVALID_STATE;
    case ErrorKind::failed_precondition: return CONN_ERR_FAILED_PRECONDITION;
    case ErrorKind::internal: return CONN_ERR_INTERNAL;
    }
    return CONN_ERR_INTERNAL;
}

void fill_error(conn_error *err, conn_status status, long http_status, int64_t retry_after_ms, std::string_view field,
                std::string_view message) noexcept {
    if (!err || err->struct_size == 0) return;
    conn_error full{};
    full.struct_size = err->struct_size;
    full.status = status;
    full.http_status = static_cast<int32_t>(http_status);
    full.retry_after_ms = static_cast<int32_t>(std::clamp<int64_t>(retry_after_ms, 0, INT32_MAX));
    copy_text(full.field, sizeof full.field, field);
    copy_text(full.message, sizeof full.message, message);
    const size_t n = std::min<size_t>(err->struct_size, sizeof(conn_error));
    std::memcpy(err, &full, n);
    err->struct_size = full.struct_size;
}

}  // namespace ce::abi
