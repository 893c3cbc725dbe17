// Small text helpers shared by every layer of the plugin: the one ASCII case-insensitive compare, the one
// percent-encoder, and the checks every layer makes of text it is handed.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ce::text {

inline char ascii_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

inline std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char &c : out) c = ascii_lower(c);
    return out;
}

// ASCII case-insensitive equality (SCIM's userName, attribute names, HTTP header names, month names).
inline bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    return true;
}

// Whether s begins with prefix, ignoring ASCII case.
inline bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// True when s holds an ASCII control character (C0 or DEL).
inline bool has_control(std::string_view s) noexcept {
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f) return true;
    return false;
}

// What percent_encode does with '.': an unreserved character (RFC 3986), kept by every common encoder, but a
// path segment of "." or ".." must never become a dot segment.
enum class Dot { keep, encode };

// RFC 3986 percent-encoding of everything but the unreserved characters (A-Z a-z 0-9 - _ ~, and '.' as asked).
std::string percent_encode(std::string_view s, Dot dot);

// A pragmatic check: one '@', a non-empty local part, a dotted domain, no white space or control characters,
// at most 254 bytes.
bool looks_like_email(std::string_view s);

// The host[:port] of a URL, never its userinfo.
std::string url_host(std::string_view url);

// Text a server sent, made safe for a one-line message: control characters become spaces, and past max_chars it
// is cut and ends with "...".
std::string one_line(std::string_view s, size_t max_chars);

}  // namespace ce::text
