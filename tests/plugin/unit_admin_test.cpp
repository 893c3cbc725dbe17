// The Admin API's pure pieces: the JSON readers (both field generations, the checks a decision rests on), the
// request bodies, and the client-side pacer.
#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <chrono>

#include "admin/admin_json.hpp"
#include "admin/admin_records.hpp"
#include "http/request_pacer.hpp"

using namespace ce;
using namespace ce::admin;

TEST_CASE("admin JSON: a member page (paging A)") {
    std::string body = R"({"data":[{"type":"user","id":"user_1","email":"a@x.io","name":"A","role":"owner",
        "added_at":"2026-01-01T00:00:00Z"}],"has_more":true,"first_id":"user_1","last_id":"user_1"})";
    const auto page = parse_member_page(body);
    REQUIRE(page.data.size() == 1);
    CHECK(page.data[0].role == "owner");
    CHECK(page.has_more);
    CHECK(page.last_id == "user_1");
}

TEST_CASE("admin JSON: what a decision rests on is checked") {
    std::string no_more = R"({"data":[]})";
    CHECK_THROWS_AS(parse_member_page(no_more), ParseError);
    std::string no_data = R"({"has_more":false})";
    CHECK_THROWS_AS(parse_group_page(no_data), ParseError);
    std::string other_type = R"({"data":[{"type":"invite","id":"invite_1"}],"has_more":false})";
    CHECK_THROWS_AS(parse_member_page(other_type), ParseError);
    std::string no_id = R"({"data":[{"type":"user","email":"a@x.io"}],"has_more":false})";
    CHECK_THROWS_AS(parse_member_page(no_id), ParseError);
    std::string two_groups = R"({"data":[{"user_id":"user_1","rbac_group_id":"g1","group_id":"g2"}],"has_more":false})";
    CHECK_THROWS_AS(parse_group_member_page(two_groups), ParseError);
    std::string not_json = "<html>";
    CHECK_THROWS_AS(parse_role_page(not_json), ParseError);
}

TEST_CASE("admin JSON: groups of both generations; role_ids null is not 'no roles'") {
    std::string newer = R"({"data":[{"type":"rbac_group","id":"g1","name":"G","source_type":"direct",
        "role_ids":["r1","r2"],"roles":["r1","r2"]}],"has_more":false,"next_page":null})";
    auto page = parse_group_page(newer);
    REQUIRE(page.data[0].role_ids);
    CHECK(*page.data[0].role_ids == std::vector<std::string>{"r1", "r2"});
    CHECK_FALSE(page.next_page);
    std::string older = R"({"data":[{"id":"g1","name":"G","source_type":"scim","roles":["r9"]}],"has_more":true,
        "next_page":"tok"})";
    page = parse_group_page(older);
    CHECK(*page.data[0].role_ids == std::vector<std::string>{"r9"});
    CHECK(page.next_page == std::optional<std::string>("tok"));
    std::string null_roles = R"({"data":[{"id":"g1","role_ids":null,"roles":null}],"has_more":false})";
    CHECK_FALSE(parse_group_page(null_roles).data[0].role_ids);
    std::string empty_roles = R"({"data":[{"id":"g1","role_ids":[]}],"has_more":false})";
    CHECK(parse_group_page(empty_roles).data[0].role_ids->empty());
}

TEST_CASE("admin JSON: group members and roles of both generations") {
    std::string members = R"({"data":[{"type":"rbac_group_member","group_id":"g1","user_id":"user_1"},
        {"rbac_group_id":"g1","group_id":"g1","user_id":"user_2"}],"has_more":false,"next_page":null})";
    const auto m = parse_group_member_page(members);
    CHECK(m.data[0].group_id == "g1");
    CHECK(m.data[1].user_id == "user_2");
    std::string roles = R"({"data":[{"id":"r1","display_name":"Analyst","name":"analyst","source":{"type":"custom"}},
        {"id":"r2","name":"Legacy"}],"has_more":false,"next_page":null})";
    const auto r = parse_role_page(roles);
    CHECK(r.data[0].display_name == "Analyst");
    CHECK(r.data[0].source == "custom");
    CHECK(r.data[1].display_name == "Legacy");
    CHECK(r.data[1].source.empty());
}

TEST_CASE("admin JSON: error bodies and request bodies") {
    const auto e = parse_api_error(R"({"type":"error","error":{"type":"permission_error","message":"needs x"}})");
    CHECK(e.is_api);
    CHECK(e.type == "permission_error");
    CHECK(e.message == "needs x");
    CHECK_FALSE(parse_api_error("Bad Gateway").is_api);
    CHECK(build_role_change("managed") == R"({"role":"managed"})");
    CHECK(build_invite("a\"b@x.io", "user", {"g1"}) == R"({"email":"a\"b@x.io","role":"user","rbac_group_ids":["g1"]})");
    CHECK(build_invite("a@x.io", "user", {}) == R"({"email":"a@x.io","role":"user"})");
    CHECK(build_group_member("user_1") == R"({"user_id":"user_1"})");
}

TEST_CASE("admin records: ids and attributes") {
    const Resource u = user_resource(Member{"user_1", "a@x.io", "", "managed", "t"}, "scim-9");
    CHECK(u.display_name == "a@x.io");
    bool has_scim = false;
    for (const auto &a : u.attrs) has_scim = has_scim || (a.key == "scim_id" && a.str == "scim-9");
    CHECK(has_scim);
    CHECK(group_entitlement_id("g1") == "group:g1:member");
    CHECK(role_entitlement_id("r1") == "role:r1:assigned");
    CHECK(make_grant(org_role_entitlement_id("user"), "user", "user_1", false).id == "org_role:user:assigned:user:user_1");
    CHECK(is_org_role("membership_admin"));
    CHECK_FALSE(is_org_role("admin"));
}

TEST_CASE("request pacer: at most N starts in any window, the next slot when the oldest leaves") {
    using namespace std::chrono;
    http::RequestPacer p(3, milliseconds(1000));
    const auto t0 = steady_clock::time_point{} + hours(1);
    for (int i = 0; i < 3; ++i) {
        CHECK(p.may_start(t0 + milliseconds(i)));
        p.started(t0 + milliseconds(i));
    }
    CHECK_FALSE(p.may_start(t0 + milliseconds(10)));
    CHECK(p.next_start(t0 + milliseconds(10)) == t0 + milliseconds(1000));
    CHECK(p.may_start(t0 + milliseconds(1000)));
    p.started(t0 + milliseconds(1000));
    CHECK(p.next_start(t0 + milliseconds(1000)) == t0 + milliseconds(1001));
    // Over any window of the run, never more than 3.
    http::RequestPacer q(5, milliseconds(100));
    std::vector<steady_clock::time_point> starts;
    for (auto t = t0; starts.size() < 50; t += milliseconds(1))
        if (q.may_start(t)) {
            q.started(t);
            starts.push_back(t);
        }
    for (size_t i = 5; i < starts.size(); ++i) CHECK(starts[i] - starts[i - 5] >= milliseconds(100));
    CHECK(http::RequestPacer::kDefaultWindow > seconds(60));
}
