#include "connector/config.hpp"

#include <cctype>
#include <charconv>
#include <fstream>
#include <map>
#include <set>

#include <sys/stat.h>
#include <unistd.h>

#include "common/errors.hpp"

namespace ce::connector {
namespace {

[[noreturn]] void bad(const std::string &field, const std::string &why) {
    throw Error(ErrorKind::invalid_config, field + ": " + why, 0, 0, field);
}

int64_t parse_int(const std::string &field, const std::string &value, int64_t lo, int64_t hi) {
    int64_t n = 0;
    auto r = std::from_chars(value.data(), value.data() + value.size(), n);
    if (value.empty() || r.ec != std::errc() || r.ptr != value.data() + value.size())
        bad(field, "expected a whole number, got \"" + value.substr(0, 40) + "\"");
    if (n < lo || n > hi) bad(field, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    return n;
}

bool is_ipv4_loopback(std::string_view h) {
    // 127.0.0.0/8 written as a dotted quad.
    int parts = 0;
    size_t i = 0;
    int first = -1;
    while (i <= h.size()) {
        size_t j = h.find('.', i);
        if (j == std::string_view::npos) j = h.size();
        std::string_view p = h.substr(i, j - i);
        if (p.empty() || p.size() > 3) return false;
        int v = 0;
        for (char c : p) {
            if (c < '0' || c > '9') return false;
            v = v * 10 + (c - '0');
        }
        if (v > 255) return false;
        if (parts == 0) first = v;
        ++parts;
        i = j + 1;
        if (j == h.size()) break;
    }
    return parts == 4 && first == 127;
}

void validate_url(Config &c) {
    const std::string &u = c.scim_url;
    if (u.empty()) bad("scim-url", "is required");
    for (unsigned char ch : u)
        if (ch <= 0x20 || ch == 0x7f) bad("scim-url", "must not contain spaces or control characters");
    std::string rest;
    if (u.rfind("https://", 0) == 0) {
        rest = u.substr(8);
    } else if (u.rfind("http://", 0) == 0) {
        rest = u.substr(7);
        c.plain_http = true;
    } else {
        bad("scim-url", "must be an https:// URL");
    }
    if (u.find_first_of("?#") != std::string::npos) bad("scim-url", "must not contain a query or a fragment");
    std::string authority = rest.substr(0, rest.find('/'));
    if (authority.find('@') != std::string::npos)
        bad("scim-url", "must not contain credentials (give the token with scim-token)");
    std::string host = authority;
    if (!host.empty() && host.front() == '[') {
        auto close = host.find(']');
        if (close == std::string::npos) bad("scim-url", "has an unterminated IPv6 address");
        host = host.substr(0, close + 1);
    } else {
        host = host.substr(0, host.find(':'));
    }
    if (host.empty()) bad("scim-url", "has no host");
    if (c.plain_http && !is_loopback_host(host))
        bad("scim-url", "must use https (plain http is allowed only to a loopback address such as 127.0.0.1)");
}

}  // namespace

bool is_loopback_host(std::string_view host) {
    std::string h;
    for (char c : host) h += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (h == "localhost" || h == "localhost." || h == "[::1]" || h == "::1") return true;
    return is_ipv4_loopback(h);
}

Config parse_config(const std::vector<std::pair<std::string, std::string>> &entries) {
    static const std::set<std::string> known{"scim-url",           "scim-token",      "page-size", "concurrency",
                                             "connect-timeout-ms", "request-timeout-ms", "retry-budget-ms",
                                             "ca-file",            "max-response-mb", "max-member-list-mb", "max-member-kb",
                                             "index-memory-kb",    "spill-dir"};
    std::map<std::string, std::string> values;
    for (const auto &[k, v] : entries) {
        if (!known.count(k)) {
            std::string shown = k.substr(0, 40);
            for (auto &ch : shown)
                if (static_cast<unsigned char>(ch) < 0x20) ch = '?';
            throw Error(ErrorKind::invalid_config, "unknown config field \"" + shown + "\"", 0, 0, shown);
        }
        if (!values.emplace(k, v).second) bad(k, "is given more than once");
    }
    Config c;
    auto has = [&](const char *k) { return values.count(k) > 0; };
    c.scim_url = has("scim-url") ? values["scim-url"] : std::string();
    validate_url(c);
    if (!has("scim-token") || values["scim-token"].empty()) bad("scim-token", "is required");
    c.scim_token = values["scim-token"];
    for (unsigned char ch : c.scim_token)
        if (ch <= 0x20 || ch == 0x7f) bad("scim-token", "must not contain spaces, line breaks or control characters");
    if (has("page-size")) c.page_size = parse_int("page-size", values["page-size"], 1, 1000);
    if (has("concurrency")) c.concurrency = static_cast<unsigned>(parse_int("concurrency", values["concurrency"], 1, 64));
    if (has("connect-timeout-ms"))
        c.connect_timeout_ms = static_cast<long>(parse_int("connect-timeout-ms", values["connect-timeout-ms"], 100, 600'000));
    if (has("request-timeout-ms"))
        c.request_timeout_ms =
            static_cast<long>(parse_int("request-timeout-ms", values["request-timeout-ms"], 1'000, 3'600'000));
    if (has("retry-budget-ms")) c.retry_budget_ms = parse_int("retry-budget-ms", values["retry-budget-ms"], 0, 3'600'000);
    if (has("max-response-mb"))
        c.max_response_mb = static_cast<size_t>(parse_int("max-response-mb", values["max-response-mb"], 1, 4096));
    if (has("max-member-list-mb"))
        c.max_member_list_mb =
            static_cast<size_t>(parse_int("max-member-list-mb", values["max-member-list-mb"], 1, 65536));
    if (has("max-member-kb"))
        c.max_member_kb = static_cast<size_t>(parse_int("max-member-kb", values["max-member-kb"], 1, 65536));
    if (has("index-memory-kb"))
        c.index_memory_kb = static_cast<size_t>(parse_int("index-memory-kb", values["index-memory-kb"], 1, 4 * 1024 * 1024));
    if (has("spill-dir")) {
        c.spill_dir = values["spill-dir"];
        if (c.spill_dir.empty()) bad("spill-dir", "is empty");
        struct stat st {};
        if (::stat(c.spill_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) bad("spill-dir", "is not a directory");
        if (::access(c.spill_dir.c_str(), W_OK | X_OK) != 0) bad("spill-dir", "is not writable");
    }
    if (has("ca-file")) {
        c.ca_file = values["ca-file"];
        if (c.ca_file.empty()) bad("ca-file", "is empty");
        std::ifstream f(c.ca_file);
        if (!f) bad("ca-file", "cannot be read");
    }
    return c;
}

}  // namespace ce::connector
