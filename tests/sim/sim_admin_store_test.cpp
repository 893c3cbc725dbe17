// scim-sim: unit tests of the store with its Admin API view (no HTTP), and of seeding. Linked into sim_api_test.
#include <doctest/doctest.h>

#include "admin_store.hpp"
#include "sim_admin_util.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace simtest;
namespace sd = scim_sim::detail;

namespace {

struct Org {
    sd::Store store;
    explicit Org(size_t users, size_t groups, size_t members, size_t direct = 0, bool soft = false)
        : store(5, 100, soft, 204) {
        sd::AdminConfig cfg;
        cfg.seed = 5;
        cfg.direct_users = direct;
        cfg.direct_groups = 3;
        cfg.roles = 2;
        cfg.invites = 6;
        store.enable_admin(cfg);
        store.seed({5, users, groups, members});
        store.admin()->seed();
    }
    rapidjson::Document state() const { return parse(store.state_json()); }
};

size_t links(const rapidjson::Document &st) {
    size_t n = 0;
    for (auto &g : st["groups"].GetArray()) n += g["members"].Size();
    return n;
}

}  // namespace

TEST_CASE("seeding: --seed-members is exact (300/10/900, 1000/20/3000 and others) or refused when it cannot fit") {
    struct Case {
        size_t users, groups, members;
    };
    for (Case c : {Case{300, 10, 900}, Case{1000, 20, 3000}, Case{250, 12, 700}, Case{40, 4, 90}, Case{5, 1, 3},
                   Case{10, 3, 30}, Case{2000, 200, 6000}, Case{100, 10, 999}}) {
        CAPTURE(c.users);
        CAPTURE(c.groups);
        CAPTURE(c.members);
        sd::Store st(7, 100, false, 204);
        st.seed({7, c.users, c.groups, c.members});
        CHECK(st.membership_count() == c.members);
        auto d = parse(st.state_json());
        CHECK(links(d) == c.members);
        for (auto &g : d["groups"].GetArray()) {
            std::set<std::string> m;
            for (auto &v : g["members"].GetArray()) m.insert(v.GetString());
            CHECK(m.size() == g["members"].Size());  // no duplicates
        }
    }
    sd::Store full(7, 100, false, 204);
    full.seed({7, 10, 3, 30});  // every user in every group
    CHECK(full.membership_count() == 30);
    for (auto [u, g, m] : {std::tuple<size_t, size_t, size_t>{10, 3, 31}, {5, 0, 1}, {0, 3, 1}}) {
        sd::Store st(7, 100, false, 204);
        CHECK_THROWS_WITH_AS(st.seed({7, u, g, m}), doctest::Contains("cannot fit"), std::runtime_error);
    }
    scim_sim::Server s([] {
        auto o = options();
        o.seed_users = 10;
        o.seed_groups = 2;
        o.seed_members = 21;
        return o;
    }());
    CHECK_THROWS(s.start());
}

TEST_CASE("seeding: seeds whose count was already exact build the same organisation as before") {
    // 2000/200/6000 (seed 42) gave exactly 6000 before the top-up existed: the top-up must add nothing.
    sd::Store st(42, 100, false, 204);
    st.seed({42, 2000, 200, 6000});
    auto d = parse(st.state_json());
    std::vector<size_t> sizes;
    for (auto &g : d["groups"].GetArray()) sizes.push_back(g["members"].Size());
    std::sort(sizes.rbegin(), sizes.rend());
    CHECK(sizes[0] == 200);  // the 10% group is still the largest
    CHECK(std::count(sizes.begin(), sizes.end(), 0u) >= 1);
}

