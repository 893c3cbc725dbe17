// scim-sim: the Admin API's faults: the per-minute and per-hour rate limits (429 shape, retry-after or not),
// role_ids: null, short pages, and the shared fail / garbage / latency flags. Linked into sim_fault_test.
#include <doctest/doctest.h>

#include "sim_admin_util.hpp"

using namespace simtest;

namespace {
scim_sim::Options small_org() {
    OrgSize z;
    z.direct_groups = 30;
    z.roles = 5;
    return admin_org(z);
}
}  // namespace

TEST_CASE("admin rate limit: N per minute, then 429 rate_limit_error with retry-after; counted apart") {
    auto o = small_org();
    o.admin_rate_limit = 5;
    scim_sim::Server s(o);
    s.start();
    AdminClient c(s);
    for (int i = 0; i < 5; ++i) CHECK(c.get("/users?limit=1").status == 200);
    auto r = c.get("/users?limit=1");
    REQUIRE(r.status == 429);
    auto d = r.json();
    CHECK(str(d, "type") == "error");
    CHECK(str(d["error"], "type") == "rate_limit_error");
    CHECK(r.header("request-id") == str(d, "request_id"));
    std::string retry = r.header("retry-after");
    REQUIRE(!retry.empty());
    int secs = std::stoi(retry);
    CHECK(secs >= 1);
    CHECK(secs <= 60);
    CHECK(c.get("/rbac_groups").status == 429);  // one budget across all endpoints
    c.key = "wrong";
    CHECK(c.get("/users").status == 401);  // unauthenticated requests are not the organisation's
    Client scim(s);
    CHECK(scim.get("/Users?count=1").status == 200);  // SCIM has its own budget
    auto stats = scim.admin_get("stats").json();
    CHECK(stats["admin"]["total_requests"].GetInt() == 8);
    CHECK(stats["admin"]["rate_limited"].GetInt() == 2);
    CHECK(stats["total_requests"].GetInt() == 1);
    CHECK(!stats["faults"].HasMember("rate_limit"));  // the SCIM rate-limit counter is untouched
}

TEST_CASE("admin rate limit: --admin-no-retry-after; 0 turns it off; the default is 100") {
    auto o = small_org();
    o.admin_rate_limit = 2;
    o.admin_no_retry_after = true;
    scim_sim::Server s(o);
    s.start();
    AdminClient c(s);
    c.get("/users");
    c.get("/users");
    auto r = c.get("/users");
    CHECK(r.status == 429);
    CHECK(str(r.json()["error"], "type") == "rate_limit_error");
    CHECK(r.header("retry-after").empty());
    scim_sim::Options defaults;
    CHECK(defaults.admin_rate_limit == 100);
    CHECK(defaults.admin_invite_rate_limit == 1200);
    auto d = small_org();
    d.admin_rate_limit = 100;
    scim_sim::Server s100(d);
    s100.start();
    AdminClient c100(s100);
    int ok = 0, limited = 0;
    for (int i = 0; i < 103; ++i) (c100.get("/users?limit=1").status == 200 ? ok : limited)++;
    CHECK(ok == 100);
    CHECK(limited == 3);
    auto off = small_org();
    off.admin_rate_limit = 0;
    scim_sim::Server s0(off);
    s0.start();
    AdminClient c0(s0);
    int fine = 0;
    for (int i = 0; i < 150; ++i) fine += c0.get("/users?limit=1").status == 200;
    CHECK(fine == 150);
}

TEST_CASE("admin invite rate limit: invite creations per hour have their own budget") {
    auto o = small_org();
    o.admin_invite_rate_limit = 2;
    scim_sim::Server s(o);
    s.start();
    AdminClient c(s);
    CHECK(c.post("/invites", R"({"email":"a1@example.net"})").status == 200);
    CHECK(c.post("/invites", R"({"email":"a2@example.net"})").status == 200);
    auto r = c.post("/invites", R"({"email":"a3@example.net"})");
    CHECK(r.status == 429);
    CHECK(str(r.json()["error"], "type") == "rate_limit_error");
    int secs = std::stoi(r.header("retry-after"));
    CHECK(secs > 60);  // an hour's window
    CHECK(secs <= 3600);
    CHECK(c.get("/invites").status == 200);  // other calls go on
}

