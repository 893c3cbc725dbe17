// fault-soak: for S seeds, start scim-sim in-process with every fault on together (failures, a rate limit,
// dropped connections, garbage bodies, drift, latency), run a full sync through the REAL claude-enterprise
// plugin (loaded through the host's loader), and check that every run either equals the simulator's truth
// (drift-* users excepted) or fails with a clear transient / rate-limited status: never a wrong or partial
// result reported as success. Then provision under the same faults (create accounts, grant, revoke, delete),
// retrying the calls that failed transiently, and check: no duplicate account, every returned id is the one
// in the truth, no lost or extra membership change, seeded memberships untouched. Exit 0 only when every
// invariant held; the token is scanned for in every text the plugin produced.
#include "admin_truth.hpp"
#include "rel_support.hpp"

#include <scim_sim/server.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Settings {
    unsigned seeds = 5;
    uint64_t first_seed = 1;
    size_t users = 120, groups = 10, members = 240;
    size_t accounts = 6;
    double fail_rate = 0.1, drop_rate = 0.03, garbage_rate = 0.03, rate_limit = 40;
    unsigned latency_ms = 2;
    bool drift = true;
    long retry_budget_ms = 20000;
    unsigned max_attempts = 6;  // per provisioning call, by the soak itself, on TRANSIENT / RATE_LIMITED
    bool verbose = false;
};

struct Totals {
    unsigned runs = 0, sync_ok = 0, sync_failed_clean = 0, sync_wrong = 0, sync_bad_failure = 0;
    uint64_t sync_requests = 0, sync_retries = 0;
    std::map<std::string, uint64_t> faults;
    std::map<std::string, uint64_t> outcomes;  // provisioning outcomes and failures, by name
    uint64_t prov_calls = 0, prov_retried_calls = 0, prov_retries = 0, prov_gave_up = 0;
    uint64_t prov_violations = 0, token_hits = 0;
};

