#include "plugin_harness.hpp"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <doctest/doctest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <sys/socket.h>
#include <unistd.h>

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

conn_str cs(const std::string &s) { return conn_str{s.data(), s.size()}; }
std::string ss(conn_str s) { return s.size ? std::string(s.data, s.size) : std::string(); }

void CONN_CALL on_log(void *ctx, int32_t level, conn_str message) {
    auto *in = static_cast<Instance *>(ctx);
    std::lock_guard lk(in->log_mu);
    in->log.emplace_back(level, ss(message));
}

conn_error fresh_error() {
    conn_error e{};
    e.struct_size = sizeof e;
    return e;
}

conn_call no_call() {
    conn_call c{};
    c.struct_size = sizeof c;
    return c;
}

Record to_record(const conn_resource *r) {
    Record rec;
    rec.type = ss(r->type);
    rec.id = ss(r->id);
    rec.display_name = ss(r->display_name);
    for (size_t i = 0; i < r->attr_count; ++i) {
        const conn_attr &a = r->attrs[i];
        rec.attrs[ss(a.key)] = a.kind == CONN_ATTR_STRING ? ss(a.str) : std::to_string(a.num);
    }
    return rec;
}

GrantRec to_grant(const conn_grant *g) {
    return GrantRec{ss(g->id), ss(g->entitlement_id), ss(g->principal_type), ss(g->principal_id), g->flags};
}

struct SinkState {
    SyncRun *run = nullptr;
    Outcome *out = nullptr;
    const SyncControls *controls = nullptr;
    bool returned = false;
    int resources = 0;
};

int32_t CONN_CALL sink_resource(void *ctx, const conn_resource *r) {
    auto *s = static_cast<SinkState *>(ctx);
    if (s->returned && s->run) s->run->callback_after_return = true;
    Record rec = to_record(r);
    for (auto &[k, v] : rec.attrs) expect_clean(v, "a resource attribute");
    if (s->run) s->run->resources.push_back(rec);
    if (s->out) s->out->resources.push_back(rec);
    if (s->controls && s->controls->stop_after_resources >= 0 && s->resources++ == s->controls->stop_after_resources)
        return CONN_SINK_STOP;
    return CONN_SINK_CONTINUE;
}
int32_t CONN_CALL sink_entitlement(void *ctx, const conn_entitlement *e) {
    auto *s = static_cast<SinkState *>(ctx);
    if (s->returned && s->run) s->run->callback_after_return = true;
    if (s->run)
        s->run->entitlements.push_back(
            EntRec{ss(e->id), ss(e->resource_type), ss(e->resource_id), ss(e->slug), ss(e->display_name), e->purpose});
    return CONN_SINK_CONTINUE;
}
int32_t CONN_CALL sink_grant(void *ctx, const conn_grant *g) {
    auto *s = static_cast<SinkState *>(ctx);
    if (s->returned && s->run) s->run->callback_after_return = true;
    if (s->run) s->run->grants.push_back(to_grant(g));
    if (s->out) s->out->grants.push_back(to_grant(g));
    return CONN_SINK_CONTINUE;
}
int32_t CONN_CALL sink_warning(void *ctx, conn_str code, conn_str message) {
    auto *s = static_cast<SinkState *>(ctx);
    expect_clean(ss(message), "a sink warning");
    if (s->run) s->run->warnings.emplace_back(ss(code), ss(message));
    return CONN_SINK_CONTINUE;
}

conn_sink make_sink(SinkState &state) {
    conn_sink sink{};
    sink.struct_size = sizeof sink;
    sink.ctx = &state;
    sink.on_resource = &sink_resource;
    sink.on_entitlement = &sink_entitlement;
    sink.on_grant = &sink_grant;
    sink.on_warning = &sink_warning;
    return sink;
}

