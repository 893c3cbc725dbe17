// The sync writer for SQLite snapshots: adapts the plugin's validated records to the store's rows
// (connector_host/store), scrubbing secrets from every string, and says who the run was against (a config
// fingerprint and the tenant URL, neither holding a secret).
#pragma once

#include "connector_host/cli/config_assembly.hpp"
#include "connector_host/cli/sync_writers.hpp"

#include <connector/connector_abi.h>
#include <connector_host/store/snapshot_writer.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace connector_host::cli {

struct RunIdentity {
    std::string config_fingerprint; // "fnv1a64:<16 hex digits>" over the non-secret fields, names and values
    std::string tenant;             // the first url-typed field, without user info, query or fragment
};

RunIdentity run_identity(const conn_descriptor &d, const std::vector<ConfigEntry> &entries);

// A URL with any user:password@ part, query and fragment removed.
std::string url_without_credentials(std::string_view url);

// Throws store::StoreError (from begin()) when the snapshot cannot be opened or is of another schema. mode:
// whether begin() continues an unfinished run of the same plugin and config (resume_point() then says so).
std::unique_ptr<SyncWriter> make_snapshot_writer(const std::filesystem::path &path, const RunIdentity &identity,
                                                 unsigned keep, store::StartMode mode,
                                                 const SecretScrubber &scrubber);

}  // namespace connector_host::cli
