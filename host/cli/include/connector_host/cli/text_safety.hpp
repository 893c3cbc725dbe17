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

// One printable line: invalid UTF-8 bytes become U+FFFD, C0 control characters (newlines, escapes, ...)
// become spaces, so a plugin or service cannot forge lines or drive the terminal. C1 controls (U+0080..U+009F)
// and bidi controls (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069), which reorder or hide what a
// reader sees, become visible escapes: "\u202e".
std::string printable_line(std::string_view s);
// printable_line applied to every line of a multi-line text (the newlines are kept).
std::string printable_text(std::string_view s);

// The code point of the C1 or bidi control starting at s[i] (its UTF-8 length in len), or 0 if none.
char32_t invisible_control_at(std::string_view s, size_t i, size_t &len) noexcept;

// True when s (valid UTF-8) holds a character JSON writers must escape beyond what RapidJSON does: DEL, C1 and
// bidi controls, U+2028/U+2029.
bool needs_extra_json_escape(std::string_view s) noexcept;
// s as a JSON string literal, quotes included: '"', '\\' and every control (C0, DEL, C1, bidi, U+2028/U+2029)
// escaped as \uXXXX (or \n, \t, ...); other UTF-8 kept as is.
std::string json_quoted(std::string_view s);

// Columns a UTF-8 string takes on a terminal, counting one per code point.
size_t display_width(std::string_view s);
// At most max display columns, cut on a UTF-8 boundary, with an ellipsis when cut.
std::string fit(std::string_view s, size_t max);

}  // namespace connector_host::cli
