// Config validation: required fields, https or loopback http, unknown keys, ranges, and no token in errors.
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>

#include "common/errors.hpp"
#include "config/config.hpp"

using namespace ce;
using namespace ce::config;
using Entries = std::vector<std::pair<std::string, std::string>>;

namespace {
const std::string kToken = "tok-CONFIG-S3CRET-91b2";

std::string refused_field(const Entries &e) {
    try {
        parse_config(e);
        return "<accepted>";
    } catch (const Error &err) {
        CHECK(err.kind() == ErrorKind::invalid_config);
        CHECK(std::string(err.what()).find(kToken) == std::string::npos);
        return err.field();
    }
}
}  // namespace

TEST_CASE("a minimal config gets the documented defaults") {
    auto c = parse_config({{"scim-url", "https://api.workos.com/scim/v2.0/KEY"}, {"scim-token", kToken}});
    CHECK(c.scim_url == "https://api.workos.com/scim/v2.0/KEY");
    CHECK(c.scim_token == kToken);
    CHECK(c.page_size == 1000);
    CHECK(c.membership_reads == "auto");
    CHECK(c.max_requests_per_second == 0);
    CHECK(c.concurrency == 16);
    CHECK(c.connect_timeout_ms == 10000);
    CHECK(c.request_timeout_ms == 60000);
    CHECK(c.retry_budget_ms == 30000);
    CHECK(c.max_response_mb == 64);
    CHECK(c.ca_file.empty());
    CHECK(c.max_member_list_mb == 1024);
    CHECK(c.index_memory_kb == 2048);
    CHECK(c.spill_dir.empty());
    CHECK_FALSE(c.plain_http);
}

TEST_CASE("optional fields are parsed and range-checked") {
    auto c = parse_config({{"scim-url", "https://x.example/scim/"}, {"scim-token", kToken}, {"page-size", "2"},
                           {"concurrency", "1"}, {"connect-timeout-ms", "500"}, {"request-timeout-ms", "2000"},
                           {"retry-budget-ms", "0"}, {"max-response-mb", "1"}, {"max-member-list-mb", "2"}, {"index-memory-kb", "16"},
                           {"spill-dir", "/tmp"}, {"max-member-kb", "3"}});
    CHECK(c.max_member_kb == 3);
    CHECK(parse_config({{"scim-url", "https://x.example"}, {"scim-token", kToken}}).max_member_kb == 64);
    CHECK(c.page_size == 2);
    CHECK(c.concurrency == 1);
    CHECK(c.retry_budget_ms == 0);
    CHECK(c.max_response_mb == 1);
    CHECK(c.max_member_list_mb == 2);
    CHECK(c.index_memory_kb == 16);
    CHECK(c.spill_dir == "/tmp");
    const Entries base{{"scim-url", "https://x.example"}, {"scim-token", kToken}};
    auto with = [&](const char *k, const char *v) {
        Entries e = base;
        e.emplace_back(k, v);
        return refused_field(e);
    };
    CHECK(with("page-size", "0") == "page-size");
    CHECK(with("page-size", "abc") == "page-size");
    CHECK(with("page-size", "10x") == "page-size");
    CHECK(with("concurrency", "65") == "concurrency");
    CHECK(with("connect-timeout-ms", "-1") == "connect-timeout-ms");
    CHECK(with("request-timeout-ms", "") == "request-timeout-ms");
    CHECK(with("max-response-mb", "0") == "max-response-mb");
    CHECK(with("ca-file", "/nonexistent/ca.pem") == "ca-file");
    CHECK(with("ca-file", "") == "ca-file");
    CHECK(with("index-memory-kb", "0") == "index-memory-kb");
    CHECK(with("max-member-list-mb", "0") == "max-member-list-mb");
    CHECK(with("max-member-list-mb", "65537") == "max-member-list-mb");
    CHECK(with("max-member-kb", "0") == "max-member-kb");
    CHECK(with("max-member-kb", "65537") == "max-member-kb");
    CHECK(with("index-memory-kb", "4194305") == "index-memory-kb");
    CHECK(with("spill-dir", "") == "spill-dir");
    CHECK(with("spill-dir", "/nonexistent/spill") == "spill-dir");
    CHECK(with("spill-dir", "/etc/hostname") == "spill-dir");  // a file, not a directory
    CHECK(with("colour", "blue") == "colour");  // unknown keys are refused
    CHECK(with("scim-token", "again") == "scim-token");  // repeated
}

