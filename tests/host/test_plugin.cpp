// A small, well-behaved connector plugin for the connector-host tests (it can be told to misbehave with
// the config field `mode`). Synthetic data, deterministic: users u1..uN, groups g1..gM, user ui is a member
// of group g((i-1) % M + 1), plus one member that names no user (flagged unresolved, with a warning).
// Mode "roles" adds role r1, held by group g1 (so by its members, through the group) and by user u2.
// Tokens starting with "good" are accepted; anything else is refused as unauthenticated.
// Built twice: host-test, and host-test-ckpt (HOST_TEST_CHECKPOINT) that declares CONN_CAP_CHECKPOINT, emits
// checkpoints and resumes from them (see "The checkpoint build" below).
#include <connector/connector_abi.h>
#include <connector/connector_abi.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

conn_status fail(conn_error *err, conn_status st, const char *field, const std::string &msg, int http = 0) {
    if (err != nullptr && err->struct_size >= sizeof(conn_error)) {
        err->status = st;
        err->http_status = http;
        std::snprintf(err->field, sizeof err->field, "%s", field);
        std::snprintf(err->message, sizeof err->message, "%s", msg.c_str());
    }
    return st;
}

std::string str(conn_str s) { return std::string(conn::view(s)); }

const conn_field f_url{sizeof(conn_field), CONN_FIELD_REQUIRED, CONN_FIELD_URL, 0, "service-url", "Service URL",
                       "Where the service lives.", nullptr, "https://example.com/api"};
const conn_field f_token{sizeof(conn_field), CONN_FIELD_REQUIRED | CONN_FIELD_SECRET, CONN_FIELD_STRING, 0, "api-token",
                         "API token", "Bearer token.", nullptr, nullptr};
const conn_field f_users{sizeof(conn_field), 0, CONN_FIELD_INT, 0, "users", "Users", "How many users.", "3", nullptr};
const conn_field f_groups{sizeof(conn_field), 0, CONN_FIELD_INT, 0, "groups", "Groups", "How many groups.", "2", nullptr};
const conn_field f_mode{sizeof(conn_field), 0, CONN_FIELD_STRING, 0, "mode", "Mode", "How to (mis)behave.", "normal", nullptr};
const conn_field f_delay{sizeof(conn_field), 0, CONN_FIELD_INT, 0, "delay-ms", "Delay", "Pause per record.", "0", nullptr};
const conn_field *const config_fields[] = {&f_url, &f_token, &f_users, &f_groups, &f_mode, &f_delay};

const conn_field a_email{sizeof(conn_field), CONN_FIELD_REQUIRED, CONN_FIELD_EMAIL, 0, "email", "Email", "Email.", nullptr, nullptr};
const conn_field a_name{sizeof(conn_field), CONN_FIELD_REQUIRED, CONN_FIELD_STRING, 0, "display_name", "Name", "Full name.", nullptr, nullptr};
const conn_field *const account_fields[] = {&a_email, &a_name};

const char *const to_users[] = {"user"};
const conn_entitlement_type member{sizeof(conn_entitlement_type), CONN_PURPOSE_ASSIGNMENT,
                                   CONN_ENT_GRANTABLE | CONN_ENT_REVOCABLE, 1, "member", "Member", "Group member.", to_users};
const conn_entitlement_type *const group_ents[] = {&member};
const conn_resource_type rt_user{sizeof(conn_resource_type), CONN_TRAIT_USER, CONN_RT_SYNC | CONN_RT_CREATE | CONN_RT_DELETE,
                                 0, "user", "User", "A person.", nullptr};
const conn_resource_type rt_group{sizeof(conn_resource_type), CONN_TRAIT_GROUP, CONN_RT_SYNC, 1, "group", "Group",
                                  "A group of users.", group_ents};
const char *const to_users_and_groups[] = {"user", "group"};
const conn_entitlement_type assigned{sizeof(conn_entitlement_type), CONN_PURPOSE_ASSIGNMENT, 0, 2, "assigned", "Assigned",
                                     "Holds the role.", to_users_and_groups};
