// Library level: the shared object itself, the entry, negotiation, the descriptor, init/deinit.
#include "registry.hpp"

#include <dlfcn.h>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sys/time.h>

#include <algorithm>
#include <cstring>
#include <regex>
#include <set>
#include <sstream>
#include <thread>
#include <atomic>

namespace conformance {
namespace {

constexpr int kFlags = RTLD_NOW | RTLD_LOCAL;

#if defined(__SANITIZE_ADDRESS__)
constexpr double kSanitizerFactor = 4.0;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr double kSanitizerFactor = 4.0;
#else
constexpr double kSanitizerFactor = 1.0;
#endif
#else
constexpr double kSanitizerFactor = 1.0;
#endif

// The entry for our major, checked enough to be called.
const conn_plugin_entry *entry_for_us(conn_plugin_entry_fn fn) {
    uint32_t minor = CONN_ABI_VERSION_MINOR;
    const conn_plugin_entry *e = fn(CONN_ABI_VERSION_MAJOR, &minor);
    require(e != nullptr, "the entry answered NULL for ABI major " + std::to_string(CONN_ABI_VERSION_MAJOR));
    require(e->struct_size >= sizeof(conn_plugin_entry), "conn_plugin_entry.struct_size is " + std::to_string(e->struct_size) +
                                                             ", less than ABI 1.0's " + std::to_string(sizeof(conn_plugin_entry)));
    require(e->init != nullptr && e->deinit != nullptr && e->get_interface != nullptr, "the entry has NULL functions");
    return e;
}

std::string test_load(const Context &ctx) {
    RawLibrary lib(ctx.plugin_path, kFlags);
    return "dlopen(RTLD_NOW | RTLD_LOCAL) succeeded";
}

std::string test_entry_symbol(const Context &ctx) {
    RawLibrary lib(ctx.plugin_path, kFlags);
    require(lib.symbol(CONN_ENTRY_SYMBOL) != nullptr, "the library does not export " CONN_ENTRY_SYMBOL);
    return {};
}

std::string test_exports(const Context &ctx) {
    auto names = exported_symbols(ctx.plugin_path);
    std::vector<std::string> extra;
    bool has_entry = false;
    for (const auto &n : names) {
        if (n == CONN_ENTRY_SYMBOL) has_entry = true;
        else extra.push_back(n);
    }
    // Plain C names first: they are the ones an author exported on purpose.
    std::stable_partition(extra.begin(), extra.end(), [](const std::string &n) { return n.rfind("_Z", 0) != 0; });
    std::string list;
    for (size_t i = 0; i < extra.size() && i < 8; ++i) list += (i ? ", " : "") + extra[i];
    if (extra.size() > 8) list += ", ...";
    require(has_entry, "the dynamic symbol table does not define " CONN_ENTRY_SYMBOL);
    require(extra.empty(), std::to_string(extra.size()) + " symbol(s) exported besides " CONN_ENTRY_SYMBOL ": " + list +
                               " (build with hidden visibility and the version script)");
    return "exports exactly " CONN_ENTRY_SYMBOL;
}

std::string test_negotiation(const Context &ctx) {
    RawLibrary lib(ctx.plugin_path, kFlags);
    auto fn = lib.entry_fn();
    for (uint32_t major : {0u, CONN_ABI_VERSION_MAJOR + 1, 7u, 0xFFFFFFFFu}) {
        uint32_t minor = 0;
        const conn_plugin_entry *e = fn(major, &minor);
        require(e == nullptr, "the entry answered an entry (abi_major field " + std::to_string(e ? e->abi_major : 0) +
                                  ") for unsupported ABI major " + std::to_string(major) + "; it must answer NULL");
        require(fn(major, nullptr) == nullptr, "the entry answered for unsupported major " + std::to_string(major) +
                                                   " with abi_minor NULL");
    }
    uint32_t minor = CONN_ABI_VERSION_MINOR;
    const conn_plugin_entry *e = fn(CONN_ABI_VERSION_MAJOR, &minor);
    require(e != nullptr, "the plugin refused ABI major " + std::to_string(CONN_ABI_VERSION_MAJOR) + ", the major this host speaks");
    require(e->struct_size >= sizeof(conn_plugin_entry), "conn_plugin_entry.struct_size " + std::to_string(e->struct_size) +
                                                             " is smaller than ABI 1.0's " + std::to_string(sizeof(conn_plugin_entry)));
    require(e->abi_major == CONN_ABI_VERSION_MAJOR, "the entry for major " + std::to_string(CONN_ABI_VERSION_MAJOR) +
                                                        " says abi_major " + std::to_string(e->abi_major));
    require(minor == std::min(e->abi_minor, CONN_ABI_VERSION_MINOR),
            "negotiated minor " + std::to_string(minor) + " is not the lower of host " + std::to_string(CONN_ABI_VERSION_MINOR) +
                " and plugin " + std::to_string(e->abi_minor));
    uint32_t future = 999;
    const conn_plugin_entry *e2 = fn(CONN_ABI_VERSION_MAJOR, &future);
    require(e2 == e, "the entry is not pure: a second call answered another pointer");
    require(future == std::min<uint32_t>(e->abi_minor, 999), "for a host speaking minor 999 the negotiated minor is " +
                                                                 std::to_string(future) + ", expected " + std::to_string(e->abi_minor));
    require(fn(CONN_ABI_VERSION_MAJOR, nullptr) == e, "the entry answered differently with abi_minor NULL");
    require(e->init != nullptr && e->deinit != nullptr && e->get_interface != nullptr, "the entry has NULL functions");
    return "major " + std::to_string(e->abi_major) + ", minor " + std::to_string(e->abi_minor) + "; other majors refused";
}

std::string test_unknown_interface(const Context &ctx) {
    RawLibrary lib(ctx.plugin_path, kFlags);
    const conn_plugin_entry *e = entry_for_us(lib.entry_fn());
    require(e->get_interface(CONN_IFACE_CONNECTOR_V1) == nullptr, "get_interface answered a vtable before init (ABI.md: NULL before init)");
    conn_status st = e->init();
    require(st == CONN_OK, "init failed: " + conn::status_text(st));
    std::string problem;
    const auto *v = static_cast<const conn_connector_v1 *>(e->get_interface(CONN_IFACE_CONNECTOR_V1));
    if (v == nullptr) problem = "get_interface(\"" CONN_IFACE_CONNECTOR_V1 "\") answered NULL";
    else if (v->struct_size < sizeof(conn_connector_v1))
        problem = "the connector.v1 vtable's struct_size " + std::to_string(v->struct_size) + " is smaller than ABI 1.0's";
    for (const char *id : {"connector.v0", "connector.v2", "connector.v999", "connector", "connector.v1x", "CONNECTOR.V1",
                           "", "conformance.unknown/1", "\xff\xfe"}) {
        if (problem.empty() && e->get_interface(id) != nullptr)
            problem = "get_interface(" + printable(id) + ") answered non-NULL for an unknown interface id";
    }
    e->deinit();
    require(problem.empty(), problem);
    require(e->get_interface(CONN_IFACE_CONNECTOR_V1) == nullptr, "get_interface answered a vtable after deinit (ABI.md: NULL after deinit)");
    return {};
}

bool semver(const char *v) {
    static const std::regex re(R"(^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$)");
    return v != nullptr && std::regex_match(v, re);
}

void check_text(std::vector<std::string> &problems, const char *s, const std::string &what, bool required) {
    if (s == nullptr) {
        if (required) problems.push_back(what + " is NULL");
        return;
    }
    if (required && *s == '\0') problems.push_back(what + " is empty");
    if (!valid_utf8(s)) problems.push_back(what + " is not valid UTF-8: " + printable(s, 60));
}

void check_fields(std::vector<std::string> &p, const conn_field *const *fields, uint32_t count, const std::string &kind) {
    if (count > 0 && fields == nullptr) {
        p.push_back(kind + " fields: count " + std::to_string(count) + " but the array is NULL");
        return;
    }
    std::set<std::string> names;
    for (uint32_t i = 0; i < count; ++i) {
        const conn_field *f = fields[i];
        std::string where = kind + " field #" + std::to_string(i);
        if (f == nullptr) {
            p.push_back(where + " is NULL");
            continue;
        }
        if (f->struct_size < sizeof(conn_field)) p.push_back(where + ": struct_size too small");
        check_text(p, f->name, where + " name", true);
        if (f->name != nullptr) {
            where = kind + " field '" + std::string(f->name) + "'";
            if (!names.insert(f->name).second) p.push_back(where + " is declared twice");
        }
        check_text(p, f->display_name, where + " display_name", true);
        check_text(p, f->description, where + " description", true);
        check_text(p, f->default_value, where + " default_value", false);
        check_text(p, f->example, where + " example", false);
        if (f->type < CONN_FIELD_STRING || f->type > CONN_FIELD_PATH) p.push_back(where + " has unknown type " + std::to_string(f->type));
        if ((f->flags & ~(CONN_FIELD_REQUIRED | CONN_FIELD_SECRET)) != 0) p.push_back(where + " has unknown flags");
        if ((f->flags & CONN_FIELD_SECRET) != 0 && f->default_value != nullptr) p.push_back(where + " is secret but has a default value");
    }
}

void check_descriptor_header(std::vector<std::string> &p, const conn_descriptor *d) {
    if (d->struct_size < sizeof(conn_descriptor))
        p.push_back("descriptor struct_size " + std::to_string(d->struct_size) + " is smaller than ABI 1.0's " +
                    std::to_string(sizeof(conn_descriptor)));
    if (d->abi_major != CONN_ABI_VERSION_MAJOR) p.push_back("descriptor abi_major is " + std::to_string(d->abi_major));
    check_text(p, d->id, "descriptor id", true);
    if (d->id != nullptr && !std::regex_match(d->id, std::regex("^[a-z0-9][a-z0-9._-]*$")))
        p.push_back("descriptor id " + printable(d->id, 60) + " is not lower-case [a-z0-9._-]");
    check_text(p, d->name, "descriptor name", true);
    check_text(p, d->version, "descriptor version", true);
    if (d->version != nullptr && !semver(d->version)) p.push_back("descriptor version " + printable(d->version, 60) + " is not a semantic version");
    check_text(p, d->description, "descriptor description", true);
    check_text(p, d->vendor, "descriptor vendor", false);
    check_text(p, d->url, "descriptor url", false);
    if ((d->capabilities & ~0x7Fu) != 0) p.push_back("descriptor capabilities has unknown bits");
}

// What the resource types declare, summed up for the comparison with the descriptor's capabilities.
struct DeclaredOperations {
    uint32_t rt_caps = 0;
    bool grantable = false;
    bool revocable = false;
};

void check_entitlement_type(std::vector<std::string> &p, const conn_entitlement_type *et, std::string ew, const std::string &where,
                            std::set<std::string> &slugs, const std::set<std::string> &type_ids, DeclaredOperations &ops) {
    if (et == nullptr) {
        p.push_back(ew + " is NULL");
        return;
    }
    if (et->struct_size < sizeof(conn_entitlement_type)) p.push_back(ew + ": struct_size too small");
    check_text(p, et->slug, ew + " slug", true);
    if (et->slug != nullptr) {
        ew = where + " entitlement '" + std::string(et->slug) + "'";
        if (!slugs.insert(et->slug).second) p.push_back(ew + " is declared twice");
        if (std::strchr(et->slug, ':') != nullptr) p.push_back(ew + ": a slug must not contain ':'");
    }
    check_text(p, et->display_name, ew + " display_name", true);
    check_text(p, et->description, ew + " description", false);
    if (et->purpose != CONN_PURPOSE_ASSIGNMENT && et->purpose != CONN_PURPOSE_PERMISSION) p.push_back(ew + " has unknown purpose");
    if ((et->flags & ~(CONN_ENT_GRANTABLE | CONN_ENT_REVOCABLE)) != 0) p.push_back(ew + " has unknown flags");
    ops.grantable |= (et->flags & CONN_ENT_GRANTABLE) != 0;
    ops.revocable |= (et->flags & CONN_ENT_REVOCABLE) != 0;
    if ((et->flags & CONN_ENT_GRANTABLE) != 0 && et->grantable_to_count == 0) p.push_back(ew + " is grantable to no type");
    if (et->grantable_to_count > 0 && et->grantable_to == nullptr) p.push_back(ew + ": grantable_to is NULL");
    for (uint32_t g = 0; et->grantable_to != nullptr && g < et->grantable_to_count; ++g) {
        const char *to = et->grantable_to[g];
        if (to == nullptr || type_ids.count(to) == 0)
            p.push_back(ew + " is grantable to " + (to ? printable(to, 40) : std::string("NULL")) + ", not a declared resource type");
    }
}

void check_resource_type(std::vector<std::string> &p, const conn_resource_type *t, uint32_t index, const std::set<std::string> &type_ids,
                         DeclaredOperations &ops) {
    std::string where = "resource type #" + std::to_string(index);
    if (t == nullptr) {
        p.push_back(where + " is NULL");
        return;
    }
    if (t->struct_size < sizeof(conn_resource_type)) p.push_back(where + ": struct_size too small");
    check_text(p, t->id, where + " id", true);
    if (t->id != nullptr) where = "resource type '" + std::string(t->id) + "'";
    check_text(p, t->display_name, where + " display_name", true);
    check_text(p, t->description, where + " description", false);
    if ((t->traits & ~0xFu) != 0) p.push_back(where + " has unknown traits");
    if ((t->capabilities & ~0x7u) != 0) p.push_back(where + " has unknown capabilities");
    ops.rt_caps |= t->capabilities;
    if (t->entitlement_type_count > 0 && t->entitlement_types == nullptr) p.push_back(where + ": entitlement_types is NULL");
    std::set<std::string> slugs;
    for (uint32_t k = 0; t->entitlement_types != nullptr && k < t->entitlement_type_count; ++k)
        check_entitlement_type(p, t->entitlement_types[k], where + " entitlement type #" + std::to_string(k), where, slugs, type_ids, ops);
}

DeclaredOperations check_resource_types(std::vector<std::string> &p, const conn_descriptor *d) {
    DeclaredOperations ops;
    std::set<std::string> type_ids;
    if (d->resource_type_count > 0 && d->resource_types == nullptr) p.push_back("resource_types is NULL with a non-zero count");
    for (uint32_t i = 0; d->resource_types != nullptr && i < d->resource_type_count; ++i) {
        const conn_resource_type *t = d->resource_types[i];
        if (t != nullptr && t->id != nullptr) type_ids.insert(t->id);
    }
    for (uint32_t i = 0; d->resource_types != nullptr && i < d->resource_type_count; ++i)
        check_resource_type(p, d->resource_types[i], i, type_ids, ops);
    if (type_ids.size() != d->resource_type_count) p.push_back("resource type ids are not unique");
    return ops;
}

void check_capabilities_agree(std::vector<std::string> &p, const conn_descriptor *d, const DeclaredOperations &ops,
                              const conn_connector_v1 &v) {
    auto cap = [&](uint32_t bit) { return (d->capabilities & bit) != 0; };
    if (cap(CONN_CAP_SYNC) != ((ops.rt_caps & CONN_RT_SYNC) != 0))
        p.push_back("CAP_SYNC and the resource types' RT_SYNC disagree");
    if (cap(CONN_CAP_CREATE_ACCOUNT) != ((ops.rt_caps & CONN_RT_CREATE) != 0))
        p.push_back("CAP_CREATE_ACCOUNT and the resource types' RT_CREATE disagree");
    if (cap(CONN_CAP_CREATE_ACCOUNT) && d->account_field_count == 0) p.push_back("CAP_CREATE_ACCOUNT without account fields");
    if (!cap(CONN_CAP_CREATE_ACCOUNT) && d->account_field_count > 0) p.push_back("account fields without CAP_CREATE_ACCOUNT");
    if (cap(CONN_CAP_DELETE) != ((ops.rt_caps & CONN_RT_DELETE) != 0))
        p.push_back("CAP_DELETE and the resource types' RT_DELETE disagree");
    if (cap(CONN_CAP_GRANT) != ops.grantable) p.push_back("CAP_GRANT and the entitlement types' GRANTABLE flags disagree");
    if (cap(CONN_CAP_REVOKE) != ops.revocable) p.push_back("CAP_REVOKE and the entitlement types' REVOCABLE flags disagree");
    struct {
        uint32_t bit;
        const void *fn;
        const char *name;
    } fns[] = {{CONN_CAP_CHECK, reinterpret_cast<const void *>(v.check), "check"},
               {CONN_CAP_SYNC, reinterpret_cast<const void *>(v.sync), "sync"},
               {CONN_CAP_CREATE_ACCOUNT, reinterpret_cast<const void *>(v.create_account), "create_account"},
               {CONN_CAP_DELETE, reinterpret_cast<const void *>(v.delete_resource), "delete_resource"},
               {CONN_CAP_GRANT, reinterpret_cast<const void *>(v.grant), "grant"},
               {CONN_CAP_REVOKE, reinterpret_cast<const void *>(v.revoke), "revoke"}};
    for (const auto &fn : fns)
        if (cap(fn.bit) && fn.fn == nullptr) p.push_back(std::string("capability declared but the vtable's ") + fn.name + " is NULL");
}

std::vector<std::string> descriptor_problems(const conn_descriptor *d, const conn_connector_v1 &v) {
    std::vector<std::string> p;
    if (d == nullptr) {
        p.push_back("describe() returned NULL");
        return p;
    }
    check_descriptor_header(p, d);
    const DeclaredOperations ops = check_resource_types(p, d);
    check_fields(p, d->config_fields, d->config_field_count, "config");
    check_fields(p, d->account_fields, d->account_field_count, "account");
    check_capabilities_agree(p, d, ops, v);
    return p;
}

std::string test_descriptor(const Context &ctx) {
    RawLibrary lib(ctx.plugin_path, kFlags);
    const conn_plugin_entry *e = entry_for_us(lib.entry_fn());
    conn_status st = e->init();
    require(st == CONN_OK, "init failed: " + conn::status_text(st));
    std::vector<std::string> problems;
    std::string note;
    const auto *v = static_cast<const conn_connector_v1 *>(e->get_interface(CONN_IFACE_CONNECTOR_V1));
    if (v == nullptr || v->describe == nullptr) {
        problems.push_back("no connector.v1 vtable or no describe");
    } else {
        const conn_descriptor *d = v->describe();
        problems = descriptor_problems(d, *v);
        if (d != nullptr && v->describe() != d) problems.push_back("describe() answered another pointer the second time");
        // describe and get_interface may be called from any thread.
        std::atomic<int> different{0};
        std::vector<std::thread> threads;
        for (int i = 0; i < 4; ++i)
            threads.emplace_back([&] {
                for (int k = 0; k < 50; ++k)
                    if (v->describe() != d || e->get_interface(CONN_IFACE_CONNECTOR_V1) != v) ++different;
            });
        for (auto &th : threads) th.join();
        if (different != 0) problems.push_back("describe() or get_interface answered differently on other threads");
        if (d != nullptr && d->id != nullptr && d->version != nullptr && valid_utf8(d->id) && valid_utf8(d->version))
            note = std::string(d->id) + " " + d->version;
    }
    e->deinit();
    if (!problems.empty()) {
        std::string all = problems.front();
        if (problems.size() > 1) all += " (and " + std::to_string(problems.size() - 1) + " more: " + problems[1] + ")";
        fail(all);
    }
    return note;
}

std::string test_init_twice(const Context &ctx) {
    RawLibrary lib(ctx.plugin_path, kFlags);
    const conn_plugin_entry *e = entry_for_us(lib.entry_fn());
    conn_status first = e->init();
    require(first == CONN_OK, "init failed: " + conn::status_text(first));
    conn_status second = e->init();
    if (second != CONN_ERR_INVALID_STATE) {
        e->deinit();
        if (second == CONN_OK) e->deinit();
        fail("a second init without deinit answered " + conn::status_text(second) + ", expected invalid_state");
    }
    require(e->get_interface(CONN_IFACE_CONNECTOR_V1) != nullptr, "after a refused second init the plugin no longer serves connector.v1");
    e->deinit();
    conn_status again = e->init();
    require(again == CONN_OK, "init after deinit answered " + conn::status_text(again));
    e->deinit();
    return {};
}

std::string test_cycles(const Context &ctx) {
    const size_t base_threads = thread_count();
    auto cycle = [&](int i) {
        RawLibrary lib(ctx.plugin_path, kFlags);
        const conn_plugin_entry *e = entry_for_us(lib.entry_fn());
        conn_status st = e->init();
        require(st == CONN_OK, "init failed on cycle " + std::to_string(i) + ": " + conn::status_text(st));
        const auto *v = static_cast<const conn_connector_v1 *>(e->get_interface(CONN_IFACE_CONNECTOR_V1));
        bool ok = v != nullptr && v->describe != nullptr && v->describe() != nullptr;
        e->deinit();
        require(ok, "no descriptor on cycle " + std::to_string(i));
        lib.close();
        size_t now = settle_threads(base_threads, std::chrono::milliseconds(500));
        require(now <= base_threads, "after deinit and unload (cycle " + std::to_string(i) + ") the process has " +
                                         std::to_string(now - base_threads) + " thread(s) more than before loading: the plugin left a thread behind");
    };
    auto memory = [] { return memory_in_use(); };
    const char *what = memory_measure_name();
    for (int i = 0; i < 10; ++i) cycle(i);
    const size_t before = memory();
    for (int i = 10; i < 110; ++i) cycle(i);
    const size_t after = memory();
    const double growth_mib = after > before ? static_cast<double>(after - before) / (1024.0 * 1024.0) : 0.0;
    const double slack_mib = 8.0;
    std::ostringstream note;
    note.precision(2);
    note << std::fixed << "110 cycles; " << what << " growth over the last 100: " << growth_mib << " MiB (limit " << slack_mib << ")";
    require(growth_mib <= slack_mib, "memory grows across load/init/deinit/unload: " + note.str());
    return note.str();
}

// Signals a plugin's timers deliver (alarm, setitimer, timer_create's default): counted after the plugin is gone.
std::atomic<int> g_late_signal{0};
extern "C" void record_late_signal(int sig) { g_late_signal = sig; }

// The POSIX timers this process has (/proc/self/timers: one "ID:" line each); -1 when it cannot be read.
int posix_timer_count() {
    std::ifstream in("/proc/self/timers");
    if (!in) return -1;
    int n = 0;
    for (std::string line; std::getline(in, line);) n += line.rfind("ID:", 0) == 0;
    return n;
}

// What the plugin may have left armed: interval timers, an alarm, POSIX timers; "" when nothing.
std::string armed_timers(int posix_before) {
    std::string found;
    const std::pair<int, const char *> kinds[] = {{ITIMER_REAL, "ITIMER_REAL (setitimer/alarm)"},
                                                   {ITIMER_VIRTUAL, "ITIMER_VIRTUAL"}, {ITIMER_PROF, "ITIMER_PROF"}};
    for (const auto &[which, name] : kinds) {
        itimerval v{};
        if (::getitimer(which, &v) == 0 && (v.it_value.tv_sec != 0 || v.it_value.tv_usec != 0))
            found += std::string(found.empty() ? "" : ", ") + name;
    }
    const int posix_now = posix_timer_count();
    if (posix_before >= 0 && posix_now > posix_before)
        found += std::string(found.empty() ? "" : ", ") + std::to_string(posix_now - posix_before) + " POSIX timer(s) (timer_create)";
    return found;
}

std::string test_quiet_after_unload(const Context &ctx) {
    const int timer_signals[] = {SIGALRM, SIGVTALRM, SIGPROF, SIGUSR1, SIGUSR2};
    struct sigaction counting {}, saved[std::size(timer_signals)];
    counting.sa_handler = &record_late_signal;
    sigemptyset(&counting.sa_mask);
    for (size_t i = 0; i < std::size(timer_signals); ++i) ::sigaction(timer_signals[i], &counting, &saved[i]);
    struct Restore {
        const int *sigs;
        struct sigaction *old;
        size_t n;
        ~Restore() {
            for (size_t i = 0; i < n; ++i) ::sigaction(sigs[i], &old[i], nullptr);
        }
    } restore{timer_signals, saved, std::size(timer_signals)};
    const int posix_before = posix_timer_count();
    Recorder rec; // outlives the plugin: a late callback (a defect other tests report) must find it alive
    {
        auto plugin = load_plugin(ctx);
        const ConfigEntries cfg = working_config(ctx, plugin->descriptor());
        conn::Instance in = open_instance(*plugin, cfg, nullptr);
        if (ctx.has_service() && plugin->connector().sync != nullptr && (plugin->descriptor().capabilities & CONN_CAP_SYNC) != 0) {
            conn_error err = conn::make_error();
            run_sync(plugin->connector(), in.get(), rec, nullptr, &err);
        }
    }  // instance destroyed, deinit, unload
    const std::string armed = armed_timers(posix_before);
    require(armed.empty(), "after unload the process still has " + armed + " armed: a timer the plugin set will fire into a host without it");
    // A host's own signals, with the dispositions it had before loading (these default to being ignored): a handler
    // the plugin left behind would now run code that is gone.
    for (int sig : {SIGCHLD, SIGWINCH, SIGURG, SIGCONT}) ::raise(sig);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    const int late = g_late_signal.load();
    if (late != 0) {
        const char *name = ::sigabbrev_np(late);
        fail(std::string("signal SIG") + (name != nullptr ? name : std::to_string(late).c_str()) +
             " arrived within 1.5 s after the plugin was unloaded (a timer it left)");
    }
    // Threads left behind are instance.threads_after_operations' and library.load_unload_cycles' to report.
    return std::string(ctx.has_service() ? "create, sync, destroy, unload" : "create, destroy, unload") +
           ": no timer armed, no signal for 1.5 s after, SIGCHLD/SIGWINCH/SIGURG/SIGCONT raised safely";
}

std::string test_scan_time(const Context &ctx) {
    const double limit_ms = 2000.0 * kSanitizerFactor;
    auto start = std::chrono::steady_clock::now();
    {
        auto plugin = load_plugin(ctx);
        const conn_descriptor &d = plugin->descriptor();
        require(d.id != nullptr, "no descriptor id");
    }
    double ms = ms_since(start);
    std::ostringstream note;
    note.precision(1);
    note << std::fixed << "load + init + describe + deinit + unload took " << ms << " ms (limit " << limit_ms << " ms)";
    require(ms <= limit_ms, "scanning is slow: " + note.str());
    return note.str();
}

}  // namespace

void register_library_tests(std::vector<TestCase> &out) {
    out.push_back({"library.load", Needs::nothing, "the file loads with dlopen(RTLD_NOW | RTLD_LOCAL), the host's flags: every undefined symbol resolves at load time", test_load});
    out.push_back({"library.entry_symbol", Needs::nothing, "the library exports connector_plugin_entry", test_entry_symbol});
    out.push_back({"library.exports_only_entry", Needs::nothing, "the dynamic symbol table defines exactly one exported symbol, connector_plugin_entry (hidden visibility + version script)", test_exports});
    out.push_back({"library.abi_negotiation", Needs::nothing, "the entry serves major 1 with abi_major 1 and the lower minor; it answers NULL (no crash) for majors 0, 2, 7, 0xFFFFFFFF; it is pure", test_negotiation});
    out.push_back({"library.unknown_interface", Needs::nothing, "get_interface answers the connector.v1 vtable and NULL for unknown ids, and NULL before init and after deinit (ABI.md)", test_unknown_interface});
    out.push_back({"library.descriptor", Needs::nothing, "the descriptor is complete, valid UTF-8, lower-case id, semantic version, capabilities consistent with resource types, entitlement types, fields and vtable; names unique and non-empty", test_descriptor});
    out.push_back({"library.init_twice", Needs::nothing, "a second init without deinit answers CONN_ERR_INVALID_STATE; init after deinit works", test_init_twice});
    out.push_back({"library.load_unload_cycles", Needs::nothing, "load, init, describe, deinit, unload 110 times: no thread left behind, no memory growth beyond a small slack", test_cycles});
    out.push_back({"library.quiet_after_unload", Needs::nothing, "after an instance's life (and a sync, with a service), destroy, deinit and unload, nothing of the plugin runs on: no interval timer, alarm or POSIX timer armed, no timer signal within 1.5 s; the host's own ignorable signals (SIGCHLD, SIGWINCH, SIGURG, SIGCONT) raised then are harmless", test_quiet_after_unload});
    out.push_back({"library.scan_time", Needs::nothing, "scanning (load + init + describe + deinit + unload) is fast (reported; fails only above a generous bound)", test_scan_time});
}

}  // namespace conformance