TEST_CASE("admin seeding: deterministic; one primary owner, owners, admins, managed; invites of three statuses") {
    auto make = [](uint64_t seed) {
        OrgSize z;
        z.users = 200;
        z.groups = 8;
        z.members = 500;
        z.direct = 600;
        z.direct_groups = 20;
        z.roles = 10;
        z.invites = 50;
        z.seed = seed;
        return admin_org(z);
    };
    scim_sim::Server a(make(9)), b(make(9)), other(make(10));
    a.start();
    b.start();
    other.start();
    CHECK(a.state_json() == b.state_json());  // the truth carries no timestamps
    CHECK(a.state_json() != other.state_json());
    auto st = parse(a.state_json());
    std::map<std::string, size_t> roles;
    size_t direct = 0, active_scim = 0;
    for (auto &m : st["members"].GetArray()) {
        ++roles[str(m, "role")];
        direct += m["scim_id"].IsNull();
    }
    for (auto &u : st["users"].GetArray()) active_scim += u["active"].GetBool();
    CHECK(direct == 600);
    CHECK(st["members"].Size() == 600 + active_scim);
    CHECK(roles["primary_owner"] == 1);
    CHECK(roles["owner"] >= 1);
    CHECK(roles["owner"] <= 3);
    CHECK(roles["membership_admin"] >= 1);
    CHECK(roles["managed"] > 20);
    CHECK(roles["user"] > 500);
    for (auto &m : st["members"].GetArray()) {
        if (m["scim_id"].IsString()) CHECK(str(m, "role") == "user");  // SCIM people are plain members
    }
    size_t scim_groups = 0, direct_groups = 0, with_roles = 0;
    for (auto &g : st["rbac_groups"].GetArray()) {
        (str(g, "source_type") == "scim" ? scim_groups : direct_groups)++;
        with_roles += g["role_ids"].Size() > 0;
    }
    CHECK(scim_groups == 8);
    CHECK(direct_groups == 20);
    CHECK(with_roles > 5);
    CHECK(st["roles"].Size() == 12);
    std::map<std::string, size_t> statuses;
    for (auto &i : st["invites"].GetArray()) ++statuses[str(i, "status")];
    CHECK(st["invites"].Size() == 50);
    CHECK(statuses["pending"] > 0);
    CHECK(statuses["accepted"] > 0);
    CHECK(statuses["expired"] > 0);
    // an accepted invite belongs to a member with its e-mail
    std::set<std::string> emails;
    for (auto &m : st["members"].GetArray()) emails.insert(str(m, "email"));
    for (auto &i : st["invites"].GetArray()) {
        if (str(i, "status") == "accepted") CHECK(emails.count(str(i, "email")) == 1);
        if (str(i, "status") == "pending") CHECK(emails.count(str(i, "email")) == 0);
    }
    // SCIM's part is what it would be without the Admin API
    auto scim_only = options();
    scim_only.seed = 9;
    scim_only.seed_users = 200;
    scim_only.seed_groups = 8;
    scim_only.seed_members = 500;
    scim_sim::Server plain(scim_only);
    plain.start();
    auto ps = parse(plain.state_json());
    rapidjson::StringBuffer sb1, sb2;
    rapidjson::Writer<rapidjson::StringBuffer> w1(sb1), w2(sb2);
    st["users"].Accept(w1);
    ps["users"].Accept(w2);
    CHECK(std::string(sb1.GetString()) == sb2.GetString());
}

TEST_CASE("admin store: hooks keep the views in step (create, deactivate, reactivate, rename, group delete)") {
    Org org(20, 2, 20, 3);
    auto &store = org.store;
    auto before = org.state();
    size_t members = before["members"].Size();
    auto r = store.create_user(user_body("grace@example.com", "Grace", "Hopper"));
    std::string uid = str(parse(r.body), "id");
    CHECK(org.state()["members"].Size() == members + 1);
    // deactivation removes the member, reactivation makes a new one (a new membership: a new id)
    store.patch_user(uid, patch_body(R"([{"op":"replace","path":"active","value":false}])"));
    CHECK(org.state()["members"].Size() == members);
    store.patch_user(uid, patch_body(R"([{"op":"replace","path":"active","value":true}])"));
    auto st = org.state();
    CHECK(st["members"].Size() == members + 1);
    std::string mid = truth_id_where(st, "members", "scim_id", uid);
    CHECK(!mid.empty());
    // group membership through SCIM, then the group goes
    auto g = store.create_group(R"({"displayName":"Compilers","members":[{"value":")" + uid + "\"}]}");
    std::string gid = str(parse(g.body), "id");
    st = org.state();
    std::string rid = truth_id_where(st, "rbac_groups", "name", "Compilers");
    CHECK(string_array((*truth_find(st, "rbac_groups", rid))["members"]) == std::vector<std::string>{mid});
    store.replace_user(uid, user_body("grace.h@example.com", "Grace", "Hopper"));
    CHECK(str(*truth_find(org.state(), "members", mid), "email") == "grace.h@example.com");
    store.delete_group(gid);
    CHECK(truth_find(org.state(), "rbac_groups", rid) == nullptr);
    store.delete_user(uid);
    CHECK(truth_find(org.state(), "members", mid) == nullptr);
    CHECK(org.state()["members"].Size() == members);
}

