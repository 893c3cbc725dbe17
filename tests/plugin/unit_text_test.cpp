// Pure text logic: display-name splitting, e-mail checks, URL joining, percent-encoding, filter escaping,
// the token scrubber, UTF-8-safe truncation, error-kind mapping.
#include <doctest/doctest.h>

#include <cstring>

#include <connector/connector_abi.hpp>

#include "abi/abi_text.hpp"
#include "common/errors.hpp"
#include "common/scrubber.hpp"
#include "common/text.hpp"
#include "provision/account_fields.hpp"
#include "scim/scim_records.hpp"
#include "scim/scim_url.hpp"

using namespace ce;
using namespace ce::provision;
using namespace ce::text;
using namespace ce::scim;

TEST_CASE("display names are trimmed, collapsed and split into given and family names") {
    auto n = split_display_name("Mary Ann van der Berg");
    CHECK(n.full == "Mary Ann van der Berg");
    CHECK(n.given == "Mary");
    CHECK(n.family == "Ann van der Berg");
    n = split_display_name("  Jane \t  Smith \n");
    CHECK(n.full == "Jane Smith");
    CHECK(n.given == "Jane");
    CHECK(n.family == "Smith");
    n = split_display_name("Cher");
    CHECK(n.full == "Cher");
    CHECK(n.given == "Cher");
    CHECK(n.family.empty());
    n = split_display_name("   \t ");
    CHECK(n.full.empty());
    n = split_display_name("Zoë   Øster");
    CHECK(n.given == "Zoë");
    CHECK(n.family == "Øster");
}

TEST_CASE("e-mail addresses") {
    CHECK(looks_like_email("jane@example.com"));
    CHECK(looks_like_email("o'brien+test@example.com"));
    CHECK_FALSE(looks_like_email(""));
    CHECK_FALSE(looks_like_email("jane"));
    CHECK_FALSE(looks_like_email("@example.com"));
    CHECK_FALSE(looks_like_email("jane@example"));
    CHECK_FALSE(looks_like_email("jane@@example.com"));
    CHECK_FALSE(looks_like_email("ja ne@example.com"));
    CHECK_FALSE(looks_like_email("jane@example.com\n"));
    CHECK_FALSE(looks_like_email("jane@example."));
}

TEST_CASE("URL joining ignores trailing slashes and keeps the base opaque") {
    CHECK(join_path("https://api.workos.com/scim/v2.0/KEY", "Users") == "https://api.workos.com/scim/v2.0/KEY/Users");
    CHECK(join_path("https://api.workos.com/scim/v2.0/KEY/", "Users") == "https://api.workos.com/scim/v2.0/KEY/Users");
    CHECK(join_path("https://api.workos.com/scim/v2.0/KEY//", "/Users") == "https://api.workos.com/scim/v2.0/KEY/Users");
    CHECK(resource_url("http://h/scim/", "Users", "abc-123") == "http://h/scim/Users/abc-123");
    CHECK(resource_url("http://h/scim", "Users", "a/b?c%d") == "http://h/scim/Users/a%2Fb%3Fc%25d");
    CHECK(resource_url("http://h/scim", "Users", "..") == "http://h/scim/Users/%2E%2E");
}

TEST_CASE("percent-encoding and queries") {
    CHECK(percent_encode("AZaz09-_~", Dot::encode) == "AZaz09-_~");
    CHECK(percent_encode("a b+c&d=e", Dot::encode) == "a%20b%2Bc%26d%3De");
    CHECK(percent_encode("é", Dot::encode) == "%C3%A9");
    CHECK(with_query("http://h/Users", {{"startIndex", "1"}, {"count", "100"}}) == "http://h/Users?startIndex=1&count=100");
    CHECK(with_query("http://h/Users?x=1", {{"y", "2"}}) == "http://h/Users?x=1&y=2");
}

TEST_CASE("filters escape values as JSON strings, then the whole filter is URL-encoded") {
    CHECK(filter_eq("userName", "o'brien+test@example.com") == "userName eq \"o'brien+test@example.com\"");
    CHECK(filter_eq("userName", "say \"hi\"\\now") == "userName eq \"say \\\"hi\\\"\\\\now\"");
    CHECK(filter_string_literal("tab\there") == "\"tab\\there\"");
    CHECK(filter_string_literal(std::string("nul\x01", 4)) == "\"nul\\u0001\"");
    const std::string url = with_query("http://h/Users", {{"filter", filter_eq("userName", "o'brien+test@example.com")}});
    CHECK(url == "http://h/Users?filter=userName%20eq%20%22o%27brien%2Btest%40example%2Ecom%22");
}

TEST_CASE("entitlement and grant ids follow the baton conventions") {
    CHECK(entitlement_id_for_group("g1") == "group:g1:member");
    CHECK(group_id_from_entitlement("group:g1:member") == "g1");
    CHECK(group_id_from_entitlement("group:a:b:member") == "a:b");
    CHECK(group_id_from_entitlement("group::member").empty());
    CHECK(group_id_from_entitlement("user:g1:member").empty());
    CHECK(group_id_from_entitlement("group:g1:owner").empty());
    CHECK(group_id_from_entitlement("").empty());
    auto g = member_grant("g1", "user", "u1", false);
    CHECK(g.id == "group:g1:member:user:u1");
    CHECK(g.entitlement_id == "group:g1:member");
    g = member_grant("g1", "group", "g2", true);
    CHECK(g.id == "group:g1:member:group:g2");
    CHECK(g.unresolved);
    auto e = member_entitlement("g1", "Engineering");
    CHECK(e.display_name == "Engineering member");
    CHECK(e.slug == "member");
    CHECK(e.resource_type == "group");
}

