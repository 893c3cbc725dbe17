// The commands of connector-host. Each returns the process exit code; errors are reported on the console.
#pragma once

#include "connector_host/cli/exit_codes.hpp"
#include "connector_host/cli/host_services.hpp"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace connector_host::cli {

struct GlobalOptions {
    std::filesystem::path plugins_dir;
    std::chrono::milliseconds timeout{0};
};

struct ConfigOptions {
    std::vector<std::string> set_args;
    std::string config_file;
};

int run_plugins(Console &console, const GlobalOptions &g, bool json);
int run_describe(Console &console, const GlobalOptions &g, const std::string &plugin, bool json);
int run_check(Console &console, const GlobalOptions &g, const std::string &plugin, const ConfigOptions &c, bool json);
struct SyncOptions {
    std::string out;
    std::string format; // empty: default
    std::string resume_from;
    std::string checkpoint_file; // json/ndjson: the latest checkpoint kept here (0600), records spooled beside
    bool resume = false;         // continue the sync checkpointed in checkpoint_file
    bool fresh = false;          // snapshots: start a new run instead of resuming an unfinished one
    bool strict = false; // an incomplete_* warning fails the sync (exit 14, output not committed)
    unsigned keep = 2;   // snapshots: the usable runs kept
};
int run_sync(Console &console, const GlobalOptions &g, const std::string &plugin, const ConfigOptions &c,
             const SyncOptions &s);
int run_grant(Console &console, const GlobalOptions &g, const std::string &plugin, const ConfigOptions &c,
              const std::string &entitlement, const std::string &principal, bool revoke);
int run_create_account(Console &console, const GlobalOptions &g, const std::string &plugin, const ConfigOptions &c,
                       const std::string &email, const std::vector<std::string> &profile);
int run_delete(Console &console, const GlobalOptions &g, const std::string &plugin, const ConfigOptions &c,
               const std::string &resource);

}  // namespace connector_host::cli
