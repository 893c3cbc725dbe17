// scim-sim: the Admin API surface over loopback HTTP (in-process server on 127.0.0.1, port 0). Linked into
// sim_api_test.
#include <doctest/doctest.h>

#include "sim_admin_util.hpp"

using namespace simtest;

namespace {

void check_error(const Response &r, int status, const char *type) {
    CHECK(r.status == status);
    auto d = r.json();
    CHECK(str(d, "type") == "error");
    CHECK(str(d["error"], "type") == type);
    CHECK(!str(d["error"], "message").empty());
    CHECK(str(d, "request_id").rfind("req_01", 0) == 0);
    CHECK(r.header("request-id") == str(d, "request_id"));
    CHECK(r.body.find(kAdminKey) == std::string::npos);
}

std::string role_of(const rapidjson::Document &st, const std::string &member_id) {
    const auto *m = truth_find(st, "members", member_id);
    return m ? str(*m, "role") : std::string();
}

}  // namespace

TEST_CASE("admin api: key (x-api-key or Bearer), anthropic-version, error shape, request-id on every answer") {
    scim_sim::Server s(admin_org());
    s.start();
    AdminClient c(s);
    auto ok = c.get("/users?limit=1");
    CHECK(ok.status == 200);
    CHECK(ok.header("request-id").rfind("req_01", 0) == 0);
    CHECK(ok.header("Content-Type") == "application/json; charset=utf-8");
    c.bearer = true;
    CHECK(c.get("/users?limit=1").status == 200);
    c.bearer = false;
    c.key = "";
    check_error(c.get("/users"), 401, "authentication_error");
    c.key = kAdminKey + "x";
    check_error(c.get("/users"), 401, "authentication_error");
    c.key = kToken;  // the SCIM token is not an Admin API key
    check_error(c.get("/users"), 401, "authentication_error");
    c.key = kAdminKey;
    c.version = false;
    check_error(c.get("/users"), 400, "invalid_request_error");
    c.version = true;
    check_error(c.get("/nothing"), 404, "not_found_error");
    check_error(c.get("/users/user_01nope"), 404, "not_found_error");
    check_error(c.post("/users", "{}"), 404, "not_found_error");
    // the SCIM surface is untouched, and its bearer token does not open the Admin API
    Client scim(s);
    CHECK(scim.get("/Users?count=1").status == 200);
    // without --admin-key there is no Admin API
    scim_sim::Server plain(options());
    plain.start();
    AdminClient p(plain);
    CHECK(p.get("/users").status == 404);
}

TEST_CASE("admin api: scopes: a call outside the key's scopes is 403 naming held and needed scopes") {
    auto o = admin_org();
    o.admin_scopes = {"read:members"};
    scim_sim::Server s(o);
    s.start();
    AdminClient c(s);
    CHECK(c.get("/users").status == 200);
    CHECK(c.get("/rbac_roles").status == 200);
    auto r = c.get("/rbac_groups");
    check_error(r, 403, "permission_error");
    CHECK(r.body.find("read:rbac_groups") != std::string::npos);
    CHECK(r.body.find("read:members") != std::string::npos);
    check_error(c.post("/invites", R"({"email":"x@example.net","role":"user"})"), 403, "permission_error");
    auto audit = admin_org();
    audit.admin_scopes = {"read:org_audit"};  // every read, no write
    scim_sim::Server a(audit);
    a.start();
    AdminClient ca(a);
    CHECK(ca.get("/rbac_groups").status == 200);
    CHECK(ca.get("/invites").status == 200);
    check_error(ca.post("/rbac_groups", R"({"name":"X"})"), 403, "permission_error");
    auto bad = admin_org();
    bad.admin_scopes = {"read:everything"};
    scim_sim::Server b(bad);
    CHECK_THROWS(b.start());
}

