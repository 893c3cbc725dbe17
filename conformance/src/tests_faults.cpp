// Fault paths (level 4): syncs against simulators that fail on purpose. A plugin may end such a sync with an error,
// or succeed and say with an incomplete_* warning that records may be missing (ABI.md "Warnings"), but never
// succeed wrongly:
//   - every request refused (a token the simulator does not know: 401) ends CONN_ERR_UNAUTHENTICATED;
//   - every request failing (503) ends CONN_ERR_TRANSIENT, or is still being retried when the runner stops
//     waiting and cancels (then CONN_ERR_CANCELLED, noted: a host's timeout ends it the same way);
//   - with --sim (the plugin is meant to map the simulator's data): random 503s, dropped
//     connections and garbage bodies together, and a rate limit, each end either exactly equal to that
//     simulator's truth (missing records allowed only after an incomplete_* warning) or with CONN_ERR_TRANSIENT /
//     CONN_ERR_RATE_LIMITED.
// A plugin that sends the simulator no request at all does not use this service: its profiles are skipped (noted).
// Every test's stdout and stderr are captured by the runner, so these error paths are checked for output too.
#include "registry.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace conformance {
namespace {

using namespace std::chrono_literals;

struct FaultProfile {
    const char *name;
    std::vector<std::string> sim_args;
    bool wrong_token = false;
    bool needs_truth = false;              // only with --sim: an OK result is compared with the truth
    std::vector<conn_status> failures;     // the statuses that are right for this profile
};

const std::vector<FaultProfile> &profiles() {
    static const std::vector<FaultProfile> p = {
        {"every request refused (HTTP 401)", {}, true, false, {CONN_ERR_UNAUTHENTICATED}},
        {"every request failing (HTTP 503)", {"--fail-rate", "1"}, false, false, {CONN_ERR_TRANSIENT}},
        {"random 503s, dropped connections and garbage bodies",
         {"--fail-rate", "0.15", "--drop-rate", "0.1", "--garbage-rate", "0.1"}, false, true, {CONN_ERR_TRANSIENT}},
        {"a rate limit of 3 requests a second", {"--rate-limit", "3"}, false, true,
         {CONN_ERR_RATE_LIMITED, CONN_ERR_TRANSIENT}},
    };
    return p;
}

// How long a profile's sync may run before the runner cancels it: within the test's own timeout, past a retry
// budget of 30 s.
constexpr auto kPatience = 40s;

// Runs one sync; cancels it (through is_cancelled) when it has not returned after kPatience.
struct TimedSync {
    conn_status status = CONN_ERR_INTERNAL;
    conn_error err = conn::make_error();
    bool cancelled_by_runner = false;
    double seconds = 0;
};

TimedSync sync_with_patience(const conn_connector_v1 &v, conn_instance *in, Recorder &rec) {
    TimedSync t;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::thread watchdog([&] {
        std::unique_lock lock(mu);
        if (!cv.wait_for(lock, kPatience, [&] { return done; })) {
            t.cancelled_by_runner = true;
            rec.cancel = true;
        }
    });
    const auto start = std::chrono::steady_clock::now();
    t.status = run_sync(v, in, rec, nullptr, &t.err);
    t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    {
        std::lock_guard lock(mu);
        done = true;
    }
    cv.notify_all();
    watchdog.join();
    return t;
}

// The first incomplete_* warning code the sync sent, "" when none.
std::string incomplete_warning(Recorder &rec) {
    std::lock_guard lock(rec.mu);
    for (const auto &w : rec.warnings)
        if (w.first.rfind("incomplete_", 0) == 0) return w.first;
    return {};
}

std::string code_name(conn_status s) { return conn::status_code_name(s, "an unknown status"); }

std::string names(const std::vector<conn_status> &statuses) {
    std::string out;
    for (conn_status s : statuses) out += (out.empty() ? "" : " or ") + code_name(s);
    return out;
}

// One profile against a simulator of its own: appends its verdict to `note`; fails the test on a wrong success or a
// wrong status.
void run_profile(const Context &ctx, const PluginUnderTest &p, const FaultProfile &f, std::string &note) {
    SimOptions opts;
    opts.binary = ctx.sim_binary;
    opts.token = distinctive_secret(ctx, "fault-sim");
    opts.seed = ctx.seed;
    opts.extra_args = f.sim_args;
    SimProcess sim(opts);
    ConfigEntries cfg = working_config(ctx, *p.d);
    const std::string token = f.wrong_token ? distinctive_secret(ctx, "fault-wrong-token") : opts.token;
    cfg = with_value(with_value(cfg, ctx.url_field, sim.url()), ctx.secret_field, token);
    const uint64_t before = sim_requests(sim.admin());
    Recorder rec;
    conn::Instance in = open_instance(*p.plugin, cfg, nullptr);
    const TimedSync t = sync_with_patience(*p.v, in.get(), rec);
    const uint64_t requests = sim_requests(sim.admin()) - before;
    const std::string where = f.name + std::string(": ");
    if (requests == 0) {
        require(!f.needs_truth, where + "the plugin made no request to the simulator it was pointed at");
        note += (note.empty() ? "" : "; ") + where + "skipped (the plugin sent this service no request)";
        return;
    }
    if (t.status == CONN_OK) {
        const std::string warned = incomplete_warning(rec);
        if (!f.needs_truth) {
            require(!warned.empty(), where + "sync returned CONN_OK although every one of its " + std::to_string(requests) +
                                         " request(s) failed, and sent no incomplete_* warning: an incomplete picture reported as complete");
            note += (note.empty() ? "" : "; ") + where + "OK with warning " + warned;
            return;
        }
        std::vector<std::string> problems = truth_problems(*p.d, fetch_truth(sim.admin()), rec);
        // With an incomplete_* warning the plugin said records may be missing (ABI.md "Warnings"): missing ones are
        // then allowed, never extra or repeated ones.
        if (!warned.empty())
            problems.erase(std::remove_if(problems.begin(), problems.end(),
                                          [](const std::string &m) { return m.find(" missing: ") != std::string::npos; }),
                           problems.end());
        fail_if_any(problems, " (sync returned CONN_OK under " + std::string(f.name) +
                                  (warned.empty() ? " and sent no incomplete_* warning)" : ")"));
        note += (note.empty() ? "" : "; ") + where + (warned.empty() ? "OK and exact (" : "OK, warned " + warned + " (") +
                std::to_string(requests) + " requests)";
        return;
    }
    if (t.cancelled_by_runner && t.status == CONN_ERR_CANCELLED) {
        note += (note.empty() ? "" : "; ") + where + "still retrying after " + std::to_string(kPatience.count()) + " s, cancelled";
        return;
    }
    bool right = false;
    for (conn_status s : f.failures) right = right || t.status == s;
    require(right, where + "sync returned " + describe_error(t.status, t.err) + ", expected " + names(f.failures));
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.1f", t.seconds);
    note += (note.empty() ? "" : "; ") + where + code_name(t.status) + " after " + secs + " s";
}

std::string test_fault_paths(const Context &ctx) {
    PluginUnderTest p(ctx);
    if (!p.has(CONN_CAP_SYNC) || p.v->sync == nullptr) skip("the plugin does not declare CONN_CAP_SYNC");
    if (ctx.url_field.empty() || ctx.secret_field.empty())
        skip("the plugin declares no URL field or no secret field to point at a failing simulator");
    std::string note;
    for (const auto &f : profiles()) {
        if (f.needs_truth && !ctx.sim) {
            note += (note.empty() ? "" : "; ") + std::string(f.name) + ": needs --sim";
            continue;
        }
        run_profile(ctx, p, f, note);
    }
    return note;
}

}  // namespace

void register_fault_tests(std::vector<TestCase> &out) {
    out.push_back({"soak.fault_paths", Needs::sim_binary,
                   "syncs against failing simulators never succeed wrongly: every request 401 -> CONN_ERR_UNAUTHENTICATED; every "
                   "request 503 -> CONN_ERR_TRANSIENT (or still retrying after 40 s: cancelled, noted); with --sim, random "
                   "503s + dropped connections + garbage bodies, and a rate limit of 3/s: CONN_OK equal to the truth (missing records only "
                   "after an incomplete_* warning), or "
                   "CONN_ERR_TRANSIENT / CONN_ERR_RATE_LIMITED; nothing on stdout or stderr on any of these paths",
                   test_fault_paths});
}

}  // namespace conformance
