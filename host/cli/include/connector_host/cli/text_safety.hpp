// Text the host writes: secrets scrubbed (defence in depth: the plugin must never send them, the host
// removes them anyway), and text from a plugin made safe for a terminal or a log line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace connector_host::cli {

class SecretScrubber {
public:
    static constexpr std::string_view mask = "[redacted]";
    SecretScrubber() = default;
    // Values shorter than 4 bytes are ignored: masking them would garble every line and protect nothing.
    explicit SecretScrubber(std::vector<std::string> secrets);
    void add(std::string secret);
    bool empty() const noexcept { return secrets_.empty(); }
    // True when s holds any secret.
    bool contains_secret(std::string_view s) const noexcept;
    // s with every occurrence of every secret replaced by mask.
    std::string scrub(std::string_view s) const;

private:
    std::vector<std::string> secrets_;
};

// One printable line: invalid UTF-8 bytes become U+FFFD, control characters (newlines, escapes, ...)
// become spaces, so a plugin or service cannot forge lines or drive the terminal.
std::string printable_line(std::string_view s);

} // namespace connector_host::cli
