// The questions asked of a snapshot (host/SNAPSHOT.md). Each answer streams as rows of cells to a
// RowVisitor, columns first, so a listing of a million resources never sits in memory. Generic over
// resource types: a grant to a principal that is itself a resource (a group, say) reaches everyone holding an
// assignment entitlement of that resource (its members), to any depth.
#pragma once

#include "connector_host/store/sqlite_handle.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace connector_host::store {

struct Cell {
    enum class Kind { null, text, integer } kind = Kind::null;
    std::string text;
    int64_t integer = 0;
};

class RowVisitor {
public:
    virtual ~RowVisitor() = default;
    virtual void columns(const std::vector<std::string> &names) = 0;
    virtual void row(const std::vector<Cell> &cells) = 0;
};

struct RunSummary {
    int64_t id = 0;
    std::string plugin_id, plugin_version, tenant, started_at, ended_at, status;
};

struct ResourceQuery {
    std::string type;                  // empty: every type
    std::string filter_key, filter_value; // --filter key=value: a column (type, id, display_name, email, status) or an attribute
    std::string search;                // substring of id, display name or e-mail, case-insensitive (ASCII)
};

struct GrantQuery {
    std::string entitlement; // empty: any
    std::string principal;   // <type>:<id> or user:email=<address>; empty: any
};

class SnapshotReader {
public:
    explicit SnapshotReader(const std::filesystem::path &path);
    // The latest usable run (complete or incomplete), or the run asked for; throws StoreError when none.
    RunSummary run(std::optional<int64_t> id) const;
    // Every run, newest first.
    void runs(RowVisitor &out) const;

    void resources(int64_t run, const ResourceQuery &q, RowVisitor &out) const;
    void entitlements(int64_t run, const std::string &resource, RowVisitor &out) const;
    void grants(int64_t run, const GrantQuery &q, RowVisitor &out) const;
    void access(int64_t run, const std::string &principal, RowVisitor &out) const;
    void members(int64_t run, const std::string &target, RowVisitor &out) const;
    void stats(int64_t run, RowVisitor &out) const;
    // Changes from run `old_run` of `old_snapshot` (this file when empty) to run `new_run` of this file.
    // Returns the number of changes.
    uint64_t diff(const std::filesystem::path &old_snapshot, int64_t old_run, int64_t new_run, RowVisitor &out) const;
    // The usable run before `run`, if any.
    std::optional<int64_t> previous_run(int64_t run) const;

    // <type>:<id>, or user:email=<address> resolved to the user's id in the run. Throws StoreError.
    std::pair<std::string, std::string> resolve_principal(int64_t run, const std::string &principal) const;

private:
    // The question's SQL with the run's tables named (snapshot_queries.hpp, tables_for_run).
    std::string sql_for(int64_t run, std::string sql) const;

    std::unique_ptr<Database> db_;
    bool per_run_tables_ = true; // schema version 3: each run in tables of its own
};

}  // namespace connector_host::store
