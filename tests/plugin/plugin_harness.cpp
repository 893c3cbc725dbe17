#include "plugin_harness.hpp"

#include <dlfcn.h>
#include <doctest/doctest.h>

#include <cstring>

namespace harness {

Plugin &Plugin::get() {
    static Plugin p = [] {
        Plugin q;
        q.handle = dlopen(CLAUDE_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
        REQUIRE_MESSAGE(q.handle != nullptr, dlerror());
        auto fn = reinterpret_cast<conn_plugin_entry_fn>(dlsym(q.handle, CONN_ENTRY_SYMBOL));
        REQUIRE(static_cast<bool>(fn));
        uint32_t minor = CONN_ABI_VERSION_MINOR;
        q.entry = fn(CONN_ABI_VERSION_MAJOR, &minor);
        REQUIRE(q.entry != nullptr);
        REQUIRE(q.entry->init() == CONN_OK);
        q.v = static_cast<const conn_connector_v1 *>(q.entry->get_interface(CONN_IFACE_CONNECTOR_V1));
        REQUIRE(q.v != nullptr);
        return q;
    }();
    return p;
}

void expect_clean(const std::string &text, const char *what) {
    CHECK_MESSAGE(text.find(kToken) == std::string::npos, what, " leaked the token: ", "(text withheld)");
    CHECK_MESSAGE(text.find(kWrongToken) == std::string::npos, what, " leaked the wrong token");
}

Entries config_for(const std::string &url, const std::string &token, Entries extra) {
    Entries e{{"scim-url", url}, {"scim-token", token}};
    for (auto &kv : extra) e.push_back(std::move(kv));
    return e;
}

namespace {

using plugin_test::str;

void CONN_CALL on_log(void *ctx, int32_t level, conn_str message) {
    auto *in = static_cast<Instance *>(ctx);
    std::lock_guard lk(in->log_mu);
    in->log.emplace_back(level, str(message));
}

// What a sink records, for a sync (run) or a single operation (out); every text is checked for the tokens.
struct SinkState {
    SyncRun *run = nullptr;
    Outcome *out = nullptr;
    const SyncControls *controls = nullptr;
    bool returned = false;
    int resources = 0;
    int grants = 0;
    plugin_test::SinkHandlers handlers;

    SinkState(SyncRun *r, Outcome *o, const SyncControls *c) : run(r), out(o), controls(c) {
        handlers.resource = [this](Record &&rec) {
            note_callback();
            for (auto &[k, v] : rec.attrs) expect_clean(v, "a resource attribute");
            if (run) run->resources.push_back(rec);
            if (out) out->resources.push_back(rec);
            if (controls && controls->stop_after_resources >= 0 && resources++ == controls->stop_after_resources)
                return CONN_SINK_STOP;
            return CONN_SINK_CONTINUE;
        };
        handlers.entitlement = [this](EntRec &&e) {
            note_callback();
            if (run) run->entitlements.push_back(std::move(e));
            return CONN_SINK_CONTINUE;
        };
        handlers.grant = [this](GrantRec &&g) {
            note_callback();
            if (run) run->grants.push_back(g);
            if (out) out->grants.push_back(g);
            if (controls && controls->stop_after_grants >= 0 && grants++ == controls->stop_after_grants)
                return CONN_SINK_STOP;
            return CONN_SINK_CONTINUE;
        };
        handlers.warning = [this](const std::string &code, const std::string &message) {
            expect_clean(message, "a sink warning");
            if (run) run->warnings.emplace_back(code, message);
            return CONN_SINK_CONTINUE;
        };
        if (controls && controls->take_checkpoints) handlers.checkpoint = [this](const std::string &token) {
            note_callback();
            expect_clean(token, "a checkpoint token");
            if (!run) return CONN_SINK_CONTINUE;
            run->checkpoints.push_back({token, run->resources.size(), run->entitlements.size(), run->grants.size()});
            const bool stop = controls->stop_at_checkpoint >= 0 &&
                              static_cast<int>(run->checkpoints.size()) == controls->stop_at_checkpoint + 1;
            return stop ? CONN_SINK_STOP : CONN_SINK_CONTINUE;
        };
    }
    SinkState(const SinkState &) = delete;
    SinkState &operator=(const SinkState &) = delete;
    void note_callback() {
        if (returned && run) run->callback_after_return = true;
    }
    conn_sink sink() { return plugin_test::make_sink(handlers); }
};

// A conn_call without callbacks (the plugin must do without them).
conn_call no_call() {
    auto c = conn::make<conn_call>();
    return c;
}

void check_error_clean(const conn_error &err) {
    expect_clean(std::string(err.message), "conn_error.message");
    expect_clean(std::string(err.field), "conn_error.field");
    CHECK(std::memchr(err.message, '\0', sizeof err.message) != nullptr);
}

}  // namespace

Instance::~Instance() {
    inst.reset();
    for (const auto &line : log_lines()) expect_clean(line, "a log line");
}

conn_status Instance::create(const Entries &config, conn_error &err) {
    conn_status st = plugin_test::create_instance(*Plugin::get().v, config, host, this, &on_log, inst, err);
    check_error_clean(err);
    return st;
}

void Instance::open(const Entries &config) {
    conn_error err{};
    conn_status st = create(config, err);
    REQUIRE_MESSAGE(st == CONN_OK, err.message);
    REQUIRE(inst);
}

std::vector<std::string> Instance::log_lines() {
    std::lock_guard lk(log_mu);
    std::vector<std::string> out;
    for (auto &[lvl, line] : log) out.push_back(line);
    return out;
}

SyncRun sync(Instance &in, const SyncControls &controls) {
    SyncRun run;
    SinkState state(&run, nullptr, &controls);
    conn_sink sink = state.sink();
    plugin_test::CallHandlers calls;
    calls.cancelled = [&controls] { return controls.cancel && controls.cancel(); };
    calls.progress = [&run](const conn_progress &p) {
        run.phases.insert(str(p.phase));
        ++run.progress_calls;
    };
    conn_call call = plugin_test::make_call(calls);
    const auto t0 = std::chrono::steady_clock::now();
    run.status =
        plugin_test::run_sync(*Plugin::get().v, in.inst.get(), call, sink, run.result, run.err, controls.resume_from);
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    state.returned = true;
    check_error_clean(run.err);
    return run;
}

SyncRun joined_at(const SyncRun &stopped, size_t at, const SyncRun &resumed) {
    const CheckpointAt &c = stopped.checkpoints.at(at);
    SyncRun all = resumed;
    const auto prefix = [](const auto &from, size_t n, auto &to, const auto &rest) {
        to.assign(from.begin(), from.begin() + static_cast<long>(n));
        to.insert(to.end(), rest.begin(), rest.end());
    };
    prefix(stopped.resources, c.resources, all.resources, resumed.resources);
    prefix(stopped.entitlements, c.entitlements, all.entitlements, resumed.entitlements);
    prefix(stopped.grants, c.grants, all.grants, resumed.grants);
    all.result.resources = all.resources.size();
    all.result.entitlements = all.entitlements.size();
    all.result.grants = all.grants.size();
    return all;
}

conn_status check(Instance &in, conn_check_result &result, conn_error &err) {
    conn_status st = plugin_test::run_check(*Plugin::get().v, in.inst.get(), no_call(), result, err);
    check_error_clean(err);
    expect_clean(std::string(result.message), "conn_check_result.message");
    return st;
}

Outcome create_account(Instance &in, const Entries &fields) {
    Outcome o;
    SinkState state(nullptr, &o, nullptr);
    o.status = plugin_test::run_create_account(*Plugin::get().v, in.inst.get(), no_call(), fields, state.sink(), o.outcome, o.err);
    check_error_clean(o.err);
    return o;
}

Outcome delete_resource(Instance &in, const std::string &type, const std::string &id) {
    Outcome o;
    o.status = plugin_test::run_delete_resource(*Plugin::get().v, in.inst.get(), no_call(), type, id, o.outcome, o.err);
    check_error_clean(o.err);
    return o;
}

Outcome grant(Instance &in, const std::string &entitlement, const std::string &ptype, const std::string &pid) {
    Outcome o;
    SinkState state(nullptr, &o, nullptr);
    o.status = plugin_test::run_grant(*Plugin::get().v, in.inst.get(), no_call(), entitlement, ptype, pid, state.sink(),
                                      o.outcome, o.err);
    check_error_clean(o.err);
    return o;
}

Outcome revoke(Instance &in, const std::string &entitlement, const std::string &ptype, const std::string &pid) {
    Outcome o;
    o.status = plugin_test::run_revoke(*Plugin::get().v, in.inst.get(), no_call(), entitlement, ptype, pid, o.outcome, o.err);
    check_error_clean(o.err);
    return o;
}

void expect_sync_equals_truth(const SyncRun &run, const Truth &truth,
                              const std::function<bool(const std::string &)> &skip_user) {
    REQUIRE_MESSAGE(run.status == CONN_OK, run.err.message);
    CHECK_FALSE(run.callback_after_return);
    auto skipped = [&](const std::string &uid) {
        auto it = truth.users.find(uid);
        return skip_user && it != truth.users.end() && skip_user(it->second.user_name);
    };
    // Users: exactly the truth's (minus skipped), each once, with login, display name and status.
    std::map<std::string, int> seen;
    std::set<std::string> users_synced;
    for (const auto &r : run.resources) {
        ++seen[r.type + "/" + r.id];
        if (r.type == "user") {
            if (skip_user && skip_user(r.attrs.count("login") ? r.attrs.at("login") : "")) continue;
            users_synced.insert(r.id);
            auto it = truth.users.find(r.id);
            CHECK_MESSAGE(it != truth.users.end(), "synced user not in the truth: ", r.id);
            if (it == truth.users.end()) continue;
            CHECK(r.attrs.at("login") == it->second.user_name);
            CHECK(r.display_name == it->second.display_name);
            CHECK(r.attrs.at("status") == (it->second.active ? "active" : "disabled"));
        } else {
            REQUIRE(r.type == "group");
            auto it = truth.groups.find(r.id);
            CHECK_MESSAGE(it != truth.groups.end(), "synced group not in the truth: ", r.id);
            if (it == truth.groups.end()) continue;
            CHECK(r.display_name == it->second.display_name);
            CHECK(r.attrs.at("member_count") == std::to_string(it->second.members.size()));
        }
    }
    for (const auto &entry : seen) CHECK_MESSAGE(entry.second == 1, "delivered more than once: ", entry.first);
    std::set<std::string> truth_users;
    for (const auto &[id, u] : truth.users)
        if (!skipped(id)) truth_users.insert(id);
    CHECK(users_synced == truth_users);
    size_t groups_synced = 0;
    for (const auto &r : run.resources) groups_synced += r.type == "group";
    CHECK(groups_synced == truth.groups.size());

    // Entitlements: one per group.
    std::set<std::string> ents;
    for (const auto &e : run.entitlements) {
        CHECK(e.resource_type == "group");
        CHECK(e.slug == "member");
        CHECK(e.purpose == CONN_PURPOSE_ASSIGNMENT);
        CHECK(e.id == "group:" + e.resource_id + ":member");
        CHECK(ents.insert(e.id).second);
    }
    CHECK(ents.size() == truth.groups.size());

    // Grants: every membership exactly once, nothing else.
    std::set<std::pair<std::string, std::string>> expected, got;
    for (const auto &[gid, g] : truth.groups)
        for (const auto &m : g.members)
            if (!skipped(m)) expected.emplace(gid, m);
    std::set<std::string> grant_ids;
    for (const auto &gr : run.grants) {
        CHECK(grant_ids.insert(gr.id).second);
        const std::string gid = gr.entitlement_id.substr(6, gr.entitlement_id.size() - 6 - 7);
        CHECK(gr.id == gr.entitlement_id + ":" + gr.principal_type + ":" + gr.principal_id);
        if (skipped(gr.principal_id)) continue;
        got.emplace(gid, gr.principal_id);
        const bool is_group = truth.groups.count(gr.principal_id) > 0;
        CHECK(gr.principal_type == (is_group ? "group" : "user"));
        CHECK(gr.flags == 0u);
    }
    CHECK(got == expected);
    CHECK(run.result.resources == run.resources.size());
    CHECK(run.result.grants == run.grants.size());
    CHECK(run.result.entitlements == run.entitlements.size());
    CHECK(run.result.unresolved_principals == 0);
}

// ---- scripted server ----------------------------------------------------------------------------------------

ScriptedServer::ScriptedServer(Handler handler)
    : server_([handler = std::move(handler)](const plugin_test::Req &req) {
          return handler(req.method, req.path_and_query, req.nth);
      }) {}

std::vector<std::chrono::steady_clock::time_point> ScriptedServer::request_times() const {
    std::vector<std::chrono::steady_clock::time_point> times;
    for (const auto &req : server_.requests()) times.push_back(req.received);
    return times;
}

std::vector<std::string> ScriptedServer::authorization_headers() const {
    std::vector<std::string> auths;
    for (const auto &req : server_.requests()) auths.push_back(req.authorization);
    return auths;
}

}  // namespace harness
