// SCIM JSON parsing (tolerant, in situ) and body building.
#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include "scim/scim_json.hpp"

using namespace ce::scim;

TEST_CASE("user pages: attribute names are case-insensitive, unknown fields ignored, optional fields may be missing") {
    std::string body = R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"TOTALRESULTS":3,
      "itemsPerPage":100,"startIndex":1,"resources":[
        {"ID":"u1","username":"a@example.com","DisplayName":"A B","Name":{"GivenName":"A","familyname":"B"},
         "EMAILS":[{"Value":"a@work.example.com","Primary":true,"type":"work"}],"Active":false,"externalID":"x1",
         "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D"},"meta":{"created":"2024"}},
        {"id":"u2","userName":"b@example.com"},
        {"id":"u3","userName":"c@example.com","active":null,"name":null,"emails":[{"value":"c@x.org"}]}]})";
    auto page = parse_user_page(body);
    CHECK(page.total_results == 3);
    REQUIRE(page.resources.size() == 3);
    const auto &a = page.resources[0];
    CHECK(a.id == "u1");
    CHECK(a.user_name == "a@example.com");
    CHECK(a.display_name == "A B");
    CHECK(a.given_name == "A");
    CHECK(a.family_name == "B");
    REQUIRE(a.emails.size() == 1);
    CHECK(a.emails[0].value == "a@work.example.com");
    CHECK(a.emails[0].primary);
    CHECK_FALSE(a.active);
    CHECK(a.external_id == "x1");
    CHECK(page.resources[1].active);
    CHECK(page.resources[1].emails.empty());
    CHECK(page.resources[2].active);
    CHECK(page.resources[2].emails.size() == 1);
}

TEST_CASE("a wrong type is an error that names the field") {
    auto fails_with = [](std::string body, const char *needle) {
        try {
            parse_user_page(body);
            return std::string("no error");
        } catch (const ParseError &e) {
            std::string m = e.what();
            return m.find(needle) != std::string::npos ? std::string("ok") : m;
        }
    };
    CHECK(fails_with(R"({"Resources":[{"id":"u1","userName":7}]})", "Resources[0].userName") == "ok");
    CHECK(fails_with(R"({"Resources":[{"id":"u1","userName":"a","active":"maybe"}]})", "Resources[0].active") == "ok");
    CHECK(fails_with(R"({"Resources":[{"id":"u1","emails":{"value":"x"}}]})", "Resources[0].emails") == "ok");
    CHECK(fails_with(R"({"Resources":[{"userName":"a"}]})", "Resources[0].id") == "ok");
    CHECK(fails_with(R"({"Resources":{"id":"u1"}})", "Resources") == "ok");
    CHECK(fails_with(R"({"totalResults":"many","Resources":[]})", "totalResults") == "ok");
    CHECK(fails_with(R"({"Resources":[{"id":"u1","name":{"givenName":["A"]}}]})", "Resources[0].name.givenName") == "ok");
    CHECK(fails_with("<html><body>502 Bad Gateway</body></html>", "not valid JSON") == "ok");
    CHECK(fails_with("", "not valid JSON") == "ok");
    CHECK(fails_with("[1,2]", "not a JSON object") == "ok");
    CHECK(fails_with("{\"Resources\":[{\"id\":\"u\xff\"}]}", "not valid JSON") == "ok");  // invalid UTF-8
}

TEST_CASE("tolerated variants: string booleans, string totals, a missing Resources key") {
    std::string body = R"({"totalResults":"2","Resources":[{"id":"u1","userName":"a","active":"False"}]})";
    auto page = parse_user_page(body);
    CHECK(page.total_results == 2);
    CHECK_FALSE(page.resources[0].active);
    std::string empty = R"({"totalResults":0})";
    auto p2 = parse_user_page(empty);
    CHECK(p2.total_results == 0);
    CHECK(p2.resources.empty());
    std::string none = R"({"Resources":[]})";
    CHECK(parse_user_page(none).total_results == -1);
}

TEST_CASE("a document that is not a ListResponse is not an empty list") {
    for (std::string body : {std::string("{}"), std::string(R"({"a":{"a":1}})"),
                             std::string(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"]})"),
                             std::string(R"({"Resources":null})"), std::string("[]"), std::string("null"),
                             std::string("42"), std::string("\"text\"")}) {
        CAPTURE(body);
        std::string copy = body;
        CHECK_THROWS_AS(parse_user_page(body), ParseError);
        CHECK_THROWS_AS(parse_list_summary(copy), ParseError);
    }
}

TEST_CASE("deeply nested input does not exhaust the stack") {
    std::string body = "{\"Resources\":[{\"id\":\"u1\",\"x\":" + std::string(100000, '[') + std::string(100000, ']') + "}]}";
    auto page = parse_user_page(body);
    CHECK(page.resources.size() == 1);
}

TEST_CASE("group pages and group members") {
    std::string body = R"({"totalResults":2,"Resources":[{"id":"g1","displayName":"Eng"},{"id":"g2"}]})";
    auto page = parse_group_page(body);
    REQUIRE(page.resources.size() == 2);
    CHECK(page.resources[0].display_name == "Eng");
    CHECK(page.resources[1].display_name.empty());
    std::string g = R"({"id":"g1","Members":[{"value":"u1","display":"A"},{"value":"g2","type":"Group","$ref":"x"},
      {"Value":"u3","Type":"User"}]})";
    auto members = parse_group_members(g);
    REQUIRE(members.size() == 3);
    CHECK(members[0].value == "u1");
    CHECK(members[0].type.empty());
    CHECK(members[1].type == "Group");
    CHECK(members[2].value == "u3");
    std::string nomembers = R"({"id":"g1"})";
    CHECK(parse_group_members(nomembers).empty());
    std::string bad = R"({"members":[{"display":"no value"}]})";
    CHECK_THROWS_AS(parse_group_members(bad), ParseError);
}

