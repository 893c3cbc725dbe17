// scim-sim: the SCIM surface over HTTP (in-process server on 127.0.0.1, port 0).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "sim_test_util.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

using namespace simtest;

namespace {
std::vector<std::string> ids_of(const rapidjson::Document &list) {
    std::vector<std::string> out;
    for (auto &r : list["Resources"].GetArray()) out.push_back(str(r, "id"));
    return out;
}
scim_sim::Options seeded(size_t users, size_t groups, size_t members, uint64_t seed = 7) {
    auto o = options();
    o.seed_users = users;
    o.seed_groups = groups;
    o.seed_members = members;
    o.seed = seed;
    return o;
}
}  // namespace

TEST_CASE("auth: missing or wrong bearer token gets 401 with a SCIM error") {
    scim_sim::Server s(seeded(5, 1, 3));
    s.start();
    Client c(s);
    c.token = "";
    for (const char *path : {"/Users", "/Groups", "/ServiceProviderConfig", "/ResourceTypes", "/Schemas"}) {
        auto r = c.get(path);
        CHECK(r.status == 401);
        auto d = r.json();
        CHECK(std::string(d["schemas"][0].GetString()) == "urn:ietf:params:scim:api:messages:2.0:Error");
        CHECK(std::string(d["status"].GetString()) == "401");
        CHECK(r.body.find(kToken) == std::string::npos);
    }
    c.token = "wrong";
    CHECK(c.get("/Users").status == 401);
    c.token = kToken + "x";
    CHECK(c.get("/Users").status == 401);
    c.token = kToken;
    auto ok = c.get("/Users");
    CHECK(ok.status == 200);
    CHECK(ok.header("Content-Type") == "application/scim+json");
    // scheme name is case-insensitive
    httplib::Client raw(origin(s));
    auto r = raw.Get("/scim/v2/Users", httplib::Headers{{"Authorization", "bearer " + kToken}});
    REQUIRE(r);
    CHECK(r->status == 200);
}

TEST_CASE("discovery endpoints: ServiceProviderConfig, ResourceTypes, Schemas") {
    auto o = seeded(1, 0, 0);
    o.max_page_size = 50;
    scim_sim::Server s(o);
    s.start();
    Client c(s);
    auto spc = c.get("/ServiceProviderConfig");
    REQUIRE(spc.status == 200);
    auto d = spc.json();
    CHECK(d["patch"]["supported"].GetBool());
    CHECK(d["filter"]["supported"].GetBool());
    CHECK(d["filter"]["maxResults"].GetInt() == 50);
    CHECK(!d["bulk"]["supported"].GetBool());
    auto rt = c.get("/ResourceTypes").json();
    CHECK(rt["totalResults"].GetInt() == 2);
    CHECK(str(rt["Resources"][0], "endpoint") == "/Users");
    CHECK(str(c.get("/ResourceTypes/Group").json(), "endpoint") == "/Groups");
    CHECK(c.get("/ResourceTypes/Nope").status == 404);
    auto sc = c.get("/Schemas").json();
    CHECK(sc["totalResults"].GetInt() == 2);
    auto us = c.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User").json();
    bool has_username = false;
    for (auto &a : us["attributes"].GetArray()) has_username |= str(a, "name") == "userName";
    CHECK(has_username);
    CHECK(c.get("/Schemas/urn:nope").status == 404);
    CHECK(c.get("/Nothing").status == 404);
    CHECK(c.post("/ServiceProviderConfig", "{}").status == 405);
}

