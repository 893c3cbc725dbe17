#include "common/text.hpp"

namespace ce::text {
namespace {
// The longest address SMTP carries (RFC 5321: a 256-byte path less its angle brackets).
constexpr size_t kMaxEmailBytes = 254;
constexpr char kHex[] = "0123456789ABCDEF";
}  // namespace

std::string percent_encode(std::string_view s, Dot dot) {
    std::string out;
    out.reserve(s.size() * 3);
    for (unsigned char c : s) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '~' || (c == '.' && dot == Dot::keep)) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

bool looks_like_email(std::string_view s) {
    if (s.empty() || s.size() > kMaxEmailBytes) return false;
    for (unsigned char c : s)
        if (c <= 0x20 || c == 0x7f) return false;
    const auto at = s.find('@');
    if (at == std::string_view::npos || at == 0 || s.find('@', at + 1) != std::string_view::npos) return false;
    std::string_view domain = s.substr(at + 1);
    const auto dot = domain.find('.');
    return dot != std::string_view::npos && dot > 0 && domain.back() != '.';
}

std::string url_host(std::string_view url) {
    auto p = url.find("://");
    if (p != std::string_view::npos) url.remove_prefix(p + 3);
    url = url.substr(0, url.find_first_of("/?#"));
    if (auto at = url.rfind('@'); at != std::string_view::npos) url.remove_prefix(at + 1);  // never userinfo
    return std::string(url);
}

std::string one_line(std::string_view s, size_t max_chars) {
    std::string out;
    for (unsigned char c : s) {
        if (out.size() >= max_chars) {
            out += "...";
            break;
        }
        out += (c < 0x20 || c == 0x7f) ? ' ' : static_cast<char>(c);
    }
    return out;
}

}  // namespace ce::text
