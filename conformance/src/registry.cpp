#include "registry.hpp"

#include <cstring>
#include <random>

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
        register_provisioning_tests(t);
        for (auto &tc : t)
            tc.report_note = tc.name == "library.scan_time" || tc.name == "library.load_unload_cycles" || tc.name == "sync.cancel";
        return t;
    }();
    return tests;
}

std::unique_ptr<connector_host::LoadedPlugin> load_plugin(const Context &ctx) {
    try {
        return connector_host::LoadedPlugin::load(ctx.plugin_path);
    } catch (const connector_host::PluginLoadError &e) {
        fail(std::string("the host loader refused the plugin (") + std::string(connector_host::to_string(e.kind())) +
             "): " + e.what());
    }
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
                     conn_error *err, const conn_call *call, const conn_sink *sink) {
    require(v.sync != nullptr, "the vtable has no sync function");
    conn_sink own = rec.sink();
    conn_call own_call = rec.call();
    rec.begin();
    conn_status st = v.sync(inst, call != nullptr ? call : &own_call, nullptr, sink != nullptr ? sink : &own, result, err);
    rec.end();
    return st;
}

}  // namespace conformance
