// Writes one sync run into an SQLite snapshot (schema: host/SNAPSHOT.md). The run's row is committed first
// with status 'running'; records then stream into a transaction that each checkpoint() commits together
// with the plugin's resume token, and complete() commits with the run's counts and status. A run that fails
// or is interrupted is rolled back to its last checkpoint and its row marked 'failed' (with the reason), so
// it never shadows the last complete run; one with a checkpoint stays resumable (a kill -9 leaves it
// 'running' with the records and token of its last checkpoint). The store knows nothing of the plugin ABI:
// records arrive as plain rows.
#pragma once

#include "connector_host/store/sqlite_handle.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace connector_host::store {

inline constexpr int kSchemaVersion = 3; // 2: sync_runs.resume_token, checkpointed_at; 3: tables per run

struct RunStart {
    std::string plugin_id, plugin_version;
    std::string config_fingerprint; // a hash of the non-secret config: no secret, no value readable from it
    std::string tenant;             // the service URL without credentials, query or fragment; may be empty
};

struct ResourceRow {
    std::string_view type, id, display_name;
    std::string_view email, status; // the common traits, empty when the plugin gave none
    std::string_view attributes_json; // every attribute as one JSON object
};

struct EntitlementRow {
    std::string_view id, resource_type, resource_id, slug, display_name, purpose;
};

struct GrantRow {
    std::string_view id, entitlement_id, principal_type, principal_id;
    bool unresolved = false;
};

// A run's records so far, as stored at a checkpoint.
struct RunCounts {
    uint64_t resources = 0, entitlements = 0, grants = 0, unresolved_grants = 0, warnings = 0;
};

// An unfinished run of the same plugin, version and config with a checkpoint: the writer continues it.
struct ResumedRun {
    int64_t id = 0;
    std::string started_at, checkpointed_at;
    std::string token; // opaque: passed to the plugin, never printed
    RunCounts counts;  // the records it holds (those before the checkpoint)
    std::map<std::string, uint64_t> resources_by_type, warnings_by_code;
};

// resume: continue the latest unfinished run of the same plugin, version and config when it has a
// checkpoint; fresh: start a new run and mark such runs abandoned (never resumed, their rows deleted);
// new_run: start a new run and leave unfinished ones as they are (sync --resume-from TOKEN).
enum class StartMode { resume, fresh, new_run };

struct RunTotals {
    uint64_t resources = 0, entitlements = 0, grants = 0, unresolved_grants = 0, warnings = 0;
    uint64_t requests = 0, retries = 0, pages = 0;
    double elapsed_seconds = 0;
    bool complete = true; // false: status 'incomplete' (the plugin warned the data may be incomplete)
    // A run read back from a record of it (a sync's JSON output): its own times and tenant. Empty: the
    // writer's (the start and end of this write, the tenant given at the start).
    std::string started_at, ended_at, tenant;
};

class SnapshotWriter {
public:
    // Opens (or creates, mode 0600) the snapshot, checks its schema version and starts a run. `keep`: how
    // many usable runs (complete or incomplete) to keep once this one completes (at least 1).
    SnapshotWriter(const std::filesystem::path &path, const RunStart &start, unsigned keep,
                   StartMode mode = StartMode::resume);
    ~SnapshotWriter(); // a run neither completed nor failed is marked failed ("interrupted")
    SnapshotWriter(const SnapshotWriter &) = delete;
    SnapshotWriter &operator=(const SnapshotWriter &) = delete;

    int64_t run_id() const noexcept { return run_id_; }
    // The run being continued, when the writer resumed one.
    const std::optional<ResumedRun> &resumed() const noexcept { return resumed_; }
    // Commits every record so far with the token and the counts so far (the whole run's) in one transaction.
    void checkpoint(std::string_view token, const RunCounts &so_far);
    void resource_type(std::string_view id, std::string_view display_name, std::string_view traits);
    void resource(const ResourceRow &row);
    void entitlement(const EntitlementRow &row);
    void grant(const GrantRow &row);
    void warning(std::string_view code, std::string_view message);
    void complete(const RunTotals &totals);
    // Rolls the run's records back and marks the run failed with the reason. Never throws.
    void fail(std::string_view reason) noexcept;

private:
    void create_or_check_schema();
    void migrate_from_version_1();
    void migrate_from_version_2();
    void refresh_views();
    void create_run_tables(int64_t run, bool replace);
    void drop_run_tables(int64_t run);
    int64_t insert_running_run(const RunStart &start);
    std::optional<ResumedRun> find_resumable_run(const RunStart &start);
    void abandon_resumable_runs(const RunStart &start);
    void reopen_run(const ResumedRun &run);
    void prepare_inserts();
    void prune_old_runs();

    // An exclusive flock on the file while this writer lives (declared first: released after the database is
    // closed, so closing it never drops SQLite's own locks): one sync writes a snapshot at a time, and none
    // resumes the run another is still writing.
    struct WriterLock {
        explicit WriterLock(const std::filesystem::path &path);
        ~WriterLock();
        WriterLock(const WriterLock &) = delete;
        WriterLock &operator=(const WriterLock &) = delete;
        int fd = -1;
    };
    std::unique_ptr<WriterLock> lock_;
    std::unique_ptr<Database> db_;
    unsigned keep_;
    int64_t run_id_ = 0;
    bool finished_ = false;
    uint64_t warning_seq_ = 0;
    std::optional<ResumedRun> resumed_;
    std::unique_ptr<Statement> insert_type_, insert_resource_, insert_entitlement_, insert_grant_, insert_warning_;
};

// The current UTC time as 2026-12-02T13:51:26Z.
std::string utc_now();

}  // namespace connector_host::store
