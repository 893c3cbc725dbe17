// Strings: every conn_str the host passes is a (pointer, length) view, not necessarily NUL-terminated.
// Each call is made twice, once with ordinary strings and once with views into poisoned buffers
// (PoisonedStrings); the plugin must answer both the same way.
#include "registry.hpp"

#include <cstring>

namespace conformance {
namespace {

// What one call answered, for comparing the ordinary and the poisoned run.
struct Answer {
    conn_status st = CONN_OK;
    std::string field;
    conn_outcome outcome = CONN_OUTCOME_NONE;
    bool operator==(const Answer &o) const { return st == o.st && field == o.field && outcome == o.outcome; }
};

std::string answer_text(const Answer &a) {
    std::string out = conn::status_text(a.st);
    if (!a.field.empty()) out += " (field " + printable(a.field) + ")";
    if (a.st == CONN_OK && a.outcome != CONN_OUTCOME_NONE) out += " " + outcome_text(a.outcome);
    return out;
}

Answer answer_of(conn_status st, const conn_error &err, conn_outcome outcome = CONN_OUTCOME_NONE) {
    return Answer{st, st == CONN_OK ? std::string() : std::string(err.field, strnlen(err.field, sizeof err.field)), outcome};
}

struct Comparison {
    std::vector<std::string> problems;
    int calls = 0;
    void same(const std::string &what, const Answer &plain, const Answer &poisoned) {
        ++calls;
        if (plain == poisoned) return;
        problems.push_back(what + ": with NUL-terminated strings it answered " + answer_text(plain) +
                           ", with the same strings not NUL-terminated " + answer_text(poisoned));
    }
    void done() const { fail_if_any(problems, " -- the plugin reads a conn_str past its size (strlen/strcmp?)"); }
};

struct StringsRun : PluginUnderTest {
    explicit StringsRun(const Context &ctx) : PluginUnderTest(ctx), good(working_config(ctx, *d)) {}
    ConfigEntries good;
    PoisonedStrings poison;
    Comparison cmp;
    Recorder plain_rec, poisoned_rec; // outlive the instances (declared in the test, after this)
};

Answer create(StringsRun &r, const conn_config &config, conn_instance **keep) {
    conn_error err = conn::make_error();
    conn_instance *in = nullptr;
    conn_status st = r.v->instance_create(&config, nullptr, &in, &err);
    if (st == CONN_OK && keep != nullptr) *keep = in;
    else if (st == CONN_OK) r.v->instance_destroy(in);
    return answer_of(st, err);
}

// instance_create: the working config, an unknown key, and a bad value of each typed field.
void compare_configs(StringsRun &r) {
    std::vector<std::pair<std::string, ConfigEntries>> cases = {{"instance_create(working config)", r.good},
                                                                {"instance_create(an unknown key)", with_value(r.good, "cf-unknown-key", "v")}};
    for (uint32_t i = 0; i < r.d->config_field_count; ++i) {
        const conn_field *f = r.d->config_fields[i];
        if (f->type == CONN_FIELD_INT || f->type == CONN_FIELD_BOOL || f->type == CONN_FIELD_URL)
            cases.push_back({"instance_create(a bad value of '" + std::string(f->name) + "')", with_value(r.good, f->name, "cf bad")});
    }
    for (const auto &[what, entries] : cases) {
        OwnedConfig plain(entries);
        r.cmp.same(what, create(r, plain.config, nullptr), create(r, r.poison.config(entries), nullptr));
    }
}

Answer account(StringsRun &r, conn_instance *in, const std::vector<conn_kv> &fields) {
    conn_account_request req{sizeof(conn_account_request), 0, fields.empty() ? nullptr : fields.data(), fields.size()};
    conn_error err = conn::make_error();
    conn_outcome outcome = CONN_OUTCOME_NONE;
    return answer_of(r.v->create_account(in, nullptr, &req, nullptr, &outcome, &err), err, outcome);
}

// create_account refusals only (an unknown field, a missing one): nothing is written anywhere.
void compare_account_requests(StringsRun &r, conn_instance *in) {
    if (r.v->create_account == nullptr || !r.has(CONN_CAP_CREATE_ACCOUNT)) return;
    ConfigEntries fields;
    for (uint32_t i = 0; i < r.d->account_field_count; ++i) fields.emplace_back(r.d->account_fields[i]->name, "x");
    const ConfigEntries unknown = with_value(fields, "cf-unknown-field", "x");
    OwnedConfig plain(unknown);
    r.cmp.same("create_account(an unknown field)", account(r, in, plain.kvs), account(r, in, r.poison.kvs(unknown)));
    if (fields.empty()) return;
    const ConfigEntries missing = without(fields, fields.front().first);
    OwnedConfig plain_missing(missing);
    r.cmp.same("create_account(without '" + fields.front().first + "')", account(r, in, plain_missing.kvs), account(r, in, r.poison.kvs(missing)));
}

// The string arguments of delete_resource, grant and revoke, plainly and poisoned.
struct IdArgs {
    conn_str type, id, ent, ptype;
};

Answer id_call(StringsRun &r, conn_instance *in, const std::string &op, const IdArgs &a) {
    conn_error err = conn::make_error();
    conn_outcome outcome = CONN_OUTCOME_NONE;
    conn_status st = CONN_ERR_UNSUPPORTED;
    if (op == "delete_resource" && r.v->delete_resource) st = r.v->delete_resource(in, nullptr, a.type, a.id, &outcome, &err);
    if (op == "grant" && r.v->grant) st = r.v->grant(in, nullptr, a.ent, a.ptype, a.id, nullptr, &outcome, &err);
    if (op == "revoke" && r.v->revoke) st = r.v->revoke(in, nullptr, a.ent, a.ptype, a.id, &outcome, &err);
    return answer_of(st, err, outcome);
}

// delete/grant/revoke of an id that does not exist.
void compare_ids(StringsRun &r, conn_instance *in) {
    std::string type = "user", ent = "group:cf-none:member", ptype = "user";
    for (uint32_t i = 0; i < r.d->resource_type_count; ++i) {
        const conn_resource_type *t = r.d->resource_types[i];
        if ((t->capabilities & CONN_RT_DELETE) != 0) type = t->id;
        for (uint32_t k = 0; k < t->entitlement_type_count; ++k)
            if (t->entitlement_types[k]->grantable_to_count > 0) {
                ent = std::string(t->id) + ":cf-none:" + t->entitlement_types[k]->slug;
                ptype = t->entitlement_types[k]->grantable_to[0];
            }
    }
    const IdArgs plain{conn::str(type), conn::str("cf-none"), conn::str(ent), conn::str(ptype)};
    const IdArgs poisoned{r.poison.view(type), r.poison.view("cf-none"), r.poison.view(ent), r.poison.view(ptype)};
    for (const char *op : {"delete_resource", "grant", "revoke"})
        r.cmp.same(std::string(op) + "(an id that does not exist)", id_call(r, in, op, plain), id_call(r, in, op, poisoned));
}

// With a service: check on an instance made from the poisoned config, and a sync whose options carry an
// empty resume token that points at poison.
void compare_service_calls(StringsRun &r, conn_instance *plain_in, conn_instance *poisoned_in) {
    if (r.v->check != nullptr && r.has(CONN_CAP_CHECK)) {
        auto res = conn::make<conn_check_result>();
        conn_error e1 = conn::make_error(), e2 = conn::make_error();
        Answer a = answer_of(r.v->check(plain_in, nullptr, &res, &e1), e1);
        r.cmp.same("check (on an instance made from the config)", a, answer_of(r.v->check(poisoned_in, nullptr, &res, &e2), e2));
    }
    if (r.v->sync == nullptr || !r.has(CONN_CAP_SYNC)) return;
    Recorder &plain_rec = r.plain_rec, &poisoned_rec = r.poisoned_rec;
    conn_error e1 = conn::make_error(), e2 = conn::make_error();
    Answer a = answer_of(run_sync(*r.v, plain_in, plain_rec, nullptr, &e1), e1);
    auto options = conn::make<conn_sync_options>();
    options.resume_from = r.poison.view("");
    conn_sink sink = poisoned_rec.sink();
    conn_call call = poisoned_rec.call();
    poisoned_rec.begin();
    conn_status st = r.v->sync(poisoned_in, &call, &options, &sink, nullptr, &e2);
    poisoned_rec.end();
    r.cmp.same("sync (poisoned config, an empty resume_from pointing at poison)", a, answer_of(st, e2));
    std::lock_guard l1(plain_rec.mu), l2(poisoned_rec.mu);
    if (plain_rec.sink_calls != poisoned_rec.sink_calls)
        r.cmp.problems.push_back("sync delivered " + std::to_string(plain_rec.sink_calls) + " records with NUL-terminated strings, " +
                                 std::to_string(poisoned_rec.sink_calls) + " without");
}

std::string test_unterminated(const Context &ctx) {
    StringsRun r(ctx);
    compare_configs(r);
    conn_instance *poisoned_raw = nullptr;
    Answer made = create(r, r.poison.config(r.good), &poisoned_raw);
    if (made.st != CONN_OK) {
        r.cmp.done(); // the difference, when there is one
        fail("instance_create with the working config failed: " + answer_text(made));
    }
    conn::Instance poisoned(*r.v, poisoned_raw);
    conn::Instance plain = open_instance(*r.plugin, r.good, nullptr);
    compare_account_requests(r, poisoned.get());
    // delete/grant/revoke reach the service: only the simulator's, or a real one with --allow-writes.
    if (ctx.sim || (ctx.config_from_user && ctx.allow_writes)) compare_ids(r, poisoned.get());
    if (ctx.has_service()) compare_service_calls(r, plain.get(), poisoned.get());
    r.cmp.done();
    return std::to_string(r.cmp.calls) + " calls answered alike with and without NUL terminators";
}

}  // namespace

void register_string_tests(std::vector<TestCase> &out) {
    out.push_back({"instance.unterminated_strings", Needs::nothing,
                   "every conn_str the host passes (config keys and values, account fields, resource and entitlement ids, types, the resume token) is read by its size only: "
                   "each call answers the same with views into buffers of poison bytes (no NUL after the size) as with NUL-terminated strings",
                   test_unterminated});
}

}  // namespace conformance
