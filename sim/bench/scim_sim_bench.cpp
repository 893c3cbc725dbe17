// scim-sim-bench: the simulator's performance figures (issue 3, "Performance"): seeding time of a large org,
// server time per page, pages per second over loopback keep-alive, and whether --latency-ms overlaps requests.
// Prints one "name: value" line per figure. Not a test: no pass/fail beyond the exit code of a broken run.
#include "scim_sim/server.hpp"

#include <CLI/CLI.hpp>
#include <httplib.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>
#include <vector>

namespace {
using Clock = std::chrono::steady_clock;

struct Load {
    double pages_per_sec = 0;
    uint64_t pages = 0, errors = 0;
};

Load hammer(const scim_sim::Server &s, const std::string &token, const std::string &path_prefix, size_t total,
            size_t page, int threads, double seconds) {
    std::string a = s.admin_url();
    std::string origin = a.substr(0, a.size() - 7);
    std::atomic<uint64_t> pages{0}, errors{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
        ts.emplace_back([&, t] {
            httplib::Client c(origin);
            c.set_keep_alive(true);
            httplib::Headers h{{"Authorization", "Bearer " + token}, {"Accept", "application/scim+json"}};
            size_t start = 1 + static_cast<size_t>(t) * page;
            while (!stop.load(std::memory_order_relaxed)) {
                std::string p = path_prefix + "startIndex=" + std::to_string(start) + "&count=" + std::to_string(page);
                auto r = c.Get(p.c_str(), h);
                if (r && r->status == 200) ++pages;
                else ++errors;
                start += page * static_cast<size_t>(threads);
                if (start > total) start = 1 + static_cast<size_t>(t) * page;
            }
        });
    }
    auto t0 = Clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    for (auto &t : ts) t.join();
    double el = std::chrono::duration<double>(Clock::now() - t0).count();
    return {static_cast<double>(pages.load()) / el, pages.load(), errors.load()};
}
}  // namespace

int main(int argc, char **argv) {
    size_t users = 100000, groups = 2000, members = 300000;
    int threads = 4;
    double seconds = 3;
    uint32_t latency = 200;
    CLI::App app{"scim-sim-bench: performance figures of the SCIM simulator"};
    app.add_option("--users", users)->capture_default_str();
    app.add_option("--groups", groups)->capture_default_str();
    app.add_option("--members", members)->capture_default_str();
    app.add_option("--threads", threads, "client threads")->capture_default_str();
    app.add_option("--seconds", seconds, "duration of each load phase")->capture_default_str();
    app.add_option("--latency-ms", latency, "latency of the concurrency check")->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    const std::string token = "bench-token";
    scim_sim::Options o;
    o.token = token;
    o.seed_users = users;
    o.seed_groups = groups;
    o.seed_members = members;
    o.seed = 1;
    scim_sim::Server s(o);
    s.start();
    std::printf("org: %zu users, %zu groups, %zu memberships\n", s.user_count(), s.group_count(), s.membership_count());
    std::printf("seed_seconds: %.3f\n", s.seed_seconds());

    auto run = [&](const char *name, const std::string &prefix, size_t total) {
        s.reset_stats();
        auto l = hammer(s, token, prefix, total, 100, threads, seconds);
        auto st = s.stats();
        double us = st.server_time_requests ? static_cast<double>(st.server_time_ns) / 1000.0 /
                                                  static_cast<double>(st.server_time_requests)
                                            : 0;
        std::printf("%s_pages_per_sec: %.0f (%d keep-alive clients, %llu pages, %llu errors)\n", name, l.pages_per_sec,
                    threads, static_cast<unsigned long long>(l.pages), static_cast<unsigned long long>(l.errors));
        std::printf("%s_server_us_per_page: %.1f\n", name, us);
        std::printf("%s_bytes_per_page: %.0f\n", name,
                    l.pages ? static_cast<double>(st.bytes_sent) / static_cast<double>(l.pages) : 0.0);
    };
    run("users", "/scim/v2/Users?", users);
    run("groups_without_members", "/scim/v2/Groups?excludedAttributes=members&", groups);
    s.stop();

    // --latency-ms must not serialise requests: 64 concurrent delayed requests.
    scim_sim::Options lo;
    lo.token = token;
    lo.seed_users = 100;
    lo.latency_ms = latency;
    scim_sim::Server ls(lo);
    ls.start();
    std::string a = ls.admin_url();
    std::string origin = a.substr(0, a.size() - 7);
    std::barrier sync(65);
    std::atomic<int> ok{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < 64; ++i) {
        ts.emplace_back([&] {
            httplib::Client c(origin);
            sync.arrive_and_wait();
            auto r = c.Get("/scim/v2/Users?count=1", httplib::Headers{{"Authorization", "Bearer " + token}});
            if (r && r->status == 200) ++ok;
        });
    }
    sync.arrive_and_wait();
    auto t0 = Clock::now();
    for (auto &t : ts) t.join();
    double el = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("latency_check: 64 concurrent requests with --latency-ms %u: %d ok in %.0f ms (%.2f x latency)\n",
                latency, ok.load(), el * 1000, el * 1000 / latency);
    return ok == 64 ? 0 : 1;
}
