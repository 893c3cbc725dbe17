#include "connector_host/cli/text_safety.hpp"

#include <connector_host/plugin_loader.hpp>

#include <algorithm>

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
            // C1 controls (U+0080..U+009F) are terminal controls too.
            if (len == 2 && c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0) out.push_back(' ');
            else out.append(s.substr(i, len));
            i += len;
        } else {
            out.append("\xEF\xBF\xBD");
            ++i;
        }
    }
    return out;
}

} // namespace connector_host::cli
