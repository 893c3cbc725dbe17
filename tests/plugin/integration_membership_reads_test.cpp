// How group members are read (membership-reads = auto | group-pages | per-group), against every kind of server we
// can model with the simulator: WorkOS-like (pages of at most 100, members listed), one allowing pages of 1000,
// one that lists no members in GET /Groups, one that cuts the listed members short, tiny pages. Every mode must
// give exactly the simulator's truth on every one of them, and auto must cost what the least client needs.
#include <doctest/doctest.h>
#include <scim_sim/server.hpp>

#include <string>
#include <vector>

#include "plugin_harness.hpp"

using namespace harness;

namespace {

struct ServerKind {
    const char *name;
    size_t max_page_size = 100;
    bool omits_members = false;
    size_t members_cap = 0;
};

const std::vector<ServerKind> kServers = {
    {"workos-like"},
    {"pages of 1000", 1000},
    {"no members in lists", 100, true},
    {"lists cut at 4 members", 100, false, 4},
    {"pages of 7", 7},
};

scim_sim::Options org_for(const ServerKind &kind, uint64_t seed = 21) {
    scim_sim::Options o;
    o.token = kToken;
    o.seed_users = 260;
    o.seed_groups = 30;
    o.seed_members = 1100;
    o.seed = seed;
    o.max_page_size = kind.max_page_size;
    o.list_omits_members = kind.omits_members;
    o.list_members_cap = kind.members_cap;
    return o;
}

uint64_t sync_requests(scim_sim::Server &sim, const char *mode, Entries extra = {}) {
    const uint64_t before = sim.stats().total_requests;
    Instance in;
    extra.push_back({"membership-reads", mode});
    in.open(config_for(sim.base_url(), kToken, extra));
    auto run = sync(in);
    REQUIRE(run.status == CONN_OK);
    expect_sync_equals_truth(run, parse_truth(sim.state_json()));
    return sim.stats().total_requests - before;
}

}  // namespace

TEST_CASE("every membership mode equals the truth on every kind of server") {
    for (const auto &kind : kServers) {
        scim_sim::Server sim(org_for(kind));
        sim.start();
        for (const char *mode : {"auto", "group-pages", "per-group"}) {
            CAPTURE(kind.name);
            CAPTURE(mode);
            const uint64_t requests = sync_requests(sim, mode);
            const std::string line = std::string(kind.name) + ", " + mode + ": " + std::to_string(requests) + " requests";
            MESSAGE(line);
        }
    }
}

TEST_CASE("members from the group pages: about one request a page, not one a group") {
    scim_sim::Server sim(org_for(kServers[0]));
    sim.start();
    const uint64_t per_group = sync_requests(sim, "per-group");
    const uint64_t pages = sync_requests(sim, "auto");
    // per-group: user pages + group pages + 30 member GETs. auto: the same pages and the few groups read on their
    // own (the longest lists so far: about ln(30) + 1 of them).
    CHECK(pages + 20 <= per_group);
    MESSAGE("per-group ", per_group, " requests, auto ", pages);
}

TEST_CASE("a server that cuts member lists short: the groups it may have cut are read on their own, and logged") {
    scim_sim::Server sim(org_for(kServers[3]));
    sim.start();
    Instance in;
    in.open(config_for(sim.base_url()));
    auto run = sync(in);
    REQUIRE(run.status == CONN_OK);
    expect_sync_equals_truth(run, parse_truth(sim.state_json()));
    bool logged = false;
    for (const auto &line : in.log_lines())
        if (line.find("are read on their own") != std::string::npos) logged = true;
    CHECK(logged);
}

TEST_CASE("group pages under faults (503s, dropped connections, garbage bodies) and drift stay exact") {
    for (const auto &kind : {kServers[0], kServers[1], kServers[3]}) {
        CAPTURE(kind.name);
        auto o = org_for(kind, 5);
        o.fail_rate = 0.1;
        o.drop_rate = 0.05;
        o.garbage_rate = 0.08;
        scim_sim::Server sim(o);
        sim.start();
        sync_requests(sim, "group-pages", {{"retry-budget-ms", "60000"}});
        CHECK(sim.stats().faults.count("garbage") == 1);
    }
}

TEST_CASE("a small max-response-mb keeps group pages small: groups past a page's budget are read on their own") {
    auto o = org_for(kServers[1]);
    o.seed_users = 3000;
    o.seed_groups = 12;
    o.seed_members = 24000;
    scim_sim::Server sim(o);
    sim.start();
    Instance in;
    in.open(config_for(sim.base_url(), kToken, {{"max-response-mb", "2"}, {"concurrency", "2"}}));
    auto run = sync(in);
    CAPTURE(run.err.message);
    REQUIRE(run.status == CONN_OK);
    expect_sync_equals_truth(run, parse_truth(sim.state_json()));
    bool too_large = false;
    for (const auto &line : in.log_lines())
        if (line.find(" 0 too large for a page") == std::string::npos && line.find("too large for a page") != std::string::npos)
            too_large = true;
    CHECK(too_large);
}

TEST_CASE("a small max-response-mb keeps user pages small too: a server allowing pages of 1000 cannot make it fail") {
    // 8,000 users of about 600 bytes: pages of 1000 are ~600 KB, and 16 of them in flight would hold ~9.6 MB
    // against a limit of 1 MiB. The first page teaches the cost; the later ones ask for fewer users.
    auto o = org_for(kServers[1]);
    o.seed_users = 8000;
    o.seed_groups = 10;
    o.seed_members = 3000;
    scim_sim::Server sim(o);
    sim.start();
    Instance in;
    in.open(config_for(sim.base_url(), kToken, {{"max-response-mb", "1"}, {"concurrency", "16"}}));
    auto run = sync(in);
    CAPTURE(run.err.message);
    REQUIRE(run.status == CONN_OK);
    expect_sync_equals_truth(run, parse_truth(sim.state_json()));
    // Not one page per user either: pages hold as many as the budget allows (about 80 here).
    CHECK(sim.stats().total_requests < 8000 / 40);
}

TEST_CASE("membership-reads refuses a word it does not know") {
    Instance in;
    conn_error err{};
    CHECK(in.create(config_for("http://127.0.0.1:9/scim/v2", kToken, {{"membership-reads", "fast"}}), err) ==
          CONN_ERR_INVALID_CONFIG);
    CHECK(std::string(err.field) == "membership-reads");
    CHECK(std::string(err.message).find("auto,group-pages,per-group") != std::string::npos);
}
