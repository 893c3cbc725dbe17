// A text check shared by the SCIM JSON readers (scim_json.cpp, members_reader.cpp).
#pragma once

#include <cstddef>
#include <cstring>

namespace ce::scim {

// NULs appended behind a body parsed in place: RapidJSON's UTF-8 decoder may read up to 3 bytes past a sequence
// cut short by the end, and must find NULs there (no continuation byte) inside the buffer.
inline constexpr size_t kSpareNuls = 4;

// The parse validates every raw byte as UTF-8, so the only invalid text a string can hold comes from \u escapes:
// RapidJSON 1.1.0 refuses a high surrogate not followed by a low one, but encodes a lone low surrogate
// (\uDC00..\uDFFF) as the three bytes ED B0..BF xx. Any surrogate in that encoding is ED followed by A0..BF
// (a valid code point starting with ED has 80..9F next), so looking for that pair is the whole check: one
// memchr per string, which finds nothing in ordinary text.
inline bool holds_encoded_surrogate(const char *s, size_t n) {
    const char *end = s + n;
    while (s < end) {
        const void *hit = std::memchr(s, 0xED, static_cast<size_t>(end - s));
        if (!hit) return false;
        const char *p = static_cast<const char *>(hit);
        if (p + 1 < end && static_cast<unsigned char>(p[1]) >= 0xA0) return true;
        s = p + 1;
    }
    return false;
}

}  // namespace ce::scim
