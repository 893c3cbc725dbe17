// Removes the secrets (the SCIM token, the Admin API key) from any text before it leaves the plugin: log lines, error messages.
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
    explicit Scrubber(const std::vector<std::string> &secrets);
    std::string scrub(std::string_view text) const;

private:
    void add(std::string_view secret);
    std::vector<std::string> needles_;
};

}  // namespace ce
