// Instance level: argument checking, config validation, lifetimes, isolation, older hosts' struct sizes,
// error text, secrets, manners.
#include "registry.hpp"

#include <cstring>
#include <random>
#include <sstream>
#include <thread>
#include <tuple>

namespace conformance {
namespace {

using connector_host::LoadedPlugin;

conn_instance *const kSentinel = reinterpret_cast<conn_instance *>(static_cast<uintptr_t>(0x1));

// Runs one call expected to answer one of `allowed`; collects a problem otherwise.
struct Expect {
    std::vector<std::string> problems;
    void status(const std::string &what, conn_status got, const std::vector<conn_status> &allowed) {
        for (conn_status a : allowed)
            if (got == a) return;
        std::string want;
        for (conn_status a : allowed) want += (want.empty() ? "" : " or ") + conn::status_text(a);
        problems.push_back(what + " answered " + conn::status_text(got) + ", expected " + want);
    }
    void that(bool cond, const std::string &what) {
        if (!cond) problems.push_back(what);
    }
    void done() const { fail_if_any(problems); }
};

bool declares(const conn_descriptor &d, uint32_t cap) { return (d.capabilities & cap) != 0; }

std::string first_type_id(const conn_descriptor &d, uint32_t rt_cap) {
    for (uint32_t i = 0; i < d.resource_type_count; ++i)
        if ((d.resource_types[i]->capabilities & rt_cap) != 0) return d.resource_types[i]->id;
    return d.resource_type_count > 0 ? d.resource_types[0]->id : "user";
}

// "<type>:<rid>:<slug>" of the first grantable entitlement type, with a made-up resource id.
std::pair<std::string, std::string> some_entitlement(const conn_descriptor &d) {
    for (uint32_t i = 0; i < d.resource_type_count; ++i) {
        const conn_resource_type *t = d.resource_types[i];
        for (uint32_t k = 0; k < t->entitlement_type_count; ++k) {
            const conn_entitlement_type *et = t->entitlement_types[k];
            if (et->grantable_to_count > 0)
                return {std::string(t->id) + ":cf-none:" + et->slug, et->grantable_to[0]};
        }
    }
    return {"group:cf-none:member", "user"};
}

// instance_create refuses NULL and malformed configs (and accepts a NULL err).
void check_create_arguments(Expect &x, const conn_connector_v1 &v, const OwnedConfig &cfg) {
    conn_error err = conn::make_error();
    conn_instance *out = kSentinel;
    x.status("instance_create(config=NULL)", v.instance_create(nullptr, nullptr, &out, &err), {CONN_ERR_INVALID_ARGUMENT});
    x.that(out == nullptr || out == kSentinel, "instance_create(config=NULL) left a non-NULL instance in *out");
    x.status("instance_create(out=NULL)", v.instance_create(&cfg.config, nullptr, nullptr, &err), {CONN_ERR_INVALID_ARGUMENT});
    conn_config zero = cfg.config;
    zero.struct_size = 0;
    out = kSentinel;
    x.status("instance_create(config.struct_size=0)", v.instance_create(&zero, nullptr, &out, &err), {CONN_ERR_INVALID_ARGUMENT});
    conn_config null_entries{sizeof(conn_config), 0, nullptr, 3};
    out = kSentinel;
    x.status("instance_create(entries=NULL, entry_count=3)", v.instance_create(&null_entries, nullptr, &out, &err), {CONN_ERR_INVALID_ARGUMENT});
    if (!cfg.kvs.empty()) {
        std::vector<conn_kv> kvs = cfg.kvs;
        kvs[0].key = conn_str{nullptr, 5};
        conn_config bad{sizeof(conn_config), 0, kvs.data(), kvs.size()};
        out = kSentinel;
        x.status("instance_create(a key with data=NULL, size=5)", v.instance_create(&bad, nullptr, &out, &err), {CONN_ERR_INVALID_ARGUMENT});
        kvs = cfg.kvs;
        kvs[0].value = conn_str{nullptr, 5};
        bad.entries = kvs.data();
        out = kSentinel;
        x.status("instance_create(a value with data=NULL, size=5)", v.instance_create(&bad, nullptr, &out, &err), {CONN_ERR_INVALID_ARGUMENT});
        x.that(out == nullptr || out == kSentinel, "a refused instance_create left a non-NULL instance in *out");
    }
    // err may be NULL, on success and on failure.
    x.status("instance_create(config=NULL, err=NULL)", v.instance_create(nullptr, nullptr, &out, nullptr), {CONN_ERR_INVALID_ARGUMENT});
    conn_instance *inst = nullptr;
    conn_status st = v.instance_create(&cfg.config, nullptr, &inst, nullptr);
    x.status("instance_create(working config, host=NULL, err=NULL)", st, {CONN_OK});
    if (st == CONN_OK) v.instance_destroy(inst);
    v.instance_destroy(nullptr); // a no-op
}

// Arguments for the operations that are well formed except where a check breaks one on purpose.
struct OperationArguments {
    const conn_descriptor &d;
    std::vector<conn_kv> fields;
    conn_account_request req{};
    std::string type;
    std::string ent;
    std::string ptype;
    conn_error err = conn::make_error();
    conn_outcome outcome = CONN_OUTCOME_NONE;

