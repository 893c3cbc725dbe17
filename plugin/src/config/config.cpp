#include "config/config.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>

#include "common/errors.hpp"
#include "common/text.hpp"
#include "config/fields.hpp"

namespace ce::config {
namespace {

// How much of an unknown key or a refused value an error message quotes.
constexpr size_t kShownChars = 40;
// "127." and its three more parts.
constexpr int kIpv4Parts = 4;
constexpr int kIpv4LoopbackFirst = 127;
constexpr int kIpv4PartMax = 255;
constexpr size_t kIpv4PartDigits = 3;

[[noreturn]] void bad(std::string_view field, const std::string &why) {
    throw Error::invalid_config(std::string(field), std::string(field) + ": " + why);
}

int64_t parse_int(std::string_view field, const std::string &value, int64_t lo, int64_t hi) {
    int64_t n = 0;
    auto r = std::from_chars(value.data(), value.data() + value.size(), n);
    if (value.empty() || r.ec != std::errc() || r.ptr != value.data() + value.size())
        bad(field, "expected a whole number, got \"" + value.substr(0, kShownChars) + "\"");
    if (n < lo || n > hi) bad(field, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    return n;
}

// 127.0.0.0/8 written as a dotted quad.
bool is_ipv4_loopback(std::string_view h) {
    int parts = 0;
    int first = -1;
    for (size_t i = 0; i <= h.size();) {
        size_t j = h.find('.', i);
        if (j == std::string_view::npos) j = h.size();
        std::string_view p = h.substr(i, j - i);
        if (p.empty() || p.size() > kIpv4PartDigits) return false;
        int v = 0;
        for (char c : p) {
            if (c < '0' || c > '9') return false;
            v = v * 10 + (c - '0');
        }
        if (v > kIpv4PartMax) return false;
        if (parts == 0) first = v;
        ++parts;
        i = j + 1;
        if (j == h.size()) break;
    }
    return parts == kIpv4Parts && first == kIpv4LoopbackFirst;
}

// The host of a URL after its scheme ("rest"), as written (IPv6 in brackets).
std::string url_host(std::string_view field, std::string_view secret_field, const std::string &rest) {
    const std::string authority = rest.substr(0, rest.find('/'));
    if (authority.find('@') != std::string::npos)
        bad(field, "must not contain credentials (give them with " + std::string(secret_field) + ")");
    if (authority.empty() || authority.front() != '[') return authority.substr(0, authority.find(':'));
    const auto close = authority.find(']');
    if (close == std::string::npos) bad(field, "has an unterminated IPv6 address");
    return authority.substr(0, close + 1);
}

bool has_space_or_control(std::string_view s) {
    for (unsigned char ch : s)
        if (ch <= 0x20 || ch == 0x7f) return true;
    return false;
}

// Reading a field: absent, or its value checked and stored.
void read_field(const Field &f, const std::map<std::string, std::string, std::less<>> &values, Config &c) {
    const auto it = values.find(f.name);
    if (it == values.end()) {
        if (f.required) bad(f.name, "is required");
        return;
    }
    const std::string &v = it->second;
    if (f.kind == Kind::integer) {
        f.set(c, v, parse_int(f.name, v, f.min, f.max));
        return;
    }
    if (v.empty()) bad(f.name, f.required ? "is required" : "is empty");
    f.set(c, v, 0);
    if (f.check) f.check(c);
}

std::map<std::string, std::string, std::less<>> collect(const std::vector<std::pair<std::string, std::string>> &entries) {
    std::map<std::string, std::string, std::less<>> values;
    for (const auto &[k, v] : entries) {
        bool known = false;
        for (const Field &f : kFields) known = known || f.name == k;
        if (!known) {
            std::string shown = k.substr(0, kShownChars);
            for (auto &ch : shown)
                if (static_cast<unsigned char>(ch) < 0x20) ch = '?';
            throw Error::invalid_config(shown, "unknown config field \"" + shown + "\"");
        }
        if (!values.emplace(k, v).second) bad(k, "is given more than once");
    }
    return values;
}

}  // namespace

namespace {

// A service URL: https, or plain http to a loopback address (`plain` says which); no query, fragment or
// credentials.
void check_service_url(std::string_view field, std::string_view secret_field, const std::string &u, bool &plain) {
    if (has_space_or_control(u)) bad(field, "must not contain spaces or control characters");
    constexpr std::string_view https = "https://", http = "http://";
    std::string rest;
    plain = false;
    if (u.rfind(https, 0) == 0) {
        rest = u.substr(https.size());
    } else if (u.rfind(http, 0) == 0) {
        rest = u.substr(http.size());
        plain = true;
    } else {
        bad(field, "must be an https:// URL");
    }
    if (u.find_first_of("?#") != std::string::npos) bad(field, "must not contain a query or a fragment");
    const std::string host = url_host(field, secret_field, rest);
    if (host.empty()) bad(field, "has no host");
    if (plain && !is_loopback_host(host))
        bad(field, "must use https (plain http is allowed only to a loopback address such as 127.0.0.1)");
}

void check_secret(std::string_view field, const std::string &value) {
    if (has_space_or_control(value)) bad(field, "must not contain spaces, line breaks or control characters");
}

// The rules between fields: at least one source; SCIM's two fields together.
void check_sources(const Config &c) {
    const bool url = !c.scim_url.empty(), token = !c.scim_token.empty();
    if (url && !token) bad("scim-token", "is required with scim-url");
    if (token && !url) bad("scim-url", "is required with scim-token");
    if (!url && c.admin_api_key.empty())
        bad("scim-url", "no source is configured: give scim-url with scim-token (SCIM), admin-api-key (the Admin "
                        "API), or both");
}

}  // namespace

void check_url(Config &c) { check_service_url("scim-url", "scim-token", c.scim_url, c.plain_http); }

void check_admin_url(Config &c) {
    check_service_url("admin-api-url", "admin-api-key", c.admin_api_url, c.admin_plain_http);
}

void check_token(Config &c) { check_secret("scim-token", c.scim_token); }

void check_admin_key(Config &c) { check_secret("admin-api-key", c.admin_api_key); }

void check_spill_dir(Config &c) {
    struct stat st {};
    if (::stat(c.spill_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) bad("spill-dir", "is not a directory");
    if (::access(c.spill_dir.c_str(), W_OK | X_OK) != 0) bad("spill-dir", "is not writable");
}

void check_membership_reads(Config &c) {
    const Field &f = row_of<&Config::membership_reads>();
    const std::string_view words = f.choices;
    for (size_t at = 0; at <= words.size();) {
        const size_t end = std::min(words.find('|', at), words.size());
        if (words.substr(at, end - at) == c.membership_reads) return;
        at = end + 1;
    }
    std::string allowed(words);
    std::replace(allowed.begin(), allowed.end(), '|', ',');
    bad(f.name, "must be one of " + allowed);
}

void check_ca_file(Config &c) {
    std::ifstream f(c.ca_file);
    if (!f) bad("ca-file", "cannot be read");
}

bool is_loopback_host(std::string_view host) {
    const std::string h = text::ascii_lower(host);
    if (h == "localhost" || h == "localhost." || h == "[::1]" || h == "::1") return true;
    return is_ipv4_loopback(h);
}

Config defaults() {
    Config c;
    for (const Field &f : kFields) f.set(c, f.default_text ? f.default_text : "", f.default_value);
    return c;
}

Config parse_config(const std::vector<std::pair<std::string, std::string>> &entries) {
    const auto values = collect(entries);
    Config c = defaults();
    // Syntax and ranges first, in the table's order; then what the file system says about paths.
    for (const Field &f : kFields)
        if (f.kind != Kind::path) read_field(f, values, c);
    check_sources(c);
    for (const Field &f : kFields)
        if (f.kind == Kind::path) read_field(f, values, c);
    return c;
}

}  // namespace ce::config
