#include "registry.hpp"

#include <cstring>
#include <random>
#include <tuple>
#include <utility>

namespace conformance {

const std::vector<TestCase> &all_tests() {
    static const std::vector<TestCase> tests = [] {
        std::vector<TestCase> t;
        register_library_tests(t);
        register_instance_tests(t);
        register_purity_tests(t);
        register_string_tests(t);
        register_manners_tests(t);
        register_error_tests(t);
        register_sync_tests(t);
        register_checkpoint_tests(t);
        register_provisioning_tests(t);
        register_soak_tests(t);
        register_fault_tests(t);
        for (auto &tc : t) {
            tc.report_note = tc.name == "library.scan_time" || tc.name == "library.load_unload_cycles" || tc.name == "sync.cancel" || tc.name == "sync.checkpoint_resume" ||
                             tc.name.rfind("soak.", 0) == 0;
            tc.depth = depth_of(tc.name);
        }
        return t;
    }();
    return tests;
}

namespace {

constexpr uint32_t kMaxCount = 100000; // a count beyond this is taken for garbage, not walked

// Why the fields array cannot be walked safely, or "".
std::string fields_unwalkable(const conn_field *const *fields, uint32_t count, const char *kind) {
    if (count > kMaxCount) return std::string(kind) + " field count " + std::to_string(count) + " is implausible";
    if (count > 0 && fields == nullptr) return std::string(kind) + " fields are NULL with a non-zero count";
    for (uint32_t i = 0; i < count; ++i)
        if (fields[i] == nullptr || fields[i]->name == nullptr) return std::string(kind) + " field #" + std::to_string(i) + " or its name is NULL";
    return {};
}

std::string type_unwalkable(const conn_resource_type *t, uint32_t i) {
    const std::string where = "resource type #" + std::to_string(i);
    if (t == nullptr || t->id == nullptr) return where + " or its id is NULL";
    if (t->entitlement_type_count > kMaxCount || (t->entitlement_type_count > 0 && t->entitlement_types == nullptr))
        return where + ": entitlement_types cannot be read";
    for (uint32_t k = 0; k < t->entitlement_type_count; ++k) {
        const conn_entitlement_type *et = t->entitlement_types[k];
        if (et == nullptr || et->slug == nullptr) return where + " entitlement type #" + std::to_string(k) + " or its slug is NULL";
        if (et->grantable_to_count > kMaxCount || (et->grantable_to_count > 0 && et->grantable_to == nullptr))
            return where + " entitlement type #" + std::to_string(k) + ": grantable_to cannot be read";
        for (uint32_t g = 0; g < et->grantable_to_count; ++g)
            if (et->grantable_to[g] == nullptr) return where + " entitlement type #" + std::to_string(k) + " is grantable to NULL";
    }
    return {};
}

// What the tests rely on without checking at every use: arrays and names present, a function for every
// declared capability. "" when the plugin can be exercised without risking a crash of the runner's own.
std::string unwalkable(const conn_descriptor &d, const conn_connector_v1 &v) {
    if (d.resource_type_count > kMaxCount || (d.resource_type_count > 0 && d.resource_types == nullptr))
        return "resource_types cannot be read";
    for (uint32_t i = 0; i < d.resource_type_count; ++i)
        if (std::string why = type_unwalkable(d.resource_types[i], i); !why.empty()) return why;
    for (auto [fields, count, kind] : {std::tuple{d.config_fields, d.config_field_count, "config"},
                                       std::tuple{d.account_fields, d.account_field_count, "account"}})
        if (std::string why = fields_unwalkable(fields, count, kind); !why.empty()) return why;
    const std::pair<uint32_t, bool> fns[] = {{CONN_CAP_CHECK, v.check != nullptr}, {CONN_CAP_SYNC, v.sync != nullptr},
                                             {CONN_CAP_CREATE_ACCOUNT, v.create_account != nullptr}, {CONN_CAP_DELETE, v.delete_resource != nullptr},
                                             {CONN_CAP_GRANT, v.grant != nullptr}, {CONN_CAP_REVOKE, v.revoke != nullptr}};
    for (const auto &[cap, present] : fns)
        if ((d.capabilities & cap) != 0 && !present) return "a declared capability's vtable function is NULL";
    return {};
}

}  // namespace

int depth_of(const std::string &name) {
    const std::string level = name.substr(0, name.find('.'));
    if (level == "library") return 1;
    if (level == "instance") return 2;
    if (level == "sync" || level == "provision") return 3;
    return kMaxDepth;
}

std::unique_ptr<connector_host::LoadedPlugin> load_plugin(const Context &ctx) {
    std::unique_ptr<connector_host::LoadedPlugin> plugin;
    try {
        plugin = connector_host::LoadedPlugin::load(ctx.plugin_path);
    } catch (const connector_host::PluginLoadError &e) {
        fail(std::string("the host loader refused the plugin (") + std::string(connector_host::to_string(e.kind())) +
             "): " + e.what());
    }
    if (std::string why = unwalkable(plugin->descriptor(), plugin->connector()); !why.empty())
        skip("the descriptor is malformed (" + why + "; library.descriptor reports it): this test cannot run without crashing on it");
    return plugin;
}

PluginUnderTest::PluginUnderTest(const Context &ctx) : plugin(load_plugin(ctx)), v(&plugin->connector()), d(&plugin->descriptor()) {}

void fail_if_any(const std::vector<std::string> &problems, const std::string &suffix) {
    if (problems.empty()) return;
    std::string all = problems.front();
    if (problems.size() > 1) all += " (and " + std::to_string(problems.size() - 1) + " more, e.g. " + problems[1] + ")";
    fail(all + suffix);
}

std::string distinctive_secret(const Context &ctx, const char *salt) {
    std::mt19937_64 rng(ctx.seed * 0x9E3779B97F4A7C15ull + std::hash<std::string>{}(salt));
    char buf[40];
    std::snprintf(buf, sizeof buf, "cfSecret%016llxZq", static_cast<unsigned long long>(rng()));
    return buf;
}

ConfigEntries working_config(const Context &ctx, const conn_descriptor &d) {
    if (!ctx.config.empty()) return ctx.config;
    return synthesise_config(d, distinctive_secret(ctx, "working"));
}

conn::Instance open_instance(const connector_host::LoadedPlugin &plugin, const ConfigEntries &config,
                             const conn_host *host) {
    OwnedConfig cfg(config);
    conn_error err = conn::make_error();
    conn::Instance instance;
    conn_status st = instance.create(plugin.connector(), cfg.config, host, &err);
    if (st != CONN_OK || !instance) fail("instance_create with a working config failed: " + describe_error(st, err));
    return instance;
}

std::string describe_error(conn_status st, const conn_error &err) {
    return conn::describe(st, err, [](std::string_view text) { return text.empty() ? std::string() : printable(text, 200); });
}

conn_status run_sync(const conn_connector_v1 &v, conn_instance *inst, Recorder &rec, conn_sync_result *result,
                     conn_error *err, const conn_call *call, const conn_sink *sink, const conn_sync_options *options) {
    require(v.sync != nullptr, "the vtable has no sync function");
    conn_sink own = rec.sink();
    conn_call own_call = rec.call();
    rec.begin();
    conn_status st = v.sync(inst, call != nullptr ? call : &own_call, options, sink != nullptr ? sink : &own, result, err);
    rec.end();
    return st;
}

}  // namespace conformance