TEST_CASE("users: create, get, replace, patch, delete (RFC hard delete)") {
    scim_sim::Server s(options());
    s.start();
    Client c(s);
    auto created = c.post("/Users", user_body("ada@example.com", "Ada", "Lovelace", R"(,"externalId":"hr-1")"));
    REQUIRE(created.status == 201);
    auto u = created.json();
    std::string id = str(u, "id");
    REQUIRE(!id.empty());
    CHECK(created.header("Location") == s.base_url() + "/Users/" + id);
    CHECK(str(u["meta"], "location") == s.base_url() + "/Users/" + id);
    CHECK(str(u["meta"], "resourceType") == "User");
    CHECK(str(u["name"], "givenName") == "Ada");
    CHECK(str(u["emails"][0], "value") == "ada@example.com");
    CHECK(u["emails"][0]["primary"].GetBool());
    CHECK(str(u["emails"][0], "type") == "work");
    CHECK(u["active"].GetBool());
    CHECK(str(u, "externalId") == "hr-1");

    auto got = c.get("/Users/" + id);
    REQUIRE(got.status == 200);
    CHECK(str(got.json(), "userName") == "ada@example.com");
    CHECK(c.get("/Users/00000000-0000-4000-8000-000000000000").status == 404);

    // 409 on duplicate userName, case-insensitively
    auto dup = c.post("/Users", user_body("ADA@Example.com"));
    CHECK(dup.status == 409);
    CHECK(str(dup.json(), "scimType") == "uniqueness");

    // PUT replaces
    auto put2 = c.put("/Users/" + id,
                      R"({"userName":"ada.l@example.com","name":{"givenName":"Augusta","familyName":"King"},"active":false})");
    REQUIRE(put2.status == 200);
    auto p = put2.json();
    CHECK(str(p, "userName") == "ada.l@example.com");
    CHECK(!p["active"].GetBool());
    CHECK(!p.HasMember("externalId"));  // replaced: not in the new body
    CHECK(str(p, "displayName") == "Augusta King");
    CHECK(s.find_user("ada@example.com").empty());
    CHECK(s.find_user("ADA.L@example.com") == id);

    // PATCH active (path form), default 204
    auto pa = c.patch("/Users/" + id, patch_body(R"([{"op":"replace","path":"active","value":true}])"));
    CHECK(pa.status == 204);
    CHECK(c.get("/Users/" + id).json()["active"].GetBool());
    // PATCH without a path, value object (Entra/Okta style), case-insensitive names
    auto pb = c.patch("/Users/" + id, patch_body(R"([{"op":"Replace","value":{"ACTIVE":false,"displayName":"A. King","name.givenName":"Gus"}}])"));
    CHECK(pb.status == 204);
    auto after = c.get("/Users/" + id).json();
    CHECK(!after["active"].GetBool());
    CHECK(str(after, "displayName") == "A. King");
    CHECK(str(after["name"], "givenName") == "Gus");
    // add/remove externalId, emails filter path
    CHECK(c.patch("/Users/" + id, patch_body(R"([{"op":"add","path":"externalId","value":"x9"},{"op":"replace","path":"emails[type eq \"work\"].value","value":"gus@example.com"}])")).status == 204);
    after = c.get("/Users/" + id).json();
    CHECK(str(after, "externalId") == "x9");
    CHECK(str(after["emails"][0], "value") == "gus@example.com");
    CHECK(c.patch("/Users/" + id, patch_body(R"([{"op":"remove","path":"externalId"}])")).status == 204);
    CHECK(!c.get("/Users/" + id).json().HasMember("externalId"));
    // bad PATCH: unknown path, bad op, string for active; nothing applied
    CHECK(c.patch("/Users/" + id, patch_body(R"([{"op":"replace","path":"shoeSize","value":"9"}])")).status == 400);
    CHECK(c.patch("/Users/" + id, patch_body(R"([{"op":"frobnicate","path":"active","value":true}])")).status == 400);
    auto bad = c.patch("/Users/" + id, patch_body(R"([{"op":"replace","path":"displayName","value":"Changed"},{"op":"replace","path":"active","value":"True"}])"));
    CHECK(bad.status == 400);
    CHECK(str(c.get("/Users/" + id).json(), "displayName") == "A. King");  // atomic: first op not applied
    CHECK(c.patch("/Users/" + id, R"({"Operations":[]})").status == 400);
    CHECK(c.patch("/Users/nope", patch_body(R"([{"op":"replace","path":"active","value":true}])")).status == 404);

    // hard delete: 204, then 404 on get/delete, gone from the list
    CHECK(c.del("/Users/" + id).status == 204);
    CHECK(c.get("/Users/" + id).status == 404);
    CHECK(c.del("/Users/" + id).status == 404);
    CHECK(c.get("/Users").json()["totalResults"].GetInt() == 0);
}

TEST_CASE("users: JSON type strictness, nulls, malformed bodies, case-insensitive attribute names") {
    scim_sim::Server s(options());
    s.start();
    Client c(s);
    auto r1 = c.post("/Users", R"({"userName":"t@example.com","active":"true"})");
    CHECK(r1.status == 400);
    CHECK(str(r1.json(), "scimType") == "invalidValue");
    CHECK(c.post("/Users", R"({"userName":"t@example.com","externalId":null})").status == 400);
    CHECK(c.post("/Users", R"({"userName":"t@example.com","name":{"givenName":null}})").status == 400);
    CHECK(c.post("/Users", R"({"userName":"t@example.com","active":1})").status == 400);
    CHECK(c.post("/Users", R"({"name":{"givenName":"x"}})").status == 400);
    CHECK(c.post("/Users", R"({"userName":""})").status == 400);
    auto syn = c.post("/Users", R"({"userName": "t@example.com",)");
    CHECK(syn.status == 400);
    CHECK(str(syn.json(), "scimType") == "invalidSyntax");
    CHECK(c.post("/Users", R"(["not an object"])").status == 400);
    // hostile nesting: refused, the server survives
    CHECK(c.post("/Users", std::string(500000, '[') + std::string(500000, ']')).status == 400);
    std::string deep = R"({"userName":"deep@example.com","x":)";
    for (int i = 0; i < 100; ++i) deep += R"({"a":)";
    deep += "1" + std::string(100, '}') + "}";
    CHECK(c.post("/Users", deep).status == 400);
    CHECK(c.post("/Users", std::string("{\"userName\":\"\xff\xfe@example.com\"}")).status == 400);  // invalid UTF-8
    CHECK(c.get("/Users").status == 200);
    CHECK(s.user_count() == 0);
    // attribute names are case-insensitive
    auto ok = c.post("/Users", R"({"USERNAME":"Mixed@Example.com","Name":{"GIVENNAME":"Mi","familyname":"Xed"},"ACTIVE":false})");
    REQUIRE(ok.status == 201);
    auto u = ok.json();
    CHECK(str(u, "userName") == "Mixed@Example.com");
    CHECK(str(u["name"], "givenName") == "Mi");
    CHECK(!u["active"].GetBool());
    // null in PATCH is refused too
    std::string id = str(u, "id");
    CHECK(c.patch("/Users/" + id, patch_body(R"([{"op":"replace","path":"active","value":null}])")).status == 400);
    CHECK(c.patch("/Users/" + id, patch_body(R"([{"op":"replace","path":"active","value":"true"}])")).status == 400);
}

TEST_CASE("413: request bodies over max_body_bytes") {
    scim_sim::Server s(options());
    s.start();
    Client c(s);
    std::string big = R"({"userName":"big@example.com","displayName":")" + std::string(2000 * 1024 + 10, 'x') + "\"}";
    auto r = c.post("/Users", big);
    CHECK(r.status == 413);
    CHECK(s.user_count() == 0);
    // just under the limit is accepted
    std::string fits = R"({"userName":"fits@example.com","displayName":")" + std::string(1900 * 1024, 'y') + "\"}";
    CHECK(c.post("/Users", fits).status == 201);
    auto st = s.stats();
    CHECK(st.requests["POST"][413] == 1);
}

