#include "connector_host/store/snapshot_writer.hpp"

#include "snapshot_schema.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <vector>

namespace connector_host::store {

namespace {

// A new snapshot file is created 0600 before SQLite opens it (SQLite would create it 0644).
void create_private_file_if_missing(const std::filesystem::path &path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) {
        ::close(fd);
        return;
    }
    if (errno != EEXIST) throw StoreError("cannot create the snapshot " + path.string() + ": " + std::strerror(errno));
}


// The first column of every row a query returns, read whole and the statement reset: no read stays open while the
// caller drops or creates tables.
std::vector<int64_t> ids_of(Statement &query) {
    std::vector<int64_t> ids;
    while (query.step()) ids.push_back(query.integer(0));
    query.reset();
    return ids;
}

}  // namespace

std::string utc_now() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text;
}

SnapshotWriter::SnapshotWriter(const std::filesystem::path &path, const RunStart &start, unsigned keep,
                               StartMode mode)
    : keep_(keep == 0 ? 1 : keep) {
    create_private_file_if_missing(path);
    lock_ = std::make_unique<WriterLock>(path);
    db_ = std::make_unique<Database>(path, Database::Mode::read_write_create);
    db_->execute("PRAGMA synchronous = NORMAL");
    db_->execute("PRAGMA cache_size = -16384"); // 16 MiB: index inserts in random key order stay in memory
    create_or_check_schema();
    if (mode == StartMode::fresh) abandon_resumable_runs(start);
    if (mode == StartMode::resume) resumed_ = find_resumable_run(start);
    if (resumed_) reopen_run(*resumed_);
    else run_id_ = insert_running_run(start);
    prepare_inserts();
    db_->execute("BEGIN IMMEDIATE");
    db_->execute(for_run(kDropRunQueryIndexesSql, run_id_)); // a resumed run's, built when it failed
}

SnapshotWriter::~SnapshotWriter() {
    if (!finished_) fail("interrupted");
    // Members are destroyed in reverse order of declaration: the prepared statements, then the
    // connection (sqlite3_close refuses, and leaks, while a statement is alive), then the lock.
}

SnapshotWriter::WriterLock::WriterLock(const std::filesystem::path &path) {
    fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) throw StoreError("cannot open the snapshot " + path.string() + ": " + std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int e = errno;
        ::close(fd);
        throw StoreError(e == EWOULDBLOCK ? "another sync is writing to the snapshot " + path.string()
                                          : "cannot lock the snapshot " + path.string() + ": " + std::strerror(e));
    }
}

SnapshotWriter::WriterLock::~WriterLock() {
    if (fd >= 0) ::close(fd);
}

void SnapshotWriter::create_or_check_schema() {
    db_->execute("BEGIN IMMEDIATE");
    auto tables = db_->prepare("SELECT count(*) FROM sqlite_schema");
    tables.step();
    const bool empty = tables.integer(0) == 0;
    tables.reset(); // no read may stay open: the upgrades drop tables
    if (empty) {
        db_->execute(kSchemaSql);
        auto meta = db_->prepare("INSERT INTO snapshot_meta (key, value) VALUES (?1, ?2)");
        meta.bind(1, "schema_version").bind(2, std::to_string(kSchemaVersion)).run();
        meta.bind(1, "created_at").bind(2, utc_now()).run();
        db_->execute("PRAGMA user_version = " + std::to_string(kSchemaVersion));
        refresh_views();
        db_->execute("COMMIT");
        return;
    }
    db_->execute("COMMIT");
    auto version = db_->prepare("SELECT value FROM snapshot_meta WHERE key = 'schema_version'");
    const std::string found = version.step() ? version.text(0) : std::string();
    version.reset();
    if (found != "1" && found != "2" && found != std::to_string(kSchemaVersion))
        throw StoreError("the file is a snapshot of another schema version (this host writes version " +
                         std::to_string(kSchemaVersion) + ")");
    if (found == "1") migrate_from_version_1();
    if (found == "1" || found == "2") migrate_from_version_2();
}