TEST_CASE("admin store: paging through the view directly (role_ids null draws, short pages, cursors)") {
    sd::Store store(3, 100, false, 204);
    sd::AdminConfig cfg;
    cfg.seed = 3;
    cfg.direct_users = 50;
    cfg.direct_groups = 40;
    cfg.roles = 4;
    cfg.role_ids_null = 1.0;
    cfg.short_pages = 1.0;
    store.enable_admin(cfg);
    store.admin()->seed();
    sd::PageQuery q;
    q.limit = 10;
    std::vector<std::string> seen;
    for (uint64_t seq = 0; seq < 1000; ++seq) {
        auto d = parse(store.admin()->list_groups(q, seq).body);
        for (auto &g : d["data"].GetArray()) {
            CHECK(g["role_ids"].IsNull());
            CHECK(g["roles"].IsNull());
            seen.push_back(str(g, "id"));
        }
        if (!d["has_more"].GetBool()) break;
        CHECK(d["data"].Size() < 10);  // every page is short while more follow
        q.page = d["next_page"].GetString();
    }
    CHECK(seen == truth_ids(parse(store.state_json()), "rbac_groups"));
    CHECK(sd::base58_id("user_", 1, 0) < sd::base58_id("user_", 2, 0));
    CHECK(sd::base58_id("user_", 57, 0) < sd::base58_id("user_", 58, 0));
    CHECK(sd::base58_id("user_", 1, 0).size() == std::string("user_01").size() + 22);
    CHECK(sd::normalise_email("A.B+tag@Example.COM") == "a.b@example.com");
}

TEST_CASE("admin performance: the bench org (20,000 members, 400 groups, 20 roles, 300 invites) pages fast at 1000") {
    OrgSize z;
    z.users = 15000;
    z.groups = 200;
    z.members = 45000;
    z.direct = 6000;
    z.direct_groups = 200;
    z.roles = 20;
    z.invites = 300;
    auto t0 = std::chrono::steady_clock::now();
    scim_sim::Server s(admin_org(z));
    s.start();
    double seed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    auto st = parse(s.state_json());
    REQUIRE(st["members"].Size() > 20000);
    REQUIRE(st["rbac_groups"].Size() == 400);
    AdminClient c(s);
    auto t1 = std::chrono::steady_clock::now();
    auto w = walk_a(c, "/users", 1000);
    double members_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    CHECK(w.ids.size() == st["members"].Size());
    std::string biggest;
    size_t most = 0;
    for (auto &g : st["rbac_groups"].GetArray()) {
        if (g["members"].Size() > most) {
            most = g["members"].Size();
            biggest = str(g, "id");
        }
    }
    auto t2 = std::chrono::steady_clock::now();
    auto gm = walk_b(c, "/rbac_groups/" + biggest + "/members", 1000, "user_id");
    double group_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t2).count();
    CHECK(gm.ids.size() == most);
    MESSAGE("seed " << seed_s << " s; " << w.pages << " member pages in " << members_s << " s; " << gm.pages
                    << " pages of a " << most << "-member group in " << group_s << " s");
    CHECK(seed_s < 10);
    CHECK(members_s / static_cast<double>(w.pages) < 0.25);  // well under a quarter second a page, even under load
    CHECK(group_s / static_cast<double>(gm.pages) < 0.25);
}

TEST_CASE("admin store: a seed file's users and groups get their members and rbac groups (inactive and nested aside)") {
    auto dir = std::filesystem::temp_directory_path() / ("scim-sim-admin-seed-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto file = (dir / "org.json").string();
    std::ofstream(file) << R"({"users":[
        {"id":"u1","userName":"one@example.com","active":true},
        {"id":"u2","userName":"two@example.com","active":false}],
      "groups":[{"id":"g1","displayName":"Outer","members":["u1","u2","g2"]},{"id":"g2","displayName":"Inner","members":["u1"]}]})";
    auto o = options();
    o.admin_key = kAdminKey;
    o.seed_file = file;
    scim_sim::Server s(o);
    s.start();
    auto st = parse(s.state_json());
    REQUIRE(st["members"].Size() == 1);  // the inactive user is no member
    std::string m1 = str(st["members"][0], "id");
    CHECK(str(st["members"][0], "scim_id") == "u1");
    std::string outer = truth_id_where(st, "rbac_groups", "name", "Outer");
    std::string inner = truth_id_where(st, "rbac_groups", "name", "Inner");
    CHECK(string_array((*truth_find(st, "rbac_groups", outer))["members"]) == std::vector<std::string>{m1});
    CHECK(string_array((*truth_find(st, "rbac_groups", inner))["members"]) == std::vector<std::string>{m1});
    std::filesystem::remove_all(dir);
}
