// Shared helpers for the fuzz targets: an invariant check that aborts with a message (so libFuzzer records
// the input as a crash), and an independent strict UTF-8 validator used as an oracle.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace fuzz {

[[noreturn]] inline void fail(const char *file, int line, const char *what) {
    std::fprintf(stderr, "\n*** INVARIANT FAILED at %s:%d: %s\n", file, line, what);
    std::fflush(stderr);
    std::abort();
}

// RFC 3629 UTF-8: no overlong forms, no surrogates (unless allowed), nothing above U+10FFFF.
inline bool valid_utf8(std::string_view s, bool allow_surrogates = false) {
    size_t i = 0;
    const size_t n = s.size();
    while (i < n) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t len = 0;
        unsigned cp = 0;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1Fu;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0Fu;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07u;
        } else {
            return false;
        }
        if (i + len > n) return false;
        for (size_t k = 1; k < len; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0u) != 0x80u) return false;
            cp = (cp << 6) | (cc & 0x3Fu);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (!allow_surrogates && cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

}  // namespace fuzz

#define FUZZ_CHECK(cond, what)                                   \
    do {                                                         \
        if (!(cond)) ::fuzz::fail(__FILE__, __LINE__, (what));   \
    } while (0)