TEST_CASE("admin api: members, paging A at sizes 1, 2, the cap and around it; most recently added first") {
    OrgSize z;
    z.users = 700;
    z.groups = 5;
    z.members = 900;
    z.direct = 400;
    scim_sim::Server s(admin_org(z));
    s.start();
    auto st = parse(s.state_json());
    auto truth = truth_ids(st, "members");
    std::vector<std::string> newest_first(truth.rbegin(), truth.rend());
    REQUIRE(truth.size() > 1000);  // the cap is crossed
    AdminClient c(s);
    for (int limit : {1, 2, 999, 1000}) {
        auto w = walk_a(c, "/users", limit);
        CHECK(w.ids == newest_first);
        CHECK(w.pages == (truth.size() + static_cast<size_t>(limit) - 1) / static_cast<size_t>(limit));
    }
    auto first = c.get("/users").json();  // default limit 20
    CHECK(first["data"].Size() == 20);
    CHECK(first["has_more"].GetBool());
    const rapidjson::Value &u = first["data"][0];
    CHECK(str(u, "type") == "user");
    CHECK(str(u, "id").rfind("user_01", 0) == 0);
    for (const char *k : {"email", "name", "role", "added_at"}) CHECK(u.HasMember(k));
    // before_id pages back towards newer members
    std::string mid = newest_first[50];
    auto back = c.get("/users?limit=10&before_id=" + mid).json();
    REQUIRE(back["data"].Size() == 10);
    CHECK(str(back["data"][0], "id") == newest_first[40]);
    CHECK(str(back["data"][9], "id") == newest_first[49]);
    CHECK(back["has_more"].GetBool());
    auto top = c.get("/users?limit=10&before_id=" + newest_first[3]).json();
    CHECK(top["data"].Size() == 3);
    CHECK(!top["has_more"].GetBool());
    // out of range and malformed limits, both cursors at once
    for (const char *q : {"limit=0", "limit=1001", "limit=abc", "limit=-1", "after_id=a&before_id=b"}) {
        check_error(c.get(std::string("/users?") + q), 400, "invalid_request_error");
    }
    // past the end: an empty page with null ids
    auto end = c.get("/users?after_id=" + truth.front()).json();
    CHECK(end["data"].Size() == 0);
    CHECK(!end["has_more"].GetBool());
    CHECK(end["first_id"].IsNull());
}

TEST_CASE("admin api: --admin-clamp-limit clamps instead of refusing") {
    auto o = admin_org();
    o.admin_clamp_limit = true;
    scim_sim::Server s(o);
    s.start();
    AdminClient c(s);
    auto big = c.get("/users?limit=5000");
    CHECK(big.status == 200);
    CHECK(big.json()["data"].Size() == s.member_count());  // fewer than 1000 here
    CHECK(c.get("/users?limit=0").json()["data"].Size() == 1);
}

TEST_CASE("admin api: email lookup is case-insensitive and matches plus-address variants; roles[] filter") {
    scim_sim::Server s(admin_org());
    s.start();
    AdminClient c(s);
    auto one = c.get("/users?email=" + enc("JOSE.NUNEZ@example.COM")).json();
    REQUIRE(one["data"].Size() == 1);
    CHECK(str(one["data"][0], "email") == "jose.nunez@example.com");
    CHECK(!one["has_more"].GetBool());
    auto plus = c.get("/users?email=" + enc("mixed.case@example.org")).json();
    REQUIRE(plus["data"].Size() == 1);
    CHECK(str(plus["data"][0], "email") == "Mixed.Case+claude@Example.org");
    CHECK(c.get("/users?email=" + enc("mixed.case+other@EXAMPLE.org")).json()["data"].Size() == 1);
    CHECK(c.get("/users?email=" + enc("o'brien+test@example.com")).json()["data"].Size() == 1);
    CHECK(c.get("/users?email=" + enc("nobody@example.com")).json()["data"].Size() == 0);
    auto owners = c.get("/users?roles[]=primary_owner&roles[]=owner").json();
    CHECK(owners["data"].Size() >= 2);
    for (auto &m : owners["data"].GetArray()) {
        std::string role = str(m, "role");
        CHECK((role == "owner" || role == "primary_owner"));
    }
}

