// Provisioning round trips through the ABI against the simulator, checked against its state.
#include <doctest/doctest.h>
#include <scim_sim/server.hpp>

#include "plugin_harness.hpp"

using namespace harness;

namespace {

scim_sim::Options small_org(bool soft_delete) {
    scim_sim::Options o;
    o.token = kToken;
    o.seed_users = 20;
    o.seed_groups = 3;
    o.seed_members = 10;
    o.soft_delete = soft_delete;
    return o;
}

bool member_of(const Truth &t, const std::string &gid, const std::string &uid) {
    for (const auto &m : t.groups.at(gid).members)
        if (m == uid) return true;
    return false;
}

}  // namespace

TEST_CASE("provisioning round trip: create, grant, revoke, delete, each twice") {
    for (bool soft : {false, true}) {
        CAPTURE(soft);
        scim_sim::Server sim(small_org(soft));
        sim.start();
        Instance in;
        in.open(config_for(sim.base_url()));
        const std::string email = "mary.o'brien+test@example.org";  // not among the seeded users

        auto c1 = create_account(in, {{"email", email}, {"display_name", "  Mary   Ann van der Berg "}});
        REQUIRE_MESSAGE(c1.status == CONN_OK, c1.err.message);
        CHECK(c1.outcome == CONN_OUTCOME_CREATED);
        REQUIRE(c1.resources.size() == 1);
        const std::string uid = c1.resources[0].id;
        CHECK(c1.resources[0].display_name == "Mary Ann van der Berg");
        CHECK(c1.resources[0].attrs.at("given_name") == "Mary");
        CHECK(c1.resources[0].attrs.at("family_name") == "Ann van der Berg");
        CHECK(c1.resources[0].attrs.at("login") == email);
        CHECK(c1.resources[0].attrs.at("status") == "active");
        Truth t = parse_truth(sim.state_json());
        REQUIRE(t.users.count(uid) == 1);
        CHECK(t.users[uid].user_name == email);
        CHECK(t.users[uid].display_name == "Mary Ann van der Berg");
        CHECK(t.users[uid].active);

        auto c2 = create_account(in, {{"email", email}, {"display_name", "Mary Ann van der Berg"}});
        REQUIRE_MESSAGE(c2.status == CONN_OK, c2.err.message);
        CHECK(c2.outcome == CONN_OUTCOME_ALREADY_EXISTS);
        REQUIRE(c2.resources.size() == 1);
        CHECK(c2.resources[0].id == uid);

        const std::string gid = sim.group_ids().front();
        const std::string ent = "group:" + gid + ":member";
        auto g1 = grant(in, ent, "user", uid);
        REQUIRE_MESSAGE(g1.status == CONN_OK, g1.err.message);
        CHECK(g1.outcome == CONN_OUTCOME_GRANTED);
        REQUIRE(g1.grants.size() == 1);
        CHECK(g1.grants[0].id == ent + ":user:" + uid);
        CHECK(member_of(parse_truth(sim.state_json()), gid, uid));
        auto g2 = grant(in, ent, "user", uid);
        CHECK(g2.status == CONN_OK);
        CHECK(g2.outcome == CONN_OUTCOME_ALREADY_GRANTED);
        CHECK(g2.grants.size() == 1);

        auto r1 = revoke(in, ent, "user", uid);
        REQUIRE_MESSAGE(r1.status == CONN_OK, r1.err.message);
        CHECK(r1.outcome == CONN_OUTCOME_REVOKED);
        CHECK_FALSE(member_of(parse_truth(sim.state_json()), gid, uid));
        auto r2 = revoke(in, ent, "user", uid);
        CHECK(r2.status == CONN_OK);
        CHECK(r2.outcome == CONN_OUTCOME_ALREADY_REVOKED);

        auto d1 = delete_resource(in, "user", uid);
        REQUIRE_MESSAGE(d1.status == CONN_OK, d1.err.message);
        CHECK(d1.outcome == CONN_OUTCOME_DELETED);
        t = parse_truth(sim.state_json());
        if (soft) {
            REQUIRE(t.users.count(uid) == 1);
            CHECK_FALSE(t.users[uid].active);
        } else {
            CHECK(t.users.count(uid) == 0);
        }
        auto d2 = delete_resource(in, "user", uid);
        CHECK(d2.status == CONN_OK);
        CHECK(d2.outcome == CONN_OUTCOME_ALREADY_DELETED);

        if (soft) {
            // Creating a user that was soft-deleted: reactivated (ABI 1.1; a 1.0 host is told ALREADY_EXISTS).
            auto c3 = create_account(in, {{"email", email}, {"display_name", "Mary Ann van der Berg"}});
            REQUIRE_MESSAGE(c3.status == CONN_OK, c3.err.message);
            CHECK(c3.outcome == CONN_OUTCOME_REACTIVATED);
            REQUIRE(c3.resources.size() == 1);
            CHECK(c3.resources[0].id == uid);
            CHECK(c3.resources[0].attrs.at("status") == "active");
            CHECK(parse_truth(sim.state_json()).users.at(uid).active);
        }
    }
}

TEST_CASE("a one-word display name omits familyName") {
    scim_sim::Server sim(small_org(false));
    sim.start();
    Instance in;
    in.open(config_for(sim.base_url()));
    auto c = create_account(in, {{"display_name", "Cher"}, {"email", "cher@example.com"}});
    REQUIRE_MESSAGE(c.status == CONN_OK, c.err.message);
    REQUIRE(c.resources.size() == 1);
    CHECK(c.resources[0].attrs.at("given_name") == "Cher");
    CHECK(c.resources[0].attrs.count("family_name") == 0);
    CHECK(c.resources[0].display_name == "Cher");
}