struct CallState {
    const SyncControls *controls = nullptr;
    SyncRun *run = nullptr;
};
int32_t CONN_CALL call_cancelled(void *ctx) {
    auto *c = static_cast<CallState *>(ctx);
    return c->controls && c->controls->cancel && c->controls->cancel() ? 1 : 0;
}
void CONN_CALL call_progress(void *ctx, const conn_progress *p) {
    auto *c = static_cast<CallState *>(ctx);
    if (!c->run) return;
    c->run->phases.insert(ss(p->phase));
    ++c->run->progress_calls;
}

void check_error_clean(const conn_error &err) {
    expect_clean(std::string(err.message), "conn_error.message");
    expect_clean(std::string(err.field), "conn_error.field");
    CHECK(std::memchr(err.message, '\0', sizeof err.message) != nullptr);
}

}  // namespace

Instance::~Instance() {
    if (inst) Plugin::get().v->instance_destroy(inst);
    for (const auto &line : log_lines()) expect_clean(line, "a log line");
}

conn_status Instance::create(const Entries &config, conn_error &err) {
    std::vector<conn_kv> kvs;
    for (const auto &[k, v] : config) kvs.push_back(conn_kv{cs(k), cs(v)});
    conn_config cfg{};
    cfg.struct_size = sizeof cfg;
    cfg.entries = kvs.data();
    cfg.entry_count = kvs.size();
    host = conn_host{};
    host.struct_size = sizeof host;
    host.ctx = this;
    host.log = &on_log;
    err = fresh_error();
    conn_status st = Plugin::get().v->instance_create(&cfg, &host, &inst, &err);
    check_error_clean(err);
    return st;
}

void Instance::open(const Entries &config) {
    conn_error err{};
    conn_status st = create(config, err);
    REQUIRE_MESSAGE(st == CONN_OK, err.message);
    REQUIRE(inst != nullptr);
}

std::vector<std::string> Instance::log_lines() {
    std::lock_guard lk(log_mu);
    std::vector<std::string> out;
    for (auto &[lvl, line] : log) out.push_back(line);
    return out;
}

SyncRun sync(Instance &in, const SyncControls &controls) {
    SyncRun run;
    SinkState state;
    state.run = &run;
    state.controls = &controls;
    conn_sink sink = make_sink(state);
    CallState cstate{&controls, &run};
    conn_call call = no_call();
    call.ctx = &cstate;
    call.is_cancelled = &call_cancelled;
    call.progress = &call_progress;
    conn_sync_options opts{};
    opts.struct_size = sizeof opts;
    run.result.struct_size = sizeof run.result;
    run.err = fresh_error();
    const auto t0 = std::chrono::steady_clock::now();
    run.status = Plugin::get().v->sync(in.inst, &call, &opts, &sink, &run.result, &run.err);
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    state.returned = true;
    check_error_clean(run.err);
    return run;
}

conn_status check(Instance &in, conn_check_result &result, conn_error &err) {
    conn_call call = no_call();
    result = conn_check_result{};
    result.struct_size = sizeof result;
    err = fresh_error();
    conn_status st = Plugin::get().v->check(in.inst, &call, &result, &err);
    check_error_clean(err);
    expect_clean(std::string(result.message), "conn_check_result.message");
    return st;
}

Outcome create_account(Instance &in, const Entries &fields) {
    Outcome o;
    SinkState state;
    state.out = &o;
    conn_sink sink = make_sink(state);
    std::vector<conn_kv> kvs;
    for (const auto &[k, v] : fields) kvs.push_back(conn_kv{cs(k), cs(v)});
    conn_account_request req{};
    req.struct_size = sizeof req;
    req.fields = kvs.data();
    req.field_count = kvs.size();
    conn_call call = no_call();
    o.err = fresh_error();
    o.status = Plugin::get().v->create_account(in.inst, &call, &req, &sink, &o.outcome, &o.err);
    check_error_clean(o.err);
    return o;
}

Outcome delete_resource(Instance &in, const std::string &type, const std::string &id) {
    Outcome o;
    conn_call call = no_call();
    o.err = fresh_error();
    o.status = Plugin::get().v->delete_resource(in.inst, &call, cs(type), cs(id), &o.outcome, &o.err);
    check_error_clean(o.err);
    return o;
}