TEST_CASE("admin api: member role change and removal, with every documented refusal") {
    OrgSize z;
    z.direct = 40;
    scim_sim::Server s(admin_org(z));
    s.start();
    auto st = parse(s.state_json());
    AdminClient c(s);
    std::string primary = truth_id_where(st, "members", "role", "primary_owner");
    std::string owner = truth_id_where(st, "members", "role", "owner");
    std::string admin = truth_id_where(st, "members", "role", "membership_admin");
    REQUIRE(!primary.empty());
    REQUIRE(!owner.empty());
    REQUIRE(!admin.empty());
    std::string direct, scim_member;
    for (auto &m : st["members"].GetArray()) {
        if (str(m, "role") == "user" && m["scim_id"].IsNull() && direct.empty()) direct = str(m, "id");
        if (m["scim_id"].IsString() && scim_member.empty()) scim_member = str(m, "id");
    }
    auto managed = c.post("/users/" + direct, R"({"role":"managed"})");
    REQUIRE(managed.status == 200);
    CHECK(str(managed.json(), "role") == "managed");
    CHECK(role_of(parse(s.state_json()), direct) == "managed");
    CHECK(c.post("/users/" + direct, R"({"role":"user"})").status == 200);
    for (const auto &target : {primary, owner, admin}) {
        check_error(c.post("/users/" + target, R"({"role":"user"})"), 400, "invalid_request_error");
        check_error(c.del("/users/" + target), 400, "invalid_request_error");
    }
    for (const char *asked : {"owner", "membership_admin", "primary_owner", "developer"}) {
        check_error(c.post("/users/" + direct, std::string(R"({"role":")") + asked + "\"}"), 400, "invalid_request_error");
    }
    check_error(c.post("/users/" + direct, "not json"), 400, "invalid_request_error");
    check_error(c.post("/users/" + direct, "{}"), 400, "invalid_request_error");
    check_error(c.post("/users/user_01unknown", R"({"role":"user"})"), 404, "not_found_error");
    check_error(c.del("/users/user_01unknown"), 404, "not_found_error");
    // removal of a direct member
    auto del = c.del("/users/" + direct);
    REQUIRE(del.status == 200);
    CHECK(str(del.json(), "type") == "user_deleted");
    CHECK(str(del.json(), "id") == direct);
    check_error(c.get("/users/" + direct), 404, "not_found_error");
    auto after = parse(s.state_json());
    CHECK(truth_find(after, "members", direct) == nullptr);
    for (auto &g : after["rbac_groups"].GetArray()) {
        auto members = string_array(g["members"]);
        CHECK(std::find(members.begin(), members.end(), direct) == members.end());
    }
    // removal of a SCIM-provisioned member deprovisions the SCIM user too (the views keep agreeing)
    std::string scim_id = str(*truth_find(after, "members", scim_member), "scim_id");
    CHECK(c.del("/users/" + scim_member).status == 200);
    Client scim(s);
    CHECK(!scim.get("/Users/" + scim_id).json()["active"].GetBool());
}

TEST_CASE("admin api: --admin-scim-managed refuses invites and removals; --admin-idp-roles refuses role changes") {
    auto o = admin_org();
    o.admin_scim_managed = true;
    o.admin_idp_roles = true;
    scim_sim::Server s(o);
    s.start();
    auto st = parse(s.state_json());
    AdminClient c(s);
    std::string user;
    for (auto &m : st["members"].GetArray()) {
        if (str(m, "role") == "user" && user.empty()) user = str(m, "id");
    }
    check_error(c.post("/invites", R"({"email":"new@example.net","role":"user"})"), 400, "invalid_request_error");
    check_error(c.del("/users/" + user), 400, "invalid_request_error");
    check_error(c.post("/users/" + user, R"({"role":"managed"})"), 400, "invalid_request_error");
    CHECK(parse(s.state_json())["members"].Size() == st["members"].Size());
    CHECK(c.get("/invites").status == 200);  // reads still work
}