    explicit OperationArguments(const conn_descriptor &desc) : d(desc) {
        for (uint32_t i = 0; i < d.account_field_count; ++i)
            fields.push_back(conn_kv{conn::str(d.account_fields[i]->name), conn::str("x")});
        req = conn_account_request{sizeof(conn_account_request), 0, fields.empty() ? nullptr : fields.data(), fields.size()};
        type = first_type_id(d, CONN_RT_DELETE);
        std::tie(ent, ptype) = some_entitlement(d);
    }
    // `req` points into `fields`: a copy would point into the original.
    OperationArguments(const OperationArguments &) = delete;
    OperationArguments &operator=(const OperationArguments &) = delete;
    // INVALID_ARGUMENT, or UNSUPPORTED as well where the capability is not declared.
    std::vector<conn_status> allowed(uint32_t cap) const {
        return declares(d, cap) ? std::vector<conn_status>{CONN_ERR_INVALID_ARGUMENT}
                                : std::vector<conn_status>{CONN_ERR_INVALID_ARGUMENT, CONN_ERR_UNSUPPORTED};
    }
};

// A NULL instance to each operation (with and without an error struct).
void check_null_instance(Expect &x, const conn_connector_v1 &v, OperationArguments &a, conn_sink &sink) {
    auto cr = conn::make<conn_check_result>();
    conn_error *err = &a.err;
    if (v.check) {
        x.status("check(instance=NULL)", v.check(nullptr, nullptr, &cr, err), a.allowed(CONN_CAP_CHECK));
        x.status("check(instance=NULL, err=NULL)", v.check(nullptr, nullptr, &cr, nullptr), a.allowed(CONN_CAP_CHECK));
    }
    if (v.sync) x.status("sync(instance=NULL)", v.sync(nullptr, nullptr, nullptr, &sink, nullptr, err), a.allowed(CONN_CAP_SYNC));
    if (v.create_account)
        x.status("create_account(instance=NULL)", v.create_account(nullptr, nullptr, &a.req, nullptr, &a.outcome, err), a.allowed(CONN_CAP_CREATE_ACCOUNT));
    if (v.delete_resource)
        x.status("delete_resource(instance=NULL)", v.delete_resource(nullptr, nullptr, conn::str(a.type), conn::str("cf-none"), &a.outcome, err), a.allowed(CONN_CAP_DELETE));
    if (v.grant)
        x.status("grant(instance=NULL)", v.grant(nullptr, nullptr, conn::str(a.ent), conn::str(a.ptype), conn::str("cf-none"), nullptr, &a.outcome, err), a.allowed(CONN_CAP_GRANT));
    if (v.revoke)
        x.status("revoke(instance=NULL)", v.revoke(nullptr, nullptr, conn::str(a.ent), conn::str(a.ptype), conn::str("cf-none"), &a.outcome, err), a.allowed(CONN_CAP_REVOKE));
}

void check_bad_account_requests(Expect &x, const conn_connector_v1 &v, conn_instance *in, OperationArguments &a) {
    const conn_str bad{nullptr, 4};
    conn_error *err = &a.err;
    x.status("create_account(request=NULL)", v.create_account(in, nullptr, nullptr, nullptr, &a.outcome, err), a.allowed(CONN_CAP_CREATE_ACCOUNT));
    x.status("create_account(outcome=NULL)", v.create_account(in, nullptr, &a.req, nullptr, nullptr, err), a.allowed(CONN_CAP_CREATE_ACCOUNT));
    conn_account_request r0 = a.req;
    r0.struct_size = 0;
    x.status("create_account(request.struct_size=0)", v.create_account(in, nullptr, &r0, nullptr, &a.outcome, err), a.allowed(CONN_CAP_CREATE_ACCOUNT));
    conn_account_request rn{sizeof(conn_account_request), 0, nullptr, 2};
    x.status("create_account(fields=NULL, field_count=2)", v.create_account(in, nullptr, &rn, nullptr, &a.outcome, err), a.allowed(CONN_CAP_CREATE_ACCOUNT));
    if (!a.fields.empty()) {
        std::vector<conn_kv> f2 = a.fields;
        f2[0].value = bad;
        conn_account_request rb{sizeof(conn_account_request), 0, f2.data(), f2.size()};
        x.status("create_account(a field value with data=NULL, size=4)", v.create_account(in, nullptr, &rb, nullptr, &a.outcome, err), a.allowed(CONN_CAP_CREATE_ACCOUNT));
    }
}

void check_bad_deletes(Expect &x, const conn_connector_v1 &v, conn_instance *in, OperationArguments &a) {
    const conn_str bad{nullptr, 4};
    conn_error *err = &a.err;
    const conn_str type = conn::str(a.type);
    x.status("delete_resource(type with data=NULL, size=4)", v.delete_resource(in, nullptr, bad, conn::str("cf-none"), &a.outcome, err), a.allowed(CONN_CAP_DELETE));
    x.status("delete_resource(id with data=NULL, size=4)", v.delete_resource(in, nullptr, type, bad, &a.outcome, err), a.allowed(CONN_CAP_DELETE));
    x.status("delete_resource(outcome=NULL)", v.delete_resource(in, nullptr, type, conn::str("cf-none"), nullptr, err), a.allowed(CONN_CAP_DELETE));
    x.status("delete_resource(empty id)", v.delete_resource(in, nullptr, type, conn::str(""), &a.outcome, err), a.allowed(CONN_CAP_DELETE));
    x.status("delete_resource(undeclared type)", v.delete_resource(in, nullptr, conn::str("cf-no-such-type"), conn::str("cf-none"), &a.outcome, err),
             {CONN_ERR_INVALID_ARGUMENT, CONN_ERR_UNSUPPORTED});
}

void check_bad_grants_and_revokes(Expect &x, const conn_connector_v1 &v, conn_instance *in, OperationArguments &a) {
    const conn_str bad{nullptr, 4};
    const conn_str none = conn::str("cf-none"), ent = conn::str(a.ent), ptype = conn::str(a.ptype);
    const conn_str not_ent = conn::str("cf-not-an-entitlement");
    conn_error *err = &a.err;
    if (v.grant) {
        x.status("grant(entitlement_id with data=NULL, size=4)", v.grant(in, nullptr, bad, ptype, none, nullptr, &a.outcome, err), a.allowed(CONN_CAP_GRANT));
        x.status("grant(principal_id with data=NULL, size=4)", v.grant(in, nullptr, ent, ptype, bad, nullptr, &a.outcome, err), a.allowed(CONN_CAP_GRANT));
        x.status("grant(outcome=NULL)", v.grant(in, nullptr, ent, ptype, none, nullptr, nullptr, err), a.allowed(CONN_CAP_GRANT));
        x.status("grant(malformed entitlement id)", v.grant(in, nullptr, not_ent, ptype, none, nullptr, &a.outcome, err), a.allowed(CONN_CAP_GRANT));
        x.status("grant(undeclared principal type)", v.grant(in, nullptr, ent, conn::str("cf-no-such-type"), none, nullptr, &a.outcome, err), a.allowed(CONN_CAP_GRANT));
    }
    if (v.revoke) {
        x.status("revoke(entitlement_id with data=NULL, size=4)", v.revoke(in, nullptr, bad, ptype, none, &a.outcome, err), a.allowed(CONN_CAP_REVOKE));
        x.status("revoke(outcome=NULL)", v.revoke(in, nullptr, ent, ptype, none, nullptr, err), a.allowed(CONN_CAP_REVOKE));
        x.status("revoke(malformed entitlement id)", v.revoke(in, nullptr, not_ent, ptype, none, &a.outcome, err), a.allowed(CONN_CAP_REVOKE));
    }
}

std::string test_null_arguments(const Context &ctx) {
    auto plugin = load_plugin(ctx);
    const conn_connector_v1 &v = plugin->connector();
    const conn_descriptor &d = plugin->descriptor();
    OwnedConfig cfg(working_config(ctx, d));
    Expect x;
    check_create_arguments(x, v, cfg);

    OperationArguments args(d);
    Recorder rec;
    conn_sink sink = rec.sink();
    check_null_instance(x, v, args, sink);

    // NULL or malformed arguments to a live instance: refused before any request.
    conn::Instance live = open_instance(*plugin, cfg.entries, nullptr);
    conn_instance *in = live.get();
    if (v.sync) x.status("sync(sink=NULL)", v.sync(in, nullptr, nullptr, nullptr, nullptr, &args.err), args.allowed(CONN_CAP_SYNC));
    if (v.create_account) check_bad_account_requests(x, v, in, args);
    if (v.delete_resource) check_bad_deletes(x, v, in, args);
    check_bad_grants_and_revokes(x, v, in, args);
    {
        std::lock_guard lock(rec.mu);
        x.that(rec.sink_calls == 0, "a refused call delivered records to the sink");
    }
    x.done();
    return {};
}

// Creates with `entries`; expects a refusal with INVALID_CONFIG naming `field` ("" = any field).
void expect_refused(Expect &x, const LoadedPlugin &p, const ConfigEntries &entries, const std::string &what,
                    const std::string &field, const std::vector<conn_status> &allowed = {CONN_ERR_INVALID_CONFIG}) {
    const conn_connector_v1 &v = p.connector();
    OwnedConfig cfg(entries);
    conn_error err = conn::make_error();
    conn_instance *out = kSentinel;
    conn_status st = v.instance_create(&cfg.config, nullptr, &out, &err);
    if (st == CONN_OK) {
        if (out != nullptr && out != kSentinel) v.instance_destroy(out);
        x.problems.push_back(what + " was accepted");
        return;
    }
    x.status(what, st, allowed);
    x.that(out == nullptr, what + ": *out is not NULL after a refusal");
    x.that(err.status == st, what + ": err.status (" + conn::status_text(err.status) + ") differs from the returned " + conn::status_text(st));
    const char *end = static_cast<const char *>(std::memchr(err.field, 0, sizeof err.field));
    x.that(end != nullptr, what + ": err.field is not NUL-terminated");
    if (end != nullptr && !field.empty() && st == CONN_ERR_INVALID_CONFIG) {
        std::string got(err.field, static_cast<size_t>(end - err.field));
        // A field name longer than the capacity arrives truncated.
        bool ok = field.size() < sizeof err.field ? got == field : (!got.empty() && field.rfind(got, 0) == 0);
        x.that(ok, what + ": err.field is " + printable(got, 64) + ", expected " + printable(field, 64));
    }
}

std::string test_bad_config(const Context &ctx) {
    auto plugin = load_plugin(ctx);
    const conn_descriptor &d = plugin->descriptor();
    const ConfigEntries good = working_config(ctx, d);
    Expect x;
    std::mt19937_64 rng(ctx.seed);

    // Empty: names a required field that has no default.
    std::vector<std::string> required;
    for (uint32_t i = 0; i < d.config_field_count; ++i) {
        const conn_field *f = d.config_fields[i];
        if ((f->flags & CONN_FIELD_REQUIRED) != 0 && f->default_value == nullptr) required.push_back(f->name);
    }
    if (!required.empty()) {
        OwnedConfig empty(ConfigEntries{});
        conn_error err = conn::make_error();
        conn_instance *out = kSentinel;
        conn_status st = plugin->connector().instance_create(&empty.config, nullptr, &out, &err);
        x.status("an empty config", st, {CONN_ERR_INVALID_CONFIG});
        if (st == CONN_OK && out != nullptr) plugin->connector().instance_destroy(out);
        std::string field(err.field, strnlen(err.field, sizeof err.field));
        bool named = false;
        for (const auto &r : required) named |= r == field;
        x.that(st != CONN_ERR_INVALID_CONFIG || named, "an empty config: err.field " + printable(field) + " names no required field");
    }
    // Incomplete: each required field missing, or empty.
    for (const auto &r : required) {
        expect_refused(x, *plugin, without(good, r), "a config without required field '" + r + "'", r);
        expect_refused(x, *plugin, with_value(good, r, ""), "a config with required field '" + r + "' empty", r);
    }
    // Unknown keys are refused, naming the key.
    char key[40];
    std::snprintf(key, sizeof key, "cf-garbage-%08llx", static_cast<unsigned long long>(rng() & 0xffffffffu));
    expect_refused(x, *plugin, with_value(good, key, "value"), "a config with unknown key '" + std::string(key) + "'", key);
    std::string long_key = "cf-long-key-" + std::string(200, 'k');
    expect_refused(x, *plugin, with_value(good, long_key, "v"), "a config with a 212-byte unknown key", long_key);
    expect_refused(x, *plugin, with_value(good, "cf-\xff\xfe-bad-utf8", "v"), "a config with a non-UTF-8 key", "",
                   {CONN_ERR_INVALID_CONFIG, CONN_ERR_INVALID_ARGUMENT});
    // Bad values by type.
    for (uint32_t i = 0; i < d.config_field_count; ++i) {
        const conn_field *f = d.config_fields[i];
        std::vector<std::string> bad;
        switch (f->type) {
        case CONN_FIELD_URL: bad = {"not a url", "://", "http://"}; break;
        case CONN_FIELD_INT: bad = {"not-a-number", "12abc", "99999999999999999999999"}; break;
        case CONN_FIELD_BOOL: bad = {"maybe"}; break;
        case CONN_FIELD_EMAIL: bad = {"no-at-sign"}; break;
        default: continue; // free text: any UTF-8 value may be valid
        }
        bad.push_back("bad\xc3\x28utf8");
        for (const auto &b : bad)
            expect_refused(x, *plugin, with_value(good, f->name, b), "config field '" + std::string(f->name) + "' = " + printable(b), f->name,
                           {CONN_ERR_INVALID_CONFIG, CONN_ERR_INVALID_ARGUMENT});
    }
    // Seeded random configs: any answer but a crash; refusals well-formed.
    const std::vector<std::string> pool = {"", "0", "-1", "1", "true", "x", std::string(100000, 'a'), "\xff", "http://127.0.0.1:1/",
                                           "%00", "a\nb", "9223372036854775808"};
    for (int round = 0; round < 60; ++round) {
        ConfigEntries cfg;
        for (uint32_t i = 0; i < d.config_field_count; ++i)
            if (rng() % 2 == 0) cfg.emplace_back(d.config_fields[i]->name, pool[rng() % pool.size()]);
        if (rng() % 4 == 0) cfg.emplace_back("cf-random-" + std::to_string(rng() % 1000), pool[rng() % pool.size()]);
        OwnedConfig oc(cfg);
        conn_error err = conn::make_error();
        std::memset(err.message, 0x7f, sizeof err.message);
        conn_instance *out = kSentinel;
        conn_status st = plugin->connector().instance_create(&oc.config, nullptr, &out, &err);
        if (st == CONN_OK) {
            plugin->connector().instance_destroy(out);
            continue;
        }
        x.status("random config #" + std::to_string(round), st, {CONN_ERR_INVALID_CONFIG, CONN_ERR_INVALID_ARGUMENT});
        x.that(out == nullptr, "random config #" + std::to_string(round) + ": *out not NULL after a refusal");
        x.that(std::memchr(err.message, 0, sizeof err.message) != nullptr, "random config #" + std::to_string(round) + ": err.message not NUL-terminated");
    }
    x.done();
    return std::to_string(required.size()) + " required field(s), 60 random configs";
}

std::string test_create_destroy(const Context &ctx) {
    auto plugin = load_plugin(ctx);
    const conn_connector_v1 &v = plugin->connector();
    const ConfigEntries good = working_config(ctx, plugin->descriptor());
    OwnedConfig cfg(good);
    Recorder rec;
    conn_host host = rec.host();
    const size_t base = thread_count();
    for (int i = 0; i < 200; ++i) {
        conn_instance *in = nullptr;
        conn_error err = conn::make_error();
        conn_status st = v.instance_create(&cfg.config, &host, &in, &err);
        require(st == CONN_OK && in != nullptr, "instance_create #" + std::to_string(i) + " failed: " + describe_error(st, err));
        v.instance_destroy(in);
    }
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 50; ++i) {
                conn_instance *in = nullptr;
                conn_error err = conn::make_error();
                if (v.instance_create(&cfg.config, &host, &in, &err) != CONN_OK || in == nullptr) {
                    ++failures;
                    continue;
                }
                v.instance_destroy(in);
            }
        });
    for (auto &t : threads) t.join();
    require(failures == 0, std::to_string(failures.load()) + " of 200 concurrent instance_create calls failed");
    // Several live at once.
    std::vector<conn_instance *> live;
    for (int i = 0; i < 8; ++i) {
        conn_instance *in = nullptr;
        conn_error err = conn::make_error();
        conn_status st = v.instance_create(&cfg.config, &host, &in, &err);
        require(st == CONN_OK && in != nullptr, "8 live instances: instance_create #" + std::to_string(i) + " failed");
        for (auto *other : live) require(other != in, "instance_create answered the same instance twice");
        live.push_back(in);
    }
    for (auto *in : live) v.instance_destroy(in);
    size_t now = settle_threads(base);
    require(now <= base, "after destroying every instance the process has " + std::to_string(now - base) + " thread(s) more than before");
    return "200 sequential, 4 threads x 50 concurrent, 8 live at once";
}