TEST_CASE("user records: display name and e-mail fallbacks, status, external id only when present") {
    scim::User u;
    u.id = "u1";
    u.user_name = "jane@example.com";
    u.given_name = "Jane";
    u.family_name = "Smith";
    u.active = false;
    auto r = user_resource(u);
    CHECK(r.display_name == "Jane Smith");
    auto attr = [&](const char *k) -> std::string {
        for (auto &a : r.attrs)
            if (a.key == k) return a.str;
        return "<none>";
    };
    CHECK(attr("login") == "jane@example.com");
    CHECK(attr("email") == "jane@example.com");  // no emails: userName, which looks like one
    CHECK(attr("status") == "disabled");
    CHECK(attr("external_id") == "<none>");
    u.emails = {{"other@example.com", "home", false}, {"work@example.com", "work", true}};
    u.external_id = "hr-1";
    u.display_name = "J. Smith";
    u.active = true;
    r = user_resource(u);
    CHECK(r.display_name == "J. Smith");
    CHECK(attr("email") == "work@example.com");
    CHECK(attr("status") == "active");
    CHECK(attr("external_id") == "hr-1");
    u.emails = {{"first@example.com", "", false}};
    r = user_resource(u);
    CHECK(attr("email") == "first@example.com");
    scim::User bare;
    bare.id = "u2";
    bare.user_name = "not-an-email";
    r = user_resource(bare);
    CHECK(r.display_name == "not-an-email");
    CHECK(attr("email") == "<none>");
}

TEST_CASE("the scrubber removes the token verbatim, percent-encoded and JSON-escaped") {
    Scrubber s("tok/en+\"x");
    CHECK(s.scrub("a tok/en+\"x b") == "a [redacted] b");
    CHECK(s.scrub("q=tok%2Fen%2B%22x") == "q=[redacted]");
    CHECK(s.scrub("{\"t\":\"tok/en+\\\"x\"}") == "{\"t\":\"[redacted]\"}");
    CHECK(s.scrub("nothing here") == "nothing here");
    Scrubber none;
    CHECK(none.scrub("abc") == "abc");
}

TEST_CASE("text copied into ABI buffers is NUL-terminated and cut on a UTF-8 boundary") {
    char buf[6];
    abi::copy_text(buf, sizeof buf, "abcdefgh");
    CHECK(std::string(buf) == "abcde");
    abi::copy_text(buf, sizeof buf, "abcdé");  // é is 2 bytes: 'a' 'b' 'c' 'd' 0xC3 | 0xA9 does not fit
    CHECK(std::string(buf) == "abcd");
    abi::copy_text(buf, sizeof buf, "ab€");  // € is 3 bytes: fits exactly
    CHECK(std::string(buf) == "ab€");
    CHECK(abi::sanitize_utf8("ok\xff\xc3-bad\x01") == "ok?" "?-bad ");
    CHECK(abi::sanitize_utf8("\xc0\xaf") == "??");  // overlong
    CHECK(abi::sanitize_utf8("Zoë") == "Zoë");
}

TEST_CASE("conn_error honours a smaller struct_size") {
    conn_error small{};
    small.struct_size = offsetof(conn_error, field);  // an older, shorter struct
    std::memset(small.field, 'Z', sizeof small.field);
    abi::fill_error(&small, CONN_ERR_TRANSIENT, 503, 1500, "scim-url", "message");
    CHECK(small.status == CONN_ERR_TRANSIENT);
    CHECK(small.http_status == 503);
    CHECK(small.retry_after_ms == 1500);
    CHECK(small.field[0] == 'Z');  // beyond struct_size: untouched
    conn_error full = conn::make_error();
    abi::fill_error(&full, CONN_ERR_INVALID_CONFIG, 0, 0, "scim-url", std::string(1000, 'x'));
    CHECK(std::string(full.field) == "scim-url");
    CHECK(std::strlen(full.message) == sizeof full.message - 1);
}

TEST_CASE("HTTP statuses map to error kinds and ABI statuses") {
    CHECK(error_kind_for_http_status(400) == ErrorKind::invalid_argument);
    CHECK(error_kind_for_http_status(401) == ErrorKind::unauthenticated);
    CHECK(error_kind_for_http_status(403) == ErrorKind::permission_denied);
    CHECK(error_kind_for_http_status(404) == ErrorKind::not_found);
    CHECK(error_kind_for_http_status(409) == ErrorKind::already_exists);
    CHECK(error_kind_for_http_status(412) == ErrorKind::failed_precondition);
    CHECK(error_kind_for_http_status(413) == ErrorKind::invalid_argument);
    CHECK(error_kind_for_http_status(429) == ErrorKind::rate_limited);
    for (long s : {500L, 502L, 503L, 504L}) CHECK(error_kind_for_http_status(s) == ErrorKind::transient);
    CHECK(abi::status_for(ErrorKind::rate_limited) == CONN_ERR_RATE_LIMITED);
    CHECK(abi::status_for(ErrorKind::transient) == CONN_ERR_TRANSIENT);
    CHECK(abi::status_for(ErrorKind::unauthenticated) == CONN_ERR_UNAUTHENTICATED);
    CHECK(abi::status_for(ErrorKind::failed_precondition) == CONN_ERR_FAILED_PRECONDITION);
    CHECK(abi::status_for(ErrorKind::stopped) == CONN_ERR_STOPPED);
}
