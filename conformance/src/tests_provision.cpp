// Provisioning level: create_account, delete_resource, grant, revoke; their outcomes including the
// "already done" ones, that repeating a call is safe, and (with --sim) that the service's truth agrees.
#include "registry.hpp"

#include <algorithm>
#include <cstring>
#include <random>

namespace conformance {
namespace {

struct Prov {
    std::unique_ptr<connector_host::LoadedPlugin> plugin;
    const conn_connector_v1 *v = nullptr;
    const conn_descriptor *d = nullptr;
    // Recorders handed to the plugin outlive the instance (declared first, destroyed after it), so a
    // plugin that calls back late cannot reach freed memory.
    std::vector<std::unique_ptr<Recorder>> recorders;
    conn::Instance in;
    Recorder &recorder() { return *recorders.emplace_back(std::make_unique<Recorder>()); }
    std::string create_type; // the type create_account creates
};

Prov setup(const Context &ctx, uint32_t caps) {
    Prov p;
    p.plugin = load_plugin(ctx);
    p.v = &p.plugin->connector();
    p.d = &p.plugin->descriptor();
    if ((p.d->capabilities & caps) != caps) skip("the plugin does not declare the capabilities this test needs");
    require(((caps & CONN_CAP_CREATE_ACCOUNT) == 0 || p.v->create_account) && ((caps & CONN_CAP_DELETE) == 0 || p.v->delete_resource) &&
                ((caps & CONN_CAP_GRANT) == 0 || p.v->grant) && ((caps & CONN_CAP_REVOKE) == 0 || p.v->revoke),
            "a declared operation is NULL in the vtable");
    p.in = open_instance(*p.plugin, ctx.config, nullptr);
    for (uint32_t i = 0; i < p.d->resource_type_count; ++i) {
        const conn_resource_type *t = p.d->resource_types[i];
        if ((t->capabilities & CONN_RT_CREATE) != 0 && (p.create_type.empty() || (t->traits & CONN_TRAIT_USER) != 0)) p.create_type = t->id;
    }
    return p;
}

// Values for the plugin's account fields, unique per call.
std::vector<std::pair<std::string, std::string>> account_values(const Context &ctx, const conn_descriptor &d, const char *salt) {
    std::string tag = distinctive_secret(ctx, salt).substr(8, 10);
    std::transform(tag.begin(), tag.end(), tag.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::vector<std::pair<std::string, std::string>> out;
    for (uint32_t i = 0; i < d.account_field_count; ++i) {
        const conn_field *f = d.account_fields[i];
        if ((f->flags & CONN_FIELD_REQUIRED) == 0) continue;
        std::string value;
        switch (f->type) {
        case CONN_FIELD_EMAIL: value = "conformance-" + tag + "@example.com"; break;
        case CONN_FIELD_INT: value = "1"; break;
        case CONN_FIELD_BOOL: value = "false"; break;
        case CONN_FIELD_URL: value = "https://example.com/" + tag; break;
        default: value = "Conformance Tester" + tag; break;
        }
        out.emplace_back(f->name, value);
    }
    return out;
}

struct Created {
    std::string type, id;
};

Created create(Prov &p, const std::vector<std::pair<std::string, std::string>> &values, conn_outcome want, const std::string &what,
               bool with_sink = true) {
    std::vector<conn_kv> kvs;
    for (const auto &[k, v] : values) kvs.push_back(conn_kv{conn::str(k), conn::str(v)});
    conn_account_request req{sizeof(conn_account_request), 0, kvs.data(), kvs.size()};
    Recorder &rec = p.recorder();
    conn_sink sink = rec.sink();
    conn_outcome outcome = CONN_OUTCOME_NONE;
    conn_error err = conn::make_error();
    rec.begin();
    conn_status st = p.v->create_account(p.in.get(), nullptr, &req, with_sink ? &sink : nullptr, &outcome, &err);
    rec.end();
    require(st == CONN_OK, what + ": create_account failed: " + describe_error(st, err));
    require(outcome == want, what + ": create_account's outcome is " + outcome_text(outcome) + ", expected " + outcome_text(want));
    if (!with_sink) return {};
    std::lock_guard lock(rec.mu);
    require(rec.problems.empty(), what + ": " + (rec.problems.empty() ? std::string() : rec.problems.front()));
    require(rec.resources.size() == 1, what + ": create_account delivered " + std::to_string(rec.resources.size()) + " resources, expected exactly 1");
    const Record &r = rec.resources.front();
    require(r.type == p.create_type, what + ": the created resource has type " + printable(r.type) + ", expected " + printable(p.create_type));
    require(!r.id.empty(), what + ": the created resource has an empty id");
    return {r.type, r.id};
}

conn_outcome del(const Prov &p, const std::string &type, const std::string &id, const std::string &what) {
    conn_outcome outcome = CONN_OUTCOME_NONE;
    conn_error err = conn::make_error();
    conn_status st = p.v->delete_resource(p.in.get(), nullptr, conn::str(type), conn::str(id), &outcome, &err);
    require(st == CONN_OK, what + ": delete_resource failed: " + describe_error(st, err));
    return outcome;
}

const Truth::User *truth_user(const Truth &t, const std::string &id) {
    for (const auto &u : t.users)
        if (u.id == id) return &u;
    return nullptr;
}

std::string test_create(const Context &ctx) {
    Prov p = setup(ctx, CONN_CAP_CREATE_ACCOUNT);
    auto values = account_values(ctx, *p.d, "create");
    Created c = create(p, values, CONN_OUTCOME_CREATED, "first call");
    if (ctx.sim) {
        Truth t = fetch_truth(ctx.sim_admin);
        const Truth::User *u = truth_user(t, c.id);
        require(u != nullptr, "the created account " + printable(c.id) + " is not in the simulator");
        require(u->active, "the created account is not active in the simulator");
    }
    Created again = create(p, values, CONN_OUTCOME_ALREADY_EXISTS, "second call (same account)");
    require(again.id == c.id, "the second create_account delivered id " + printable(again.id) + ", the first " + printable(c.id));
    create(p, values, CONN_OUTCOME_ALREADY_EXISTS, "third call (sink NULL)", false);
    if (ctx.sim) {
        Truth t = fetch_truth(ctx.sim_admin);
        size_t n = 0;
        for (const auto &u : t.users) n += u.id == c.id;
        require(n == 1, "after three create_account calls the simulator holds the account " + std::to_string(n) + " times");
    }
    if ((p.d->capabilities & CONN_CAP_DELETE) != 0) del(p, c.type, c.id, "clean-up");
    return "CREATED, then ALREADY_EXISTS twice with the same id";
}

std::string test_delete(const Context &ctx) {
    Prov p = setup(ctx, CONN_CAP_CREATE_ACCOUNT | CONN_CAP_DELETE);
    Created c = create(p, account_values(ctx, *p.d, "delete"), CONN_OUTCOME_CREATED, "create");
    conn_outcome o = del(p, c.type, c.id, "first delete");
    require(o == CONN_OUTCOME_DELETED, "the first delete_resource's outcome is " + outcome_text(o) + ", expected DELETED");
    if (ctx.sim) {
        Truth t = fetch_truth(ctx.sim_admin);
        const Truth::User *u = truth_user(t, c.id);
        require(u == nullptr || !u->active, "the deleted account is still active in the simulator");
    }
    for (int i = 2; i <= 3; ++i) {
        o = del(p, c.type, c.id, "delete #" + std::to_string(i));
        require(o == CONN_OUTCOME_ALREADY_DELETED, "delete #" + std::to_string(i) + "'s outcome is " + outcome_text(o) + ", expected ALREADY_DELETED");
    }
    o = del(p, c.type, "cf-never-existed-" + distinctive_secret(ctx, "missing").substr(8, 12), "delete of an id that never existed");
    require(o == CONN_OUTCOME_ALREADY_DELETED, "deleting an id that never existed answered " + outcome_text(o) + ", expected ALREADY_DELETED");
    return "DELETED, ALREADY_DELETED twice, ALREADY_DELETED for an unknown id";
}

// A grantable entitlement from a sync: (entitlement id, principal type).
std::pair<std::string, std::string> pick_entitlement(const Context &ctx, Prov &p) {
    Recorder &rec = p.recorder();
    conn_error err = conn::make_error();
    conn_status st = run_sync(*p.v, p.in.get(), rec, nullptr, &err);
    require(st == CONN_OK, "the sync that looks for an entitlement failed: " + describe_error(st, err));
    std::lock_guard lock(rec.mu);
    std::vector<std::string> ids = rec.entitlement_ids;
    std::sort(ids.begin(), ids.end());
    std::mt19937_64 rng(ctx.seed);
    std::shuffle(ids.begin(), ids.end(), rng);
    for (const auto &id : ids) {
        size_t a = id.find(':'), b = id.rfind(':');
        if (a == std::string::npos || a == b) continue;
        const conn_resource_type *t = find_type(*p.d, id.substr(0, a));
        if (t == nullptr) continue;
        std::string slug = id.substr(b + 1);
        for (uint32_t k = 0; k < t->entitlement_type_count; ++k) {
            const conn_entitlement_type *et = t->entitlement_types[k];
            if (slug != et->slug || (et->flags & CONN_ENT_GRANTABLE) == 0) continue;
            for (uint32_t g = 0; g < et->grantable_to_count; ++g)
                if (p.create_type == et->grantable_to[g]) return {id, p.create_type};
        }
    }
    skip("the sync delivered no entitlement grantable to the type create_account creates");
}

conn_outcome grant(Prov &p, const std::string &ent, const std::string &ptype, const std::string &pid, const std::string &what) {
    Recorder &rec = p.recorder();
    conn_sink sink = rec.sink();
    conn_outcome outcome = CONN_OUTCOME_NONE;
    conn_error err = conn::make_error();
    rec.begin();
    conn_status st = p.v->grant(p.in.get(), nullptr, conn::str(ent), conn::str(ptype), conn::str(pid), &sink, &outcome, &err);
    rec.end();
    require(st == CONN_OK, what + ": grant failed: " + describe_error(st, err));
    std::lock_guard lock(rec.mu);
    require(rec.problems.empty(), what + ": " + (rec.problems.empty() ? std::string() : rec.problems.front()));
    require(rec.grants.size() == 1, what + ": grant delivered " + std::to_string(rec.grants.size()) + " grants to the sink, expected exactly 1");
    const auto &[id, gent, gptype, gpid] = rec.grants.front();
    require(gent == ent && gptype == ptype && gpid == pid, what + ": the delivered grant " + printable(id) + " is not the one asked for");
    return outcome;
}

conn_outcome revoke(const Prov &p, const std::string &ent, const std::string &ptype, const std::string &pid, const std::string &what) {
    conn_outcome outcome = CONN_OUTCOME_NONE;
    conn_error err = conn::make_error();
    conn_status st = p.v->revoke(p.in.get(), nullptr, conn::str(ent), conn::str(ptype), conn::str(pid), &outcome, &err);
    require(st == CONN_OK, what + ": revoke failed: " + describe_error(st, err));
    return outcome;
}

// How often the simulator lists pid as a member of the group behind `ent` ("<type>:<gid>:<slug>").
int member_count(const Context &ctx, const std::string &ent, const std::string &pid) {
    std::string gid = ent.substr(ent.find(':') + 1);
    gid = gid.substr(0, gid.rfind(':'));
    Truth t = fetch_truth(ctx.sim_admin);
    for (const auto &g : t.groups)
        if (g.id == gid) return static_cast<int>(std::count(g.members.begin(), g.members.end(), pid));
    fail("the group " + printable(gid) + " is not in the simulator");
}

std::string test_grant_revoke(const Context &ctx) {
    Prov p = setup(ctx, CONN_CAP_CREATE_ACCOUNT | CONN_CAP_GRANT | CONN_CAP_REVOKE);
    Created c = create(p, account_values(ctx, *p.d, "grant"), CONN_OUTCOME_CREATED, "create the principal");
    auto [ent, ptype] = pick_entitlement(ctx, p);
    conn_outcome o = grant(p, ent, ptype, c.id, "first grant");
    require(o == CONN_OUTCOME_GRANTED, "the first grant's outcome is " + outcome_text(o) + ", expected GRANTED");
    if (ctx.sim) require(member_count(ctx, ent, c.id) == 1, "after the grant the simulator does not list the principal exactly once");
    for (int i = 2; i <= 3; ++i) {
        o = grant(p, ent, ptype, c.id, "grant #" + std::to_string(i));
        require(o == CONN_OUTCOME_ALREADY_GRANTED, "grant #" + std::to_string(i) + "'s outcome is " + outcome_text(o) + ", expected ALREADY_GRANTED");
    }
    if (ctx.sim) require(member_count(ctx, ent, c.id) == 1, "after repeated grants the simulator does not list the principal exactly once");
    o = revoke(p, ent, ptype, c.id, "first revoke");
    require(o == CONN_OUTCOME_REVOKED, "the first revoke's outcome is " + outcome_text(o) + ", expected REVOKED");
    if (ctx.sim) require(member_count(ctx, ent, c.id) == 0, "after the revoke the simulator still lists the principal");
    for (int i = 2; i <= 3; ++i) {
        o = revoke(p, ent, ptype, c.id, "revoke #" + std::to_string(i));
        require(o == CONN_OUTCOME_ALREADY_REVOKED, "revoke #" + std::to_string(i) + "'s outcome is " + outcome_text(o) + ", expected ALREADY_REVOKED");
    }
    if (ctx.sim) require(member_count(ctx, ent, c.id) == 0, "after repeated revokes the simulator lists the principal");
    if ((p.d->capabilities & CONN_CAP_DELETE) != 0) del(p, c.type, c.id, "clean-up");
    return "GRANTED, ALREADY_GRANTED x2, REVOKED, ALREADY_REVOKED x2 on " + ent;
}

std::string test_invalid_requests(const Context &ctx) {
    Prov p = setup(ctx, CONN_CAP_CREATE_ACCOUNT);
    auto values = account_values(ctx, *p.d, "invalid");
    auto attempt = [&](const std::vector<std::pair<std::string, std::string>> &vals, const std::string &what, const std::string &field) {
        std::vector<conn_kv> kvs;
        for (const auto &[k, v] : vals) kvs.push_back(conn_kv{conn::str(k), conn::str(v)});
        conn_account_request req{sizeof(conn_account_request), 0, kvs.empty() ? nullptr : kvs.data(), kvs.size()};
        conn_outcome outcome = CONN_OUTCOME_NONE;
        conn_error err = conn::make_error();
        conn_status st = p.v->create_account(p.in.get(), nullptr, &req, nullptr, &outcome, &err);
        require(st == CONN_ERR_INVALID_ARGUMENT, what + " answered " + describe_error(st, err) + ", expected invalid_argument");
        std::string got(err.field, strnlen(err.field, sizeof err.field));
        require(got == field, what + ": err.field is " + printable(got) + ", expected " + printable(field));
    };
    auto unknown = values;
    unknown.emplace_back("cf-unknown-field", "x");
    attempt(unknown, "create_account with an unknown field", "cf-unknown-field");
    for (const auto &field : values) {
        const std::string &k = field.first;  // a plain reference: the lambda captures it (clang 14 lacks P1091)
        auto missing = values;
        missing.erase(std::remove_if(missing.begin(), missing.end(), [&](const auto &kv) { return kv.first == k; }), missing.end());
        attempt(missing, "create_account without required field '" + k + "'", k);
    }
    if (ctx.sim) {
        Truth t = fetch_truth(ctx.sim_admin);
        for (const auto &u : t.users)
            for (const auto &[k, v] : values)
                require(u.user_name != v, "a refused create_account created an account anyway");
    }
    return "unknown and missing account fields refused, naming the field";
}

}  // namespace

void register_provisioning_tests(std::vector<TestCase> &out) {
    out.push_back({"provision.create_account", Needs::writes, "create_account answers CREATED and delivers the resource once; the same account again answers ALREADY_EXISTS with the same id (also with sink NULL); the simulator holds it once, active", test_create});
    out.push_back({"provision.delete", Needs::writes, "delete_resource answers DELETED, then ALREADY_DELETED on every repeat and for an id that never existed; the simulator no longer lists it active", test_delete});
    out.push_back({"provision.grant_revoke", Needs::writes, "grant answers GRANTED and delivers the grant once, repeats answer ALREADY_GRANTED; revoke answers REVOKED, repeats ALREADY_REVOKED; the simulator's memberships agree after each step", test_grant_revoke});
    out.push_back({"provision.invalid_requests", Needs::writes, "create_account with an unknown or a missing account field answers CONN_ERR_INVALID_ARGUMENT naming the field, and creates nothing", test_invalid_requests});
}

}  // namespace conformance