TEST_CASE("admin api: invites: create, list (paging A, filters), get, withdraw, and the refusals") {
    scim_sim::Server s(admin_org());
    s.start();
    auto st = parse(s.state_json());
    AdminClient c(s);
    auto truth = truth_ids(st, "invites");
    std::vector<std::string> newest_first(truth.rbegin(), truth.rend());
    CHECK(walk_a(c, "/invites", 1).ids == newest_first);
    CHECK(walk_a(c, "/invites", 3).ids == newest_first);
    std::string direct_group;
    for (auto &g : st["rbac_groups"].GetArray()) {
        if (str(g, "source_type") == "direct" && direct_group.empty()) direct_group = str(g, "id");
    }
    auto made = c.post("/invites", R"({"email":"Fresh.Person@Example.net","role":"managed","rbac_group_ids":[")" +
                                       direct_group + R"("]})");
    REQUIRE(made.status == 200);
    auto inv = made.json();
    std::string id = str(inv, "id");
    CHECK(id.rfind("invite_01", 0) == 0);
    CHECK(str(inv, "type") == "invite");
    CHECK(str(inv, "status") == "pending");
    CHECK(str(inv, "role") == "managed");
    CHECK(inv["accepted_at"].IsNull());
    CHECK(string_array(inv["rbac_group_ids"]) == std::vector<std::string>{direct_group});
    CHECK(str(c.get("/invites?limit=1").json()["data"][0], "id") == id);  // most recent first
    CHECK(str(c.get("/invites/" + id).json(), "email") == "Fresh.Person@Example.net");
    // refusals: a pending invite or a member with that e-mail (case-insensitive), bad role, bad groups
    auto dup = c.post("/invites", R"({"email":"fresh.person@example.net","role":"user"})");
    check_error(dup, 400, "invalid_request_error");
    CHECK(dup.body.find(id) != std::string::npos);  // the message names it
    check_error(c.post("/invites", R"({"email":"JOSE.NUNEZ@example.com","role":"user"})"), 400, "invalid_request_error");
    check_error(c.post("/invites", R"({"email":"x@example.net","role":"owner"})"), 400, "invalid_request_error");
    check_error(c.post("/invites", R"({"email":"not-an-address","role":"user"})"), 400, "invalid_request_error");
    check_error(c.post("/invites", R"({"email":"y@example.net","rbac_group_ids":["rbac_group_01nope"]})"), 400,
                "invalid_request_error");
    std::string scim_group = truth_id_where(st, "rbac_groups", "source_type", "scim");
    check_error(c.post("/invites", R"({"email":"y@example.net","rbac_group_ids":[")" + scim_group + "\"]}"), 400,
                "invalid_request_error");
    // filters
    auto pending = c.get("/invites?statuses[]=pending&limit=1000").json();
    for (auto &x : pending["data"].GetArray()) CHECK(str(x, "status") == "pending");
    auto managed = c.get("/invites?roles[]=managed&limit=1000").json();
    for (auto &x : managed["data"].GetArray()) CHECK(str(x, "role") == "managed");
    CHECK(c.get("/invites?email=" + enc("FRESH.person@example.net")).json()["data"].Size() == 1);
    // withdraw: pending only; a withdrawn invite reads as deleted
    auto del = c.del("/invites/" + id);
    REQUIRE(del.status == 200);
    CHECK(str(del.json(), "type") == "invite_deleted");
    CHECK(str(c.get("/invites/" + id).json(), "status") == "deleted");
    check_error(c.del("/invites/" + id), 400, "invalid_request_error");
    std::string accepted = truth_id_where(st, "invites", "status", "accepted");
    std::string expired = truth_id_where(st, "invites", "status", "expired");
    REQUIRE(!accepted.empty());
    REQUIRE(!expired.empty());
    check_error(c.del("/invites/" + accepted), 400, "invalid_request_error");
    check_error(c.del("/invites/" + expired), 400, "invalid_request_error");
    check_error(c.get("/invites/invite_01nope"), 404, "not_found_error");
    check_error(c.del("/invites/invite_01nope"), 404, "not_found_error");
    // once withdrawn, the e-mail can be invited again
    CHECK(c.post("/invites", R"({"email":"fresh.person@example.net"})").status == 200);
}

TEST_CASE("admin api: --admin-withdrawn-404: a withdrawn invite is gone") {
    auto o = admin_org();
    o.admin_withdrawn_404 = true;
    scim_sim::Server s(o);
    s.start();
    AdminClient c(s);
    std::string id = str(c.post("/invites", R"({"email":"gone@example.net","role":"user"})").json(), "id");
    CHECK(c.del("/invites/" + id).status == 200);
    check_error(c.get("/invites/" + id), 404, "not_found_error");
    CHECK(truth_find(parse(s.state_json()), "invites", id) == nullptr);
}

TEST_CASE("admin api: an accepted invite becomes a member, in the invite's direct groups") {
    scim_sim::Server s(admin_org());
    s.start();
    auto st = parse(s.state_json());
    AdminClient c(s);
    std::string group;
    for (auto &g : st["rbac_groups"].GetArray()) {
        if (str(g, "source_type") == "direct") group = str(g, "id");
    }
    auto inv = c.post("/invites", R"({"email":"joiner@example.net","role":"managed","rbac_group_ids":[")" + group + "\"]}");
    REQUIRE(inv.status == 200);
    std::string id = str(inv.json(), "id");
    Client admin(s);
    auto accepted = admin.admin_post("invites/" + id + "/accept");
    REQUIRE(accepted.status == 200);
    std::string member = str(accepted.json(), "id");
    CHECK(member.rfind("user_01", 0) == 0);
    auto got = c.get("/users?email=joiner@example.net").json();
    REQUIRE(got["data"].Size() == 1);
    CHECK(str(got["data"][0], "id") == member);
    CHECK(str(got["data"][0], "role") == "managed");
    CHECK(str(c.get("/invites/" + id).json(), "status") == "accepted");
    CHECK(!c.get("/invites/" + id).json()["accepted_at"].IsNull());
    auto members = walk_b(c, "/rbac_groups/" + group + "/members", 1000, "user_id").ids;
    CHECK(std::find(members.begin(), members.end(), member) != members.end());
    auto after = parse(s.state_json());
    CHECK(str(*truth_find(after, "invites", id), "status") == "accepted");
    CHECK((*truth_find(after, "members", member))["scim_id"].IsNull());
    CHECK(admin.admin_post("invites/" + id + "/accept").status == 400);  // not pending any more
    check_error(c.del("/invites/" + id), 400, "invalid_request_error");
    // an invite can also be made to lapse
    std::string other = str(c.post("/invites", R"({"email":"late@example.net"})").json(), "id");
    CHECK(admin.admin_post("invites/" + other + "/expire").status == 200);
    CHECK(str(c.get("/invites/" + other).json(), "status") == "expired");
}