std::string test_isolation(const Context &ctx) {
    auto plugin = load_plugin(ctx);
    const conn_connector_v1 &v = plugin->connector();
    const conn_descriptor &d = plugin->descriptor();
    const ConfigEntries a_cfg = working_config(ctx, d);
    const auto [url_field, secret_field] = service_fields(d);
    ConfigEntries b_cfg = a_cfg;
    if (!secret_field.empty()) b_cfg = with_value(b_cfg, secret_field, distinctive_secret(ctx, "other-tenant"));
    Recorder ra, rb;
    conn_host ha = ra.host(), hb = rb.host();
    conn::Instance a = open_instance(*plugin, a_cfg, &ha);
    bool can_check = ctx.sim && v.check != nullptr && declares(d, CONN_CAP_CHECK) && !secret_field.empty();
    auto check = [&](conn_instance *in) {
        auto r = conn::make<conn_check_result>();
        conn_error err = conn::make_error();
        return v.check(in, nullptr, &r, &err);
    };
    if (can_check) require(check(a.get()) == CONN_OK, "check on instance A (the simulator's token) failed before B existed");
    {
        conn::Instance b = open_instance(*plugin, b_cfg, &hb);
        if (can_check) {
            conn_status sb = check(b.get());
            require(sb == CONN_ERR_UNAUTHENTICATED, "instance B (another token) answered " + conn::status_text(sb) + " to check, expected unauthenticated");
            require(check(a.get()) == CONN_OK, "check on A failed while B (another token) lives: the instances share credentials");
            std::atomic<int> wrong{0};
            std::thread ta([&] { for (int i = 0; i < 5; ++i) if (check(a.get()) != CONN_OK) ++wrong; });
            std::thread tb([&] { for (int i = 0; i < 5; ++i) if (check(b.get()) != CONN_ERR_UNAUTHENTICATED) ++wrong; });
            ta.join();
            tb.join();
            require(wrong == 0, std::to_string(wrong.load()) + " of 10 concurrent checks on A and B answered the other instance's result");
        }
    }
    if (can_check) require(check(a.get()) == CONN_OK, "check on A failed after B was destroyed");
    {
        std::lock_guard la(ra.mu), lb(rb.mu);
        require(ra.late_calls == 0 && rb.late_calls == 0, "callbacks arrived outside operations");
    }
    return can_check ? "A (good token) and B (other token) answered their own results, also concurrently"
                     : "lifetimes interleaved (credential isolation needs --sim)";
}