TEST_CASE("paging: sizes 1, the cap, past the end, count=0, startIndex < 1, stable order") {
    auto o = seeded(23, 0, 0);
    o.max_page_size = 10;
    scim_sim::Server s(o);
    s.start();
    Client c(s);
    auto truth = s.user_ids();
    REQUIRE(truth.size() == 23);
    REQUIRE(std::is_sorted(truth.begin(), truth.end()));

    std::vector<std::string> seen;
    for (int start = 1;; ++start) {
        auto d = c.get("/Users?startIndex=" + std::to_string(start) + "&count=1").json();
        CHECK(d["totalResults"].GetInt() == 23);
        CHECK(d["startIndex"].GetInt() == start);
        auto ids = ids_of(d);
        CHECK(d["itemsPerPage"].GetUint() == ids.size());
        if (ids.empty()) break;
        REQUIRE(ids.size() == 1);
        seen.push_back(ids[0]);
    }
    CHECK(seen == truth);

    // count above the cap is capped; count absent = the cap
    auto capped = c.get("/Users?count=1000").json();
    CHECK(capped["Resources"].Size() == 10);
    CHECK(capped["itemsPerPage"].GetInt() == 10);
    CHECK(c.get("/Users").json()["Resources"].Size() == 10);
    seen.clear();
    for (int start = 1; start <= 23; start += 10) {
        auto ids = ids_of(c.get("/Users?startIndex=" + std::to_string(start) + "&count=10").json());
        seen.insert(seen.end(), ids.begin(), ids.end());
    }
    CHECK(seen == truth);
    auto last = c.get("/Users?startIndex=21&count=10").json();
    CHECK(last["Resources"].Size() == 3);
    auto past = c.get("/Users?startIndex=24&count=10").json();
    CHECK(past["Resources"].Size() == 0);
    CHECK(past["totalResults"].GetInt() == 23);
    CHECK(c.get("/Users?startIndex=1000").json()["Resources"].Size() == 0);
    auto zero = c.get("/Users?count=0").json();
    CHECK(zero["Resources"].Size() == 0);
    CHECK(zero["totalResults"].GetInt() == 23);
    auto neg = c.get("/Users?startIndex=-5&count=2").json();
    CHECK(neg["startIndex"].GetInt() == 1);
    CHECK(ids_of(neg) == std::vector<std::string>(truth.begin(), truth.begin() + 2));
    CHECK(c.get("/Users?count=abc").status == 400);
    // parameter names are case-insensitive
    CHECK(c.get("/Users?STARTINDEX=2&Count=1").json()["Resources"][0]["id"].GetString() == truth[1]);
}