std::string lower(std::string s) {
    for (auto &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool is_drift(const std::string &user_name) { return user_name.rfind("drift-", 0) == 0; }

bool retryable(conn_status s) { return s == CONN_ERR_TRANSIENT || s == CONN_ERR_RATE_LIMITED; }

bool clear_failure(const rel::SyncRun &run) {
    return retryable(run.status) && run.err.status == run.status && std::strlen(run.err.message) > 0;
}

// Runs op until it succeeds, fails for good, or max_attempts transient failures; counts everything.
template <class Op>
rel::OpResult with_retries(const char *what, Op op, const Settings &s, Totals &t, std::vector<std::string> &problems) {
    rel::OpResult r;
    unsigned attempt = 0;
    for (;;) {
        ++attempt;
        r = op();
        if (r.status == CONN_OK || !retryable(r.status) || attempt >= s.max_attempts) break;
        ++t.prov_retries;
    }
    ++t.prov_calls;
    if (attempt > 1) ++t.prov_retried_calls;
    if (r.status == CONN_OK) {
        ++t.outcomes[std::string(what) + ":" + conn::outcome_name(r.outcome, "none")];
    } else if (retryable(r.status)) {
        ++t.prov_gave_up;
        ++t.outcomes[std::string(what) + ":gave_up"];
    } else {
        ++t.outcomes[std::string(what) + ":error " + conn::status_text(r.status)];
        problems.push_back(std::string(what) + " failed with " + conn::status_text(r.status) + ": " + r.err.message);
    }
    return r;
}

void print_faults(std::ostream &os, const std::map<std::string, uint64_t> &faults) {
    bool first = true;
    for (const auto &[k, v] : faults) {
        os << (first ? "" : ", ") << k << " " << v;
        first = false;
    }
}

// Which services a seed's config reads: every third seed reads through the Admin API too (seed % 6 == 3: the
// Admin API only; seed % 6 == 0: the Admin API and SCIM), the others SCIM only.
enum class Sources { scim, admin, both };

Sources sources_of(uint64_t seed) {
    if (seed % 3 != 0) return Sources::scim;
    return seed % 6 == 3 ? Sources::admin : Sources::both;
}

const char *sources_name(Sources v) {
    return v == Sources::scim ? "SCIM" : v == Sources::admin ? "Admin API" : "Admin API + SCIM";
}

// The Admin API's key of every soak (never the SCIM token: both are searched for in what the plugin wrote).
const std::string kAdminKey = "sk-ant-admin01-soak-key-never-logged-0123456789";

// The organisation behind the Admin API: direct members and groups, custom roles, invites, and its two
// misbehaviours (short paging-B pages, role_ids: null). Its rate limit is the plugin's, so pacing is exercised
// without waiting out minutes of 429s; failures, drops and garbage apply to both surfaces.
void add_admin_org(scim_sim::Options &o) {
    o.admin_key = kAdminKey;
    o.admin_rate_limit = 1200;
    o.seed_direct_users = 30;
    o.seed_direct_groups = 4;
    o.seed_roles = 3;
    o.seed_invites = 8;
    o.admin_short_pages = 0.3;
    o.admin_role_ids_null = 0.1;
}

std::string origin_of(const std::string &base_url) {
    return base_url.substr(0, base_url.find('/', base_url.find("://") + 3));
}

// An Admin API sync against the Admin API's truth: "" when it equals it (drift-* members aside, the role grants
// of a group it warned about aside), else what differs (and its first differences in problems).
std::string admin_sync_outcome(const rel::SyncRun &run, const std::string &state, bool with_scim, Totals &t,
                               std::vector<std::string> &problems) {
    const plugin_test::AdminTruth truth = plugin_test::admin_truth(state, with_scim);
    const plugin_test::DeliveredSync delivered{run.resources, run.entitlements, run.grants, run.warnings};
    const auto diff = plugin_test::admin_differences(delivered, truth, is_drift);
    if (diff.empty()) {
        ++t.sync_ok;
        return "equals the Admin API's truth";
    }
    ++t.sync_wrong;
    for (size_t i = 0; i < diff.size() && i < 10; ++i) problems.push_back("sync: " + diff[i]);
    return "WRONG RESULT REPORTED AS SUCCESS (" + std::to_string(diff.size()) + " differences)";
}

bool soak_one(uint64_t seed, const Settings &s, Totals &t) {
    std::vector<std::string> problems;
    const Sources sources = sources_of(seed);
    scim_sim::Options o;
    o.token = rel::kToken;
    o.seed = seed;
    o.seed_users = s.users;
    o.seed_groups = s.groups;
    o.seed_members = s.members;
    o.fail_rate = s.fail_rate;
    o.drop_rate = s.drop_rate;
    o.garbage_rate = s.garbage_rate;
    o.rate_limit = s.rate_limit;
    o.latency_ms = s.latency_ms;
    o.drift = s.drift;
    o.soft_delete = (seed % 2) == 0;  // both delete behaviours across seeds
    // Every fourth seed, a server that cuts the members it lists in GET /Groups at 5 a group.
    o.list_members_cap = seed % 4 == 2 ? 5 : 0;
    if (sources != Sources::scim) add_admin_org(o);
    scim_sim::Server sim(o);
    sim.start();

    static const int page_sizes[] = {100, 7, 33, 1000, 50};
    const int page_size = page_sizes[seed % 5];
    const int concurrency = (seed % 3 == 0) ? 1 : 4;
    // Every fourth seed gives the id indexes and the group list 1 KiB of memory: they spill to disk at once.
    const bool spill = seed % 4 == 1;
    // Every membership mode across seeds.
    static const char *const modes[] = {"auto", "group-pages", "per-group"};
    const char *mode = modes[(seed / 2) % 3];
    rel::Instance in;
    conn_error err{};
    rel::Entries cfg{{"page-size", std::to_string(page_size)},
                     {"concurrency", std::to_string(concurrency)},
                     {"request-timeout-ms", "10000"},
                     {"retry-budget-ms", std::to_string(s.retry_budget_ms)},
                     {"membership-reads", mode}};
    if (spill) cfg.emplace_back("index-memory-kb", "1");
    if (sources != Sources::admin) {
        cfg.emplace_back("scim-url", sim.base_url());
        cfg.emplace_back("scim-token", rel::kToken);
    }
    if (sources != Sources::scim) {
        cfg.emplace_back("admin-api-key", kAdminKey);
        cfg.emplace_back("admin-api-url", origin_of(sim.base_url()));
        cfg.emplace_back("admin-api-rate-limit", std::to_string(o.admin_rate_limit));
    }
    if (in.create(cfg, err) != CONN_OK) {
        std::cout << "seed " << seed << ": instance_create failed: " << err.message << "\n";
        return false;
    }

    // 1. Full sync under faults.
    ++t.runs;
    const rel::SyncRun run = rel::sync(in);
    t.sync_requests += run.result.requests;
    t.sync_retries += run.result.retries;
    const std::string seeded_state = sim.state_json();
    const rel::Truth seeded = rel::parse_truth(seeded_state);
    std::string sync_outcome;
    if (run.status == CONN_OK && sources != Sources::scim) {
        sync_outcome = admin_sync_outcome(run, seeded_state, sources == Sources::both, t, problems);
    } else if (run.status == CONN_OK) {
        const auto diff = rel::diff_sync_truth(run, seeded, is_drift);
        if (diff.empty()) {
            ++t.sync_ok;
            sync_outcome = "equals the truth";
        } else {
            ++t.sync_wrong;
            sync_outcome = "WRONG RESULT REPORTED AS SUCCESS (" + std::to_string(diff.size()) + " differences)";
            for (size_t i = 0; i < diff.size() && i < 10; ++i) problems.push_back("sync: " + diff[i]);
        }
    } else if (clear_failure(run)) {
        ++t.sync_failed_clean;
        sync_outcome = "failed cleanly: " + conn::status_text(run.status) + " (" + run.err.message + ")";
    } else {
        ++t.sync_bad_failure;
        sync_outcome = "failed UNCLEARLY: " + conn::status_text(run.status) + " (" + run.err.message + ")";
        problems.push_back("sync failed with a status that is neither transient nor rate-limited, or without a message");
    }

    // 2. Provisioning under the same faults (SCIM configs: its checks read SCIM's truth; the Admin API's
    // provisioning under faults is not soaked, see README).
    std::vector<std::string> group_ids;
    if (sources == Sources::scim)
        for (const auto &[gid, g] : seeded.groups) group_ids.push_back(gid);
    std::map<std::string, std::string> created;          // email -> id returned by the plugin
    std::set<std::pair<std::string, std::string>> want;  // (group, user) wanted after provisioning
    std::set<std::pair<std::string, std::string>> unknown;  // pairs whose calls gave up
    std::set<std::string> deleted, unknown_users;
    for (size_t i = 0; i < (sources == Sources::scim ? s.accounts : 0); ++i) {
        const std::string email = "soak." + std::to_string(seed) + "." + std::to_string(i) + "@example.com";
        const rel::Entries fields{{"email", email}, {"display_name", "Soak User " + std::to_string(i)}};
        auto r = with_retries("create", [&] { return rel::create_account(in, fields); }, s, t, problems);
        if (r.status != CONN_OK) continue;
        if (r.resource.id.empty()) problems.push_back("create " + email + ": no resource delivered");
        if (r.resource.attrs.count("login") && lower(r.resource.attrs.at("login")) != email)
            problems.push_back("create " + email + ": delivered login " + r.resource.attrs.at("login"));
        created[email] = r.resource.id;
    }
    size_t n = 0;
    for (const auto &account : created) {
        const std::string &uid = account.second;  // a plain reference: lambdas below capture it (clang 14 lacks P1091)
        for (size_t k = 0; k < 2 && !group_ids.empty(); ++k) {
            const std::string gid = group_ids[(n * 3 + k * 5) % group_ids.size()];
            const std::string ent = "group:" + gid + ":member";
            auto r = with_retries("grant", [&] { return rel::grant(in, ent, "user", uid); }, s, t, problems);
            if (r.status == CONN_OK)
                want.insert({gid, uid});
            else
                unknown.insert({gid, uid});
            if (r.status == CONN_OK && r.grant.id != ent + ":user:" + uid)
                problems.push_back("grant delivered id '" + r.grant.id + "'");
        }
        ++n;
    }
    // Revoke every other granted pair, and revoke one more time (must be already_revoked or revoked).
    std::vector<std::pair<std::string, std::string>> granted(want.begin(), want.end());
    for (size_t i = 0; i < granted.size(); i += 2) {
        const std::string gid = granted[i].first;
        const std::string uid = granted[i].second;
        const std::string ent = "group:" + gid + ":member";
        auto r = with_retries("revoke", [&] { return rel::revoke(in, ent, "user", uid); }, s, t, problems);
        if (r.status == CONN_OK)
            want.erase({gid, uid});
        else
            unknown.insert({gid, uid});
    }
    // Delete the last account created (its memberships go with it on a hard-deleting endpoint).
    if (!created.empty()) {
        const auto &[email, uid] = *created.rbegin();
        auto r = with_retries("delete", [&, uid = uid] { return rel::delete_resource(in, "user", uid); }, s, t, problems);
        if (r.status == CONN_OK)
            deleted.insert(uid);
        else
            unknown_users.insert(uid);  // the DELETE may have been applied before its answer was lost
    }

    // 3. Check the provisioning against the truth.
    const rel::Truth after = rel::parse_truth(sim.state_json());
    std::map<std::string, int> by_name;
    for (const auto &[id, u] : after.users) ++by_name[lower(u.user_name)];
    for (const auto &[name, count] : by_name)
        if (count > 1) problems.push_back("duplicate account: userName " + name + " appears " + std::to_string(count) + " times");
    for (const auto &[email, uid] : created) {
        const std::string found = sim.find_user(email);
        if (unknown_users.count(uid)) continue;
        if (deleted.count(uid)) {
            const bool gone = found.empty() || (after.users.count(found) && !after.users.at(found).active);
            if (!gone) problems.push_back("deleted account " + email + " is still active");
            continue;
        }
        if (found.empty())
            problems.push_back("created account " + email + " is missing from the truth");
        else if (found != uid)
            problems.push_back("created account " + email + ": plugin returned id " + uid + ", truth has " + found);
        else if (!after.users.at(found).active)
            problems.push_back("created account " + email + " is inactive");
    }
    std::set<std::string> soak_ids;
    for (const auto &[email, uid] : created) soak_ids.insert(uid);
    std::set<std::pair<std::string, std::string>> have;
    for (const auto &[gid, g] : after.groups)
        for (const auto &m : g.members)
            if (soak_ids.count(m)) have.insert({gid, m});
    for (const auto &p : want)
        if (!have.count(p) && !unknown.count(p) && !unknown_users.count(p.second) && !(deleted.count(p.second) && !o.soft_delete))
            problems.push_back("lost membership change: user " + p.second + " should be in group " + p.first);
    for (const auto &p : have)
        if (!want.count(p) && !unknown.count(p)) problems.push_back("extra membership: user " + p.second + " in group " + p.first);
    for (const auto &[gid, g] : seeded.groups) {  // seeded memberships untouched (drift never joins groups)
        auto it = after.groups.find(gid);
        std::vector<std::string> before_m = g.members, after_m;
        if (it != after.groups.end())
            for (const auto &m : it->second.members)
                if (!soak_ids.count(m)) after_m.push_back(m);
        std::sort(before_m.begin(), before_m.end());
        std::sort(after_m.begin(), after_m.end());
        if (before_m != after_m) problems.push_back("seeded memberships of group " + gid + " changed");
    }

    // 4. The token and the key, in anything the plugin wrote.
    for (const std::string &secret : {rel::kToken, kAdminKey}) {
        const size_t hits = rel::count_hits(in.texts().all(), secret);
        t.token_hits += hits;
        if (hits != 0) problems.push_back("a secret appears " + std::to_string(hits) + " times in the plugin's texts");
    }

    const scim_sim::Stats stats = sim.stats();
    for (const auto &[k, v] : stats.faults) t.faults[k] += v;
    t.prov_violations += problems.size();

    std::cout << "seed " << seed << " (" << sources_name(sources) << ", page-size " << page_size << ", concurrency " << concurrency << ", " << mode
              << (o.list_members_cap ? ", lists cut at 5 members" : "") << (o.soft_delete ? ", soft delete" : "") << (spill ? ", indexes spilled" : "") << "): sync " << sync_outcome << "; users "
              << seeded.users.size() << ", groups " << seeded.groups.size() << ", grants " << run.grants.size()
              << ", requests " << run.result.requests << ", retries " << run.result.retries
              << "; Admin API requests served " << stats.admin_api_requests << " (429s " << stats.admin_api_rate_limited
              << "); provisioning: "
              << created.size() << " accounts, " << want.size() << " memberships kept; faults: ";
    print_faults(std::cout, stats.faults);
    std::cout << "; requests served " << stats.total_requests << (problems.empty() ? "; OK" : "; PROBLEMS") << "\n";
    for (const auto &p : problems) std::cout << "  - " << p << "\n";
    if (s.verbose)
        for (const auto &l : in.log_lines()) std::cout << "    log: " << l << "\n";
    std::cout.flush();  // one line per seed, visible as it happens (long runs)
    return problems.empty();
}

}  // namespace

int main(int argc, char **argv) {
    Settings s;
    bool long_run = false;
    CLI::App app{"fault-soak: sync and provision through the real claude-enterprise plugin against scim-sim with every "
                 "fault on; checks exact results or clean failures"};
    app.add_option("--seeds", s.seeds, "number of seeds (runs)");
    app.add_option("--first-seed", s.first_seed, "first seed");
    app.add_option("--users", s.users, "seeded users per run");
    app.add_option("--groups", s.groups, "seeded groups per run");
    app.add_option("--members", s.members, "seeded memberships per run");
    app.add_option("--accounts", s.accounts, "accounts created per run in the provisioning phase");
    app.add_option("--fail-rate", s.fail_rate, "share of requests answered 500/502/503/504");
    app.add_option("--drop-rate", s.drop_rate, "share of connections dropped");
    app.add_option("--garbage-rate", s.garbage_rate, "share of 200 answers with a garbage body");
    app.add_option("--rate-limit", s.rate_limit, "requests per second before 429 + Retry-After (0: off)");
    app.add_option("--latency-ms", s.latency_ms, "latency added to every request");
    app.add_option("--retry-budget-ms", s.retry_budget_ms, "the plugin's retry-budget-ms");
    app.add_option("--max-attempts", s.max_attempts, "attempts per provisioning call on transient failures");
    app.add_flag("!--no-drift", s.drift, "turn drift off");
    app.add_flag("--long", long_run, "a long run: 100 seeds of 1000 users, 40 groups, 3000 memberships, 20 accounts");
    app.add_flag("--verbose", s.verbose, "print the plugin's log lines");
    CLI11_PARSE(app, argc, argv);
    if (long_run) {
        if (app.count("--seeds") == 0) s.seeds = 100;
        if (app.count("--users") == 0) s.users = 1000;
        if (app.count("--groups") == 0) s.groups = 40;
        if (app.count("--members") == 0) s.members = 3000;
        if (app.count("--accounts") == 0) s.accounts = 20;
    }

    const auto started = std::chrono::steady_clock::now();
    Totals t;
    unsigned failed_seeds = 0;
    try {
        for (uint64_t seed = s.first_seed; seed < s.first_seed + s.seeds; ++seed)
            if (!soak_one(seed, s, t)) ++failed_seeds;
    } catch (const std::exception &e) {
        std::cout << "fault-soak: error: " << e.what() << "\n";
        return 2;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    std::cout << "\n== fault-soak summary ==\n"
              << "runs " << t.runs << ", seeds " << s.first_seed << ".." << (s.first_seed + s.seeds - 1) << " (" << s.users
              << " users, " << s.groups << " groups, " << s.members << " memberships each), " << seconds << " s\n"
              << "faults on: fail-rate " << s.fail_rate << ", drop-rate " << s.drop_rate << ", garbage-rate "
              << s.garbage_rate << ", rate-limit " << s.rate_limit << "/s, latency " << s.latency_ms << " ms, drift "
              << (s.drift ? "on" : "off") << "\n"
              << "faults injected: ";
    uint64_t total_faults = 0;
    for (const auto &[k, v] : t.faults)
        if (k != "latency") total_faults += v;
    print_faults(std::cout, t.faults);
    std::cout << " (" << total_faults << " besides latency)\n"
              << "sync outcomes: " << t.sync_ok << " equal the truth, " << t.sync_failed_clean
              << " failed cleanly (transient/rate-limited), " << t.sync_wrong << " WRONG, " << t.sync_bad_failure
              << " unclear failures\n"
              << "sync requests " << t.sync_requests << ", retries (conn_sync_result) " << t.sync_retries << "\n"
              << "provisioning: " << t.prov_calls << " calls, " << t.prov_retried_calls << " needed retries by the caller ("
              << t.prov_retries << " retries), " << t.prov_gave_up << " gave up\n"
              << "provisioning outcomes:";
    for (const auto &[k, v] : t.outcomes) std::cout << " " << k << "=" << v;
    std::cout << "\nviolations " << t.prov_violations << ", token hits " << t.token_hits << "\n"
              << (failed_seeds == 0 ? "RESULT: PASS" : "RESULT: FAIL") << " (" << failed_seeds << " of " << s.seeds
              << " seeds with problems)\n";
    return failed_seeds == 0 ? 0 : 1;
}