TEST_CASE("admin api: rbac groups, paging B at sizes 1, the cap and around it; create, rename, delete; scim refusals") {
    OrgSize z;
    z.groups = 30;
    z.members = 200;
    z.direct_groups = 1000;  // 1,030 groups: the cap is crossed
    scim_sim::Server s(admin_org(z));
    s.start();
    auto st = parse(s.state_json());
    auto truth = truth_ids(st, "rbac_groups");
    REQUIRE(truth.size() == 1030);
    AdminClient c(s);
    for (int limit : {1, 999, 1000}) {
        auto w = walk_b(c, "/rbac_groups", limit);
        CHECK(w.ids == truth);  // oldest first
        CHECK(w.pages == (truth.size() + static_cast<size_t>(limit) - 1) / static_cast<size_t>(limit));
    }
    auto page = c.get("/rbac_groups?limit=2").json();
    const rapidjson::Value &g = page["data"][0];
    CHECK(str(g, "type") == "rbac_group");
    CHECK(str(g, "id").rfind("rbac_group_01", 0) == 0);
    CHECK(g["role_ids"].IsArray());
    CHECK(g["roles"].IsArray());
    CHECK(g["role_ids"] == g["roles"]);
    for (const char *k : {"name", "source_type", "created_at", "updated_at"}) CHECK(g.HasMember(k));
    check_error(c.get("/rbac_groups?page=not-a-cursor"), 400, "invalid_request_error");
    check_error(c.get("/rbac_groups?limit=1001"), 400, "invalid_request_error");
    // writes on direct groups
    auto made = c.post("/rbac_groups", R"({"name":"Reviewers"})");
    REQUIRE(made.status == 200);
    std::string id = str(made.json(), "id");
    CHECK(str(made.json(), "source_type") == "direct");
    CHECK(c.post("/rbac_groups", R"({"name":"Reviewers"})").status == 200);  // names need not be unique
    CHECK(c.post("/rbac_groups", "{\"name\":\"" + std::string(255, 'x') + "\"}").status == 200);
    check_error(c.post("/rbac_groups", "{\"name\":\"" + std::string(256, 'x') + "\"}"), 400, "invalid_request_error");
    check_error(c.post("/rbac_groups", R"({"name":""})"), 400, "invalid_request_error");
    check_error(c.post("/rbac_groups", R"({"name":7})"), 400, "invalid_request_error");
    auto renamed = c.post("/rbac_groups/" + id, R"({"name":"Senior Reviewers"})");
    REQUIRE(renamed.status == 200);
    CHECK(str(renamed.json(), "name") == "Senior Reviewers");
    CHECK(str(c.get("/rbac_groups/" + id).json(), "name") == "Senior Reviewers");
    auto del = c.del("/rbac_groups/" + id);
    REQUIRE(del.status == 200);
    CHECK(str(del.json(), "type") == "rbac_group_deleted");
    check_error(c.get("/rbac_groups/" + id), 404, "not_found_error");
    check_error(c.del("/rbac_groups/" + id), 404, "not_found_error");
    check_error(c.post("/rbac_groups/" + id, R"({"name":"x"})"), 404, "not_found_error");
    // scim groups cannot be renamed or deleted
    std::string scim = truth_id_where(st, "rbac_groups", "source_type", "scim");
    check_error(c.post("/rbac_groups/" + scim, R"({"name":"x"})"), 400, "invalid_request_error");
    check_error(c.del("/rbac_groups/" + scim), 400, "invalid_request_error");
    CHECK(str(c.get("/rbac_groups/" + scim).json(), "source_type") == "scim");
}