TEST_CASE("filters: eq and and, escaped quotes, o'brien+test, unicode, unsupported filters") {
    scim_sim::Server s(seeded(40, 4, 60));
    s.start();
    Client c(s);
    auto one = [&](const std::string &filter) {
        auto r = c.get("/Users?filter=" + enc(filter));
        REQUIRE(r.status == 200);
        return r.json();
    };
    auto d = one(R"(userName eq "o'brien+test@example.com")");
    REQUIRE(d["totalResults"].GetInt() == 1);
    CHECK(str(d["Resources"][0], "displayName") == "Conan O'Brien");
    CHECK(one(R"(username EQ "O'BRIEN+TEST@example.com")")["totalResults"].GetInt() == 1);  // case-insensitive
    // a quote and a backslash inside the value, JSON-escaped
    auto q = one("displayName eq " + jstr("Robert \"Bobby\" Tables\\Admin"));
    REQUIRE(q["totalResults"].GetInt() == 1);
    CHECK(str(q["Resources"][0], "userName") == "bobby.tables@example.com");
    // unicode, raw and \u-escaped
    auto j = one("displayName eq \"José Ñúñez\"");
    REQUIRE(j["totalResults"].GetInt() == 1);
    CHECK(str(j["Resources"][0], "userName") == "jose.nunez@example.com");
    CHECK(one(R"(displayName eq "Jos\u00e9 \u00d1\u00fa\u00f1ez")")["totalResults"].GetInt() == 1);
    // id, externalId, and
    std::string id = str(d["Resources"][0], "id");
    CHECK(one("id eq \"" + id + "\"")["totalResults"].GetInt() == 1);
    CHECK(one("id eq \"" + id + "\" and userName eq \"o'brien+test@example.com\"")["totalResults"].GetInt() == 1);
    CHECK(one("id eq \"" + id + "\" and userName eq \"someone.else@example.com\"")["totalResults"].GetInt() == 0);
    CHECK(one(R"(externalId eq "hr-0000002")")["totalResults"].GetInt() ==
          (str(d["Resources"][0], "externalId") == "hr-0000002" ? 1 : 0));
    CHECK(one(R"(userName eq "nobody@example.com")")["totalResults"].GetInt() == 0);
    CHECK(one(R"(active eq false and userName eq "jose.nunez@example.com")")["totalResults"].GetInt() == 0);
    // unsupported
    for (const char *bad : {R"(userName co "a")", R"(userName eq "a" or userName eq "b")", R"(title eq "x")",
                            R"(userName eq "unterminated)", R"(userName eq 5)", "(userName eq \"a\")", "userName"}) {
        auto r = c.get(std::string("/Users?filter=") + enc(bad));
        CHECK_MESSAGE(r.status == 400, std::string(bad));
        if (r.status == 400) CHECK(str(r.json(), "scimType") == "invalidFilter");
    }
    // groups: displayName, id, members.value
    auto all = c.get("/Groups?excludedAttributes=members").json();
    REQUIRE(all["totalResults"].GetInt() == 4);
    std::string gname;
    for (auto &g : all["Resources"].GetArray()) {
        if (std::string(g["displayName"].GetString()).find('"') != std::string::npos) gname = g["displayName"].GetString();
    }
    REQUIRE(!gname.empty());
    auto g = c.get("/Groups?filter=" + enc("displayName eq " + jstr(gname))).json();
    CHECK(g["totalResults"].GetInt() == 1);
    CHECK(c.get("/Groups?filter=" + enc(R"(members.value co "x")")).status == 400);
}

TEST_CASE("groups: list with excludedAttributes, get with attributes, membership filter (addendum)") {
    scim_sim::Server s(seeded(30, 5, 50));
    s.start();
    Client c(s);
    auto full = c.get("/Groups").json();
    REQUIRE(full["totalResults"].GetInt() == 5);
    size_t links = 0;
    for (auto &g : full["Resources"].GetArray()) {
        REQUIRE(g.HasMember("members"));
        links += g["members"].Size();
        for (auto &m : g["members"].GetArray()) {
            CHECK(str(m, "type") == "User");
            CHECK(str(m, "$ref") == s.base_url() + "/Users/" + str(m, "value"));
            CHECK(!str(m, "display").empty());
        }
    }
    CHECK(links == s.membership_count());
    auto lean = c.get("/Groups?excludedAttributes=members");
    CHECK(lean.body.find("\"members\"") == std::string::npos);
    CHECK(c.get("/Groups?excludedAttributes=MEMBERS").body.find("\"members\"") == std::string::npos);

    std::string gid = s.group_ids()[0];
    auto members = s.group_members(gid);
    for (auto &gid2 : s.group_ids()) {
        if (s.group_members(gid2).size() > members.size()) {
            gid = gid2;
            members = s.group_members(gid2);
        }
    }
    REQUIRE(!members.empty());
    auto only = c.get("/Groups/" + gid + "?attributes=members").json();
    CHECK(str(only, "id") == gid);
    CHECK(only["members"].Size() == members.size());
    CHECK(!only.HasMember("meta"));
    auto nomem = c.get("/Groups/" + gid + "?excludedAttributes=members").json();
    CHECK(!nomem.HasMember("members"));
    CHECK(str(nomem, "displayName") != "");
    CHECK(c.get("/Groups/not-a-group").status == 404);

    // users: excludedAttributes=groups
    auto ul = c.get("/Users?count=5");
    CHECK(ul.body.find("\"groups\"") != std::string::npos);
    CHECK(c.get("/Users?count=5&excludedAttributes=groups").body.find("\"groups\"") == std::string::npos);
    auto ua = c.get("/Users?count=5&attributes=userName").json();
    CHECK(ua["Resources"][0].HasMember("userName"));
    CHECK(!ua["Resources"][0].HasMember("emails"));
    CHECK(ua["Resources"][0].HasMember("id"));

    // "already granted?" : id eq gid and members.value eq uid
    std::string member = members[0];
    std::string outsider;
    for (auto &u : s.user_ids()) {
        if (std::find(members.begin(), members.end(), u) == members.end()) outsider = u;
    }
    REQUIRE(!outsider.empty());
    auto f = [&](const std::string &uid) {
        return c.get("/Groups?excludedAttributes=members&filter=" +
                     enc("id eq \"" + gid + "\" and members.value eq \"" + uid + "\""))
            .json()["totalResults"]
            .GetInt();
    };
    CHECK(f(member) == 1);
    CHECK(f(outsider) == 0);
    // members.value alone: the groups of a user
    auto mine = c.get("/Groups?excludedAttributes=members&filter=" + enc("members.value eq \"" + member + "\"")).json();
    CHECK(mine["totalResults"].GetInt() >= 1);
    auto ug = c.get("/Users/" + member).json();
    CHECK(static_cast<int>(ug["groups"].Size()) == mine["totalResults"].GetInt());
}

TEST_CASE("groups: PATCH members add/remove (both forms)/replace, unknown ids dropped, nested groups, CRUD") {
    scim_sim::Server s(options());
    s.start();
    Client c(s);
    std::vector<std::string> uids;
    for (int i = 0; i < 4; ++i) {
        auto r = c.post("/Users", user_body("u" + std::to_string(i) + "@example.com"));
        REQUIRE(r.status == 201);
        uids.push_back(str(r.json(), "id"));
    }
    auto gr = c.post("/Groups", R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Team","members":[{"value":")" + uids[0] + R"("}]})");
    REQUIRE(gr.status == 201);
    std::string gid = str(gr.json(), "id");
    CHECK(gr.header("Location") == s.base_url() + "/Groups/" + gid);
    CHECK(s.group_members(gid) == std::vector<std::string>{uids[0]});
    auto sorted = [](std::vector<std::string> v) {
        std::sort(v.begin(), v.end());
        return v;
    };

    // add two, one existing (no-op), one unknown (dropped)
    auto add = c.patch("/Groups/" + gid, patch_body(R"([{"op":"add","path":"members","value":[{"value":")" + uids[1] +
                                                    R"("},{"value":")" + uids[0] + R"("},{"value":"no-such-user"}]}])"));
    CHECK(add.status == 204);
    CHECK(s.group_members(gid) == sorted({uids[0], uids[1]}));
    CHECK(s.membership_count() == 2);
    // remove, filter form
    CHECK(c.patch("/Groups/" + gid, patch_body(R"([{"op":"remove","path":"members[value eq \")" + uids[0] + R"(\"]"}])")).status == 204);
    CHECK(s.group_members(gid) == std::vector<std::string>{uids[1]});
    // removing an absent member is a no-op success
    CHECK(c.patch("/Groups/" + gid, patch_body(R"([{"op":"remove","path":"members[value eq \")" + uids[0] + R"(\"]"}])")).status == 204);
    // remove, value-list form
    CHECK(c.patch("/Groups/" + gid, patch_body(R"([{"op":"add","path":"members","value":[{"value":")" + uids[2] + R"("},{"value":")" + uids[3] + R"("}]}])")).status == 204);
    CHECK(c.patch("/Groups/" + gid, patch_body(R"([{"op":"remove","path":"members","value":[{"value":")" + uids[1] + R"("},{"value":")" + uids[2] + R"("}]}])")).status == 204);
    CHECK(s.group_members(gid) == std::vector<std::string>{uids[3]});
    // replace
    CHECK(c.patch("/Groups/" + gid, patch_body(R"([{"op":"replace","path":"members","value":[{"value":")" + uids[0] + R"("},{"value":")" + uids[1] + R"("}]}])")).status == 204);
    CHECK(s.group_members(gid) == sorted({uids[0], uids[1]}));
    // no-path replace of displayName; Add/Remove spelled by Entra (capitalised)
    CHECK(c.patch("/Groups/" + gid, patch_body(R"([{"op":"Replace","value":{"displayName":"Team A"}},{"op":"Add","path":"members","value":[{"value":")" + uids[2] + R"("}]}])")).status == 204);
    auto g = c.get("/Groups/" + gid).json();
    CHECK(str(g, "displayName") == "Team A");
    CHECK(g["members"].Size() == 3);
    // user sees its groups
    auto u2 = c.get("/Users/" + uids[2]).json();
    REQUIRE(u2["groups"].Size() == 1);
    CHECK(str(u2["groups"][0], "value") == gid);
    CHECK(str(u2["groups"][0], "display") == "Team A");
    // errors
    CHECK(c.patch("/Groups/" + gid, patch_body(R"([{"op":"remove","path":"members[display co \"x\"]"}])")).status == 400);
    CHECK(c.patch("/Groups/" + gid, patch_body(R"([{"op":"replace","path":"owner","value":"x"}])")).status == 400);
    CHECK(c.patch("/Groups/" + gid, patch_body(R"([{"op":"add","path":"members","value":[{"display":"no value"}]}])")).status == 400);
    CHECK(c.patch("/Groups/nope", patch_body(R"([{"op":"add","path":"members","value":[]}])")).status == 404);
    CHECK(s.group_members(gid).size() == 3);

    // nested group as a member
    auto child = c.post("/Groups", R"({"displayName":"Child"})");
    REQUIRE(child.status == 201);
    std::string cid = str(child.json(), "id");
    CHECK(c.patch("/Groups/" + gid, patch_body(R"([{"op":"add","path":"members","value":[{"value":")" + cid + R"(","type":"Group"}]}])")).status == 204);
    g = c.get("/Groups/" + gid).json();
    bool nested = false;
    for (auto &m : g["members"].GetArray()) nested |= str(m, "value") == cid && str(m, "type") == "Group";
    CHECK(nested);
    // PUT replaces the group
    auto put = c.put("/Groups/" + gid, R"({"displayName":"Team B","members":[{"value":")" + uids[3] + R"("}]})");
    REQUIRE(put.status == 200);
    CHECK(s.group_members(gid) == std::vector<std::string>{uids[3]});
    CHECK(c.post("/Groups", R"({"members":[]})").status == 400);
    // deleting a user removes it from its groups (RFC mode); deleting a group removes it everywhere
    CHECK(c.del("/Users/" + uids[3]).status == 204);
    CHECK(s.group_members(gid).empty());
    CHECK(c.patch("/Groups/" + gid, patch_body(R"([{"op":"add","path":"members","value":[{"value":")" + cid + R"("}]}])")).status == 204);
    CHECK(c.del("/Groups/" + cid).status == 204);
    CHECK(s.group_members(gid).empty());
    CHECK(c.get("/Groups/" + cid).status == 404);
    CHECK(c.del("/Groups/" + cid).status == 404);
    CHECK(s.membership_count() == 0);
}

TEST_CASE("PATCH response 200 mode returns the resource") {
    auto o = options();
    o.patch_response = 200;
    scim_sim::Server s(o);
    s.start();
    Client c(s);
    std::string uid = str(c.post("/Users", user_body("p@example.com")).json(), "id");
    std::string gid = str(c.post("/Groups", R"({"displayName":"G"})").json(), "id");
    auto r = c.patch("/Groups/" + gid, patch_body(R"([{"op":"add","path":"members","value":[{"value":")" + uid + R"("}]}])"));
    REQUIRE(r.status == 200);
    CHECK(r.json()["members"].Size() == 1);
    auto u = c.patch("/Users/" + uid, patch_body(R"([{"op":"replace","path":"active","value":false}])"));
    REQUIRE(u.status == 200);
    CHECK(!u.json()["active"].GetBool());
}

TEST_CASE("soft delete: the user stays listed, inactive, and in its groups") {
    auto o = options();
    o.soft_delete = true;
    scim_sim::Server s(o);
    s.start();
    Client c(s);
    std::string uid = str(c.post("/Users", user_body("soft@example.com")).json(), "id");
    std::string gid = str(c.post("/Groups", R"({"displayName":"G","members":[{"value":")" + uid + R"("}]})").json(), "id");
    CHECK(c.del("/Users/" + uid).status == 204);
    auto u = c.get("/Users/" + uid);
    REQUIRE(u.status == 200);
    CHECK(!u.json()["active"].GetBool());
    CHECK(c.get("/Users").json()["totalResults"].GetInt() == 1);
    CHECK(s.group_members(gid) == std::vector<std::string>{uid});
    CHECK(c.del("/Users/" + uid).status == 204);  // documented: DELETE again answers 204 again
    CHECK(c.post("/Users", user_body("SOFT@example.com")).status == 409);  // the userName stays taken
    auto st = parse(s.state_json());
    CHECK(!st["users"][0]["active"].GetBool());
    // reactivation by PATCH
    CHECK(c.patch("/Users/" + uid, patch_body(R"([{"op":"replace","path":"active","value":true}])")).status == 204);
    CHECK(c.get("/Users/" + uid).json()["active"].GetBool());
}

TEST_CASE("admin: state and stats, reset, no auth needed, not counted as SCIM traffic") {
    scim_sim::Server s(seeded(12, 3, 20));
    s.start();
    Client c(s);
    auto st = c.admin_get("state");
    REQUIRE(st.status == 200);
    CHECK(st.body == s.state_json());
    auto d = st.json();
    CHECK(d["users"].Size() == 12);
    CHECK(d["groups"].Size() == 3);
    size_t links = 0;
    for (auto &g : d["groups"].GetArray()) links += g["members"].Size();
    CHECK(links == s.membership_count());
    for (auto &u : d["users"].GetArray()) {
        CHECK(u.HasMember("id"));
        CHECK(u.HasMember("userName"));
        CHECK(u.HasMember("displayName"));
        CHECK(u["active"].IsBool());
    }
    c.get("/Users");
    c.get("/Users/nope");
    c.token = "bad";
    c.get("/Groups");
    auto stats = c.admin_get("stats").json();
    CHECK(stats["requests"]["GET"]["200"].GetInt() == 1);
    CHECK(stats["requests"]["GET"]["404"].GetInt() == 1);
    CHECK(stats["requests"]["GET"]["401"].GetInt() == 1);
    CHECK(stats["total_requests"].GetInt() == 3);
    CHECK(stats["max_concurrent"].GetInt() >= 1);
    CHECK(stats["bytes_sent"].GetInt() > 0);
    CHECK(stats["admin_requests"].GetInt() >= 1);
    CHECK(c.admin_post("reset-stats").status == 200);
    auto zero = c.admin_get("stats").json();
    CHECK(zero["total_requests"].GetInt() == 0);
    CHECK(zero["requests"].ObjectEmpty());
    CHECK(c.admin_get("nope").status == 404);
    CHECK(s.stats_json().find("\"total_requests\":0") != std::string::npos);
}

TEST_CASE("seeding: deterministic, tricky values, skewed membership without duplicates") {
    scim_sim::Server a(seeded(2000, 200, 6000, 42));
    scim_sim::Server b(seeded(2000, 200, 6000, 42));
    scim_sim::Server other(seeded(2000, 200, 6000, 43));
    a.start();
    b.start();
    other.start();
    CHECK(a.state_json() == b.state_json());
    CHECK(a.user_ids() != other.user_ids());
    CHECK(a.user_count() == 2000);
    CHECK(a.group_count() == 200);
    CHECK(a.membership_count() <= 6000);
    CHECK(a.membership_count() >= 5700);
    CHECK(!a.find_user("o'brien+test@example.com").empty());
    CHECK(!a.find_user("jose.nunez@example.com").empty());
    auto st = parse(a.state_json());
    size_t inactive = 0;
    std::set<std::string> names;
    bool quote_backslash = false;
    for (auto &u : st["users"].GetArray()) {
        inactive += !u["active"].GetBool();
        names.insert(u["userName"].GetString());
        std::string dn = u["displayName"].GetString();
        quote_backslash |= dn.find('"') != std::string::npos && dn.find('\\') != std::string::npos;
        // ids look like UUIDs
        std::string id = u["id"].GetString();
        CHECK(id.size() == 36);
        CHECK(id[14] == '4');
    }
    CHECK(quote_backslash);
    CHECK(names.size() == 2000);
    CHECK(inactive > 0);
    CHECK(inactive < 300);
    std::vector<size_t> sizes;
    for (auto &g : st["groups"].GetArray()) {
        std::set<std::string> m;
        for (auto &v : g["members"].GetArray()) m.insert(v.GetString());
        CHECK(m.size() == g["members"].Size());  // no duplicate member
        sizes.push_back(m.size());
    }
    std::sort(sizes.rbegin(), sizes.rend());
    MESSAGE("largest groups: " << sizes[0] << " " << sizes[1] << " " << sizes[2] << ", median " << sizes[sizes.size() / 2]);
    CHECK(sizes[0] == 200);                  // one group holds ~10% of the users
    CHECK(std::count(sizes.begin(), sizes.end(), 0u) >= 1);  // some empty
    CHECK(sizes[sizes.size() / 2] < sizes[1] / 2);  // most are small next to the large ones
}

TEST_CASE("seed file: users and groups with given ids, nested members") {
    auto dir = std::filesystem::temp_directory_path() / ("scim-sim-seed-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto file = dir / "org.json";
    {
        std::ofstream out(file);
        out << R"({"users":[
          {"id":"u-1","userName":"alice@example.com","givenName":"Alice","familyName":"Liddell","displayName":"Alice Liddell","active":true,"externalId":"e1"},
          {"id":"u-2","userName":"bob@example.com","givenName":"Bob","familyName":"Builder","displayName":"Bob Builder","active":false}],
          "groups":[{"id":"g-1","displayName":"Parents","members":["u-1","g-2"]},{"id":"g-2","displayName":"Kids","members":["u-2"]}]})";
    }
    auto o = options();
    o.seed_file = file.string();
    scim_sim::Server s(o);
    s.start();
    Client c(s);
    auto u = c.get("/Users/u-1").json();
    CHECK(str(u, "userName") == "alice@example.com");
    CHECK(str(u, "externalId") == "e1");
    CHECK(!c.get("/Users/u-2").json()["active"].GetBool());
    auto g = c.get("/Groups/g-1").json();
    REQUIRE(g["members"].Size() == 2);
    bool nested = false;
    for (auto &m : g["members"].GetArray()) nested |= str(m, "value") == "g-2" && str(m, "type") == "Group";
    CHECK(nested);
    CHECK(s.membership_count() == 3);

    std::ofstream(dir / "bad.json") << R"({"groups":[{"id":"g","displayName":"G","members":["missing"]}]})";
    auto bad = options();
    bad.seed_file = (dir / "bad.json").string();
    scim_sim::Server sb(bad);
    CHECK_THROWS(sb.start());
    std::filesystem::remove_all(dir);
}

