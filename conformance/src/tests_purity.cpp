// Purity: describe() answers the same pointer and the same contents on every call and thread;
// instance_create validates locally and makes no network request (counted by the simulator).
#include "registry.hpp"

#include <httplib.h>
#include <rapidjson/document.h>

#include <mutex>
#include <thread>

namespace conformance {
namespace {

using namespace std::chrono_literals;

constexpr uint32_t kMaxItems = 4096; // counts beyond this are library.descriptor's finding, not read here

void put(std::string &out, const char *s) {
    out += s == nullptr ? std::string("<null>") : "\"" + std::string(s) + "\"";
    out += '|';
}
void put(std::string &out, uint64_t n) { out += std::to_string(n) + '|'; }

void put_field(std::string &out, const conn_field *f) {
    if (f == nullptr) return put(out, nullptr);
    for (uint64_t n : {uint64_t{f->struct_size}, uint64_t{f->flags}, static_cast<uint64_t>(f->type)}) put(out, n);
    for (const char *s : {f->name, f->display_name, f->description, f->default_value, f->example}) put(out, s);
}

void put_fields(std::string &out, const conn_field *const *fields, uint32_t count) {
    put(out, count);
    for (uint32_t i = 0; fields != nullptr && i < count && i < kMaxItems; ++i) put_field(out, fields[i]);
}

void put_type(std::string &out, const conn_resource_type *t) {
    if (t == nullptr) return put(out, nullptr);
    for (uint64_t n : {uint64_t{t->struct_size}, uint64_t{t->traits}, uint64_t{t->capabilities}, uint64_t{t->entitlement_type_count}}) put(out, n);
    for (const char *s : {t->id, t->display_name, t->description}) put(out, s);
    for (uint32_t k = 0; t->entitlement_types != nullptr && k < t->entitlement_type_count && k < kMaxItems; ++k) {
        const conn_entitlement_type *et = t->entitlement_types[k];
        if (et == nullptr) {
            put(out, nullptr);
            continue;
        }
        for (uint64_t n : {uint64_t{et->struct_size}, static_cast<uint64_t>(et->purpose), uint64_t{et->flags}, uint64_t{et->grantable_to_count}}) put(out, n);
        for (const char *s : {et->slug, et->display_name, et->description}) put(out, s);
        for (uint32_t g = 0; et->grantable_to != nullptr && g < et->grantable_to_count && g < kMaxItems; ++g) put(out, et->grantable_to[g]);
    }
}

// Every field, string and array element the descriptor reaches, as text: two calls compare equal when the
// plugin answered the same contents.
std::string descriptor_text(const conn_descriptor *d) {
    std::string out;
    if (d == nullptr) return "<null>";
    for (uint64_t n : {uint64_t{d->struct_size}, uint64_t{d->abi_major}, uint64_t{d->abi_minor}, uint64_t{d->capabilities}}) put(out, n);
    for (const char *s : {d->id, d->name, d->version, d->description, d->vendor, d->url}) put(out, s);
    put(out, d->resource_type_count);
    for (uint32_t i = 0; d->resource_types != nullptr && i < d->resource_type_count && i < kMaxItems; ++i) put_type(out, d->resource_types[i]);
    put_fields(out, d->config_fields, d->config_field_count);
    put_fields(out, d->account_fields, d->account_field_count);
    return out;
}

// Where two texts first differ, for the failure message.
std::string first_difference(const std::string &a, const std::string &b) {
    size_t i = 0;
    while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
    size_t from = i > 40 ? i - 40 : 0;
    return printable(a.substr(from, 80), 80) + " became " + printable(b.substr(from, 80), 80);
}

std::string test_describe_stable(const Context &ctx) {
    auto plugin = load_plugin(ctx);
    const conn_connector_v1 &v = plugin->connector();
    const conn_descriptor *d = v.describe();
    const std::string want = descriptor_text(d);
    std::mutex mu;
    std::string problem;
    auto look = [&](const std::string &when) {
        const conn_descriptor *now = v.describe();
        std::string got = now == d ? descriptor_text(now) : want;
        std::lock_guard lock(mu);
        if (!problem.empty()) return;
        if (now != d) problem = "describe() answered another pointer " + when;
        else if (got != want) problem = "describe() answered the same pointer with other contents " + when + ": " + first_difference(want, got);
    };
    for (int i = 0; i < 100; ++i) look("on call " + std::to_string(i + 2));
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 25; ++i) look("on another thread");
        });
    for (auto &t : threads) t.join();
    {
        conn::Instance in = open_instance(*plugin, working_config(ctx, *d), nullptr);
        look("while an instance lives");
    }
    look("after an instance was destroyed");
    require(problem.empty(), problem);
    return "201 calls on 5 threads: one pointer, one content (" + std::to_string(want.size()) + " bytes of description)";
}

std::string test_no_network_at_create(const Context &ctx) {
    auto plugin = load_plugin(ctx);
    const conn_connector_v1 &v = plugin->connector();
    const ConfigEntries good = working_config(ctx, plugin->descriptor());
    std::vector<conn::Instance> live;
    const uint64_t before = sim_requests(ctx.sim_admin);
    for (int i = 0; i < 5; ++i) live.push_back(open_instance(*plugin, good, nullptr));
    OwnedConfig refused(with_value(good, "cf-unknown-key", "v"));
    conn_error err = conn::make_error();
    conn_instance *out = nullptr;
    if (v.instance_create(&refused.config, nullptr, &out, &err) == CONN_OK) v.instance_destroy(out);
    std::this_thread::sleep_for(200ms); // a request a background thread started is answered by now
    const uint64_t after = sim_requests(ctx.sim_admin);
    require(after == before, "instance_create made " + std::to_string(after - before) +
                                 " request(s) to the service (5 working configs and a refused one); it must validate locally");
    return "5 instances created, no request reached the simulator";
}

}  // namespace

void register_purity_tests(std::vector<TestCase> &out) {
    out.push_back({"library.describe_stable", Needs::nothing, "describe() answers the same pointer and the same contents (every field, string and array element) on 201 calls, from 4 other threads, while an instance lives and after", test_describe_stable});
    out.push_back({"instance.no_network_at_create", Needs::sim, "instance_create validates locally: creating 5 instances and refusing a config makes no request (the simulator's GET /_admin/stats counters)", test_no_network_at_create});
}

}  // namespace conformance