Outcome grant(Instance &in, const std::string &entitlement, const std::string &ptype, const std::string &pid) {
    Outcome o;
    SinkState state;
    state.out = &o;
    conn_sink sink = make_sink(state);
    conn_call call = no_call();
    o.err = fresh_error();
    o.status = Plugin::get().v->grant(in.inst, &call, cs(entitlement), cs(ptype), cs(pid), &sink, &o.outcome, &o.err);
    check_error_clean(o.err);
    return o;
}

Outcome revoke(Instance &in, const std::string &entitlement, const std::string &ptype, const std::string &pid) {
    Outcome o;
    conn_call call = no_call();
    o.err = fresh_error();
    o.status = Plugin::get().v->revoke(in.inst, &call, cs(entitlement), cs(ptype), cs(pid), &o.outcome, &o.err);
    check_error_clean(o.err);
    return o;
}

Truth parse_truth(const std::string &state_json) {
    Truth t;
    rapidjson::Document d;
    d.Parse(state_json.c_str());
    REQUIRE_FALSE(d.HasParseError());
    for (const auto &u : d["users"].GetArray()) {
        Truth::User user;
        user.id = u["id"].GetString();
        user.user_name = u["userName"].GetString();
        user.display_name = u.HasMember("displayName") ? u["displayName"].GetString() : "";
        user.active = u["active"].GetBool();
        t.users[user.id] = user;
    }
    for (const auto &g : d["groups"].GetArray()) {
        Truth::Group group;
        group.id = g["id"].GetString();
        group.display_name = g["displayName"].GetString();
        for (const auto &m : g["members"].GetArray()) group.members.emplace_back(m.GetString());
        t.groups[group.id] = group;
    }
    return t;
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

struct ScriptedServer::Impl {
    httplib::Server server;
    std::thread thread;
    std::mutex mu;
    std::vector<std::chrono::steady_clock::time_point> times;
    std::vector<std::string> auths;
};

ScriptedServer::ScriptedServer(Handler handler) : impl_(new Impl) {
    auto serve = [this, handler](const httplib::Request &req, httplib::Response &res) {
        int nth = 0;
        {
            std::lock_guard lk(impl_->mu);
            impl_->times.push_back(std::chrono::steady_clock::now());
            impl_->auths.push_back(req.get_header_value("Authorization"));
            nth = count_++;
        }
        std::string target = req.path;
        if (!req.params.empty()) {
            target += '?';
            bool first = true;
            for (const auto &[k, v] : req.params) {
                if (!first) target += '&';
                first = false;
                target += k + "=" + v;
            }
        }
        Reply r = handler(req.method, target, nth);
        if (r.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(r.delay_ms));
        res.status = r.status;
        for (const auto &[k, v] : r.headers) res.set_header(k, v);
        res.set_content(r.body, r.content_type);
    };
    impl_->server.Get(".*", serve);
    impl_->server.Post(".*", serve);
    impl_->server.Patch(".*", serve);
    impl_->server.Delete(".*", serve);
    port_ = impl_->server.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
    // stop() only stops a server that is running: wait until the accept loop has started (bounded).
    for (int i = 0; i < 500 && !impl_->server.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(impl_->server.is_running());
}

ScriptedServer::~ScriptedServer() {
    impl_->server.stop();
    if (impl_->thread.joinable()) impl_->thread.join();
    delete impl_;
}

std::string ScriptedServer::url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/scim/v2"; }

std::vector<std::chrono::steady_clock::time_point> ScriptedServer::request_times() {
    std::lock_guard lk(impl_->mu);
    return impl_->times;
}

std::vector<std::string> ScriptedServer::authorization_headers() {
    std::lock_guard lk(impl_->mu);
    return impl_->auths;
}

int closed_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len) == 0);
    const int port = ntohs(addr.sin_port);
    ::close(fd);  // never listened: connections to it are refused
    return port;
}

}  // namespace harness
