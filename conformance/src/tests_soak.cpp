// Soak (--level 4): many create/sync/destroy cycles on one loaded plugin; memory stays flat (threads left
// behind are instance.threads_after_operations' finding).
#include "registry.hpp"

#include <sstream>

namespace conformance {
namespace {

constexpr int kWarmup = 10, kMeasured = 100;
constexpr double kSlackMiB = 16.0;

// One cycle: a new instance, a full sync (its answer checked), destroy.
void cycle(const connector_host::LoadedPlugin &plugin, const ConfigEntries &config, Recorder &rec, int i) {
    conn::Instance in = open_instance(plugin, config, nullptr);
    conn_error err = conn::make_error();
    conn_status st = run_sync(plugin.connector(), in.get(), rec, nullptr, &err);
    require(st == CONN_OK, "sync of cycle " + std::to_string(i) + " failed: " + describe_error(st, err));
}

std::string test_soak(const Context &ctx) {
    auto plugin = load_plugin(ctx);
    const conn_descriptor &d = plugin->descriptor();
    if ((d.capabilities & CONN_CAP_SYNC) == 0) skip("the plugin does not declare CONN_CAP_SYNC");
    std::vector<std::unique_ptr<Recorder>> recorders; // one per cycle, outliving its instance
    auto run = [&](int i) {
        Recorder &rec = *recorders.emplace_back(std::make_unique<Recorder>());
        cycle(*plugin, ctx.config, rec, i);
        std::lock_guard lock(rec.mu);
        rec.resources.clear(); // keep only the counts: the runner's own memory must not grow with the cycles
        rec.entitlement_ids.clear();
        rec.grants.clear();
        rec.resources.shrink_to_fit();
        rec.entitlement_ids.shrink_to_fit();
        rec.grants.shrink_to_fit();
    };
    for (int i = 0; i < kWarmup; ++i) run(i);
    const size_t before = memory_in_use();
    for (int i = kWarmup; i < kWarmup + kMeasured; ++i) run(i);
    const size_t after = memory_in_use();
    const double growth = after > before ? static_cast<double>(after - before) / (1024.0 * 1024.0) : 0.0;
    std::ostringstream note;
    note.precision(2);
    note << std::fixed << kWarmup + kMeasured << " create/sync/destroy cycles; " << memory_measure_name() << " growth over the last "
         << kMeasured << ": " << growth << " MiB (limit " << kSlackMiB << ")";
    require(growth <= kSlackMiB, "memory grows across create/sync/destroy: " + note.str());
    return note.str();
}

}  // namespace

void register_soak_tests(std::vector<TestCase> &out) {
    out.push_back({"soak.create_sync_destroy", Needs::service, "--level 4: 110 cycles of instance_create, a full sync, instance_destroy on one loaded plugin: the memory in use grows by at most 16 MiB over the last 100", test_soak});
}

}  // namespace conformance