TEST_CASE("scim-url: https, or http only to loopback") {
    auto url = [](const std::string &u) { return refused_field({{"scim-url", u}, {"scim-token", kToken}}); };
    CHECK(url("https://api.workos.com/scim/v2.0/KEY") == "<accepted>");
    CHECK(url("http://127.0.0.1:8080/scim/v2") == "<accepted>");
    CHECK(url("http://127.5.6.7/scim") == "<accepted>");
    CHECK(url("http://localhost:1/scim") == "<accepted>");
    CHECK(url("http://[::1]:9/scim") == "<accepted>");
    CHECK(url("http://api.workos.com/scim") == "scim-url");
    CHECK(url("http://128.0.0.1/scim") == "scim-url");
    CHECK(url("http://127.0.0.1.evil.com/scim") == "scim-url");
    CHECK(url("http://localhost.evil.com/scim") == "scim-url");
    CHECK(url("ftp://x/scim") == "scim-url");
    CHECK(url("api.workos.com/scim") == "scim-url");
    CHECK(url("https://user:pw@api.workos.com/scim") == "scim-url");
    CHECK(url("https://api.workos.com/scim?x=1") == "scim-url");
    CHECK(url("https:///scim") == "scim-url");
    CHECK(url("https://api.workos.com/sc im") == "scim-url");
    CHECK(url("") == "scim-url");
    CHECK(parse_config({{"scim-url", "http://127.0.0.1/x"}, {"scim-token", kToken}}).plain_http);
}

TEST_CASE("scim-token: required, no white space or control characters, never echoed") {
    CHECK(refused_field({{"scim-url", "https://x.example"}}) == "scim-token");
    CHECK(refused_field({{"scim-url", "https://x.example"}, {"scim-token", ""}}) == "scim-token");
    CHECK(refused_field({{"scim-url", "https://x.example"}, {"scim-token", kToken + "\r\nX-Injected: 1"}}) == "scim-token");
    CHECK(refused_field({{"scim-token", kToken}}) == "scim-url");
}

TEST_CASE("loopback hosts") {
    CHECK(is_loopback_host("127.0.0.1"));
    CHECK(is_loopback_host("LOCALHOST"));
    CHECK(is_loopback_host("[::1]"));
    CHECK_FALSE(is_loopback_host("127.0.0"));
    CHECK_FALSE(is_loopback_host("127.0.0.256"));
    CHECK_FALSE(is_loopback_host("10.0.0.1"));
    CHECK_FALSE(is_loopback_host("[::2]"));
}

TEST_CASE("sources: SCIM, the Admin API, or both; SCIM's two fields together") {
    const std::string url = "https://api.workos.com/scim/v2.0/KEY";
    CHECK(refused_field({}) == "scim-url");
    CHECK(refused_field({{"page-size", "10"}}) == "scim-url");
    CHECK(refused_field({{"scim-url", url}}) == "scim-token");
    CHECK(refused_field({{"scim-token", kToken}}) == "scim-url");
    CHECK(refused_field({{"scim-token", kToken}, {"admin-api-key", kToken}}) == "scim-url");

    const Config admin = parse_config({{"admin-api-key", kToken}});
    CHECK(admin.has_admin_api());
    CHECK_FALSE(admin.has_scim());
    CHECK(admin.admin_api_url == "https://api.anthropic.com");
    CHECK(admin.admin_api_rate_limit == 100);
    CHECK_FALSE(admin.admin_plain_http);

    const Config both = parse_config({{"scim-url", url}, {"scim-token", kToken}, {"admin-api-key", "k2"}});
    CHECK(both.has_scim());
    CHECK(both.has_admin_api());
    CHECK(both.secrets() == std::vector<std::string>{kToken, "k2"});
}

TEST_CASE("admin-api-url: https, or http only to loopback; admin-api-key: no white space; the rate limit's range") {
    CHECK(parse_config({{"admin-api-key", kToken}, {"admin-api-url", "http://127.0.0.1:8080"}}).admin_plain_http);
    CHECK(refused_field({{"admin-api-key", kToken}, {"admin-api-url", "http://api.anthropic.com"}}) ==
          "admin-api-url");
    CHECK(refused_field({{"admin-api-key", kToken}, {"admin-api-url", "https://u:p@api.anthropic.com"}}) ==
          "admin-api-url");
    CHECK(refused_field({{"admin-api-key", kToken}, {"admin-api-url", "ftp://x"}}) == "admin-api-url");
    CHECK(refused_field({{"admin-api-key", "a b"}}) == "admin-api-key");
    CHECK(refused_field({{"admin-api-key", kToken}, {"admin-api-rate-limit", "0"}}) == "admin-api-rate-limit");
    CHECK(parse_config({{"admin-api-key", kToken}, {"admin-api-rate-limit", "600"}}).admin_api_rate_limit == 600);
}
