// Errors of every operation: the status is in the closed set of ABI 1.0, and a refusal's conn_error is
// well-formed (err.status = the returned code; message and field NUL-terminated within capacity, valid
// UTF-8, one line; no secret), also for check, sync and the provisioning calls, on their error paths.
#include "registry.hpp"

#include <cstring>
#include <utility>

namespace conformance {
namespace {

// A conn_error full of 0xFF (but for struct_size): what the plugin leaves unwritten shows.
conn_error dirty_error() {
    conn_error err{};
    std::memset(&err, 0xFF, sizeof err);
    err.struct_size = sizeof err;
    return err;
}

bool holds_secret(std::string_view text, const std::vector<std::string> &secrets) {
    for (const auto &s : secrets)
        if (s.size() >= 8 && text.find(s) != std::string_view::npos) return true;
    return false;
}

struct ErrorAudit {
    std::vector<std::string> secrets; // looked for in the text (create-time leaks: instance.secret_not_leaked)
    std::vector<std::string> problems;
    int calls = 0, refusals = 0;

    void text(const std::string &what, const char *buf, size_t cap, const char *name, bool need_text) {
        const char *end = static_cast<const char *>(std::memchr(buf, 0, cap));
        if (end == nullptr) return problems.push_back(what + ": " + name + " is not NUL-terminated within its " + std::to_string(cap) + " bytes");
        std::string_view t(buf, static_cast<size_t>(end - buf));
        if (need_text && t.empty()) problems.push_back(what + ": " + name + " is empty");
        if (!valid_utf8(t)) problems.push_back(what + ": " + name + " is not valid UTF-8");
        if (t.find_first_of("\r\n") != std::string_view::npos) problems.push_back(what + ": " + name + " is more than one line: " + printable(t, 80));
        if (holds_secret(t, secrets)) problems.push_back(what + ": " + name + " contains a secret");
    }
    // Any operation's answer.
    void answer(const std::string &what, conn_status st, const conn_error &err) {
        ++calls;
        if (st < 0 || st >= CONN_STATUS_COUNT_V1) {
            problems.push_back(what + " returned " + std::to_string(st) + ", not a status of ABI 1.0 (0.." + std::to_string(CONN_STATUS_COUNT_V1 - 1) + ")");
            return;
        }
        if (st == CONN_OK) return;
        ++refusals;
        if (err.status != st) problems.push_back(what + ": err.status " + std::to_string(err.status) + " differs from the returned " + conn::status_text(st));
        text(what, err.message, sizeof err.message, "err.message", true);
        text(what, err.field, sizeof err.field, "err.field", false);
    }
    void done() const { fail_if_any(problems); }
};

struct ErrorRun : PluginUnderTest {
    explicit ErrorRun(const Context &ctx) : PluginUnderTest(ctx), good(working_config(ctx, *d)) {}
    ConfigEntries good;
    ErrorAudit audit;
    std::vector<std::unique_ptr<Recorder>> recorders; // outlive the instances
    Recorder &recorder() { return *recorders.emplace_back(std::make_unique<Recorder>()); }
};

void audit_create(ErrorRun &r) {
    std::vector<std::pair<std::string, ConfigEntries>> cases = {{"instance_create(an empty config)", {}},
                                                                {"instance_create(an unknown key)", with_value(r.good, "cf-unknown", "v")}};
    for (uint32_t i = 0; i < r.d->config_field_count; ++i)
        cases.push_back({"instance_create(a bad value of '" + std::string(r.d->config_fields[i]->name) + "')",
                         with_value(r.good, r.d->config_fields[i]->name, "\x01 cf-bad \xff")});
    const std::vector<std::string> secrets = std::exchange(r.audit.secrets, {}); // instance.secret_not_leaked's part
    for (const auto &[what, entries] : cases) {
        OwnedConfig cfg(entries);
        conn_error err = dirty_error();
        conn_instance *out = nullptr;
        conn_status st = r.v->instance_create(&cfg.config, nullptr, &out, &err);
        r.audit.answer(what, st, err);
        if (st == CONN_OK && out != nullptr) r.v->instance_destroy(out);
    }
    r.audit.secrets = secrets;
}

// check, sync and a sync stopped by the sink; answers an entitlement id the sync delivered ("" if none).
std::string audit_check_and_sync(ErrorRun &r, conn_instance *in) {
    if (r.v->check != nullptr && r.has(CONN_CAP_CHECK)) {
        conn_check_result res{};
        std::memset(&res, 0xFF, sizeof res);
        res.struct_size = sizeof res;
        conn_error err = dirty_error();
        conn_status st = r.v->check(in, nullptr, &res, &err);
        r.audit.answer("check", st, err);
        if (st == CONN_OK) r.audit.text("check (OK)", res.message, sizeof res.message, "check_result.message", false);
    }
    if (r.v->sync == nullptr || !r.has(CONN_CAP_SYNC)) return {};
    std::string entitlement;
    for (uint64_t stop_after : {0ull, 1ull}) {
        Recorder &rec = r.recorder();
        rec.stop_after = stop_after;
        conn_error err = dirty_error();
        conn_status st = run_sync(*r.v, in, rec, nullptr, &err);
        r.audit.answer(stop_after == 0 ? "sync" : "sync (the sink answers STOP)", st, err);
        std::lock_guard lock(rec.mu);
        if (entitlement.empty() && !rec.entitlement_ids.empty()) entitlement = rec.entitlement_ids.front();
    }
    return entitlement;
}

// Refusals, and with a service the calls on an id that does not exist (entitlement: one a sync delivered).
void audit_provisioning(ErrorRun &r, conn_instance *in, bool may_call_service, const std::string &synced_ent) {
    const std::string ent_bad = "cf-not-an-entitlement";
    conn_outcome outcome = CONN_OUTCOME_NONE;
    conn_error err = dirty_error();
    if (r.v->create_account != nullptr) {
        std::vector<conn_kv> kvs{conn_kv{conn::str("cf-unknown-field"), conn::str("x")}};
        conn_account_request req{sizeof(conn_account_request), 0, kvs.data(), kvs.size()};
        r.audit.answer("create_account(an unknown field)", r.v->create_account(in, nullptr, &req, nullptr, &outcome, &err), err);
        err = dirty_error();
        r.audit.answer("create_account(request=NULL)", r.v->create_account(in, nullptr, nullptr, nullptr, &outcome, &err), err);
    }
    std::string type = "cf-no-such-type", ent = ent_bad, ptype = "user";
    for (uint32_t i = 0; i < r.d->resource_type_count; ++i) {
        const conn_resource_type *t = r.d->resource_types[i];
        if ((t->capabilities & CONN_RT_DELETE) != 0 && may_call_service) type = t->id;
        for (uint32_t k = 0; k < t->entitlement_type_count && may_call_service; ++k)
            if (t->entitlement_types[k]->grantable_to_count > 0) {
                ent = std::string(t->id) + ":cf-none:" + t->entitlement_types[k]->slug;
                ptype = t->entitlement_types[k]->grantable_to[0];
            }
    }
    if (may_call_service && !synced_ent.empty()) ent = synced_ent;
    const conn_str none = conn::str("cf-none");
    if (r.v->delete_resource != nullptr) {
        err = dirty_error();
        r.audit.answer("delete_resource(" + type + ", cf-none)", r.v->delete_resource(in, nullptr, conn::str(type), none, &outcome, &err), err);
    }
    for (const std::string &e : {ent_bad, ent}) {
        if (r.v->grant != nullptr) {
            err = dirty_error();
            r.audit.answer("grant(" + e + ", cf-none)", r.v->grant(in, nullptr, conn::str(e), conn::str(ptype), none, nullptr, &outcome, &err), err);
        }
        if (r.v->revoke != nullptr) {
            err = dirty_error();
            r.audit.answer("revoke(" + e + ", cf-none)", r.v->revoke(in, nullptr, conn::str(e), conn::str(ptype), none, &outcome, &err), err);
        }
    }
}

std::string test_error_contract(const Context &ctx) {
    ErrorRun r(ctx);
    r.audit.secrets = ctx.secrets;
    const auto fields = service_fields(*r.d);
    for (const auto &[k, v] : r.good)
        if (k == fields.second) r.audit.secrets.push_back(v);
    audit_create(r);
    {
        Recorder &rec = r.recorder();
        conn_host host = rec.host();
        conn::Instance in = open_instance(*r.plugin, r.good, &host);
        // Without a service the calls that reach it are left out: a plugin may retry a closed port for long.
        const std::string ent = ctx.has_service() ? audit_check_and_sync(r, in.get()) : std::string();
        audit_provisioning(r, in.get(), ctx.sim || (ctx.config_from_user && ctx.allow_writes), ent);
    }
    r.audit.done();
    return std::to_string(r.audit.calls) + " calls, " + std::to_string(r.audit.refusals) + " refusals checked";
}

}  // namespace

void register_error_tests(std::vector<TestCase> &out) {
    out.push_back({"instance.error_contract", Needs::nothing,
                   "every operation (create, check, sync, a stopped sync, create_account, delete_resource, grant, revoke; refusals, and with a service calls on ids that do not exist) "
                   "returns a status of ABI 1.0's closed set (< CONN_STATUS_COUNT_V1); every refusal's err.status equals it and err.message/err.field are "
                   "NUL-terminated within capacity, valid UTF-8, one line, hold no secret (instance_create's secrets: instance.secret_not_leaked); a successful check's message holds no secret",
                   test_error_contract});
}

}  // namespace conformance