const conn_entitlement_type *const role_ents[] = {&assigned};
const conn_resource_type rt_role{sizeof(conn_resource_type), CONN_TRAIT_ROLE, CONN_RT_SYNC, 1, "role", "Role",
                                 "A role, held by users or by groups (mode roles).", role_ents};
const conn_resource_type *const types[] = {&rt_user, &rt_group, &rt_role};
#ifdef HOST_TEST_CHECKPOINT
constexpr uint32_t kCheckpointCap = CONN_CAP_CHECKPOINT;
constexpr const char *kPluginId = "host-test-ckpt";
#else
constexpr uint32_t kCheckpointCap = 0;
constexpr const char *kPluginId = "host-test";
#endif
const conn_descriptor descriptor{sizeof(conn_descriptor), CONN_ABI_VERSION_MAJOR, CONN_ABI_VERSION_MINOR,
                                 CONN_CAP_CHECK | CONN_CAP_SYNC | CONN_CAP_CREATE_ACCOUNT | CONN_CAP_DELETE |
                                     CONN_CAP_GRANT | CONN_CAP_REVOKE | kCheckpointCap,
                                 kPluginId, "Host test plugin", "1.2.3", "Synthetic directory for host tests.",
                                 "tests", nullptr, 3, 6, 2, 0, types, config_fields, account_fields};

std::atomic<bool> initialised{false};

}  // namespace

struct conn_instance {
    std::string url, token, mode = "normal";
    long users = 3, groups = 2, delay_ms = 0;
    conn_host host{};
    void log(int32_t level, const std::string &msg) const {
        if (host.log != nullptr) host.log(host.ctx, level, conn::str(msg));
    }
};