TEST_CASE("admin api: group members: paging B oldest first, add (400 when already in), remove (404 when absent)") {
    OrgSize z;
    z.direct = 1200;
    z.direct_groups = 2;  // the first direct group holds a tenth of all members
    scim_sim::Server s(admin_org(z));
    s.start();
    auto st = parse(s.state_json());
    AdminClient c(s);
    std::string big;
    for (auto &g : st["rbac_groups"].GetArray()) {
        if (str(g, "source_type") == "direct" && big.empty()) big = str(g, "id");
    }
    auto truth = string_array((*truth_find(st, "rbac_groups", big))["members"]);
    REQUIRE(truth.size() > 100);
    for (int limit : {1, 7, 1000}) CHECK(walk_b(c, "/rbac_groups/" + big + "/members", limit, "user_id").ids == truth);
    auto first_doc = c.get("/rbac_groups/" + big + "/members?limit=1").json();
    const rapidjson::Value &first = first_doc["data"][0];
    CHECK(str(first, "type") == "rbac_group_member");
    CHECK(str(first, "rbac_group_id") == big);
    CHECK(str(first, "group_id") == big);
    CHECK(!str(first, "email").empty());
    CHECK(first.HasMember("created_at"));
    // add and remove on a fresh direct group
    std::string g = str(c.post("/rbac_groups", R"({"name":"Fresh"})").json(), "id");
    std::string u1 = truth[0], u2 = truth[1];
    auto added = c.post("/rbac_groups/" + g + "/members", "{\"user_id\":\"" + u1 + "\"}");
    REQUIRE(added.status == 200);
    CHECK(str(added.json(), "user_id") == u1);
    CHECK(c.post("/rbac_groups/" + g + "/members", "{\"user_id\":\"" + u2 + "\"}").status == 200);
    check_error(c.post("/rbac_groups/" + g + "/members", "{\"user_id\":\"" + u1 + "\"}"), 400, "invalid_request_error");
    check_error(c.post("/rbac_groups/" + g + "/members", R"({"user_id":"user_01nobody"})"), 404, "not_found_error");
    check_error(c.post("/rbac_groups/rbac_group_01nope/members", "{\"user_id\":\"" + u1 + "\"}"), 404, "not_found_error");
    CHECK(walk_b(c, "/rbac_groups/" + g + "/members", 1, "user_id").ids == (std::vector<std::string>{u1, u2}));
    auto removed = c.del("/rbac_groups/" + g + "/members/" + u1);
    REQUIRE(removed.status == 200);
    auto rd = removed.json();
    CHECK(str(rd, "type") == "rbac_group_member_deleted");
    CHECK(str(rd, "rbac_group_id") == g);
    CHECK(str(rd, "group_id") == g);
    CHECK(str(rd, "user_id") == u1);
    check_error(c.del("/rbac_groups/" + g + "/members/" + u1), 404, "not_found_error");
    check_error(c.del("/rbac_groups/" + g + "/members/user_01nobody"), 404, "not_found_error");
    CHECK(string_array((*truth_find(parse(s.state_json()), "rbac_groups", g))["members"]) == std::vector<std::string>{u2});
    // scim groups: members cannot be changed here
    std::string scim = truth_id_where(st, "rbac_groups", "source_type", "scim");
    check_error(c.post("/rbac_groups/" + scim + "/members", "{\"user_id\":\"" + u1 + "\"}"), 400, "invalid_request_error");
    auto scim_members = string_array((*truth_find(st, "rbac_groups", scim))["members"]);
    REQUIRE(!scim_members.empty());
    check_error(c.del("/rbac_groups/" + scim + "/members/" + scim_members[0]), 400, "invalid_request_error");
    CHECK(walk_b(c, "/rbac_groups/" + scim + "/members", 2, "user_id").ids == scim_members);
}

TEST_CASE("admin api: roles: list (built-in and custom), get, permissions; a role of another org is 404") {
    OrgSize z;
    z.roles = 20;
    z.direct_groups = 40;
    scim_sim::Server s(admin_org(z));
    s.start();
    auto st = parse(s.state_json());
    AdminClient c(s);
    auto truth = truth_ids(st, "roles");
    CHECK(truth.size() == 22);  // 2 built-in + 20 custom
    CHECK(walk_b(c, "/rbac_roles", 1).ids == truth);
    CHECK(walk_b(c, "/rbac_roles", 1000).ids == truth);
    auto first = c.get("/rbac_roles/" + truth[0]).json();
    CHECK(str(first, "type") == "rbac_role");
    CHECK(str(first, "display_name") == str(st["roles"][0], "display_name"));
    CHECK(str(first["source"], "type") == "built_in");
    CHECK(str(c.get("/rbac_roles/" + truth[5]).json()["source"], "type") == "custom");
    auto perms = walk_b(c, "/rbac_roles/" + truth[5] + "/permissions", 1, "action");
    CHECK(perms.ids.size() >= 2);
    CHECK(walk_b(c, "/rbac_roles/" + truth[5] + "/permissions", 1000, "action").ids == perms.ids);
    auto p_doc = c.get("/rbac_roles/" + truth[5] + "/permissions?limit=1").json();
    const rapidjson::Value &p = p_doc["data"][0];
    CHECK(str(p, "type") == "rbac_role_permission");
    CHECK(p["resource"].HasMember("type"));
    // groups name roles of another organisation of the enterprise: this key cannot read them
    std::set<std::string> own(truth.begin(), truth.end()), foreign;
    for (auto &g : st["rbac_groups"].GetArray()) {
        for (auto &r : string_array(g["role_ids"])) {
            if (!own.count(r)) foreign.insert(r);
        }
    }
    REQUIRE(!foreign.empty());
    for (auto &r : foreign) {
        check_error(c.get("/rbac_roles/" + r), 404, "not_found_error");
        check_error(c.get("/rbac_roles/" + r + "/permissions"), 404, "not_found_error");
    }
    check_error(c.get("/rbac_roles/rbac_role_01nope"), 404, "not_found_error");
    check_error(c.post("/rbac_roles", "{}"), 404, "not_found_error");  // read-only
}

