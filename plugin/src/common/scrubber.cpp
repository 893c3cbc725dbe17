#include "common/scrubber.hpp"

#include <algorithm>

namespace ce {
namespace {

std::string percent_encoded(std::string_view s) {
    static const char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string json_escaped(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

}  // namespace

Scrubber::Scrubber(std::string_view secret) {
    if (secret.empty()) return;
    needles_.emplace_back(secret);
    for (std::string v : {percent_encoded(secret), json_escaped(secret)})
        if (std::find(needles_.begin(), needles_.end(), v) == needles_.end()) needles_.push_back(std::move(v));
    // Longest first, so that a variant containing the plain token is replaced whole.
    std::sort(needles_.begin(), needles_.end(), [](const auto &a, const auto &b) { return a.size() > b.size(); });
}

std::string Scrubber::scrub(std::string_view text) const {
    std::string out(text);
    for (const auto &needle : needles_) {
        size_t pos = 0;
        while ((pos = out.find(needle, pos)) != std::string::npos) {
            out.replace(pos, needle.size(), "[redacted]");
            pos += 10;
        }
    }
    return out;
}

}  // namespace ce
