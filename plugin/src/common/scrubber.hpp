// Removes a secret (the SCIM token) from any text before it leaves the plugin: log lines, error messages.
// The token is replaced wherever it appears verbatim, percent-encoded or JSON-escaped.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ce {

class Scrubber {
public:
    Scrubber() = default;
    explicit Scrubber(std::string_view secret);
    std::string scrub(std::string_view text) const;

private:
    std::vector<std::string> needles_;
};

}  // namespace ce