// A conn_error inside a 0xA5-filled buffer with a given struct_size; checks that nothing past it is written.
struct GuardedError {
    alignas(8) unsigned char buf[sizeof(conn_error) + 64];
    explicit GuardedError(uint32_t size) {
        std::memset(buf, 0xA5, sizeof buf);
        std::memcpy(buf, &size, sizeof size);
    }
    conn_error *get() { return reinterpret_cast<conn_error *>(buf); }
    bool untouched_from(size_t offset) const {
        for (size_t i = offset; i < sizeof buf; ++i)
            if (buf[i] != 0xA5) return false;
        return true;
    }
};

std::atomic<int> g_poison_log{0};
void poison_log(void *, int32_t, conn_str) { ++g_poison_log; }

std::string test_older_host(const Context &ctx) {
    auto plugin = load_plugin(ctx);
    const conn_connector_v1 &v = plugin->connector();
    const conn_descriptor &d = plugin->descriptor();
    const ConfigEntries good = working_config(ctx, d);
    Expect x;
    OwnedConfig empty(ConfigEntries{});
    for (uint32_t size : {0u, static_cast<uint32_t>(offsetof(conn_error, field)), static_cast<uint32_t>(offsetof(conn_error, message))}) {
        GuardedError g(size);
        conn_instance *out = kSentinel;
        conn_status st = v.instance_create(nullptr, nullptr, &out, g.get());
        x.status("instance_create(NULL) with a " + std::to_string(size) + "-byte conn_error", st, {CONN_ERR_INVALID_ARGUMENT});
        x.that(g.untouched_from(std::max<size_t>(size, sizeof(uint32_t))),
               "the plugin wrote past conn_error.struct_size " + std::to_string(size) + " (an older host's smaller struct)");
    }
    // A conn_host from a host that did not know `log`: the plugin must not call it.
    conn_host old_host{};
    old_host.struct_size = offsetof(conn_host, log);
    old_host.log = &poison_log;
    {
        OwnedConfig cfg(good);
        conn_instance *in = nullptr;
        conn_error err = conn::make_error();
        conn_status st = v.instance_create(&cfg.config, &old_host, &in, &err);
        x.status("instance_create with a conn_host lacking log", st, {CONN_OK});
        if (st == CONN_OK && in != nullptr) {
            if (ctx.has_service() && v.check != nullptr) {
                auto r = conn::make<conn_check_result>();
                v.check(in, nullptr, &r, &err);
            }
            v.instance_destroy(in);
        }
        x.that(g_poison_log == 0, "the plugin called conn_host.log although struct_size says the host does not have it");
    }
    // A newer host's larger conn_config (appended zero fields) is read by its known prefix.
    {
        OwnedConfig cfg(good);
        alignas(8) unsigned char big[sizeof(conn_config) + 32] = {};
        conn_config c = cfg.config;
        c.struct_size = sizeof big;
        std::memcpy(big, &c, sizeof c);
        conn_instance *in = nullptr;
        conn_error err = conn::make_error();
        conn_status st = v.instance_create(reinterpret_cast<conn_config *>(big), nullptr, &in, &err);
        x.status("instance_create with a newer host's larger conn_config", st, {CONN_OK});
        if (st == CONN_OK) v.instance_destroy(in);
    }
    // A smaller conn_check_result (no message) with a service.
    if (ctx.has_service() && v.check != nullptr && declares(d, CONN_CAP_CHECK)) {
        conn::Instance in = open_instance(*plugin, good, nullptr);
        alignas(8) unsigned char buf[sizeof(conn_check_result)];
        std::memset(buf, 0xA5, sizeof buf);
        uint32_t size = offsetof(conn_check_result, message);
        std::memcpy(buf, &size, sizeof size);
        conn_error err = conn::make_error();
        conn_status st = v.check(in.get(), nullptr, reinterpret_cast<conn_check_result *>(buf), &err);
        x.status("check with a conn_check_result lacking message", st, {CONN_OK});
        bool untouched = true;
        for (size_t i = size; i < sizeof buf; ++i) untouched &= buf[i] == 0xA5;
        x.that(untouched, "check wrote past conn_check_result.struct_size");
    }
    x.done();
    return {};
}