TEST_CASE("admin api: --admin-legacy: group and role paths need the beta header; older field names only") {
    auto o = admin_org();
    o.admin_legacy = true;
    scim_sim::Server s(o);
    s.start();
    auto st = parse(s.state_json());
    AdminClient c(s);
    CHECK(c.get("/users").status == 200);  // members and invites need no beta header
    CHECK(c.get("/invites").status == 200);
    check_error(c.get("/rbac_groups"), 404, "not_found_error");
    check_error(c.get("/rbac_roles"), 404, "not_found_error");
    c.beta = true;
    auto groups = walk_b(c, "/rbac_groups", 1);
    CHECK(groups.ids == truth_ids(st, "rbac_groups"));
    auto g_doc = c.get("/rbac_groups?limit=1").json();
    const rapidjson::Value &g = g_doc["data"][0];
    CHECK(!g.HasMember("role_ids"));
    CHECK(g["roles"].IsArray());
    std::string scim = truth_id_where(st, "rbac_groups", "source_type", "scim");
    auto m_doc = c.get("/rbac_groups/" + scim + "/members?limit=1").json();
    const rapidjson::Value &m = m_doc["data"][0];
    CHECK(!m.HasMember("rbac_group_id"));
    CHECK(str(m, "group_id") == scim);
    auto r_doc = c.get("/rbac_roles?limit=1").json();
    const rapidjson::Value &r = r_doc["data"][0];
    CHECK(r.HasMember("name"));
    CHECK(!r.HasMember("display_name"));
    CHECK(!r.HasMember("source"));
    // the older guide knows no status filter: it is ignored
    CHECK(c.get("/invites?statuses[]=accepted&limit=1000").json()["data"].Size() == st["invites"].Size());
    // newer servers accept the beta header as well
    scim_sim::Server n(admin_org());
    n.start();
    AdminClient cn(n);
    cn.beta = true;
    CHECK(cn.get("/rbac_groups").status == 200);
}