namespace {

bool cancelled(const conn_call *call) {
    return call != nullptr && call->is_cancelled != nullptr && call->is_cancelled(call->ctx) != 0;
}

// Sleeps ms, polling cancellation every 10 ms; true when cancelled.
bool pause(const conn_instance *in, const conn_call *call, long ms) {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < end) {
        if (in->mode != "hang" && cancelled(call)) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return in->mode != "hang" && cancelled(call);
}

const conn_descriptor *CONN_CALL describe() { return &descriptor; }

conn_status CONN_CALL create(const conn_config *cfg, const conn_host *host, conn_instance **out, conn_error *err) {
    if (out == nullptr) return fail(err, CONN_ERR_INVALID_ARGUMENT, "out", "out is NULL");
    *out = nullptr;
    if (cfg == nullptr) return fail(err, CONN_ERR_INVALID_ARGUMENT, "config", "config is NULL");
    auto *in = new conn_instance();
    if (host != nullptr) in->host = *host;
    for (size_t i = 0; i < cfg->entry_count; ++i) {
        std::string k = str(cfg->entries[i].key), v = str(cfg->entries[i].value);
        try {
            if (k == "service-url") in->url = v;
            else if (k == "api-token") in->token = v;
            else if (k == "users") in->users = std::stol(v);
            else if (k == "groups") in->groups = std::stol(v);
            else if (k == "mode") in->mode = v;
            else if (k == "delay-ms") in->delay_ms = std::stol(v);
            else {
                delete in;
                return fail(err, CONN_ERR_INVALID_CONFIG, "", "unknown config field " + k);
            }
        } catch (...) {
            delete in;
            return fail(err, CONN_ERR_INVALID_CONFIG, "", "config field " + k + " must be a number");
        }
    }
    if (in->url.rfind("http", 0) != 0) {
        delete in;
        return fail(err, CONN_ERR_INVALID_CONFIG, "service-url", "service-url must be an http(s) URL");
    }
    if (in->token.empty()) {
        delete in;
        return fail(err, CONN_ERR_INVALID_CONFIG, "api-token", "api-token is required");
    }
    if (in->mode == "log-secret") in->log(CONN_LOG_WARN, "careless plugin: token is " + in->token);
    in->log(CONN_LOG_INFO, "instance created for " + in->url);
    *out = in;
    return CONN_OK;
}

void CONN_CALL destroy(conn_instance *in) { delete in; }

conn_status auth(const conn_instance *in, conn_error *err) {
    if (in->token.rfind("good", 0) == 0) return CONN_OK;
    std::string msg = "the service refused the token";
    if (in->mode == "log-secret") msg += " " + in->token; // a careless plugin: the host must scrub it
    return fail(err, CONN_ERR_UNAUTHENTICATED, "api-token", msg, 401);
}

conn_status CONN_CALL check(conn_instance *in, const conn_call *, conn_check_result *res, conn_error *err) {
    if (conn_status st = auth(in, err); st != CONN_OK) return st;
    if (res != nullptr && res->struct_size >= sizeof(conn_check_result)) {
        res->user_count = in->users;
        std::snprintf(res->message, sizeof res->message, "authenticated to %s", in->url.c_str());
    }
    return CONN_OK;
}

// Modes that add warnings: "incomplete" (one incomplete_listing), "noisy" (1000 more unresolved_member
// warnings, each also logged at warn level, as the real plugin does), "hostile-text" (C1 and bidi controls).
conn_status extra_warnings(const conn_instance *in, const conn_sink *sink, conn_error *err) {
    auto warn = [&](const std::string &code, const std::string &message) {
        return sink->on_warning == nullptr || sink->on_warning(sink->ctx, conn::str(code), conn::str(message)) == CONN_SINK_CONTINUE;
    };
    bool ok = true;
    if (in->mode == "incomplete")
        ok = warn("incomplete_listing", "the group list was cut short: some grants may be missing");
    if (in->mode == "noisy")
        for (int i = 0; i < 1000 && ok; ++i) {
            std::string message = "group g1 names member x" + std::to_string(i) + ", who is no user";
            in->log(CONN_LOG_WARN, message);
            ok = warn("unresolved_member", message);
        }
    if (in->mode == "hostile-text") {
        in->log(CONN_LOG_WARN, "log \xC2\x9B" "31m \xE2\x80\xAE evil \xE2\x81\xA6 \xD8\x9C \xE2\x80\x8F");
        ok = warn("odd_text", "warn \xC2\x85 \xE2\x80\xAE" "desrever\xE2\x80\xAC");
    }
    return ok ? CONN_OK : fail(err, CONN_ERR_STOPPED, "", "stopped by the sink");
}

struct RecordCounts {
    uint64_t resources = 0, entitlements = 0, grants = 0;
};

// Mode "roles": role r1 with the entitlement role:r1:assigned, granted to group g1 (so every member of g1
// holds it through the group) and directly to user u2. False when the sink stopped the sync.
bool emit_roles(const conn_sink *sink, RecordCounts &n) {
    auto r = conn::make<conn_resource>();
    r.type = conn::str("role");
    r.id = conn::str("r1");
    r.display_name = conn::str("Workspace admin");
    if (sink->on_resource && sink->on_resource(sink->ctx, &r) != CONN_SINK_CONTINUE) return false;
    ++n.resources;
    auto e = conn::make<conn_entitlement>();
    e.purpose = CONN_PURPOSE_ASSIGNMENT;
    e.id = conn::str("role:r1:assigned");
    e.resource_type = conn::str("role");
    e.resource_id = conn::str("r1");
    e.slug = conn::str("assigned");
    e.display_name = conn::str("Workspace admin assigned");
    if (sink->on_entitlement && sink->on_entitlement(sink->ctx, &e) != CONN_SINK_CONTINUE) return false;
    ++n.entitlements;
    for (auto [ptype, pid] : {std::pair{"group", "g1"}, std::pair{"user", "u2"}}) {
        const std::string id = std::string("role:r1:assigned:") + ptype + ":" + pid;
        auto g = conn::make<conn_grant>();
        g.id = conn::str(id);
        g.entitlement_id = conn::str("role:r1:assigned");
        g.principal_type = conn::str(ptype);
        g.principal_id = conn::str(pid);
        if (sink->on_grant && sink->on_grant(sink->ctx, &g) != CONN_SINK_CONTINUE) return false;
        ++n.grants;
    }
    return true;
}

// One step of the sync: the record at `index` of the fixed order (groups: resource then entitlement; users:
// resource then grant; the ghost's grant, then its warning). False when the sink stopped the sync.
struct SyncState {
    conn_instance *in;
    const conn_call *call;
    const conn_sink *sink;
    uint64_t nres = 0, nent = 0, ngr = 0, pages = 0;
};

uint64_t record_total(const conn_instance *in) {
    return 2 * static_cast<uint64_t>(in->groups) + 2 * static_cast<uint64_t>(in->users) + (in->groups >= 1 ? 2 : 0);
}

void report_progress(SyncState &s, const char *phase) {
    ++s.pages;
    if (s.call == nullptr || s.call->progress == nullptr) return;
    auto p = conn::make<conn_progress>();
    p.phase = conn::str(phase);
    p.requests = s.pages;
    p.pages = s.pages;
    p.resources = s.nres;
    p.entitlements = s.nent;
    p.grants = s.ngr;
    s.call->progress(s.call->ctx, &p);
}

// A resource of the given type; the strings and attributes must outlive the call it is passed to.
conn_resource resource_of(const char *type, const std::string &id, const std::string &name, const conn_attr *attrs,
                          size_t count) {
    auto r = conn::make<conn_resource>();
    r.type = conn::str(type);
    r.id = conn::str(id);
    r.display_name = conn::str(name);
    r.attrs = attrs;
    r.attr_count = count;
    return r;
}

bool emit_group(SyncState &s, long gi, bool entitlement) {
    const conn_instance *in = s.in;
    std::string gid = "g" + std::to_string(gi), name = "Group " + std::to_string(gi);
    if (entitlement) {
        std::string eid = "group:" + gid + ":member", ename = name + " member";
        auto e = conn::make<conn_entitlement>();
        e.purpose = CONN_PURPOSE_ASSIGNMENT;
        e.id = conn::str(eid);
        e.resource_type = conn::str("group");
        e.resource_id = conn::str(gid);
        e.slug = conn::str("member");
        e.display_name = conn::str(ename);
        if (s.sink->on_entitlement && s.sink->on_entitlement(s.sink->ctx, &e) != CONN_SINK_CONTINUE) return false;
        ++s.nent;
        report_progress(s, "groups");
        return true;
    }
    long members = 0;
    for (long u = 1; u <= in->users; ++u)
        if ((u - 1) % in->groups + 1 == gi) ++members;
    if (gi == 1) ++members; // the ghost
    conn_attr attrs[1] = {};
    attrs[0].key = conn::str("member_count");
    attrs[0].kind = CONN_ATTR_INT;
    attrs[0].num = members;
    const conn_resource r = resource_of("group", gid, name, attrs, 1);
    if (s.sink->on_resource && s.sink->on_resource(s.sink->ctx, &r) != CONN_SINK_CONTINUE) return false;
    ++s.nres;
    return true;
}

bool emit_user_resource(SyncState &s, long u) {
    const conn_instance *in = s.in;
    const conn_sink *sink = s.sink;
    std::string uid = "u" + std::to_string(u), login = "user" + std::to_string(u) + "@example.com";
    std::string name = "User " + std::to_string(u);
    if (u == 1) name = "Zoë \"Quote\" O'Brien";
    if (u == 2 && in->mode == "hostile-text") name = "C1 \xC2\x85\xC2\x9B bidi \xE2\x80\xAEgnp.exe\xE2\x80\xAC";
    conn_attr attrs[4] = {};
    attrs[0].key = conn::str("login"); attrs[0].kind = CONN_ATTR_STRING; attrs[0].str = conn::str(login);
    attrs[1].key = conn::str("email"); attrs[1].kind = CONN_ATTR_STRING; attrs[1].str = conn::str(login);
    attrs[2].key = conn::str("status"); attrs[2].kind = CONN_ATTR_STRING; attrs[2].str = conn::str(u % 5 == 0 ? "disabled" : "active");
    attrs[3].key = conn::str("admin"); attrs[3].kind = CONN_ATTR_BOOL; attrs[3].num = u == 1 ? 1 : 0;
    std::string bad = "bad\xC3\x28utf8";
    if (in->mode == "bad-utf8" && u == 2) name = bad;
    if (in->mode == "bad-attr-kind" && u == 2) attrs[3].kind = 7;
    const conn_resource r = resource_of(in->mode == "unknown-type" && u == 2 ? "robot" : "user", uid, name, attrs, 4);
    int32_t answer;
    if (in->mode == "wrong-thread" && u == 2) {
        std::thread t([&] { answer = sink->on_resource(sink->ctx, &r); });
        t.join();
    } else {
        answer = sink->on_resource ? sink->on_resource(sink->ctx, &r) : CONN_SINK_CONTINUE;
    }
    if (answer != CONN_SINK_CONTINUE) return false;
    ++s.nres;
    return true;
}

bool emit_user_grant(SyncState &s, long u) {
    std::string uid = "u" + std::to_string(u);
    std::string gid = "g" + std::to_string((u - 1) % s.in->groups + 1);
    std::string eid = "group:" + gid + ":member", grid = eid + ":user:" + uid;
    auto g = conn::make<conn_grant>();
    g.id = conn::str(grid);
    g.entitlement_id = conn::str(eid);
    g.principal_type = conn::str("user");
    g.principal_id = conn::str(uid);
    if (s.sink->on_grant && s.sink->on_grant(s.sink->ctx, &g) != CONN_SINK_CONTINUE) return false;
    ++s.ngr;
    if (u % 2 == 0) report_progress(s, "users");
    return true;
}

// A member naming no user: flagged, with a warning.
bool emit_ghost(SyncState &s, bool warning) {
    const conn_sink *sink = s.sink;
    if (warning)
        return !sink->on_warning ||
               sink->on_warning(sink->ctx, conn::str("unresolved_member"),
                                conn::str("group g1 names member ghost, who is no user")) == CONN_SINK_CONTINUE;
    std::string gh = "group:g1:member:user:ghost";
    auto g = conn::make<conn_grant>();
    g.flags = CONN_GRANT_UNRESOLVED_PRINCIPAL;
    g.id = conn::str(gh);
    g.entitlement_id = conn::str("group:g1:member");
    g.principal_type = conn::str("user");
    g.principal_id = conn::str("ghost");
    if (sink->on_grant && sink->on_grant(sink->ctx, &g) != CONN_SINK_CONTINUE) return false;
    ++s.ngr;
    return true;
}

bool emit_record(SyncState &s, uint64_t index) {
    const uint64_t group_records = 2 * static_cast<uint64_t>(s.in->groups);
    if (index < group_records) return emit_group(s, static_cast<long>(index / 2 + 1), index % 2 == 1);
    index -= group_records;
    const uint64_t user_records = 2 * static_cast<uint64_t>(s.in->users);
    if (index < user_records) {
        const long u = static_cast<long>(index / 2 + 1);
        return index % 2 == 0 ? emit_user_resource(s, u) : emit_user_grant(s, u);
    }
    return emit_ghost(s, index > user_records);
}

// A step (cancellation, the per-record delay) comes before each group and each user.
bool starts_step(const conn_instance *in, uint64_t index) {
    return index % 2 == 0 && index < 2 * static_cast<uint64_t>(in->groups + in->users);
}

conn_status step(const conn_instance *in, const conn_call *call, conn_error *err) {
    if (cancelled(call) && in->mode != "hang") return fail(err, CONN_ERR_CANCELLED, "", "cancelled");
    if (in->delay_ms > 0 && pause(in, call, in->delay_ms)) return fail(err, CONN_ERR_CANCELLED, "", "cancelled");
    return CONN_OK;
}

#ifdef HOST_TEST_CHECKPOINT
// The checkpoint build (id host-test-ckpt): a checkpoint every K records (TESTPLUGIN_CHECKPOINT_EVERY,
// default 3) and at the end of the groups, token "tp1.<records delivered>.<config fingerprint>". Knobs read
// from the environment (not config, so the host's fingerprint is the same with and without them), each an
// offset in the whole sync: TESTPLUGIN_DIE_AFTER (abort(), the host dies with the plugin),
// TESTPLUGIN_FAIL_AFTER (the sync fails, transient), TESTPLUGIN_SLEEP_AFTER (waits TESTPLUGIN_SLEEP_MS,
// default 60 s, or until cancelled, so a test can signal or kill the host there).
uint64_t env_number(const char *name, uint64_t fallback) {
    const char *v = std::getenv(name);
    return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

std::string config_fingerprint(const conn_instance *in) {
    const std::string text = in->url + "|" + std::to_string(in->users) + "|" + std::to_string(in->groups) + "|" + in->mode;
    uint64_t hash = 14695981039346656037ULL;
    for (unsigned char c : text) hash = (hash ^ c) * 1099511628211ULL;
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
    return hex;
}

conn_status resume_offset(const conn_instance *in, const conn_sync_options *opts, uint64_t &offset, conn_error *err) {
    offset = 0;
    if (opts == nullptr || opts->resume_from.size == 0) return CONN_OK;
    const std::string token = str(opts->resume_from);
    const std::string tail = "." + config_fingerprint(in);
    const bool shaped = token.rfind("tp1.", 0) == 0 && token.size() > 4 + tail.size() &&
                        token.compare(token.size() - tail.size(), tail.size(), tail) == 0;
    const std::string digits = shaped ? token.substr(4, token.size() - 4 - tail.size()) : "";
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 12)
        return fail(err, CONN_ERR_INVALID_ARGUMENT, "resume_from", "the checkpoint token is not one of this plugin's for this config");
    offset = std::stoull(digits);
    if (offset > record_total(in)) return fail(err, CONN_ERR_INVALID_ARGUMENT, "resume_from", "the checkpoint token is out of range");
    return CONN_OK;
}

conn_status after_record(SyncState &s, uint64_t done, conn_error *err) {
    const uint64_t every = env_number("TESTPLUGIN_CHECKPOINT_EVERY", 3);
    const bool boundary = done == 2 * static_cast<uint64_t>(s.in->groups);
    if (done < record_total(s.in) && ((every > 0 && done % every == 0) || boundary) && s.sink->on_checkpoint) {
        const std::string token = "tp1." + std::to_string(done) + "." + config_fingerprint(s.in);
        if (s.sink->on_checkpoint(s.sink->ctx, conn::str(token)) != CONN_SINK_CONTINUE)
            return fail(err, CONN_ERR_STOPPED, "", "stopped by the sink");
    }
    if (done == env_number("TESTPLUGIN_DIE_AFTER", 0)) std::abort();
    if (done == env_number("TESTPLUGIN_FAIL_AFTER", 0))
        return fail(err, CONN_ERR_TRANSIENT, "", "the service went away (TESTPLUGIN_FAIL_AFTER)", 503);
    const long sleep_ms = static_cast<long>(env_number("TESTPLUGIN_SLEEP_MS", 60000));
    if (done == env_number("TESTPLUGIN_SLEEP_AFTER", 0) && pause(s.in, s.call, sleep_ms))
        return fail(err, CONN_ERR_CANCELLED, "", "cancelled");
    return CONN_OK;
}
#else
conn_status resume_offset(const conn_instance *, const conn_sync_options *, uint64_t &offset, conn_error *) {
    offset = 0; // this build declares no checkpoint capability: a token is ignored
    return CONN_OK;
}
conn_status after_record(SyncState &, uint64_t, conn_error *) { return CONN_OK; }
#endif

conn_status CONN_CALL sync(conn_instance *in, const conn_call *call, const conn_sync_options *opts,
                           const conn_sink *sink, conn_sync_result *result, conn_error *err) {
    if (sink == nullptr) return fail(err, CONN_ERR_INVALID_ARGUMENT, "sink", "sink is NULL");
    if (conn_status st = auth(in, err); st != CONN_OK) return st;
    uint64_t start = 0;
    if (conn_status st = resume_offset(in, opts, start, err); st != CONN_OK) return st;
    SyncState s{in, call, sink};
    const uint64_t total = record_total(in);
    for (uint64_t i = start; i < total; ++i) {
        if (starts_step(in, i))
            if (conn_status st = step(in, call, err); st != CONN_OK) return st;
        if (!emit_record(s, i)) return fail(err, CONN_ERR_STOPPED, "", "stopped by the sink");
        if (conn_status st = after_record(s, i + 1, err); st != CONN_OK) return st;
    }
    if (conn_status st = extra_warnings(in, sink, err); st != CONN_OK) return st;
    if (in->mode == "roles") {
        RecordCounts roles;
        if (!emit_roles(sink, roles)) return fail(err, CONN_ERR_STOPPED, "", "stopped by the sink");
        s.nres += roles.resources;
        s.nent += roles.entitlements;
        s.ngr += roles.grants;
    }
    if (in->mode == "log-secret") in->log(CONN_LOG_ERROR, "sync done with " + in->token);
    if (result != nullptr && result->struct_size >= sizeof(conn_sync_result)) {
        result->resources = s.nres;
        result->entitlements = s.nent;
        result->grants = s.ngr;
        result->requests = s.pages;
        result->pages = s.pages;
        result->warnings = in->groups >= 1 ? 1 : 0;
        result->unresolved_principals = in->groups >= 1 ? 1 : 0;
    }
    return CONN_OK;
}

conn_status CONN_CALL create_account(conn_instance *in, const conn_call *, const conn_account_request *req,
                                     const conn_sink *sink, conn_outcome *outcome, conn_error *err) {
    if (conn_status st = auth(in, err); st != CONN_OK) return st;
    std::string email, name;
    for (size_t i = 0; i < req->field_count; ++i) {
        std::string k = str(req->fields[i].key), v = str(req->fields[i].value);
        if (k == "email") email = v;
        else if (k == "display_name") name = v;
        else return fail(err, CONN_ERR_INVALID_ARGUMENT, k.c_str(), "unknown account field " + k);
    }
    if (email.find('@') == std::string::npos) return fail(err, CONN_ERR_INVALID_ARGUMENT, "email", "email is malformed", 400);
    bool exists = email.rfind("exists@", 0) == 0;
    std::string id = exists ? "u-existing" : "u-new";
    conn_attr attrs[1] = {};
    attrs[0].key = conn::str("email");
    attrs[0].kind = CONN_ATTR_STRING;
    attrs[0].str = conn::str(email);
    const conn_resource r = resource_of("user", id, name, attrs, 1);
    if (sink != nullptr && sink->on_resource != nullptr) sink->on_resource(sink->ctx, &r);
    *outcome = exists ? CONN_OUTCOME_ALREADY_EXISTS : CONN_OUTCOME_CREATED;
    return CONN_OK;
}

conn_status CONN_CALL delete_resource(conn_instance *in, const conn_call *, conn_str type, conn_str id,
                                      conn_outcome *outcome, conn_error *err) {
    if (conn_status st = auth(in, err); st != CONN_OK) return st;
    in->log(CONN_LOG_INFO, "delete_resource type=[" + str(type) + "] id=[" + str(id) + "]");
    if (str(type) != "user") return fail(err, CONN_ERR_UNSUPPORTED, "", "only users can be deleted");
    if (str(id) == "missing") return fail(err, CONN_ERR_NOT_FOUND, "", "no such user", 404);
    *outcome = str(id) == "gone" ? CONN_OUTCOME_ALREADY_DELETED : CONN_OUTCOME_DELETED;
    return CONN_OK;
}

conn_status grant_like(conn_instance *in, conn_str ent, conn_str ptype, conn_str pid, conn_error *err) {
    if (conn_status st = auth(in, err); st != CONN_OK) return st;
    in->log(CONN_LOG_INFO, "grant/revoke principal type=[" + str(ptype) + "] id=[" + str(pid) + "]");
    std::string e = str(ent);
    if (e.rfind("group:g", 0) != 0 || e.size() < 14 || e.substr(e.size() - 7) != ":member")
        return fail(err, CONN_ERR_INVALID_ARGUMENT, "", "not an entitlement of this plugin");
    long gi = std::atol(e.substr(7, e.size() - 14).c_str());
    if (gi < 1 || gi > in->groups) return fail(err, CONN_ERR_NOT_FOUND, "", "no such group", 404);
    if (str(ptype) != "user") return fail(err, CONN_ERR_INVALID_ARGUMENT, "", "only users can be members");
    return CONN_OK;
}

conn_status CONN_CALL grant(conn_instance *in, const conn_call *, conn_str ent, conn_str ptype, conn_str pid,
                            const conn_sink *sink, conn_outcome *outcome, conn_error *err) {
    if (conn_status st = grant_like(in, ent, ptype, pid, err); st != CONN_OK) return st;
    std::string id = str(ent) + ":user:" + str(pid);
    auto g = conn::make<conn_grant>();
    g.id = conn::str(id);
    g.entitlement_id = ent;
    g.principal_type = ptype;
    g.principal_id = pid;
    if (sink != nullptr && sink->on_grant != nullptr) sink->on_grant(sink->ctx, &g);
    *outcome = str(pid) == "already" ? CONN_OUTCOME_ALREADY_GRANTED : CONN_OUTCOME_GRANTED;
    return CONN_OK;
}

conn_status CONN_CALL revoke(conn_instance *in, const conn_call *, conn_str ent, conn_str ptype, conn_str pid,
                             conn_outcome *outcome, conn_error *err) {
    if (conn_status st = grant_like(in, ent, ptype, pid, err); st != CONN_OK) return st;
    *outcome = str(pid) == "absent" ? CONN_OUTCOME_ALREADY_REVOKED : CONN_OUTCOME_REVOKED;
    return CONN_OK;
}

const conn_connector_v1 vtable{sizeof(conn_connector_v1), 0, describe, create, destroy, check, sync,
                               create_account, delete_resource, grant, revoke};

conn_status CONN_CALL init() {
    if (initialised.exchange(true)) return CONN_ERR_INVALID_STATE;
    return CONN_OK;
}
void CONN_CALL deinit() { initialised = false; }
const void *CONN_CALL get_interface(const char *id) {
    return (id != nullptr && std::strcmp(id, CONN_IFACE_CONNECTOR_V1) == 0) ? &vtable : nullptr;
}
const conn_plugin_entry entry{sizeof(conn_plugin_entry), CONN_ABI_VERSION_MAJOR, CONN_ABI_VERSION_MINOR, 0, init,
                              deinit, get_interface};

}  // namespace

extern "C" CONN_PLUGIN_ENTRY {
    if (abi_major != CONN_ABI_VERSION_MAJOR) return nullptr;
    if (abi_minor != nullptr && *abi_minor > CONN_ABI_VERSION_MINOR) *abi_minor = CONN_ABI_VERSION_MINOR;
    return &entry;
}