TEST_CASE("cached user representations follow every change (user, membership, group rename, delete)") {
    scim_sim::Server s(options());
    s.start();
    Client c(s);
    std::string uid = str(c.post("/Users", user_body("cache@example.com")).json(), "id");
    std::string gid = str(c.post("/Groups", R"({"displayName":"Before"})").json(), "id");
    auto list_user = [&]() {
        auto d = c.get("/Users?filter=" + enc("userName eq \"cache@example.com\"")).json();
        REQUIRE(d["Resources"].Size() == 1);
        rapidjson::Document out;
        out.CopyFrom(d["Resources"][0], out.GetAllocator());
        return out;
    };
    CHECK(c.get("/Users/" + uid).json()["groups"].Size() == 0);
    CHECK(list_user()["groups"].Size() == 0);
    CHECK(c.patch("/Groups/" + gid, patch_body(R"([{"op":"add","path":"members","value":[{"value":")" + uid + R"("}]}])")).status == 204);
    auto u = c.get("/Users/" + uid).json();
    REQUIRE(u["groups"].Size() == 1);
    CHECK(str(u["groups"][0], "display") == "Before");
    CHECK(c.patch("/Groups/" + gid, patch_body(R"([{"op":"replace","path":"displayName","value":"After"}])")).status == 204);
    CHECK(str(c.get("/Users/" + uid).json()["groups"][0], "display") == "After");
    CHECK(str(list_user()["groups"][0], "display") == "After");
    CHECK(c.put("/Groups/" + gid, R"({"displayName":"Put","members":[{"value":")" + uid + R"("}]})").status == 200);
    CHECK(str(list_user()["groups"][0], "display") == "Put");
    CHECK(c.patch("/Users/" + uid, patch_body(R"([{"op":"replace","path":"displayName","value":"New Name"}])")).status == 204);
    CHECK(str(list_user(), "displayName") == "New Name");
    CHECK(c.put("/Users/" + uid, R"({"userName":"cache@example.com","displayName":"Put Name"})").status == 200);
    CHECK(str(c.get("/Users/" + uid).json(), "displayName") == "Put Name");
    CHECK(c.del("/Groups/" + gid).status == 204);
    CHECK(list_user()["groups"].Size() == 0);
    CHECK(c.get("/Users/" + uid).json()["groups"].Size() == 0);
}

