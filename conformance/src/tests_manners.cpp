// Manners that outlive a call: no signal handler installed or changed (load, init, every operation,
// destroy, deinit, unload), and no plugin thread left once the instances that ran operations are destroyed.
#include "registry.hpp"

#include <csignal>
#include <cstring>
#include <functional>

namespace conformance {
namespace {

#ifdef SA_RESTORER
constexpr unsigned kRestorer = SA_RESTORER;
#else
constexpr unsigned kRestorer = 0x04000000u;
#endif

// The disposition of every signal: handler address and flags, as text per signal.
std::vector<std::string> signal_dispositions() {
    std::vector<std::string> out;
    for (int sig = 1; sig < NSIG; ++sig) {
        struct sigaction sa{};
        if (::sigaction(sig, nullptr, &sa) != 0) {
            out.emplace_back();
            continue;
        }
        const bool info = (sa.sa_flags & SA_SIGINFO) != 0;
        const void *handler = info ? reinterpret_cast<const void *>(sa.sa_sigaction) : reinterpret_cast<const void *>(sa.sa_handler);
        // The flags matter only for a handler; SA_RESTORER is glibc's own (set by any sigaction call, e.g.
        // libcurl's save-and-restore of SIGPIPE), not a change in what the signal does.
        const bool is_handler = info || (sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN);
        const unsigned flags = is_handler ? static_cast<unsigned>(sa.sa_flags) & ~kRestorer : 0u;
        char buf[64];
        std::snprintf(buf, sizeof buf, "%s%p/%x", info ? "action " : "handler ", handler, flags);
        out.emplace_back(buf);
    }
    return out;
}

std::string signal_text(int sig) {
    const char *abbrev = ::sigabbrev_np(sig);
    return abbrev != nullptr ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

// Compares every signal with the snapshot taken before loading; the first change is the failure.
struct SignalWatch {
    std::vector<std::string> before = signal_dispositions();
    void look(const std::string &when) const {
        const std::vector<std::string> now = signal_dispositions();
        for (size_t i = 0; i < now.size() && i < before.size(); ++i)
            if (now[i] != before[i])
                fail("the disposition of " + signal_text(static_cast<int>(i) + 1) + " changed " + when + " (" + before[i] + " -> " + now[i] +
                     "): a plugin never installs signal handlers");
    }
};

// Runs each operation once on `in` (refusals without a service; check and syncs with one), looking after each.
void exercise(const connector_host::LoadedPlugin &plugin, conn_instance *in, const Context &ctx, Recorder &rec,
              const std::function<void(const std::string &)> &after) {
    const conn_connector_v1 &v = plugin.connector();
    const conn_descriptor &d = plugin.descriptor();
    conn_error err = conn::make_error();
    conn_outcome outcome = CONN_OUTCOME_NONE;
    if (v.delete_resource) v.delete_resource(in, nullptr, conn::str("cf-no-such-type"), conn::str("x"), &outcome, &err);
    if (v.grant) v.grant(in, nullptr, conn::str("cf-bad"), conn::str("cf-bad"), conn::str("x"), nullptr, &outcome, &err);
    if (v.revoke) v.revoke(in, nullptr, conn::str("cf-bad"), conn::str("cf-bad"), conn::str("x"), &outcome, &err);
    if (v.create_account) v.create_account(in, nullptr, nullptr, nullptr, &outcome, &err);
    after("after refused operations");
    if (!ctx.has_service()) return;
    if (v.check != nullptr && (d.capabilities & CONN_CAP_CHECK) != 0) {
        auto r = conn::make<conn_check_result>();
        v.check(in, nullptr, &r, &err);
        after("after check");
    }
    if (v.sync == nullptr || (d.capabilities & CONN_CAP_SYNC) == 0) return;
    run_sync(v, in, rec, nullptr, &err);
    after("after a sync");
    rec.stop_after = 2;
    run_sync(v, in, rec, nullptr, &err);
    after("after a stopped sync");
}

std::string test_no_signal_handlers(const Context &ctx) {
    SignalWatch watch;
    Recorder rec; // outlives the instance
    {
        auto plugin = load_plugin(ctx);
        watch.look("by load and init");
        conn::Instance in = open_instance(*plugin, working_config(ctx, plugin->descriptor()), nullptr);
        watch.look("by instance_create");
        exercise(*plugin, in.get(), ctx, rec, [&](const std::string &when) { watch.look(when); });
        in.reset();
        watch.look("by instance_destroy");
    }
    watch.look("by deinit and unload");
    return std::to_string(NSIG - 1) + " signals unchanged through load, init, " +
           (ctx.has_service() ? "check, syncs" : "refused operations") + ", destroy, deinit, unload";
}

std::string test_threads_after_operations(const Context &ctx) {
    // Threads left by init or unload are library.load_unload_cycles' finding; this test starts after init.
    Recorder rec;
    std::string note;
    {
        auto plugin = load_plugin(ctx);
        const size_t loaded = thread_count();
        for (int round = 1; round <= 3; ++round) {
            conn::Instance in = open_instance(*plugin, working_config(ctx, plugin->descriptor()), nullptr);
            exercise(*plugin, in.get(), ctx, rec, [](const std::string &) {});
            const size_t during = thread_count();
            in.reset();
            const size_t now = settle_threads(loaded);
            require(now <= loaded, "round " + std::to_string(round) + ": after the instance that ran the operations was destroyed the process has " +
                                       std::to_string(now - loaded) + " thread(s) more than after init: the plugin left a thread behind");
            note = std::to_string(during) + " threads while the instance lived, " + std::to_string(now) + " after destroy";
        }
    }
    return note + (ctx.has_service() ? " (check and syncs ran)" : " (refusals only: no service)");
}

}  // namespace

void register_manners_tests(std::vector<TestCase> &out) {
    out.push_back({"instance.no_signal_handlers", Needs::nothing, "the disposition (handler, flags) of every signal is unchanged after load and init, instance_create, refused operations, check, a sync, a stopped sync (with a service), destroy, deinit and unload", test_no_signal_handlers});
    out.push_back({"instance.threads_after_operations", Needs::nothing, "3 rounds of create, every operation (check and syncs with a service), destroy: after each destroy the thread count is back to where it was after init (unload: library.load_unload_cycles)", test_threads_after_operations});
}

}  // namespace conformance