TEST_CASE("admin api: the two views agree after SCIM creates, changes, group edits and deletes") {
    for (bool soft : {false, true}) {
        auto o = admin_org();
        o.soft_delete = soft;
        scim_sim::Server s(o);
        s.start();
        Client scim(s);
        AdminClient c(s);
        auto created = scim.post("/Users", user_body("ada@example.com"));
        REQUIRE(created.status == 201);
        std::string uid = str(created.json(), "id");
        auto found = c.get("/users?email=ada@example.com").json();
        REQUIRE(found["data"].Size() == 1);
        std::string mid = str(found["data"][0], "id");
        CHECK(mid.rfind("user_01", 0) == 0);
        CHECK(str(found["data"][0], "role") == "user");
        CHECK(str(found["data"][0], "name") == "Ada Lovelace");
        CHECK(str(c.get("/users?limit=1").json()["data"][0], "id") == mid);  // most recently added
        CHECK(str(*truth_find(parse(s.state_json()), "members", mid), "scim_id") == uid);
        // an e-mail change follows
        CHECK(scim.patch("/Users/" + uid, patch_body(R"([{"op":"replace","path":"emails","value":[{"value":"ada.l@example.com","primary":true}]}])")).status == 204);
        CHECK(str(c.get("/users/" + mid).json(), "email") == "ada.l@example.com");
        // a SCIM group is an rbac group with source_type scim and the same members
        auto g = scim.post("/Groups", R"({"displayName":"Analysts","members":[{"value":")" + uid + "\"}]}");
        REQUIRE(g.status == 201);
        std::string gid = str(g.json(), "id");
        auto st = parse(s.state_json());
        std::string rid = truth_id_where(st, "rbac_groups", "name", "Analysts");
        REQUIRE(!rid.empty());
        CHECK(str(*truth_find(st, "rbac_groups", rid), "source_type") == "scim");
        CHECK(walk_b(c, "/rbac_groups/" + rid + "/members", 1, "user_id").ids == std::vector<std::string>{mid});
        std::string other = s.user_ids()[0];
        CHECK(scim.patch("/Groups/" + gid, patch_body(R"([{"op":"add","path":"members","value":[{"value":")" + other + "\"}]}]")).status == 204);
        CHECK(walk_b(c, "/rbac_groups/" + rid + "/members", 1, "user_id").ids.size() == (s.group_members(gid).size()));
        CHECK(scim.patch("/Groups/" + gid, patch_body(R"([{"op":"replace","path":"displayName","value":"Analysts 2"}])")).status == 204);
        CHECK(str(c.get("/rbac_groups/" + rid).json(), "name") == "Analysts 2");
        // SCIM DELETE removes the member (soft delete keeps the SCIM user, inactive)
        CHECK(scim.del("/Users/" + uid).status == 204);
        check_error(c.get("/users/" + mid), 404, "not_found_error");
        CHECK(c.get("/users?email=ada.l@example.com").json()["data"].Size() == 0);
        auto left = walk_b(c, "/rbac_groups/" + rid + "/members", 10, "user_id").ids;
        CHECK(std::find(left.begin(), left.end(), mid) == left.end());
        CHECK(scim.get("/Users/" + uid).status == (soft ? 200 : 404));
        if (soft) CHECK(!scim.get("/Users/" + uid).json()["active"].GetBool());
        CHECK(scim.del("/Groups/" + gid).status == 204);
        check_error(c.get("/rbac_groups/" + rid), 404, "not_found_error");
        // every SCIM group is an rbac group with the same (active) members
        auto end = parse(s.state_json());
        std::map<std::string, std::string> member_of_scim;
        for (auto &m : end["members"].GetArray()) {
            if (m["scim_id"].IsString()) member_of_scim[m["scim_id"].GetString()] = str(m, "id");
        }
        for (auto &u : end["users"].GetArray()) CHECK(member_of_scim.count(str(u, "id")) == (u["active"].GetBool() ? 1u : 0u));
        size_t scim_groups = 0;
        for (auto &rg : end["rbac_groups"].GetArray()) scim_groups += str(rg, "source_type") == "scim";
        CHECK(scim_groups == end["groups"].Size());
    }
}

TEST_CASE("admin api: truth and stats: new fields beside the old ones; Admin API requests counted apart") {
    scim_sim::Server s(admin_org());
    s.start();
    Client scim(s);
    AdminClient c(s);
    auto st = scim.admin_get("state").json();
    for (const char *k : {"users", "groups", "members", "rbac_groups", "roles", "invites"}) CHECK(st[k].IsArray());
    const rapidjson::Value &m = st["members"][0];
    for (const char *k : {"id", "email", "name", "role", "scim_id"}) CHECK(m.HasMember(k));
    const rapidjson::Value &g = st["rbac_groups"][0];
    for (const char *k : {"id", "name", "source_type", "role_ids", "members"}) CHECK(g.HasMember(k));
    CHECK(st["roles"][0].HasMember("display_name"));
    const rapidjson::Value &inv = st["invites"][0];
    for (const char *k : {"id", "email", "role", "status", "rbac_group_ids"}) CHECK(inv.HasMember(k));
    scim.get("/Users");
    c.get("/users");
    c.get("/users/user_01nope");
    auto stats = scim.admin_get("stats").json();
    CHECK(stats["total_requests"].GetInt() == 1);
    CHECK(stats["requests"]["GET"]["200"].GetInt() == 1);
    CHECK(stats["admin"]["total_requests"].GetInt() == 2);
    CHECK(stats["admin"]["rate_limited"].GetInt() == 0);
    CHECK(stats["admin"]["requests"]["GET"]["404"].GetInt() == 1);
    for (const char *k : {"admin_requests", "max_concurrent", "bytes_sent", "server_time_ns", "faults"}) CHECK(stats.HasMember(k));
    // without an admin key the state keeps exactly its old fields
    scim_sim::Server plain(options());
    plain.start();
    auto ps = parse(plain.state_json());
    CHECK(ps.MemberCount() == 2);
}
