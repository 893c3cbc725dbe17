#include "common/scrubber.hpp"

#include <algorithm>

#include "common/text.hpp"

namespace ce {
namespace {

constexpr std::string_view kRedacted = "[redacted]";

std::string json_escaped(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

}  // namespace

Scrubber::Scrubber(std::string_view secret) { add(secret); }

Scrubber::Scrubber(const std::vector<std::string> &secrets) {
    for (const auto &s : secrets) add(s);
}

void Scrubber::add(std::string_view secret) {
    if (secret.empty()) return;
    for (std::string v : {std::string(secret), text::percent_encode(secret, text::Dot::keep), json_escaped(secret)})
        if (std::find(needles_.begin(), needles_.end(), v) == needles_.end()) needles_.push_back(std::move(v));
    // Longest first, so that a variant containing the plain token is replaced whole.
    std::sort(needles_.begin(), needles_.end(), [](const auto &a, const auto &b) { return a.size() > b.size(); });
}

std::string Scrubber::scrub(std::string_view text) const {
    std::string out(text);
    for (const auto &needle : needles_) {
        size_t pos = 0;
        while ((pos = out.find(needle, pos)) != std::string::npos) {
            out.replace(pos, needle.size(), kRedacted);
            pos += kRedacted.size();
        }
    }
    return out;
}

}  // namespace ce