TEST_CASE("ids with '/', '?', '%', '..' and spaces: percent-encoded in URLs, routed by segment") {
    auto dir = std::filesystem::temp_directory_path() / ("scim-sim-ids-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto file = dir / "org.json";
    std::ofstream(file) << R"({"users":[
      {"id":"a/b","userName":"slash@example.com","displayName":"Slash"},
      {"id":"q?x=1&y","userName":"query@example.com","displayName":"Query"},
      {"id":"p%41","userName":"percent@example.com","displayName":"Percent"},
      {"id":"..","userName":"dots@example.com","displayName":"Dots"},
      {"id":"sp ace","userName":"space@example.com","displayName":"Space"}],
      "groups":[{"id":"g/1","displayName":"G","members":["a/b","q?x=1&y","p%41","..","sp ace"]}]})";
    auto o = options();
    o.seed_file = file.string();
    scim_sim::Server s(o);
    s.start();
    Client c(s);
    for (const auto &user : std::vector<std::pair<std::string, std::string>>{
             {"a/b", "slash@example.com"}, {"q?x=1&y", "query@example.com"}, {"p%41", "percent@example.com"},
             {"..", "dots@example.com"}, {"sp ace", "space@example.com"}}) {
        // plain references: doctest's REQUIRE_MESSAGE captures `id` in a lambda (clang 14 lacks P1091)
        const std::string &id = user.first;
        const std::string &name = user.second;
        auto r = c.get("/Users/" + enc(id));
        REQUIRE_MESSAGE(r.status == 200, id);
        auto u = r.json();
        CHECK(str(u, "userName") == name);
        CHECK(str(u["meta"], "location") == s.base_url() + "/Users/" + enc(id));
    }
    CHECK(c.get("/Users/a/b").status == 404);  // an unencoded '/' is a path separator
    auto g = c.get("/Groups/" + enc("g/1")).json();
    REQUIRE(g["members"].Size() == 5);
    for (auto &m : g["members"].GetArray()) CHECK(str(m, "$ref") == s.base_url() + "/Users/" + enc(str(m, "value")));
    CHECK(c.patch("/Groups/" + enc("g/1"), patch_body(R"([{"op":"remove","path":"members[value eq \"q?x=1&y\"]"}])")).status == 204);
    CHECK(s.group_members("g/1").size() == 4);
    CHECK(c.del("/Users/" + enc("p%41")).status == 204);
    CHECK(c.get("/Users/" + enc("p%41")).status == 404);
    CHECK(s.group_members("g/1").size() == 3);
    std::filesystem::remove_all(dir);
}