TEST_CASE("admin --admin-role-ids-null: that fraction of group reads answer role_ids (and roles) null") {
    for (double f : {0.0, 0.3, 1.0}) {
        auto o = small_org();
        o.admin_role_ids_null = f;
        scim_sim::Server s(o);
        s.start();
        AdminClient c(s);
        size_t reads = 0, nulls = 0;
        for (int round = 0; round < 10; ++round) {
            auto d = c.get("/rbac_groups?limit=1000").json();
            for (auto &g : d["data"].GetArray()) {
                ++reads;
                nulls += g["role_ids"].IsNull();
                CHECK(g["role_ids"].IsNull() == g["roles"].IsNull());
            }
        }
        std::string gid = truth_ids(parse(s.state_json()), "rbac_groups")[0];
        for (int i = 0; i < 50; ++i, ++reads) nulls += c.get("/rbac_groups/" + gid).json()["role_ids"].IsNull();
        double seen = static_cast<double>(nulls) / static_cast<double>(reads);
        MESSAGE("role_ids null fraction " << f << ": " << nulls << " of " << reads);
        if (f == 0.0) CHECK(nulls == 0);
        if (f == 1.0) CHECK(nulls == reads);
        if (f > 0 && f < 1) CHECK(std::abs(seen - f) < 0.1);
        auto truth = parse(s.state_json());
        for (auto &g : truth["rbac_groups"].GetArray()) CHECK(g["role_ids"].IsArray());  // the truth is never null
    }
}

TEST_CASE("admin --admin-short-pages: a short page with has_more true is not the end") {
    auto o = small_org();
    o.admin_short_pages = 0.5;
    scim_sim::Server s(o);
    s.start();
    AdminClient c(s);
    auto st = parse(s.state_json());
    for (int limit : {1, 3, 1000}) {
        auto w = walk_b(c, "/rbac_groups", limit);
        CHECK(w.ids == truth_ids(st, "rbac_groups"));
        if (limit == 3) CHECK(w.short_pages > 0);
    }
    auto roles = walk_b(c, "/rbac_roles", 2);
    CHECK(roles.ids == truth_ids(st, "roles"));
}

TEST_CASE("admin faults shared with SCIM: fail-rate (500/529 in the API's shape), garbage, latency") {
    auto o = small_org();
    o.fail_rate = 1.0;
    scim_sim::Server s(o);
    s.start();
    AdminClient c(s);
    std::set<int> statuses;
    for (int i = 0; i < 20; ++i) {
        auto r = c.get("/users");
        statuses.insert(r.status);
        auto d = r.json();
        CHECK(str(d, "type") == "error");
        std::string kind = str(d["error"], "type");
        CHECK((kind == "api_error" || kind == "overloaded_error"));
        CHECK(!r.header("request-id").empty());
    }
    CHECK(statuses == std::set<int>{500, 529});
    CHECK(c.get("/users").status != 200);
    auto g = small_org();
    g.garbage_rate = 1.0;
    scim_sim::Server sg(g);
    sg.start();
    AdminClient cg(sg);
    auto r = cg.get("/users");
    CHECK(r.status == 200);
    CHECK(!is_json(r.body));
    CHECK(is_json(cg.get("/users/user_01nope").body));  // errors are never garbled
    auto dr = small_org();
    dr.drop_rate = 1.0;
    scim_sim::Server sd(dr);
    sd.start();
    AdminClient cd(sd);
    CHECK(cd.get("/users").status == 0);  // the body is cut: the client sees no complete response
    CHECK(cd.get("/users/user_01nope").status == 404);  // errors are never dropped
    auto l = small_org();
    l.latency_ms = 150;
    scim_sim::Server sl(l);
    sl.start();
    AdminClient cl(sl);
    auto t0 = std::chrono::steady_clock::now();
    CHECK(cl.get("/users").status == 200);
    CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(150));
}