std::string test_error_text(const Context &ctx) {
    auto plugin = load_plugin(ctx);
    const conn_connector_v1 &v = plugin->connector();
    const conn_descriptor &d = plugin->descriptor();
    const ConfigEntries good = working_config(ctx, d);
    Expect x;
    std::string cyr;
    for (int i = 0; i < 60; ++i) cyr += "\xd0\xba\xd0\xbb"; // "кл" x 60: multi-byte, longer than the field capacity
    std::vector<std::pair<std::string, ConfigEntries>> cases = {
        {"an empty config", {}},
        {"a 300-byte unknown key", with_value(good, "cf-" + std::string(297, 'q'), "v")},
        {"a long multi-byte unknown key", with_value(good, cyr, "v")},
        {"a 5000-byte unknown key and value", with_value(good, std::string(5000, 'z'), std::string(5000, 'y'))},
    };
    const auto fields = service_fields(d);
    if (!fields.first.empty())
        cases.push_back({"a 5000-byte malformed URL", with_value(good, fields.first, "::" + std::string(5000, 'u') + cyr)});
    int checked = 0;
    for (const auto &[what, entries] : cases) {
        OwnedConfig cfg(entries);
        conn_error err{};
        std::memset(&err, 0xFF, sizeof err);
        err.struct_size = sizeof err;
        conn_instance *out = nullptr;
        conn_status st = v.instance_create(&cfg.config, nullptr, &out, &err);
        if (st == CONN_OK) {
            v.instance_destroy(out);
            continue;
        }
        ++checked;
        const char *mend = static_cast<const char *>(std::memchr(err.message, 0, sizeof err.message));
        const char *fend = static_cast<const char *>(std::memchr(err.field, 0, sizeof err.field));
        x.that(mend != nullptr, what + ": err.message is not NUL-terminated within its capacity");
        x.that(fend != nullptr, what + ": err.field is not NUL-terminated within its capacity");
        if (mend != nullptr) {
            std::string msg(err.message, static_cast<size_t>(mend - err.message));
            x.that(!msg.empty(), what + ": err.message is empty");
            x.that(valid_utf8(msg), what + ": err.message is not valid UTF-8 (truncated inside a character?)");
            x.that(msg.find('\n') == std::string::npos, what + ": err.message is more than one line");
        }
        if (fend != nullptr) x.that(valid_utf8(std::string(err.field, static_cast<size_t>(fend - err.field))), what + ": err.field is not valid UTF-8");
        x.that(err.status == st, what + ": err.status differs from the returned status");
    }
    x.done();
    return std::to_string(checked) + " error cases checked";
}

