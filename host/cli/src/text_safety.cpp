#include "connector_host/cli/text_safety.hpp"

#include <connector_host/plugin_loader.hpp>

#include <algorithm>
#include <cstdio>

namespace connector_host::cli {

SecretScrubber::SecretScrubber(std::vector<std::string> secrets) {
    for (auto &s : secrets) add(std::move(s));
}

void SecretScrubber::add(std::string secret) {
    if (secret.size() < 4) return;
    if (std::find(secrets_.begin(), secrets_.end(), secret) != secrets_.end()) return;
    secrets_.push_back(std::move(secret));
    // Longest first, so a secret that contains another is masked whole.
    std::sort(secrets_.begin(), secrets_.end(), [](const auto &a, const auto &b) { return a.size() > b.size(); });
}

bool SecretScrubber::contains_secret(std::string_view s) const noexcept {
    for (const auto &secret : secrets_)
        if (s.find(secret) != std::string_view::npos) return true;
    return false;
}

std::string SecretScrubber::scrub(std::string_view s) const {
    std::string out(s);
    for (const auto &secret : secrets_) {
        size_t pos = 0;
        while ((pos = out.find(secret, pos)) != std::string::npos) {
            out.replace(pos, secret.size(), mask);
            pos += mask.size();
        }
    }
    return out;
}

namespace {

void append_u_escape(std::string &out, char32_t cp) {
    static const char hex[] = "0123456789abcdef";
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) out.push_back(hex[(cp >> shift) & 0xF]);
}

}  // namespace

char32_t invisible_control_at(std::string_view s, size_t i, size_t &len) noexcept {
    const auto b = [&](size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
    if (b(0) == 0xC2 && b(1) >= 0x80 && b(1) <= 0x9F) {
        len = 2;
        return 0x80 + (b(1) - 0x80);
    }
    if (b(0) == 0xD8 && b(1) == 0x9C) {
        len = 2;
        return 0x061C;
    }
    if (b(0) != 0xE2 || (b(1) != 0x80 && b(1) != 0x81)) return 0;
    const char32_t cp = 0x2000 + ((b(1) - 0x80) << 6) + (b(2) - 0x80);
    const bool bidi = cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
    if (!bidi || b(2) < 0x80 || b(2) > 0xBF) return 0;
    len = 3;
    return cp;
}

std::string printable_line(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            out.push_back((c < 0x20 || c == 0x7f) ? ' ' : static_cast<char>(c));
            ++i;
            continue;
        }
        size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
        if (len > 1 && i + len <= s.size() && is_valid_utf8(s.substr(i, len))) {
            size_t control_len = 0;
            if (char32_t cp = invisible_control_at(s, i, control_len)) append_u_escape(out, cp);
            else out.append(s.substr(i, len));
            i += len;
        } else {
            out.append("\xEF\xBF\xBD");
            ++i;
        }
    }
    return out;
}

std::string printable_text(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    size_t start = 0;
    while (start <= s.size()) {
        size_t nl = s.find('\n', start);
        out += printable_line(s.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
        if (nl == std::string_view::npos) break;
        out.push_back('\n');
        start = nl + 1;
    }
    return out;
}

bool needs_extra_json_escape(std::string_view s) noexcept {
    for (size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == 0x7f) return true;
        if (c != 0xC2 && c != 0xD8 && c != 0xE2) continue;
        size_t len = 0;
        if (invisible_control_at(s, i, len) != 0) return true;
        if (c == 0xE2 && i + 2 < s.size() && s[i + 1] == '\x80' && (s[i + 2] == '\xA8' || s[i + 2] == '\xA9')) return true;
    }
    return false;
}

std::string json_quoted(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    out.push_back('"');
    for (size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        size_t len = 0;
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
        } else if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else if (c == '\r') out += "\\r";
        else if (c < 0x20 || c == 0x7f) append_u_escape(out, c);
        else if (char32_t cp = invisible_control_at(s, i, len)) {
            append_u_escape(out, cp);
            i += len;
            continue;
        } else if (c == 0xE2 && i + 2 < s.size() && s[i + 1] == '\x80' && (s[i + 2] == '\xA8' || s[i + 2] == '\xA9')) {
            append_u_escape(out, s[i + 2] == '\xA8' ? 0x2028 : 0x2029);
            i += 3;
            continue;
        } else out.push_back(static_cast<char>(c));
        ++i;
    }
    out.push_back('"');
    return out;
}

size_t display_width(std::string_view s) {
    size_t n = 0;
    for (char c : s)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
    return n;
}

std::string fit(std::string_view s, size_t max) {
    if (display_width(s) <= max) return std::string(s);
    std::string out;
    size_t cols = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if ((c & 0xC0) != 0x80) {
            if (cols + 1 >= max) break;
            ++cols;
        }
        out.push_back(s[i]);
    }
    return out + "\xE2\x80\xA6";
}

}  // namespace connector_host::cli