TEST_CASE("SCIM error bodies: status as string or number; non-SCIM bodies survive") {
    auto e = parse_error_body(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"409","scimType":"uniqueness","detail":"userName taken"})");
    CHECK(e.is_scim);
    CHECK(e.status == "409");
    CHECK(e.scim_type == "uniqueness");
    CHECK(e.detail == "userName taken");
    e = parse_error_body(R"({"Status":400,"Detail":"bad filter"})");
    CHECK(e.is_scim);
    CHECK(e.status == "400");
    CHECK(e.detail == "bad filter");
    e = parse_error_body("<html><h1>502 Bad Gateway</h1></html>");
    CHECK_FALSE(e.is_scim);
    e = parse_error_body("");
    CHECK_FALSE(e.is_scim);
    e = parse_error_body(R"({"unrelated":true})");
    CHECK_FALSE(e.is_scim);
}

TEST_CASE("list summaries count without building resources") {
    std::string body = R"({"totalResults":12345,"Resources":[{"id":"u1"}]})";
    auto s = parse_list_summary(body);
    CHECK(s.total_results == 12345);
    CHECK(s.returned == 1);
}

TEST_CASE("request bodies: writer-built, no nulls, one-word names omit familyName, active is a JSON boolean") {
    NewUser u;
    u.user_name = u.email = "o'brien+\"q\"@example.com";
    u.display_name = "Cher";
    u.given_name = "Cher";
    std::string body = build_create_user(u);
    rapidjson::Document d;
    d.Parse(body.c_str());
    REQUIRE_FALSE(d.HasParseError());
    CHECK(std::string(d["userName"].GetString()) == "o'brien+\"q\"@example.com");
    CHECK(d["active"].IsBool());
    CHECK(d["active"].GetBool());
    CHECK_FALSE(d["name"].HasMember("familyName"));
    CHECK(std::string(d["emails"][0]["type"].GetString()) == "work");
    CHECK(d["emails"][0]["primary"].GetBool());
    CHECK_FALSE(d.HasMember("password"));
    CHECK(body.find("null") == std::string::npos);
    CHECK(std::string(d["schemas"][0].GetString()) == "urn:ietf:params:scim:schemas:core:2.0:User");
    u.family_name = "Ann van der Berg";
    body = build_create_user(u);
    d.Parse(body.c_str());
    CHECK(std::string(d["name"]["familyName"].GetString()) == "Ann van der Berg");

    body = build_patch_add_member("u\"1");
    d.Parse(body.c_str());
    REQUIRE_FALSE(d.HasParseError());
    CHECK(std::string(d["Operations"][0]["op"].GetString()) == "add");
    CHECK(std::string(d["Operations"][0]["path"].GetString()) == "members");
    CHECK(std::string(d["Operations"][0]["value"][0]["value"].GetString()) == "u\"1");

    body = build_patch_remove_member("u\"1");
    d.Parse(body.c_str());
    REQUIRE_FALSE(d.HasParseError());
    CHECK(std::string(d["Operations"][0]["op"].GetString()) == "remove");
    CHECK(std::string(d["Operations"][0]["path"].GetString()) == "members[value eq \"u\\\"1\"]");

    body = build_patch_active(true);
    d.Parse(body.c_str());
    CHECK(d["Operations"][0]["value"].IsBool());
    CHECK(std::string(d["schemas"][0].GetString()) == "urn:ietf:params:scim:api:messages:2.0:PatchOp");
}

// Regressions from the scim_json fuzzer (fuzz/regressions/scim_json/).
TEST_CASE("fuzz regression asan_truncated_utf8_at_end_of_body: a UTF-8 sequence cut by the end of the body") {
    // The body ends inside a multi-byte sequence, in an allocation exactly the body's size: refused, and (under
    // ASan) nothing read past the buffer.
    for (const char *lead : {"\xC3", "\xE2\x82", "\xF0\x9F\x98"}) {
        std::string body = std::string(R"({"totalResults":1,"Resources":[{"id":"u1","displayName":")") + lead;
        body.shrink_to_fit();
        CHECK_THROWS_AS(parse_user_page(body), ParseError);
        std::string b2 = std::string(R"({"id":")") + lead;
        b2.shrink_to_fit();
        CHECK_THROWS_AS(parse_user(b2), ParseError);
    }
}

TEST_CASE("fuzz regression lone_low_surrogate_escape_gives_invalid_utf8: refused, naming the field") {
    std::string body = R"({"totalResults":1,"Resources":[{"id":"u1","displayName":"lone low surrogate \ude00"}]})";
    try {
        (void)parse_user_page(body);
        FAIL("a lone low surrogate was accepted");
    } catch (const ParseError &e) {
        CHECK(std::string(e.what()).find("Resources[0].displayName") != std::string::npos);
    }
    std::string members = R"({"members":[{"value":"\uDFFF"}]})";
    CHECK_THROWS_AS(parse_group_members(members), ParseError);
    // A proper pair, and code points just beside the surrogate range (U+D7FF, U+E000), are kept intact.
    std::string ok = R"({"totalResults":1,"Resources":[{"id":"u\ud83d\ude00","displayName":"\ud7ff\ue000"}]})";
    const auto page = parse_user_page(ok);
    REQUIRE(page.resources.size() == 1);
    CHECK(page.resources[0].id == "u\xF0\x9F\x98\x80");
    CHECK(page.resources[0].display_name == "\xED\x9F\xBF\xEE\x80\x80");
}
