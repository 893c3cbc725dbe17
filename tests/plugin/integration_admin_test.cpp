// Syncs of the real plugin through the Admin API (issue 14) against the in-process simulator over loopback:
// Admin-only and combined (Admin API + SCIM) configs equal to the simulator's truth, both field generations,
// short paging-B pages, role_ids: null (re-read, then a warning, never "no roles"), check naming missing scopes,
// the key never leaking, and answers the connector must not follow (scripted servers).
#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <scim_sim/server.hpp>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "admin_truth.hpp"
#include "plugin_harness.hpp"

using namespace harness;

namespace {

// The key is the harness's token: every text the plugin produces is checked for it.
const std::string &kKey = kToken;

scim_sim::Options admin_org(uint64_t seed = 11) {
    scim_sim::Options o;
    o.token = "scim-token-for-the-sim";
    o.admin_key = kKey;
    o.admin_rate_limit = 0;  // pacing is tested apart: these tests must not take minutes
    o.seed = seed;
    o.seed_users = 60;
    o.seed_groups = 6;
    o.seed_members = 150;
    o.seed_direct_users = 25;
    o.seed_direct_groups = 5;
    o.seed_roles = 4;
    o.seed_invites = 12;
    return o;
}

// The Admin API's base URL is the simulator's origin.
std::string origin(const scim_sim::Server &sim) {
    const std::string base = sim.base_url();
    return base.substr(0, base.find('/', base.find("://") + 3));
}

Entries admin_config(const scim_sim::Server &sim, Entries extra = {}) {
    Entries e{{"admin-api-key", kKey}, {"admin-api-url", origin(sim)}};
    for (auto &kv : extra) e.push_back(std::move(kv));
    return e;
}

std::string str_of(const rapidjson::Value &v, const char *k) {
    const auto it = v.FindMember(k);
    return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

using plugin_test::admin_truth;
using plugin_test::AdminTruth;

// The sync succeeded and equals the truth (plugin_test::admin_differences: every resource with the attributes the
// truth names and nothing else, every entitlement and grant exactly once; the role grants of a group the sync
// warned about with incomplete_group_roles may be missing, nothing else may).
void expect_sync_equals(const SyncRun &run, const AdminTruth &truth) {
    REQUIRE_MESSAGE(run.status == CONN_OK, run.err.message);
    plugin_test::DeliveredSync delivered{run.resources, {}, run.grants, run.warnings};
    for (const auto &e : run.entitlements) delivered.entitlement_ids.push_back(e.id);
    const auto differences = plugin_test::admin_differences(delivered, truth);
    for (size_t i = 0; i < differences.size() && i < 20; ++i) CHECK_MESSAGE(false, differences[i]);
    CHECK(differences.empty());
}

bool has_warning(const SyncRun &run, const std::string &code) {
    for (const auto &[c, m] : run.warnings)
        if (c == code) return true;
    return false;
}

}  // namespace

TEST_CASE("Admin API: an Admin-only sync equals the simulator's truth") {
    scim_sim::Server sim(admin_org());
    sim.start();
    Instance in;
    in.open(admin_config(sim));
    const SyncRun run = sync(in);
    expect_sync_equals(run, admin_truth(sim.state_json(), false));
    for (const auto &[code, message] : run.warnings) CHECK_MESSAGE(code == "unresolved_role", code, ": ", message);
    for (const char *phase : {"roles", "users", "groups", "memberships", "invites"}) CHECK(run.phases.count(phase) == 1);
    // The least any client needs at limit=1000: one page each of roles, members, groups and invites, one member
    // page a group.
    CHECK(run.result.requests == 4 + 11);
}

TEST_CASE("Admin API: with SCIM also configured, SCIM-provisioned members carry their scim_id") {
    scim_sim::Server sim(admin_org(12));
    sim.start();
    Instance in;
    in.open(admin_config(sim, {{"scim-url", sim.base_url()}, {"scim-token", "scim-token-for-the-sim"}}));
    sim.reset_stats();
    const SyncRun run = sync(in);
    expect_sync_equals(run, admin_truth(sim.state_json(), true));
    // The members of the 6 scim groups come through SCIM (its own budget); the Admin API spends one page each of
    // roles, members, groups and invites and one member page for each of the 5 direct groups.
    CHECK(sim.stats().admin_api_requests == 4 + 5);
    CHECK(sim.stats().total_requests > 0);
    for (const auto &[code, message] : run.warnings) CHECK_MESSAGE(code == "unresolved_role", code, ": ", message);
}

TEST_CASE("Admin API: the older field generation (beta header, roles / group_id / name) reads the same") {
    scim_sim::Options o = admin_org(13);
    o.admin_legacy = true;
    scim_sim::Server sim(o);
    sim.start();
    Instance in;
    in.open(admin_config(sim));
    const SyncRun run = sync(in);
    AdminTruth truth = admin_truth(sim.state_json(), false);
    // Legacy roles have `name` only: the display name the truth gives is the newer field.
    for (auto &[key, r] : truth.resources)
        if (r.type == "role") r.display_name.clear();
    expect_sync_equals(run, truth);
}

TEST_CASE("Admin API: short pages with has_more are followed to the end (paging B)") {
    scim_sim::Options o = admin_org(14);
    o.admin_short_pages = 0.6;
    scim_sim::Server sim(o);
    sim.start();
    Instance in;
    in.open(admin_config(sim));
    expect_sync_equals(sync(in), admin_truth(sim.state_json(), false));
}

TEST_CASE("Admin API: role_ids null is read again, then warned about, never read as no roles") {
    SUBCASE("sometimes null: the re-reads find the roles") {
        scim_sim::Options o = admin_org(15);
        o.admin_role_ids_null = 0.3;
        scim_sim::Server sim(o);
        sim.start();
        Instance in;
        in.open(admin_config(sim));
        const SyncRun run = sync(in);
        // A group may still be unlucky three times in a row: then its roles are warned about, not dropped silently;
        // everything else is exact.
        expect_sync_equals(run, admin_truth(sim.state_json(), false));
    }
    SUBCASE("always null: one warning a group, naming it, and no role grant") {
        scim_sim::Options o = admin_org(16);
        o.admin_role_ids_null = 1.0;
        scim_sim::Server sim(o);
        sim.start();
        Instance in;
        in.open(admin_config(sim));
        const SyncRun run = sync(in);
        REQUIRE(run.status == CONN_OK);
        size_t warned = 0;
        for (const auto &[code, message] : run.warnings)
            if (code == "incomplete_group_roles") {
                ++warned;
                CHECK(message.find("rbac_group_") != std::string::npos);
            }
        CHECK(warned == 11);
        for (const auto &g : run.grants) CHECK(g.id.rfind("role:", 0) != 0);
        expect_sync_equals(run, admin_truth(sim.state_json(), false)); // all but the role grants it warned about
    }
}

TEST_CASE("Admin API: check proves the key and names the scopes a 403 says are missing") {
    scim_sim::Server sim(admin_org(17));
    sim.start();
    {
        Instance in;
        in.open(admin_config(sim));
        conn_check_result result{};
        conn_error err{};
        REQUIRE(check(in, result, err) == CONN_OK);
        CHECK(std::string(result.message).find("Admin API") != std::string::npos);
    }
    scim_sim::Options o = admin_org(17);
    o.admin_scopes = {"read:members"};
    scim_sim::Server narrow(o);
    narrow.start();
    Instance in;
    in.open(admin_config(narrow));
    conn_check_result result{};
    conn_error err{};
    CHECK(check(in, result, err) == CONN_ERR_PERMISSION_DENIED);
    CHECK(std::string(err.message).find("read:rbac_groups") != std::string::npos);
    CHECK(std::string(err.field) == "admin-api-key");
}

TEST_CASE("Admin API: a refused key is unauthenticated, names admin-api-key and never echoes it") {
    scim_sim::Server sim(admin_org(18));
    sim.start();
    Instance in;
    in.open({{"admin-api-key", kWrongToken}, {"admin-api-url", origin(sim)}});
    const SyncRun run = sync(in);
    CHECK(run.status == CONN_ERR_UNAUTHENTICATED);
    CHECK(std::string(run.err.field) == "admin-api-key");
    CHECK(std::string(run.err.message).find(kWrongToken) == std::string::npos);
}

namespace {

// An Admin-only sync against a scripted server.
SyncRun sync_against(const ScriptedServer &s) {
    Instance in;
    in.open({{"admin-api-key", kKey}, {"admin-api-url", "http://127.0.0.1:" + std::to_string(s.port())}});
    return sync(in);
}

}  // namespace

TEST_CASE("Admin API: answers that cannot be followed fail, never end the list early") {
    auto json = [](std::string body) {
        ScriptedServer::Reply r;
        r.body = std::move(body);
        r.content_type = "application/json";
        return r;
    };
    auto page = [](const std::string &data, const std::string &more) {
        return R"({"data":[)" + data + R"(],)" + more + "}";
    };
    const std::string member = R"({"type":"user","id":"user_1","email":"a@example.com","name":"A","role":"user"})";
    SUBCASE("has_more with no last_id") {
        ScriptedServer s([&](const std::string &, const std::string &path, int) -> ScriptedServer::Reply {
            if (path.find("/users") != std::string::npos) return json(page(member, R"("has_more":true,"last_id":null)"));
            return json(page("", R"("has_more":false,"next_page":null)"));
        });
        const SyncRun run = sync_against(s);
        CHECK(run.status != CONN_OK);
        CHECK(std::string(run.err.message).find("last_id") != std::string::npos);
    }
    SUBCASE("a cursor that comes back") {
        ScriptedServer s([&](const std::string &, const std::string &path, int) -> ScriptedServer::Reply {
            if (path.find("/rbac_roles") != std::string::npos)
                return json(page("", R"("has_more":true,"next_page":"same")"));
            return json(page("", R"("has_more":false,"next_page":null)"));
        });
        const SyncRun run = sync_against(s);
        CHECK(run.status != CONN_OK);
        CHECK(std::string(run.err.message).find("loop") != std::string::npos);
        // The first page, then the empty pages that hand back the cursor they were asked with: asked again at most
        // kMaxSameCursorPages times.
        CHECK(s.requests() == 2 + 3);
    }
    SUBCASE("a page with rows whose cursor was used before: a loop at once") {
        const std::string role = R"({"type":"rbac_role","id":"rbac_role_1","display_name":"R"})";
        ScriptedServer s([&](const std::string &, const std::string &path, int) -> ScriptedServer::Reply {
            if (path.find("/rbac_roles") != std::string::npos) return json(page(role, R"("has_more":true,"next_page":"b")"));
            return json(page("", R"("has_more":false,"next_page":null)"));
        });
        const SyncRun run = sync_against(s);
        CHECK(run.status != CONN_OK);
        CHECK(std::string(run.err.message).find("loop") != std::string::npos);
        CHECK(s.requests() == 2);
    }
    SUBCASE("an empty page that hands back its own cursor twice, then rows: asked again, and the list is whole") {
        std::mutex mu;
        int asked_b = 0;
        ScriptedServer s([&](const std::string &, const std::string &path, int) -> ScriptedServer::Reply {
            std::lock_guard<std::mutex> lock(mu);
            if (path.find("/rbac_roles") == std::string::npos) {
                if (path.find("/users") != std::string::npos || path.find("/invites") != std::string::npos)
                    return json(page("", R"("has_more":false,"first_id":null,"last_id":null)"));
                return json(page("", R"("has_more":false,"next_page":null)"));
            }
            if (path.find("page=b") == std::string::npos)
                return json(page(R"({"type":"rbac_role","id":"rbac_role_1","display_name":"One"})",
                                 R"("has_more":true,"next_page":"b")"));
            if (++asked_b <= 2) return json(page("", R"("has_more":true,"next_page":"b")"));
            return json(page(R"({"type":"rbac_role","id":"rbac_role_2","display_name":"Two"})",
                             R"("has_more":false,"next_page":null)"));
        });
        const SyncRun run = sync_against(s);
        REQUIRE_MESSAGE(run.status == CONN_OK, run.err.message);
        std::set<std::string> roles;
        for (const auto &r : run.resources)
            if (r.type == "role") roles.insert(r.id);
        CHECK(roles == std::set<std::string>{"rbac_role_1", "rbac_role_2"});
        CHECK(asked_b == 3);
    }
    SUBCASE("has_more with a null next_page: the sync ends and says the list may be incomplete") {
        ScriptedServer s([&](const std::string &, const std::string &path, int) -> ScriptedServer::Reply {
            if (path.find("/rbac_groups") != std::string::npos)
                return json(page("", R"("has_more":true,"next_page":null)"));
            if (path.find("/users") != std::string::npos || path.find("/invites") != std::string::npos)
                return json(page("", R"("has_more":false,"first_id":null,"last_id":null)"));
            return json(page("", R"("has_more":false,"next_page":null)"));
        });
        const SyncRun run = sync_against(s);
        CHECK(run.status == CONN_OK);
        CHECK(has_warning(run, "incomplete_listing"));
    }
}

TEST_CASE("Admin API: a server that ignores email= lists everyone; only the member with that e-mail is acted on") {
    // Every listing of members answers all three, on two pages, whatever the filter: a client that took the first
    // answer (or the first page) would remove user_1.
    std::mutex mu;
    std::vector<std::string> deletes;
    ScriptedServer s([&](const std::string &method, const std::string &path, int) -> ScriptedServer::Reply {
        ScriptedServer::Reply r;
        r.content_type = "application/json";
        if (method == "DELETE") {
            std::lock_guard lock(mu);
            deletes.push_back(path);
            r.body = R"({"id":"x","type":"user_deleted"})";
            return r;
        }
        const bool second = path.find("after_id=user_2") != std::string::npos;
        r.body = second ? R"({"data":[{"type":"user","id":"user_3","email":"c@example.com","name":"C","role":"user"}],)"
                          R"("has_more":false,"first_id":"user_3","last_id":"user_3"})"
                        : R"({"data":[{"type":"user","id":"user_1","email":"a@example.com","name":"A","role":"user"},)"
                          R"({"type":"user","id":"user_2","email":"b@example.com","name":"B","role":"user"}],)"
                          R"("has_more":true,"first_id":"user_1","last_id":"user_2"})";
        return r;
    });
    Instance in;
    in.open({{"admin-api-key", kKey}, {"admin-api-url", "http://127.0.0.1:" + std::to_string(s.port())}});
    const Outcome o = delete_resource(in, "user", "email=C@example.com");
    CHECK(o.status == CONN_OK);
    REQUIRE(deletes.size() == 1);
    CHECK(deletes[0].find("/users/user_3") != std::string::npos);
    const Outcome none = delete_resource(in, "user", "email=nobody@example.com");
    CHECK(none.status == CONN_OK);
    CHECK(none.outcome == CONN_OUTCOME_ALREADY_DELETED);
    CHECK(deletes.size() == 1);
}

namespace {

// The first row of `list` in the state whose `key` is `value` (and, when given, `key2` is not `not_value`).
std::string first_id(const std::string &state, const char *list, const char *key, const std::string &value) {
    rapidjson::Document doc;
    doc.Parse(state.c_str());
    for (const auto &row : doc[list].GetArray())
        if (str_of(row, key) == value) return str_of(row, "id");
    return {};
}

std::string role_of(const scim_sim::Server &sim, const std::string &uid) {
    rapidjson::Document doc;
    doc.Parse(sim.state_json().c_str());
    for (const auto &m : doc["members"].GetArray())
        if (str_of(m, "id") == uid) return str_of(m, "role");
    return "<gone>";
}

bool in_group(const scim_sim::Server &sim, const std::string &gid, const std::string &uid) {
    rapidjson::Document doc;
    doc.Parse(sim.state_json().c_str());
    for (const auto &g : doc["rbac_groups"].GetArray())
        if (str_of(g, "id") == gid)
            for (const auto &u : g["members"].GetArray())
                if (uid == u.GetString()) return true;
    return false;
}

}  // namespace

TEST_CASE("Admin API: create-account in an Admin-only config is an invite; a member or pending invite is already_exists") {
    scim_sim::Server sim(admin_org(19));
    sim.start();
    const std::string state = sim.state_json();
    const std::string gid = first_id(state, "rbac_groups", "source_type", "direct");
    Instance in;
    in.open(admin_config(sim));
    Outcome o = create_account(in, {{"email", "new.person@example.com"}, {"role", "managed"}, {"groups", gid}});
    REQUIRE(o.status == CONN_OK);
    CHECK(o.outcome == CONN_OUTCOME_CREATED);
    REQUIRE(o.resources.size() == 1);
    CHECK(o.resources[0].type == "invite");
    CHECK(o.resources[0].attrs["role"] == "managed");
    CHECK(o.resources[0].attrs["status"] == "pending");
    const std::string invite_id = o.resources[0].id;
    CHECK(first_id(sim.state_json(), "invites", "email", "new.person@example.com") == invite_id);
    o = create_account(in, {{"email", "New.Person@example.com"}, {"display_name", "New Person"}});
    CHECK(o.outcome == CONN_OUTCOME_ALREADY_EXISTS);
    REQUIRE(o.resources.size() == 1);
    CHECK(o.resources[0].id == invite_id);
    rapidjson::Document doc;
    doc.Parse(state.c_str());
    const std::string member_email = str_of(doc["members"][0], "email");
    o = create_account(in, {{"email", member_email}});
    CHECK(o.outcome == CONN_OUTCOME_ALREADY_EXISTS);
    REQUIRE(o.resources.size() == 1);
    CHECK(o.resources[0].type == "user");
    CHECK(o.resources[0].id == str_of(doc["members"][0], "id"));
    o = create_account(in, {{"email", "x@example.com"}, {"role", "owner"}});
    CHECK(o.status == CONN_ERR_INVALID_ARGUMENT);
    CHECK(std::string(o.err.field) == "role");
}

TEST_CASE("Admin API: an org that provisions through its IdP refuses invites: FAILED_PRECONDITION naming SCIM") {
    scim_sim::Options opts = admin_org(20);
    opts.admin_scim_managed = true;
    scim_sim::Server sim(opts);
    sim.start();
    Instance in;
    in.open(admin_config(sim));
    const Outcome o = create_account(in, {{"email", "someone.new@example.com"}});
    CHECK(o.status == CONN_ERR_FAILED_PRECONDITION);
    CHECK(std::string(o.err.message).find("scim-url") != std::string::npos);
}

TEST_CASE("Admin API: with SCIM also configured, create-account goes through SCIM and returns the member's id") {
    scim_sim::Server sim(admin_org(25));
    sim.start();
    Instance in;
    in.open(admin_config(sim, {{"scim-url", sim.base_url()}, {"scim-token", "scim-token-for-the-sim"}}));
    Outcome o = create_account(in, {{"email", "jane.smith@example.com"}, {"display_name", "Jane Smith"}});
    REQUIRE(o.status == CONN_OK);
    CHECK(o.outcome == CONN_OUTCOME_CREATED);
    REQUIRE(o.resources.size() == 1);
    CHECK(o.resources[0].id.rfind("user_", 0) == 0);
    CHECK(o.resources[0].id == first_id(sim.state_json(), "members", "email", "jane.smith@example.com"));
    CHECK(o.resources[0].attrs.count("scim_id") == 1);
}

TEST_CASE("Admin API provisioning: direct group members, idempotent, checked against the truth") {
    scim_sim::Server sim(admin_org(21));
    sim.start();
    const std::string state = sim.state_json();
    const std::string gid = first_id(state, "rbac_groups", "source_type", "direct");
    const std::string scim_gid = first_id(state, "rbac_groups", "source_type", "scim");
    const std::string uid = first_id(state, "members", "role", "user");
    REQUIRE(!gid.empty());
    REQUIRE(!uid.empty());
    Instance in;
    in.open(admin_config(sim));
    const std::string ent = "group:" + gid + ":member";
    if (in_group(sim, gid, uid)) REQUIRE(revoke(in, ent, "user", uid).outcome == CONN_OUTCOME_REVOKED);
    CHECK_FALSE(in_group(sim, gid, uid));
    Outcome o = grant(in, ent, "user", uid);
    CHECK(o.status == CONN_OK);
    CHECK(o.outcome == CONN_OUTCOME_GRANTED);
    REQUIRE(o.grants.size() == 1);
    CHECK(o.grants[0].id == ent + ":user:" + uid);
    CHECK(in_group(sim, gid, uid));
    CHECK(grant(in, ent, "user", uid).outcome == CONN_OUTCOME_ALREADY_GRANTED);
    CHECK(revoke(in, ent, "user", uid).outcome == CONN_OUTCOME_REVOKED);
    CHECK_FALSE(in_group(sim, gid, uid));
    CHECK(revoke(in, ent, "user", uid).outcome == CONN_OUTCOME_ALREADY_REVOKED);
    // A scim group is changed in the identity provider; an unknown group or member is not found.
    o = grant(in, "group:" + scim_gid + ":member", "user", uid);
    CHECK(o.status == CONN_ERR_FAILED_PRECONDITION);
    CHECK(std::string(o.err.message).find("identity provider") != std::string::npos);
    CHECK(grant(in, "group:rbac_group_01nope:member", "user", uid).status == CONN_ERR_NOT_FOUND);
    CHECK(revoke(in, ent, "user", "user_01nope").status == CONN_ERR_NOT_FOUND);
    CHECK(grant(in, "role:rbac_role_01x:assigned", "group", gid).status == CONN_ERR_UNSUPPORTED);
}

TEST_CASE("Admin API provisioning: organisation roles user and managed only") {
    scim_sim::Server sim(admin_org(22));
    sim.start();
    const std::string state = sim.state_json();
    const std::string uid = first_id(state, "members", "role", "user");
    const std::string owner = first_id(state, "members", "role", "owner");
    REQUIRE(!owner.empty());
    Instance in;
    in.open(admin_config(sim));
    CHECK(grant(in, "org_role:managed:assigned", "user", uid).outcome == CONN_OUTCOME_GRANTED);
    CHECK(role_of(sim, uid) == "managed");
    CHECK(grant(in, "org_role:managed:assigned", "user", uid).outcome == CONN_OUTCOME_ALREADY_GRANTED);
    CHECK(revoke(in, "org_role:managed:assigned", "user", uid).outcome == CONN_OUTCOME_REVOKED);
    CHECK(role_of(sim, uid) == "user");
    CHECK(revoke(in, "org_role:managed:assigned", "user", uid).outcome == CONN_OUTCOME_ALREADY_REVOKED);
    CHECK(grant(in, "org_role:user:assigned", "user", uid).outcome == CONN_OUTCOME_ALREADY_GRANTED);
    Outcome o = grant(in, "org_role:owner:assigned", "user", uid);
    CHECK(o.status == CONN_ERR_FAILED_PRECONDITION);
    CHECK(std::string(o.err.message).find("claude.ai") != std::string::npos);
    o = grant(in, "org_role:managed:assigned", "user", owner);
    CHECK(o.status == CONN_ERR_FAILED_PRECONDITION);
    CHECK(role_of(sim, owner) == "owner");
}

TEST_CASE("Admin API provisioning: removing members and withdrawing invites") {
    scim_sim::Server sim(admin_org(23));
    sim.start();
    const std::string state = sim.state_json();
    const std::string invite = first_id(state, "invites", "status", "pending");
    const std::string owner = first_id(state, "members", "role", "owner");
    REQUIRE(!invite.empty());
    rapidjson::Document doc;
    doc.Parse(state.c_str());
    std::string direct_user, email;
    for (const auto &m : doc["members"].GetArray())
        if (str_of(m, "role") == "user" && !m["scim_id"].IsString()) {
            direct_user = str_of(m, "id");
            email = str_of(m, "email");
        }
    REQUIRE(!direct_user.empty());
    Instance in;
    in.open(admin_config(sim));
    CHECK(delete_resource(in, "invite", invite).outcome == CONN_OUTCOME_DELETED);
    CHECK(delete_resource(in, "invite", invite).outcome == CONN_OUTCOME_ALREADY_DELETED);
    CHECK(delete_resource(in, "user", "email=" + email).outcome == CONN_OUTCOME_DELETED);
    CHECK(role_of(sim, direct_user) == "<gone>");
    CHECK(delete_resource(in, "user", direct_user).outcome == CONN_OUTCOME_ALREADY_DELETED);
    const Outcome o = delete_resource(in, "user", owner);
    CHECK(o.status == CONN_ERR_FAILED_PRECONDITION);
    CHECK(role_of(sim, owner) == "owner");
}

TEST_CASE("Admin API provisioning: while SCIM manages membership, removal says where to do it") {
    scim_sim::Options opts = admin_org(24);
    opts.admin_scim_managed = true;
    scim_sim::Server sim(opts);
    sim.start();
    const std::string uid = first_id(sim.state_json(), "members", "role", "user");
    Instance in;
    in.open(admin_config(sim));
    const Outcome o = delete_resource(in, "user", uid);
    CHECK(o.status == CONN_ERR_FAILED_PRECONDITION);
    CHECK(std::string(o.err.message).find("identity provider") != std::string::npos);
    CHECK(role_of(sim, uid) == "user");
}

TEST_CASE("Admin API: a 429 (another client spending the budget) is waited out, with and without retry-after") {
    for (const bool retry_after : {true, false}) {
        CAPTURE(retry_after);
        ScriptedServer s([&](const std::string &, const std::string &path, int nth) -> ScriptedServer::Reply {
            ScriptedServer::Reply r;
            r.content_type = "application/json";
            if (nth == 0) {
                r.status = 429;
                r.body = R"({"type":"error","error":{"type":"rate_limit_error","message":"slow down"}})";
                if (retry_after) r.headers.emplace_back("retry-after", "1");
                return r;
            }
            const bool cursor = path.find("/users") != std::string::npos || path.find("/invites") != std::string::npos;
            r.body = cursor ? R"({"data":[],"has_more":false,"first_id":null,"last_id":null})"
                            : R"({"data":[],"has_more":false,"next_page":null})";
            return r;
        });
        const SyncRun run = sync_against(s);
        CHECK(run.status == CONN_OK);
        CHECK(s.requests() == 5);  // roles refused, roles again, then members, groups and invites
        const auto times = s.request_times();
        REQUIRE(times.size() == 5);
        if (retry_after) CHECK(times[1] - times[0] >= std::chrono::milliseconds(950));
    }
}

TEST_CASE("Admin API under faults (5xx/529, dropped connections, garbage bodies): exact, or a clean failure") {
    unsigned exact = 0, failed = 0;
    for (uint64_t seed = 31; seed < 39; ++seed) {
        CAPTURE(seed);
        scim_sim::Options o = admin_org(seed);
        o.fail_rate = 0.1;
        o.drop_rate = 0.03;
        o.garbage_rate = 0.03;
        o.admin_short_pages = 0.3;
        o.admin_role_ids_null = 0.1;
        scim_sim::Server sim(o);
        sim.start();
        Instance in;
        in.open(admin_config(sim, {{"retry-budget-ms", "20000"}}));
        const SyncRun run = sync(in);
        if (run.status != CONN_OK) {
            // Never a success with wrong data; a failure says it is transient.
            CHECK((run.status == CONN_ERR_TRANSIENT || run.status == CONN_ERR_RATE_LIMITED));
            ++failed;
            continue;
        }
        expect_sync_equals(run, admin_truth(sim.state_json(), false));
        ++exact;
    }
    MESSAGE("faulty Admin API syncs: ", exact, " exact, ", failed, " failed cleanly");
    CHECK(exact >= 4);
}

TEST_CASE("Admin API provisioning with SCIM also configured: scim groups and SCIM-managed removals go through SCIM") {
    scim_sim::Options opts = admin_org(26);
    opts.admin_scim_managed = true;
    scim_sim::Server sim(opts);
    sim.start();
    const std::string state = sim.state_json();
    const std::string gid = first_id(state, "rbac_groups", "source_type", "scim");
    rapidjson::Document doc;
    doc.Parse(state.c_str());
    std::string uid;
    for (const auto &m : doc["members"].GetArray())
        if (m["scim_id"].IsString() && !in_group(sim, gid, str_of(m, "id"))) uid = str_of(m, "id");
    REQUIRE(!gid.empty());
    REQUIRE(!uid.empty());
    Instance in;
    in.open(admin_config(sim, {{"scim-url", sim.base_url()}, {"scim-token", "scim-token-for-the-sim"}}));
    const std::string ent = "group:" + gid + ":member";
    Outcome o = grant(in, ent, "user", uid);
    REQUIRE(o.status == CONN_OK);
    CHECK(o.outcome == CONN_OUTCOME_GRANTED);
    CHECK(in_group(sim, gid, uid));
    CHECK(grant(in, ent, "user", uid).outcome == CONN_OUTCOME_ALREADY_GRANTED);
    CHECK(revoke(in, ent, "user", uid).outcome == CONN_OUTCOME_REVOKED);
    CHECK_FALSE(in_group(sim, gid, uid));
    CHECK(revoke(in, ent, "user", uid).outcome == CONN_OUTCOME_ALREADY_REVOKED);
    // The Admin API refuses the removal (SCIM manages membership): the SCIM user with that e-mail is deleted.
    o = delete_resource(in, "user", uid);
    CHECK(o.status == CONN_OK);
    CHECK(o.outcome == CONN_OUTCOME_DELETED);
    CHECK(role_of(sim, uid) == "<gone>");
}

namespace {


// A sync that takes checkpoints, stops at checkpoint `stop_at` (-1: never) or resumes from `resume_from`; the
// plugin's log lines go to `log` when given.
SyncRun checkpointed_sync(const Entries &config, int stop_at = -1, const std::string &resume_from = {},
                          std::vector<std::string> *log = nullptr) {
    Instance in;
    in.open(config);
    SyncControls c;
    c.take_checkpoints = true;
    c.stop_at_checkpoint = stop_at;
    c.resume_from = resume_from;
    SyncRun run = sync(in, c);
    if (log) *log = in.log_lines();
    return run;
}

}  // namespace

TEST_CASE("Admin API: a sync stopped at any checkpoint and resumed equals the truth, with and without SCIM") {
    for (const bool with_scim : {false, true}) {
        CAPTURE(with_scim);
        scim_sim::Options o = admin_org(16);
        o.admin_page_cap = 7;  // the members, groups and invites lists span pages: checkpoints fall inside them
        scim_sim::Server sim(o);
        sim.start();
        std::string tmpl = "/tmp/ce-admin-resume-XXXXXX";
        const std::string dir = ::mkdtemp(tmpl.data());
        Entries extra{{"checkpoint-interval-ms", "0"}, {"spill-dir", dir}};
        if (with_scim) {
            extra.push_back({"scim-url", sim.base_url()});
            extra.push_back({"scim-token", "scim-token-for-the-sim"});
        }
        const Entries config = admin_config(sim, extra);
        const AdminTruth truth = admin_truth(sim.state_json(), with_scim);
        sim.reset_stats();
        const SyncRun full = checkpointed_sync(config);
        const uint64_t full_admin = sim.stats().admin_api_requests;
        expect_sync_equals(full, truth);
        REQUIRE(full.checkpoints.size() >= 8);
        REQUIRE(full.checkpoints.size() >= 20);  // the lists' pages, besides the phases and the groups
        for (size_t at = 0; at < full.checkpoints.size(); ++at) {
            CAPTURE(at);
            sim.reset_stats();
            const SyncRun stopped = checkpointed_sync(config, static_cast<int>(at));
            REQUIRE_MESSAGE(stopped.status == CONN_ERR_STOPPED, stopped.err.message);
            const uint64_t before = sim.stats().admin_api_requests;
            sim.reset_stats();
            const SyncRun resumed = checkpointed_sync(config, -1, stopped.checkpoints.back().token);
            REQUIRE_MESSAGE(resumed.status == CONN_OK, resumed.err.message);
            expect_sync_equals(joined_at(stopped, at, resumed), truth);
            // No page read before the checkpoint is read again: the two parts together cost a full sync, plus
            // the request that checks the organisation and the roles list (a page or two, read again whole).
            CHECK(before + sim.stats().admin_api_requests <= full_admin + 3);
        }
        std::filesystem::remove_all(dir);
    }
}

TEST_CASE("Admin API: a resumed list whose cursor the service no longer takes is read again from its start, once each") {
    scim_sim::Options o = admin_org(17);
    o.admin_page_cap = 3;
    scim_sim::Server sim(o);
    sim.start();
    std::string tmpl = "/tmp/ce-admin-cursor-XXXXXX";
    const std::string dir = ::mkdtemp(tmpl.data());
    const Entries config = admin_config(sim, {{"checkpoint-interval-ms", "0"}, {"spill-dir", dir}});
    const AdminTruth truth = admin_truth(sim.state_json(), false);
    const SyncRun full = checkpointed_sync(config);
    expect_sync_equals(full, truth);
    size_t refused = 0;
    for (size_t at = 0; at < full.checkpoints.size(); ++at) {
        CAPTURE(at);
        const SyncRun stopped = checkpointed_sync(config, static_cast<int>(at));
        REQUIRE_MESSAGE(stopped.status == CONN_ERR_STOPPED, stopped.err.message);
        sim.rotate_admin_cursors();  // every next_page handed out so far is refused from now on
        std::vector<std::string> log;
        const SyncRun resumed = checkpointed_sync(config, -1, stopped.checkpoints.back().token, &log);
        REQUIRE_MESSAGE(resumed.status == CONN_OK, resumed.err.message);
        expect_sync_equals(joined_at(stopped, at, resumed), truth);
        for (const auto &line : log)
            if (line.find("refused the cursor the groups list was interrupted at") != std::string::npos) ++refused;
    }
    CHECK(refused >= 1);  // the checkpoints inside the groups list (paging B; paging A's after_id is a member id)
    std::filesystem::remove_all(dir);
}