// Every run's records move from the shared tables of version 2 into tables of their own; the shared names become
// views. One transaction: a failure leaves the file at version 2.
void SnapshotWriter::migrate_from_version_2() {
    db_->execute("BEGIN IMMEDIATE");
    try {
        auto all = db_->prepare("SELECT id FROM sync_runs ORDER BY id");
        for (const int64_t run : ids_of(all)) {
            db_->execute(for_run(kRunTablesSql, run));
            for (const auto &table : kRecordTables)
                db_->prepare("INSERT INTO " + run_table(table.name, run) + " SELECT " + table.columns + " FROM " +
                             table.name + " WHERE run_id = ?1")
                    .bind(1, run)
                    .run();
            db_->execute(for_run(kRunQueryIndexesSql, run));
        }
        for (const auto &table : kRecordTables) db_->execute(std::string("DROP TABLE ") + table.name);
        refresh_views();
        db_->execute("UPDATE snapshot_meta SET value = '" + std::to_string(kSchemaVersion) +
                     "' WHERE key = 'schema_version'; PRAGMA user_version = " + std::to_string(kSchemaVersion));
        db_->execute("COMMIT");
    } catch (const StoreError &e) {
        db_->execute("ROLLBACK");
        throw StoreError(std::string("cannot upgrade the snapshot from schema version 2: ") + e.what());
    }
}

// The views named as version 2's tables: the UNION ALL of every run's tables (none: an empty row set with the
// same columns).
void SnapshotWriter::refresh_views() {
    auto all = db_->prepare("SELECT id FROM sync_runs ORDER BY id");
    const std::vector<int64_t> runs = ids_of(all);
    for (const auto &table : kRecordTables) {
        std::string sql = std::string("DROP VIEW IF EXISTS ") + table.name + "; CREATE VIEW " + table.name + " AS ";
        if (runs.empty()) {
            sql += "SELECT " + std::string(table.columns) + " FROM (SELECT ";
            std::string_view columns = table.columns;
            for (size_t at = 0; at < columns.size();) {
                const size_t comma = columns.find(", ", at);
                const std::string_view column = columns.substr(at, comma == std::string_view::npos ? columns.npos : comma - at);
                sql += std::string(at == 0 ? "" : ", ") + "NULL AS " + std::string(column);
                at = comma == std::string_view::npos ? columns.size() : comma + 2;
            }
            sql += ") WHERE 0";
        }
        for (size_t i = 0; i < runs.size(); ++i)
            sql += std::string(i == 0 ? "" : " UNION ALL ") + "SELECT " + table.columns + " FROM " +
                   run_table(table.name, runs[i]);
        db_->execute(sql);
    }
}

// A run's tables, empty (again: an abandoned run keeps its row, not its records).
void SnapshotWriter::create_run_tables(int64_t run, bool replace) {
    if (replace) drop_run_tables(run);
    db_->execute(for_run(kRunTablesSql, run));
}

void SnapshotWriter::drop_run_tables(int64_t run) {
    for (const auto &table : kRecordTables)
        db_->execute("DROP TABLE IF EXISTS " + run_table(table.name, run));
}

// Adds the checkpoint columns; a version-1 run has none, so it is never resumed.
void SnapshotWriter::migrate_from_version_1() {
    db_->execute("BEGIN IMMEDIATE");
    try {
        db_->execute(kMigrateV1toV2Sql);
        db_->execute("COMMIT");
    } catch (const StoreError &e) {
        db_->execute("ROLLBACK");
        throw StoreError(std::string("cannot upgrade the snapshot from schema version 1: ") + e.what());
    }
}