bool leaks(const std::string &text, const std::string &secret) {
    if (secret.size() < 8) return text.find(secret) != std::string::npos;
    for (size_t i = 0; i + 12 <= secret.size(); ++i)
        if (text.find(secret.substr(i, 12)) != std::string::npos) return true;
    return false;
}

std::string test_secret(const Context &ctx) {
    auto plugin = load_plugin(ctx);
    const conn_connector_v1 &v = plugin->connector();
    const conn_descriptor &d = plugin->descriptor();
    const auto [url_field, secret_field] = service_fields(d);
    if (secret_field.empty()) skip("the plugin declares no secret config field");
    const std::string secret = distinctive_secret(ctx, "leak-probe");
    const ConfigEntries good = with_value(working_config(ctx, d), secret_field, secret);
    Recorder rec;
    conn_host host = rec.host();
    Expect x;
    int cases = 0;
    auto look = [&](const std::string &what, const conn_error &err) {
        ++cases;
        std::string msg(err.message, strnlen(err.message, sizeof err.message));
        std::string field(err.field, strnlen(err.field, sizeof err.field));
        x.that(!leaks(msg, secret), what + ": the error message contains the secret (" + scrub(msg, {secret}) + ")");
        x.that(!leaks(field, secret), what + ": err.field contains the secret");
    };
    auto create = [&](const std::string &what, const ConfigEntries &entries) {
        OwnedConfig cfg(entries);
        conn_error err = conn::make_error();
        conn_instance *out = nullptr;
        if (v.instance_create(&cfg.config, &host, &out, &err) == CONN_OK) v.instance_destroy(out);
        else look(what, err);
    };
    create("unknown key beside the secret", with_value(good, "cf-unknown", secret));
    if (!url_field.empty()) {
        create("malformed URL beside the secret", with_value(good, url_field, "not a url"));
    }
    create("the secret with a non-UTF-8 tail", with_value(good, secret_field, secret + "\xff"));
    create("the secret with a newline", with_value(good, secret_field, secret + "\nX-Injected: 1"));
    for (uint32_t i = 0; i < d.config_field_count; ++i) {
        const conn_field *f = d.config_fields[i];
        if (f->type == CONN_FIELD_INT || f->type == CONN_FIELD_BOOL)
            create("bad value of '" + std::string(f->name) + "' beside the secret", with_value(good, f->name, "cf-bad-value"));
    }
    std::string note = "create-time errors";
    if (ctx.sim) {
        // The simulator refuses this token: the operations' errors must not echo it.
        conn::Instance in = open_instance(*plugin, good, &host);
        if (v.check != nullptr && declares(d, CONN_CAP_CHECK)) {
            auto r = conn::make<conn_check_result>();
            conn_error err = conn::make_error();
            conn_status st = v.check(in.get(), nullptr, &r, &err);
            x.status("check with a refused token", st, {CONN_ERR_UNAUTHENTICATED});
            look("check with a refused token", err);
            x.that(!leaks(std::string(r.message, strnlen(r.message, sizeof r.message)), secret), "the check result's message contains the secret");
        }
        if (v.sync != nullptr && declares(d, CONN_CAP_SYNC)) {
            conn_error err = conn::make_error();
            conn_status st = run_sync(v, in.get(), rec, nullptr, &err);
            x.status("sync with a refused token", st, {CONN_ERR_UNAUTHENTICATED});
            look("sync with a refused token", err);
        }
        note += ", check and sync with a refused token";
    }
    {
        std::lock_guard lock(rec.mu);
        for (const auto &line : rec.logs)
            if (leaks(line, secret)) {
                x.problems.push_back("a log line contains the secret: " + scrub(line, {secret}));
                break;
            }
        note += ", " + std::to_string(rec.logs.size()) + " log lines";
    }
    x.done();
    return std::to_string(cases) + " errors: " + note;
}

