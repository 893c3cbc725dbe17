// Sync level: the result against the simulator's truth, repeatability, STOP, late callbacks, cancellation,
// progress, and an older host's smaller sink/call/result structs.
#include "registry.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <regex>
#include <sstream>

namespace conformance {
namespace {

using namespace std::chrono_literals;

struct SyncSetup {
    std::unique_ptr<connector_host::LoadedPlugin> plugin;
    const conn_connector_v1 *v = nullptr;
    const conn_descriptor *d = nullptr;
};

SyncSetup setup(const Context &ctx) {
    SyncSetup s;
    s.plugin = load_plugin(ctx);
    s.v = &s.plugin->connector();
    s.d = &s.plugin->descriptor();
    if ((s.d->capabilities & CONN_CAP_SYNC) == 0) skip("the plugin does not declare CONN_CAP_SYNC");
    require(s.v->sync != nullptr, "CONN_CAP_SYNC declared but sync is NULL");
    return s;
}

std::string list(const std::vector<std::string> &items, size_t max = 4) {
    std::string out;
    for (size_t i = 0; i < items.size() && i < max; ++i) out += (i ? ", " : "") + printable(items[i], 60);
    if (items.size() > max) out += ", ... (" + std::to_string(items.size()) + ")";
    return out;
}

// Compares a multiset of delivered keys with the expected set: missing, unexpected, duplicated.
void compare(std::vector<std::string> &problems, const std::string &kind, const std::vector<std::string> &got,
             const std::set<std::string> &want) {
    std::map<std::string, int> count;
    for (const auto &g : got) ++count[g];
    std::vector<std::string> missing, extra, dup;
    for (const auto &w : want)
        if (count.find(w) == count.end()) missing.push_back(w);
    for (const auto &[k, n] : count) {
        if (want.count(k) == 0) extra.push_back(k);
        if (n > 1) dup.push_back(k);
    }
    if (!missing.empty()) problems.push_back(kind + ": " + std::to_string(missing.size()) + " missing: " + list(missing));
    if (!extra.empty()) problems.push_back(kind + ": " + std::to_string(extra.size()) + " not in the truth: " + list(extra));
    if (!dup.empty()) problems.push_back(kind + ": " + std::to_string(dup.size()) + " delivered more than once: " + list(dup));
}

// The generic mapping of the simulator's truth onto the plugin's declared types.
struct Expected {
    std::string user_type, group_type;
    std::vector<std::string> slugs; // entitlement types of the group type
    std::string member_slug;        // the assignment entitlement grantable to the user type
    std::set<std::string> users, groups, entitlements, grants;
};

Expected expected_from(const conn_descriptor &d, const Truth &t) {
    Expected e;
    const conn_resource_type *ut = find_type_with_trait(d, CONN_TRAIT_USER);
    const conn_resource_type *gt = find_type_with_trait(d, CONN_TRAIT_GROUP);
    require(ut != nullptr && gt != nullptr, "the plugin declares no resource type with TRAIT_USER and one with TRAIT_GROUP: cannot map the SCIM truth");
    e.user_type = ut->id;
    e.group_type = gt->id;
    for (uint32_t k = 0; k < gt->entitlement_type_count; ++k) {
        const conn_entitlement_type *et = gt->entitlement_types[k];
        e.slugs.push_back(et->slug);
        for (uint32_t g = 0; g < et->grantable_to_count; ++g)
            if (e.member_slug.empty() && et->purpose == CONN_PURPOSE_ASSIGNMENT && e.user_type == et->grantable_to[g]) e.member_slug = et->slug;
    }
    require(!e.member_slug.empty(), "the group type '" + e.group_type + "' has no assignment entitlement grantable to '" + e.user_type + "'");
    std::set<std::string> user_ids;
    for (const auto &u : t.users) {
        e.users.insert(u.id);
        user_ids.insert(u.id);
    }
    for (const auto &g : t.groups) {
        e.groups.insert(g.id);
        for (const auto &slug : e.slugs) e.entitlements.insert(e.group_type + ":" + g.id + ":" + slug);
        for (const auto &m : g.members)
            e.grants.insert(e.group_type + ":" + g.id + ":" + e.member_slug + ":" + e.user_type + ":" + m);
    }
    return e;
}

}  // namespace

std::vector<std::string> truth_problems(const conn_descriptor &d, const Truth &t, Recorder &rec) {
    Expected e = expected_from(d, t);
    std::lock_guard lock(rec.mu);
    std::vector<std::string> p = rec.problems;
    std::vector<std::string> users, groups, grants;
    for (const auto &r : rec.resources) {
        if (find_type(d, r.type) == nullptr) p.push_back("a resource of undeclared type " + printable(r.type));
        if (r.id.empty()) p.push_back("a resource with an empty id");
        if (r.type == e.user_type) users.push_back(r.id);
        else if (r.type == e.group_type) groups.push_back(r.id);
    }
    for (const auto &g : rec.grants) grants.push_back(std::get<0>(g));
    compare(p, "users", users, e.users);
    compare(p, "groups", groups, e.groups);
    std::vector<std::string> ents;
    for (const auto &id : rec.entitlement_ids)
        if (id.rfind(e.group_type + ":", 0) == 0) ents.push_back(id);
    compare(p, "entitlements", ents, e.entitlements);
    compare(p, "grants", grants, e.grants);
    return p;
}

namespace {

void require_none(const std::vector<std::string> &p, const std::string &prefix) {
    if (p.empty()) return;
    std::string all = prefix + p.front();
    if (p.size() > 1) all += " (and " + std::to_string(p.size() - 1) + " more: " + p[1] + ")";
    fail(all);
}

void check_counts(std::vector<std::string> &p, const conn_sync_result &r, Recorder &rec) {
    std::lock_guard lock(rec.mu);
    if (r.resources != rec.resources.size())
        p.push_back("sync_result.resources " + std::to_string(r.resources) + " != delivered " + std::to_string(rec.resources.size()));
    if (r.entitlements != rec.entitlement_ids.size())
        p.push_back("sync_result.entitlements " + std::to_string(r.entitlements) + " != delivered " + std::to_string(rec.entitlement_ids.size()));
    if (r.grants != rec.grants.size())
        p.push_back("sync_result.grants " + std::to_string(r.grants) + " != delivered " + std::to_string(rec.grants.size()));
    if (r.warnings != rec.warning_calls)
        p.push_back("sync_result.warnings " + std::to_string(r.warnings) + " != on_warning calls " + std::to_string(rec.warning_calls));
}

std::string test_truth(const Context &ctx) {
    auto s = setup(ctx);
    Truth before = fetch_truth(ctx.sim_admin);
    Recorder rec;
    conn_host host = rec.host();
    conn::Instance in = open_instance(*s.plugin, ctx.config, &host);
    conn_sync_result result = conn::make<conn_sync_result>();
    conn_error err = conn::make_error();
    conn_status st = run_sync(*s.v, in.get(), rec, &result, &err);
    require(st == CONN_OK, "sync failed: " + describe_error(st, err));
    Truth t = fetch_truth(ctx.sim_admin);
    auto p = truth_problems(*s.d, t, rec);
    check_counts(p, result, rec);
    {
        std::lock_guard lock(rec.mu);
        if ((s.d->capabilities & CONN_CAP_CHECKPOINT) == 0 && rec.checkpoint_calls > 0)
            p.push_back("on_checkpoint was called although the plugin does not declare CONN_CAP_CHECKPOINT");
    }
    require_none(p, "");
    std::lock_guard lock(rec.mu);
    return std::to_string(t.users.size()) + " users, " + std::to_string(t.groups.size()) + " groups, " +
           std::to_string(rec.grants.size()) + " grants match the simulator (" + std::to_string(before.users.size()) + " users before)";
}

std::string test_repeatable(const Context &ctx) {
    auto s = setup(ctx);
    Truth t = fetch_truth(ctx.sim_admin);
    Recorder recs[3]; // outlive the instances
    conn::Instance first = open_instance(*s.plugin, ctx.config, nullptr);
    for (int run = 1; run <= 3; ++run) {
        Recorder &rec = recs[run - 1];
        conn_error err = conn::make_error();
        conn_status st;
        if (run < 3) {
            st = run_sync(*s.v, first.get(), rec, nullptr, &err);
        } else {
            conn::Instance fresh = open_instance(*s.plugin, ctx.config, nullptr);
            st = run_sync(*s.v, fresh.get(), rec, nullptr, &err);
        }
        require(st == CONN_OK, "sync run " + std::to_string(run) + " failed: " + describe_error(st, err));
        require_none(truth_problems(*s.d, t, rec), "run " + std::to_string(run) + (run == 3 ? " (a new instance)" : "") + ": ");
    }
    return "two runs on one instance and one on a new instance equal the truth";
}

std::string test_stop(const Context &ctx) {
    auto s = setup(ctx);
    // Every recorder outlives the instance: a plugin that calls back late must not reach freed memory.
    std::vector<std::unique_ptr<Recorder>> recorders;
    conn::Instance in = open_instance(*s.plugin, ctx.config, nullptr);
    std::string note;
    for (uint64_t stop_after : {1ull, 3ull, 25ull}) {
        Recorder &rec = *recorders.emplace_back(std::make_unique<Recorder>());
        rec.stop_after = stop_after;
        conn_error err = conn::make_error();
        conn_sync_result result = conn::make<conn_sync_result>();
        conn_status st = run_sync(*s.v, in.get(), rec, &result, &err);
        std::this_thread::sleep_for(200ms);
        std::lock_guard lock(rec.mu);
        if (!rec.stop_answered) {
            require(st == CONN_OK, "sync failed: " + describe_error(st, err));
            note += "; the sync delivered fewer than " + std::to_string(stop_after) + " records";
            continue;
        }
        require(st == CONN_ERR_STOPPED, "the sink answered STOP after " + std::to_string(stop_after) + " record(s) but sync returned " +
                                            describe_error(st, err) + ", expected stopped");
        require(err.status == CONN_ERR_STOPPED, "err.status is not stopped after a STOP");
        require(rec.calls_after_stop <= 5, "the plugin made " + std::to_string(rec.calls_after_stop) +
                                                " sink callback(s) after the sink answered STOP (at most 5 allowed)");
        require(rec.late_calls == 0, "a " + rec.late_what + " callback arrived after sync returned");
        note += (note.empty() ? "" : "; ") + std::string("stop after ") + std::to_string(stop_after) + ": " +
                std::to_string(rec.calls_after_stop) + " callback(s) after STOP";
    }
    Recorder &rec = *recorders.emplace_back(std::make_unique<Recorder>());
    conn_error err = conn::make_error();
    conn_status st = run_sync(*s.v, in.get(), rec, nullptr, &err);
    require(st == CONN_OK, "a full sync after stopped ones failed: " + describe_error(st, err));
    return note;
}

// One sync whose sink answers STOP from the `at`-th callback of `kind`: it must return CONN_ERR_STOPPED at once.
void stop_at(const SyncSetup &s, conn_instance *in, Recorder &rec, SinkKind kind, uint64_t at) {
    rec.stop_kind = static_cast<int>(kind);
    rec.stop_kind_after = at;
    conn_error err = conn::make_error();
    conn_status st = run_sync(*s.v, in, rec, nullptr, &err);
    std::this_thread::sleep_for(50ms);
    const std::string where = "STOP from " + std::string(sink_kind_name(kind)) + " #" + std::to_string(at);
    std::lock_guard lock(rec.mu);
    require(rec.stop_answered, where + ": the sync made fewer such callbacks than a full sync had (" + describe_error(st, err) + ")");
    require(st == CONN_ERR_STOPPED, where + ": sync returned " + describe_error(st, err) + ", expected stopped");
    require(err.status == CONN_ERR_STOPPED, where + ": err.status is not stopped");
    require(rec.calls_after_stop == 0, where + ": the plugin made " + std::to_string(rec.calls_after_stop) +
                                           " sink callback(s) after the sink answered STOP (none allowed; the first: " +
                                           rec.first_after_stop + ")");
    require(rec.late_calls == 0, where + ": a " + rec.late_what + " callback arrived after sync returned");
}

std::string test_stop_each_kind(const Context &ctx) {
    auto s = setup(ctx);
    std::vector<std::unique_ptr<Recorder>> recorders; // outlive the instance
    conn::Instance in = open_instance(*s.plugin, ctx.config, nullptr);
    Recorder &full = *recorders.emplace_back(std::make_unique<Recorder>());
    conn_error err = conn::make_error();
    conn_status st = run_sync(*s.v, in.get(), full, nullptr, &err);
    require(st == CONN_OK, "a full sync failed: " + describe_error(st, err));
    std::string note, none;
    for (SinkKind kind : {SinkKind::resource, SinkKind::entitlement, SinkKind::grant, SinkKind::warning, SinkKind::checkpoint}) {
        const uint64_t n = full.kind_calls[static_cast<size_t>(kind)];
        if (n == 0) {
            none += (none.empty() ? "" : ", ") + std::string(sink_kind_name(kind));
            continue;
        }
        std::set<uint64_t> points = {1, std::min<uint64_t>(2, n), (n + 1) / 2, n};
        for (uint64_t at : points) stop_at(s, in.get(), *recorders.emplace_back(std::make_unique<Recorder>()), kind, at);
        note += (note.empty() ? "" : ", ") + std::string(sink_kind_name(kind)) + " at " + std::to_string(points.size()) + " points";
    }
    return "STOP from " + note + (none.empty() ? "" : "; never called in a full sync: " + none);
}

// ABI.md "Warnings": a short, stable snake_case code of at most 256 bytes; a one-line message.
std::string warning_problem(const std::string &code, const std::string &message) {
    static const std::regex snake("^[a-z][a-z0-9]*(_[a-z0-9]+)*$");
    if (code.size() > 256) return "a warning code is " + std::to_string(code.size()) + " bytes long (at most 256)";
    if (!std::regex_match(code, snake)) return "the warning code " + printable(code, 60) + " is not snake_case";
    if (message.empty() || message.find_first_of("\r\n") != std::string::npos || !valid_utf8(message))
        return "the message of warning " + printable(code, 60) + " is not one non-empty UTF-8 line: " + printable(message, 80);
    return {};
}

std::string test_warnings(const Context &ctx) {
    auto s = setup(ctx);
    Recorder rec;
    conn::Instance in = open_instance(*s.plugin, ctx.config, nullptr);
    conn_sync_result result = conn::make<conn_sync_result>();
    conn_error err = conn::make_error();
    conn_status st = run_sync(*s.v, in.get(), rec, &result, &err);
    require(st == CONN_OK, "sync failed: " + describe_error(st, err));
    std::lock_guard lock(rec.mu);
    std::set<std::string> codes;
    for (const auto &[code, message] : rec.warnings) {
        if (std::string p = warning_problem(code, message); !p.empty()) fail(p);
        codes.insert(code);
    }
    require(result.warnings == rec.warning_calls, "sync_result.warnings is " + std::to_string(result.warnings) + ", on_warning was called " +
                                                      std::to_string(rec.warning_calls) + " time(s)");
    if (codes.empty()) return "no warning in a full sync";
    std::string list;
    for (const auto &c : codes) list += (list.empty() ? "" : ", ") + c;
    return std::to_string(rec.warning_calls) + " warning(s): " + list;
}

std::string test_no_late_callbacks(const Context &ctx) {
    auto s = setup(ctx);
    Recorder rec, rec2; // both outlive the instance
    conn_host host = rec.host();
    conn::Instance in = open_instance(*s.plugin, ctx.config, &host);
    conn_error err = conn::make_error();
    conn_status st = run_sync(*s.v, in.get(), rec, nullptr, &err);
    require(st == CONN_OK, "sync failed: " + describe_error(st, err));
    std::this_thread::sleep_for(500ms);
    {
        std::lock_guard lock(rec.mu);
        require(rec.late_calls == 0, std::to_string(rec.late_calls) + " callback(s) (" + rec.late_what + ") arrived after sync returned");
        require_none(rec.problems, "");
        require(rec.sink_calls > 0, "the sync delivered nothing");
    }
    // The same after a stopped sync.
    rec2.stop_after = 2;
    st = run_sync(*s.v, in.get(), rec2, nullptr, &err);
    std::this_thread::sleep_for(500ms);
    std::lock_guard lock(rec2.mu);
    require(rec2.late_calls == 0, std::to_string(rec2.late_calls) + " callback(s) (" + rec2.late_what + ") arrived after a stopped sync returned");
    require_none(rec2.problems, "");
    return "no callback within 500 ms after return; all on the calling thread";
}

std::string test_cancel(const Context &ctx) {
    auto s = setup(ctx);
    if (ctx.url_field.empty() || ctx.secret_field.empty()) skip("the plugin declares no URL field or no secret field to point at a slow simulator");
    SimOptions opts;
    opts.binary = ctx.sim_binary;
    opts.token = distinctive_secret(ctx, "slow-sim");
    opts.seed = ctx.seed;
    opts.users = 5;
    opts.groups = 2;
    opts.members = 4;
    opts.latency_ms = 5000;
    SimProcess sim(opts);
    ConfigEntries cfg = ctx.config.empty() ? working_config(ctx, *s.d) : ctx.config;
    cfg = with_value(with_value(cfg, ctx.url_field, sim.url()), ctx.secret_field, opts.token);
    Recorder rec;
    conn::Instance in = open_instance(*s.plugin, cfg, nullptr);
    std::chrono::steady_clock::time_point cancel_at;
    std::thread canceller([&] {
        std::this_thread::sleep_for(500ms);
        cancel_at = std::chrono::steady_clock::now();
        rec.cancel = true;
    });
    conn_error err = conn::make_error();
    conn_status st = run_sync(*s.v, in.get(), rec, nullptr, &err);
    auto returned = std::chrono::steady_clock::now();
    canceller.join();
    require(returned >= cancel_at, "sync returned " + describe_error(st, err) + " before the cancellation was requested, although every request takes 5 s");
    double ms = std::chrono::duration<double, std::milli>(returned - cancel_at).count();
    require(st == CONN_ERR_CANCELLED, "sync returned " + describe_error(st, err) + " after cancellation, expected cancelled");
    const double limit = 1500.0; // the ABI's one second plus slack for a loaded machine
    std::ostringstream note;
    note.precision(0);
    note << std::fixed << "cancelled " << ms << " ms after the request (limit " << limit << " ms, while a request hung 5 s)";
    require(ms <= limit, "cancellation was slow: " + note.str());
    std::this_thread::sleep_for(200ms);
    std::lock_guard lock(rec.mu);
    require(rec.cancel_polls > 0, "is_cancelled was never polled");
    require(rec.late_calls == 0, "a " + rec.late_what + " callback arrived after the cancelled sync returned");
    return note.str();
}

std::string test_progress(const Context &ctx) {
    auto s = setup(ctx);
    Recorder rec;
    conn::Instance in = open_instance(*s.plugin, ctx.config, nullptr);
    conn_error err = conn::make_error();
    conn_status st = run_sync(*s.v, in.get(), rec, nullptr, &err);
    require(st == CONN_OK, "sync failed: " + describe_error(st, err));
    std::lock_guard lock(rec.mu);
    require_none(rec.problems, "");
    require(!rec.progress.empty(), "no progress was reported during a sync");
    for (size_t i = 1; i < rec.progress.size(); ++i) {
        const auto &a = rec.progress[i - 1], &b = rec.progress[i];
        require(b.requests >= a.requests && b.pages >= a.pages && b.resources >= a.resources && b.entitlements >= a.entitlements &&
                    b.grants >= a.grants,
                "progress counts went down between report " + std::to_string(i) + " and " + std::to_string(i + 1) + " (they are cumulative)");
    }
    const auto &last = rec.progress.back();
    require(last.resources <= rec.resources.size() && last.grants <= rec.grants.size(),
            "progress reports more records than were delivered");
    for (const auto &phase : rec.progress_phases) require(!phase.empty(), "a progress report has an empty phase");
    return std::to_string(rec.progress.size()) + " progress reports, last: " + std::to_string(last.requests) + " requests, " +
           std::to_string(last.resources) + " resources";
}

std::string test_concurrent_instances(const Context &ctx) {
    auto s = setup(ctx);
    Truth t = fetch_truth(ctx.sim_admin);
    Recorder ra, rb;
    conn::Instance a = open_instance(*s.plugin, ctx.config, nullptr), b = open_instance(*s.plugin, ctx.config, nullptr);
    conn_status sa = CONN_ERR_INTERNAL, sb = CONN_ERR_INTERNAL;
    conn_error ea = conn::make_error(), eb = conn::make_error();
    std::thread ta([&] { sa = run_sync(*s.v, a.get(), ra, nullptr, &ea); });
    std::thread tb([&] { sb = run_sync(*s.v, b.get(), rb, nullptr, &eb); });
    ta.join();
    tb.join();
    require(sa == CONN_OK, "sync on instance A (concurrent with B) failed: " + describe_error(sa, ea));
    require(sb == CONN_OK, "sync on instance B (concurrent with A) failed: " + describe_error(sb, eb));
    require_none(truth_problems(*s.d, t, ra), "instance A: ");
    require_none(truth_problems(*s.d, t, rb), "instance B: ");
    return "two instances synced at once on two threads, both equal the truth";
}

std::atomic<int> g_poison_warning{0}, g_poison_progress{0};
int32_t poison_warning(void *, conn_str, conn_str) {
    ++g_poison_warning;
    return CONN_SINK_CONTINUE;
}
void poison_progress(void *, const conn_progress *) { ++g_poison_progress; }

std::string test_older_host_sync(const Context &ctx) {
    auto s = setup(ctx);
    Recorder rec, only; // outlive the instance
    conn::Instance in = open_instance(*s.plugin, ctx.config, nullptr);
    conn_sink sink = rec.sink(offsetof(conn_sink, on_warning));
    sink.on_warning = &poison_warning;
    conn_call call = rec.call(offsetof(conn_call, progress));
    call.progress = &poison_progress;
    conn_sync_options options{};
    options.struct_size = offsetof(conn_sync_options, resume_from);
    alignas(8) unsigned char buf[sizeof(conn_sync_result)];
    std::memset(buf, 0xA5, sizeof buf);
    uint32_t size = offsetof(conn_sync_result, warnings);
    std::memcpy(buf, &size, sizeof size);
    conn_error err = conn::make_error();
    rec.begin();
    conn_status st = s.v->sync(in.get(), &call, &options, &sink, reinterpret_cast<conn_sync_result *>(buf), &err);
    rec.end();
    require(st == CONN_OK, "sync with an older host's structs failed: " + describe_error(st, err));
    require(g_poison_warning == 0, "on_warning was called although conn_sink.struct_size says the host does not have it");
    require(g_poison_progress == 0, "progress was called although conn_call.struct_size says the host does not have it");
    for (size_t i = size; i < sizeof buf; ++i) require(buf[i] == 0xA5, "sync wrote past conn_sync_result.struct_size");
    // A sink with only on_resource: other records are dropped, no crash.
    auto partial = conn::make<conn_sink>();
    partial.ctx = &only;
    partial.on_resource = only.sink().on_resource;
    conn_error err2 = conn::make_error();
    st = run_sync(*s.v, in.get(), only, nullptr, &err2, nullptr, &partial);
    require(st == CONN_OK, "sync into a sink with only on_resource failed: " + describe_error(st, err2));
    std::lock_guard lock(only.mu);
    require(!only.resources.empty(), "a sink with only on_resource received no resources");
    return "sink without on_warning, call without progress, smaller sync_result and options, partial sink";
}

}  // namespace

void register_sync_tests(std::vector<TestCase> &out) {
    out.push_back({"sync.matches_truth", Needs::sim, "a full sync equals the simulator's truth: every user (TRAIT_USER type) and group (TRAIT_GROUP type), entitlement <group type>:<gid>:<slug>, and grant <entitlement>:<user type>:<uid> exactly once, well-formed, counts in sync_result", test_truth});
    out.push_back({"sync.repeatable", Needs::sim, "a second sync on the same instance and one on a new instance give the same result", test_repeatable});
    out.push_back({"sync.concurrent_instances", Needs::sim, "operations on different instances run concurrently on different threads: two instances syncing at once both equal the truth", test_concurrent_instances});
    out.push_back({"sync.stop", Needs::service, "a sink answering STOP ends the sync with CONN_ERR_STOPPED promptly (at most 5 further callbacks), nothing after return, and the instance stays usable", test_stop});
    out.push_back({"sync.stop_each_kind", Needs::service, "a sink answering STOP from on_resource, on_entitlement, on_grant and on_warning (the 1st, 2nd, middle and last of each kind a full sync makes) ends the sync at once: CONN_ERR_STOPPED, no further sink callback, nothing after return", test_stop_each_kind});
    out.push_back({"sync.warnings_well_formed", Needs::service, "every on_warning of a full sync has a snake_case code of at most 256 bytes and a one-line UTF-8 message (ABI.md \"Warnings\"); sync_result.warnings equals the calls", test_warnings});
    out.push_back({"sync.no_callback_after_return", Needs::service, "no sink, progress or is_cancelled callback arrives after sync returns (also after STOP); sink callbacks come on the calling thread", test_no_late_callbacks});
    out.push_back({"sync.cancel", Needs::sim_binary, "with every request hanging 5 s (scim-sim --latency-ms 5000), is_cancelled answering 1 makes sync return CONN_ERR_CANCELLED within one second (+0.5 s slack)", test_cancel});
    out.push_back({"sync.progress", Needs::service, "progress is reported during a sync, with cumulative (non-decreasing) counts and a non-empty phase", test_progress});
    out.push_back({"sync.older_host_structs", Needs::service, "an older host's smaller conn_sink (no on_warning), conn_call (no progress), conn_sync_options and conn_sync_result are honoured; NULL sink callbacks drop records", test_older_host_sync});
}

}  // namespace conformance