std::optional<ResumedRun> SnapshotWriter::find_resumable_run(const RunStart &start) {
    auto s = db_->prepare("SELECT id, started_at, coalesce(checkpointed_at, ''), resume_token, resources, "
                          "entitlements, grants, unresolved_grants, warnings, status FROM sync_runs "
                          "WHERE plugin_id = ?1 AND plugin_version = ?2 AND config_fingerprint = ?3 "
                          "ORDER BY id DESC LIMIT 1");
    s.bind(1, start.plugin_id).bind(2, start.plugin_version).bind(3, start.config_fingerprint);
    if (!s.step() || s.is_null(3)) return std::nullopt;
    const std::string status = s.text(9);
    if (status != "running" && status != "failed") return std::nullopt;
    ResumedRun run;
    run.id = s.integer(0);
    run.started_at = s.text(1);
    run.checkpointed_at = s.text(2);
    run.token = s.text(3);
    auto count = [&](int column) { return static_cast<uint64_t>(s.integer(column)); };
    run.counts = RunCounts{count(4), count(5), count(6), count(7), count(8)};
    s.reset();
    for (auto [sql, map] : {std::pair{"SELECT type, count(*) FROM resources_{run} GROUP BY type", &run.resources_by_type},
                            {"SELECT code, count(*) FROM warnings_{run} GROUP BY code", &run.warnings_by_code}}) {
        auto grouped = db_->prepare(for_run(sql, run.id));
        while (grouped.step()) (*map)[grouped.text(0)] = static_cast<uint64_t>(grouped.integer(1));
    }
    return run;
}

// --fresh: the unfinished runs of this plugin and config are never resumed; their rows go.
void SnapshotWriter::abandon_resumable_runs(const RunStart &start) {
    db_->execute("BEGIN IMMEDIATE");
    const char *runs = "SELECT id FROM sync_runs WHERE plugin_id = ?1 AND plugin_version = ?2 AND "
                       "config_fingerprint = ?3 AND resume_token IS NOT NULL";
    auto select = db_->prepare(runs);
    select.bind(1, start.plugin_id).bind(2, start.plugin_version).bind(3, start.config_fingerprint);
    for (const int64_t run : ids_of(select)) create_run_tables(run, true);
    auto mark = db_->prepare(std::string("UPDATE sync_runs SET status = 'failed', resume_token = NULL, "
                                         "ended_at = coalesce(ended_at, ?4), error = 'abandoned: a later sync "
                                         "started over (--fresh)' WHERE id IN (") + runs + ")");
    mark.bind(1, start.plugin_id).bind(2, start.plugin_version).bind(3, start.config_fingerprint);
    mark.bind(4, utc_now()).run();
    db_->execute("COMMIT");
}

// The resumed run is 'running' again; its records are those of its last checkpoint (the rest was rolled back).
void SnapshotWriter::reopen_run(const ResumedRun &run) {
    run_id_ = run.id;
    db_->prepare("UPDATE sync_runs SET status = 'running', ended_at = NULL, error = NULL WHERE id = ?1")
        .bind(1, run_id_)
        .run();
    auto seq = db_->prepare(for_run("SELECT coalesce(max(seq), 0) FROM warnings_{run}", run_id_));
    if (seq.step()) warning_seq_ = static_cast<uint64_t>(seq.integer(0));
}

void SnapshotWriter::checkpoint(std::string_view token, const RunCounts &n) {
    auto update = db_->prepare("UPDATE sync_runs SET resume_token = ?2, checkpointed_at = ?3, resources = ?4, "
                               "entitlements = ?5, grants = ?6, unresolved_grants = ?7, warnings = ?8 WHERE id = ?1");
    update.bind(1, run_id_).bind(2, token).bind(3, utc_now());
    update.bind(4, static_cast<int64_t>(n.resources)).bind(5, static_cast<int64_t>(n.entitlements));
    update.bind(6, static_cast<int64_t>(n.grants)).bind(7, static_cast<int64_t>(n.unresolved_grants));
    update.bind(8, static_cast<int64_t>(n.warnings)).run();
    db_->execute("COMMIT");
    db_->execute("BEGIN IMMEDIATE");
}