std::string test_check(const Context &ctx) {
    auto plugin = load_plugin(ctx);
    const conn_connector_v1 &v = plugin->connector();
    const conn_descriptor &d = plugin->descriptor();
    if (!declares(d, CONN_CAP_CHECK)) skip("the plugin does not declare CONN_CAP_CHECK");
    require(v.check != nullptr, "CONN_CAP_CHECK declared but check is NULL");
    Recorder rec;
    conn::Instance in = open_instance(*plugin, ctx.config, nullptr);
    conn_check_result r{};
    std::memset(&r, 0xFF, sizeof r);
    r.struct_size = sizeof r;
    conn_error err = conn::make_error();
    conn_call call = rec.call();
    rec.begin();
    conn_status st = v.check(in.get(), &call, &r, &err);
    rec.end();
    require(st == CONN_OK, "check with a working config failed: " + describe_error(st, err));
    const char *end = static_cast<const char *>(std::memchr(r.message, 0, sizeof r.message));
    require(end != nullptr, "check_result.message is not NUL-terminated within its capacity");
    require(valid_utf8(std::string_view(r.message, static_cast<size_t>(end - r.message))), "check_result.message is not valid UTF-8");
    require(r.user_count >= -1, "check_result.user_count is " + std::to_string(r.user_count) + " (-1 means unknown)");
    if (ctx.sim && r.user_count >= 0) {
        Truth t = fetch_truth(ctx.sim_admin);
        size_t active = 0;
        for (const auto &u : t.users) active += u.active ? 1 : 0;
        require(static_cast<size_t>(r.user_count) == t.users.size() || static_cast<size_t>(r.user_count) == active,
                "check reports " + std::to_string(r.user_count) + " users; the simulator holds " + std::to_string(t.users.size()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::lock_guard lock(rec.mu);
    require(rec.late_calls == 0, "a " + rec.late_what + " callback arrived after check returned");
    return "check OK, user_count " + std::to_string(r.user_count);
}

std::string test_quiet(const Context &ctx) {
    // A workout of every entry point; the runner fails the test if anything reached stdout or stderr.
    auto plugin = load_plugin(ctx);
    const conn_connector_v1 &v = plugin->connector();
    const conn_descriptor &d = plugin->descriptor();
    const ConfigEntries good = working_config(ctx, d);
    Recorder rec;
    conn_host host = rec.host();
    OwnedConfig empty(ConfigEntries{});
    conn_error err = conn::make_error();
    conn_instance *out = nullptr;
    if (v.instance_create(&empty.config, &host, &out, &err) == CONN_OK) v.instance_destroy(out);
    v.instance_create(nullptr, &host, &out, &err);
    conn::Instance in = open_instance(*plugin, good, &host);
    conn_outcome outcome = CONN_OUTCOME_NONE;
    if (v.delete_resource) v.delete_resource(in.get(), nullptr, conn::str("cf-no-such-type"), conn::str("x"), &outcome, &err);
    if (v.grant) v.grant(in.get(), nullptr, conn::str("cf-bad"), conn::str("cf-bad"), conn::str("x"), nullptr, &outcome, &err);
    if (ctx.has_service()) {
        if (v.check != nullptr && declares(d, CONN_CAP_CHECK)) {
            auto r = conn::make<conn_check_result>();
            v.check(in.get(), nullptr, &r, &err);
        }
        if (v.sync != nullptr && declares(d, CONN_CAP_SYNC)) run_sync(v, in.get(), rec, nullptr, &err);
    }
    return ctx.has_service() ? "create, refusals, check and sync" : "create and refusals (check and sync need a service)";
}

}  // namespace

void register_instance_tests(std::vector<TestCase> &out) {
    out.push_back({"instance.null_arguments", Needs::nothing, "every NULL or out-of-range argument answers CONN_ERR_INVALID_ARGUMENT (NULL config/out/instance/outcome, struct_size 0, conn_str with NULL data and size > 0, undeclared types, malformed ids), no crash, no records", test_null_arguments});
    out.push_back({"instance.bad_config", Needs::nothing, "empty, incomplete, unknown-key, badly typed and random configs are refused with CONN_ERR_INVALID_CONFIG, err.field naming the field, *out NULL", test_bad_config});
    out.push_back({"instance.create_destroy", Needs::nothing, "200 sequential and 4x50 concurrent create/destroy, 8 instances live at once, no thread left", test_create_destroy});
    out.push_back({"instance.isolation", Needs::nothing, "two instances with different configs do not interfere (with --sim: each answers check with its own credentials, also concurrently)", test_isolation});
    out.push_back({"instance.older_host_structs", Needs::nothing, "smaller structs from an older host are honoured (nothing written past conn_error/conn_check_result.struct_size, conn_host.log not called when absent) and a newer host's larger conn_config is accepted", test_older_host});
    out.push_back({"instance.error_text", Needs::nothing, "err.message and err.field are NUL-terminated within capacity, valid UTF-8, one line, and err.status equals the returned status", test_error_text});
    out.push_back({"instance.secret_not_leaked", Needs::nothing, "a distinctive secret never appears in err.message, err.field, check messages or log lines (with --sim also for a refused token)", test_secret});
    out.push_back({"instance.check", Needs::service, "check with a working config answers OK, a NUL-terminated UTF-8 message and user_count -1 or (with --sim) the simulator's user count; no callback after return", test_check});
    out.push_back({"instance.no_stdio_output", Needs::nothing, "the plugin never writes to stdout or stderr (every test's output is captured; this one exercises every entry point)", test_quiet});
}

}  // namespace conformance