TEST_CASE("provisioning refusals name the argument") {
    scim_sim::Server sim(small_org(false));
    sim.start();
    Instance in;
    in.open(config_for(sim.base_url()));
    auto field_of = [](const Outcome &o) { return std::string(o.err.field); };

    auto c = create_account(in, {{"display_name", "Jane Smith"}});
    CHECK(c.status == CONN_ERR_INVALID_ARGUMENT);
    CHECK(field_of(c) == "email");
    c = create_account(in, {{"email", "not-an-email"}, {"display_name", "Jane Smith"}});
    CHECK(c.status == CONN_ERR_INVALID_ARGUMENT);
    CHECK(field_of(c) == "email");
    c = create_account(in, {{"email", "jane@example.com"}});
    CHECK(c.status == CONN_ERR_INVALID_ARGUMENT);
    CHECK(field_of(c) == "display_name");
    c = create_account(in, {{"email", "jane@example.com"}, {"display_name", "  \t "}});
    CHECK(c.status == CONN_ERR_INVALID_ARGUMENT);
    CHECK(field_of(c) == "display_name");
    c = create_account(in, {{"email", "jane@example.com"}, {"display_name", "Jane"}, {"role", "admin"}});
    CHECK(c.status == CONN_ERR_INVALID_ARGUMENT);
    CHECK(field_of(c) == "role");

    auto d = delete_resource(in, "group", sim.group_ids().front());
    CHECK(d.status == CONN_ERR_UNSUPPORTED);
    d = delete_resource(in, "widget", "x");
    CHECK(d.status == CONN_ERR_INVALID_ARGUMENT);
    d = delete_resource(in, "user", "");
    CHECK(d.status == CONN_ERR_INVALID_ARGUMENT);
    d = delete_resource(in, "user", "no-such-user");
    CHECK(d.status == CONN_OK);
    CHECK(d.outcome == CONN_OUTCOME_ALREADY_DELETED);

    const std::string uid = sim.user_ids().front();
    auto g = grant(in, "group:x:owner", "user", uid);
    CHECK(g.status == CONN_ERR_INVALID_ARGUMENT);
    CHECK(field_of(g) == "entitlement_id");
    g = grant(in, "garbage", "user", uid);
    CHECK(g.status == CONN_ERR_INVALID_ARGUMENT);
    g = grant(in, "group:no-such-group:member", "user", uid);
    CHECK(g.status == CONN_ERR_NOT_FOUND);
    g = grant(in, "group:" + sim.group_ids().front() + ":member", "user", "no-such-user");
    CHECK(g.status == CONN_ERR_NOT_FOUND);
    g = grant(in, "group:" + sim.group_ids().front() + ":member", "robot", uid);
    CHECK(g.status == CONN_ERR_INVALID_ARGUMENT);
    auto r = revoke(in, "group:no-such-group:member", "user", uid);
    CHECK(r.status == CONN_ERR_NOT_FOUND);
    r = revoke(in, "group::member", "user", uid);
    CHECK(r.status == CONN_ERR_INVALID_ARGUMENT);
}

TEST_CASE("when the server refuses the membership filter, grant and revoke read the member list to tell \"already\"") {
    int patches = 0, member_reads = 0;
    bool is_member = false;  // the server's state for u1 in g1
    ScriptedServer srv([&](const std::string &method, const std::string &target, int) {
        ScriptedServer::Reply r;
        if (method == "GET" && target.rfind("/scim/v2/Groups?", 0) == 0) {
            r.status = 400;
            r.body = R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidFilter"})";
        } else if (method == "GET" && target.rfind("/scim/v2/Groups/g1?", 0) == 0) {
            ++member_reads;
            r.body = std::string(R"({"id":"g1","displayName":"G","members":[{"value":"u0"},)") +
                     (is_member ? R"({"value":"u1","type":"User"},)" : "") + R"({"value":"u2"}]})";
        } else if (method == "GET" && target.rfind("/scim/v2/Users/u1", 0) == 0) {
            r.body = R"({"id":"u1","userName":"a@example.com"})";
        } else if (method == "PATCH" && target == "/scim/v2/Groups/g1") {
            ++patches;
            is_member = !is_member;
            r.status = 200;
            r.body = R"({"id":"g1","displayName":"G","members":[{"value":"u1"}]})";
        } else {
            r.status = 404;
        }
        return r;
    });
    Instance in;
    in.open(config_for(srv.url()));
    auto g = grant(in, "group:g1:member", "user", "u1");
    REQUIRE_MESSAGE(g.status == CONN_OK, g.err.message);
    CHECK(g.outcome == CONN_OUTCOME_GRANTED);
    g = grant(in, "group:g1:member", "user", "u1");
    REQUIRE_MESSAGE(g.status == CONN_OK, g.err.message);
    CHECK(g.outcome == CONN_OUTCOME_ALREADY_GRANTED);
    auto r = revoke(in, "group:g1:member", "user", "u1");
    REQUIRE_MESSAGE(r.status == CONN_OK, r.err.message);
    CHECK(r.outcome == CONN_OUTCOME_REVOKED);
    r = revoke(in, "group:g1:member", "user", "u1");
    REQUIRE_MESSAGE(r.status == CONN_OK, r.err.message);
    CHECK(r.outcome == CONN_OUTCOME_ALREADY_REVOKED);
    CHECK(patches == 2);  // the "already" answers sent no PATCH
    CHECK(member_reads == 4);
    // A group that does not exist is NOT_FOUND, named as the entitlement.
    g = grant(in, "group:g9:member", "user", "u1");
    CHECK(g.status == CONN_ERR_NOT_FOUND);
    r = revoke(in, "group:g9:member", "user", "u1");
    CHECK(r.status == CONN_ERR_NOT_FOUND);
    CHECK(patches == 2);
}