// The run's row and its (empty) tables, committed together.
int64_t SnapshotWriter::insert_running_run(const RunStart &start) {
    db_->execute("BEGIN IMMEDIATE");
    auto insert = db_->prepare("INSERT INTO sync_runs (plugin_id, plugin_version, config_fingerprint, tenant, "
                               "started_at, status) VALUES (?1, ?2, ?3, ?4, ?5, 'running') RETURNING id");
    insert.bind(1, start.plugin_id).bind(2, start.plugin_version).bind(3, start.config_fingerprint);
    insert.bind(4, start.tenant).bind(5, utc_now());
    if (!insert.step()) throw StoreError("the snapshot did not number the new run");
    const int64_t id = insert.integer(0);
    insert.reset();
    create_run_tables(id, false);
    refresh_views();
    db_->execute("COMMIT");
    return id;
}

void SnapshotWriter::prepare_inserts() {
    auto make = [&](const char *sql) { return std::make_unique<Statement>(db_->prepare(for_run(sql, run_id_))); };
    insert_type_ = make("INSERT INTO resource_types_{run} (run_id, id, display_name, traits) VALUES (?1, ?2, ?3, ?4)");
    insert_resource_ = make("INSERT INTO resources_{run} (run_id, type, id, display_name, email, status, attributes) "
                            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    insert_entitlement_ = make("INSERT INTO entitlements_{run} (run_id, id, resource_type, resource_id, slug, "
                               "display_name, purpose) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    insert_grant_ = make("INSERT INTO grants_{run} (run_id, id, entitlement_id, principal_type, principal_id, "
                         "unresolved) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    insert_warning_ = make("INSERT INTO warnings_{run} (run_id, seq, code, message) VALUES (?1, ?2, ?3, ?4)");
}

void SnapshotWriter::resource_type(std::string_view id, std::string_view display_name, std::string_view traits) {
    insert_type_->bind(1, run_id_).bind(2, id).bind(3, display_name).bind(4, traits).run();
}

void SnapshotWriter::resource(const ResourceRow &row) {
    Statement &s = *insert_resource_;
    s.bind(1, run_id_).bind_borrowed(2, row.type).bind_borrowed(3, row.id).bind_borrowed(4, row.display_name);
    if (row.email.empty()) s.bind_null(5);
    else s.bind_borrowed(5, row.email);
    if (row.status.empty()) s.bind_null(6);
    else s.bind_borrowed(6, row.status);
    s.bind_borrowed(7, row.attributes_json.empty() ? std::string_view("{}") : row.attributes_json);
    s.run();
}

void SnapshotWriter::entitlement(const EntitlementRow &row) {
    insert_entitlement_->bind(1, run_id_).bind_borrowed(2, row.id).bind_borrowed(3, row.resource_type).bind_borrowed(4, row.resource_id);
    insert_entitlement_->bind(5, row.slug).bind_borrowed(6, row.display_name).bind_borrowed(7, row.purpose).run();
}

void SnapshotWriter::grant(const GrantRow &row) {
    insert_grant_->bind(1, run_id_).bind_borrowed(2, row.id).bind_borrowed(3, row.entitlement_id).bind_borrowed(4, row.principal_type);
    insert_grant_->bind(5, row.principal_id).bind(6, int64_t{row.unresolved ? 1 : 0}).run();
}

void SnapshotWriter::warning(std::string_view code, std::string_view message) {
    insert_warning_->bind(1, run_id_).bind(2, static_cast<int64_t>(++warning_seq_)).bind_borrowed(3, code).bind_borrowed(4, message).run();
}

void SnapshotWriter::complete(const RunTotals &t) {
    auto update = db_->prepare(
        "UPDATE sync_runs SET status = ?2, ended_at = ?3, resources = ?4, entitlements = ?5, grants = ?6, "
        "unresolved_grants = ?7, warnings = ?8, requests = ?9, retries = ?10, pages = ?11, elapsed_seconds = ?12, "
        "resume_token = NULL WHERE id = ?1");
    update.bind(1, run_id_).bind(2, t.complete ? "complete" : "incomplete").bind(3, utc_now());
    update.bind(4, static_cast<int64_t>(t.resources)).bind(5, static_cast<int64_t>(t.entitlements));
    update.bind(6, static_cast<int64_t>(t.grants)).bind(7, static_cast<int64_t>(t.unresolved_grants));
    update.bind(8, static_cast<int64_t>(t.warnings)).bind(9, static_cast<int64_t>(t.requests));
    update.bind(10, static_cast<int64_t>(t.retries)).bind(11, static_cast<int64_t>(t.pages));
    update.bind(12, t.elapsed_seconds).run();
    if (!t.started_at.empty() || !t.ended_at.empty() || !t.tenant.empty()) {
        auto facts = db_->prepare("UPDATE sync_runs SET started_at = coalesce(nullif(?2, ''), started_at), "
                                  "ended_at = coalesce(nullif(?3, ''), ended_at), tenant = coalesce(nullif(?4, ''), tenant) "
                                  "WHERE id = ?1");
        facts.bind(1, run_id_).bind(2, t.started_at).bind(3, t.ended_at).bind(4, t.tenant).run();
    }
    prune_old_runs();
    db_->execute(for_run(kRunQueryIndexesSql, run_id_));
    // Statistics for the query planner (sampled: a few hundred rows an index), so that the questions use
    // the indexes that fit them rather than a scan of the run.
    std::string analyze = "PRAGMA analysis_limit = 400;";
    for (const auto &table : kRecordTables) analyze += " ANALYZE " + run_table(table.name, run_id_) + ";";
    db_->execute(analyze);
    db_->execute("COMMIT");
    finished_ = true;
}

// Keeps the newest keep_ usable runs and whatever is newer; every older run goes, rows and all, except this
// run (a resumed run may be older than others) and unfinished runs that can still be resumed.
void SnapshotWriter::prune_old_runs() {
    auto oldest = db_->prepare("SELECT id FROM sync_runs WHERE status IN ('complete', 'incomplete') "
                               "ORDER BY id DESC LIMIT 1 OFFSET ?1");
    oldest.bind(1, static_cast<int64_t>(keep_ - 1));
    if (!oldest.step()) return;
    const int64_t oldest_kept = oldest.integer(0);
    oldest.reset();
    auto select = db_->prepare("SELECT id FROM sync_runs WHERE id < ?1 AND id != ?2 AND resume_token IS NULL");
    select.bind(1, oldest_kept).bind(2, run_id_);
    const std::vector<int64_t> pruned = ids_of(select);
    if (pruned.empty()) return;
    for (const int64_t run : pruned) {
        drop_run_tables(run);
        db_->prepare("DELETE FROM sync_runs WHERE id = ?1").bind(1, run).run();
    }
    refresh_views();
}

void SnapshotWriter::fail(std::string_view reason) noexcept {
    if (finished_) return;
    finished_ = true;
    try {
        db_->execute("ROLLBACK");
    } catch (...) {
    }
    try {
        auto update = db_->prepare("UPDATE sync_runs SET status = 'failed', ended_at = ?2, error = ?3 WHERE id = ?1");
        update.bind(1, run_id_).bind(2, utc_now()).bind(3, reason).run();
    } catch (...) {
        // the run's row stays 'running': readers treat it as not usable, like a failed run
    }
    try {
        db_->execute(for_run(kRunQueryIndexesSql, run_id_)); // for a --run question, or until it is resumed
    } catch (...) {
        // a question on this run scans; resuming it ends by building them
    }
}

}  // namespace connector_host::store
