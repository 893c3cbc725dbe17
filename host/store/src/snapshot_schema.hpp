// The snapshot's schema, version 3 (documented in host/SNAPSHOT.md: change both together, and bump
// kSchemaVersion for any change a reader could notice).
//
// Version 3 keeps each run's records in tables of its own, <table>_<run id> (resources_7, grants_7, ...), and
// the names of version 2 (resources, grants, ...) as views: the UNION ALL of every run's tables, with the same
// columns, so `sqlite3 org.db 'select count(*) from grants'` reads as before. The reason is cost: pruning a run
// is DROP TABLE (its pages go to the free list unread and unjournaled) where DELETE rewrote and journaled every
// page of it (3.4 s for a 100,000-user run), and a run's query indexes are built from its own rows when it
// ends, with no other run's rows to sort again or keep up to date.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace connector_host::store {

inline constexpr const char *kSchemaSql = R"sql(
CREATE TABLE snapshot_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sync_runs (
  id INTEGER PRIMARY KEY,
  plugin_id TEXT NOT NULL,
  plugin_version TEXT NOT NULL,
  config_fingerprint TEXT NOT NULL,
  tenant TEXT NOT NULL,
  started_at TEXT NOT NULL,
  ended_at TEXT,
  status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'incomplete', 'failed')),
  error TEXT,
  resources INTEGER NOT NULL DEFAULT 0,
  entitlements INTEGER NOT NULL DEFAULT 0,
  grants INTEGER NOT NULL DEFAULT 0,
  unresolved_grants INTEGER NOT NULL DEFAULT 0,
  warnings INTEGER NOT NULL DEFAULT 0,
  requests INTEGER NOT NULL DEFAULT 0,
  retries INTEGER NOT NULL DEFAULT 0,
  pages INTEGER NOT NULL DEFAULT 0,
  elapsed_seconds REAL NOT NULL DEFAULT 0,
  resume_token TEXT,
  checkpointed_at TEXT
);
)sql";

// The tables of one run ({run}: its id), created with its row in sync_runs and dropped with it. The columns and
// their order are version 2's (run_id included, constant in a run's tables), so the views are plain UNION ALLs
// and a version-2 table's rows move over with INSERT ... SELECT *. The unique index on grants is kept up to date
// as grants arrive (a grant delivered twice is refused); the other indexes are the questions' (kRunQueryIndexesSql).
inline constexpr const char *kRunTablesSql = R"sql(
CREATE TABLE resource_types_{run} (
  run_id INTEGER NOT NULL REFERENCES sync_runs(id),
  id TEXT NOT NULL,
  display_name TEXT NOT NULL,
  traits TEXT NOT NULL,
  PRIMARY KEY (id)
) WITHOUT ROWID;
CREATE TABLE resources_{run} (
  run_id INTEGER NOT NULL REFERENCES sync_runs(id),
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  display_name TEXT NOT NULL,
  email TEXT,
  status TEXT,
  attributes TEXT NOT NULL,
  PRIMARY KEY (type, id)
) WITHOUT ROWID;
CREATE TABLE entitlements_{run} (
  run_id INTEGER NOT NULL REFERENCES sync_runs(id),
  id TEXT NOT NULL,
  resource_type TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  slug TEXT NOT NULL,
  display_name TEXT NOT NULL,
  purpose TEXT NOT NULL,
  PRIMARY KEY (id)
) WITHOUT ROWID;
CREATE TABLE grants_{run} (
  run_id INTEGER NOT NULL REFERENCES sync_runs(id),
  id TEXT NOT NULL,
  entitlement_id TEXT NOT NULL,
  principal_type TEXT NOT NULL,
  principal_id TEXT NOT NULL,
  unresolved INTEGER NOT NULL
);
CREATE UNIQUE INDEX grants_by_entitlement_{run} ON grants_{run} (entitlement_id, principal_type, principal_id);
CREATE TABLE warnings_{run} (
  run_id INTEGER NOT NULL REFERENCES sync_runs(id),
  seq INTEGER NOT NULL,
  code TEXT NOT NULL,
  message TEXT NOT NULL,
  PRIMARY KEY (seq)
) WITHOUT ROWID;
)sql";

// The indexes only the questions use (no write reads them): built from the run's rows at once (a sort) when the
// run ends, complete or failed, instead of kept up to date by every insert in arrival order, which was most of a
// snapshot's extra cost over JSON. A run whose writer was killed lacks them until it is resumed and ends; no other
// run is touched. A resumed run drops them again before it writes.
inline constexpr const char *kRunQueryIndexesSql = R"sql(
CREATE INDEX IF NOT EXISTS resources_by_email_{run} ON resources_{run} (email) WHERE email IS NOT NULL;
CREATE INDEX IF NOT EXISTS entitlements_by_resource_{run} ON entitlements_{run} (resource_type, resource_id);
CREATE INDEX IF NOT EXISTS grants_by_principal_{run} ON grants_{run} (principal_type, principal_id);
)sql";
inline constexpr const char *kDropRunQueryIndexesSql = R"sql(
DROP INDEX IF EXISTS resources_by_email_{run};
DROP INDEX IF EXISTS entitlements_by_resource_{run};
DROP INDEX IF EXISTS grants_by_principal_{run};
)sql";

// A record table: its name (the view's; a run's table is <name>_<run>) and its columns, in order.
struct RecordTable {
    const char *name;
    const char *columns;
};
// In the order a pruned run's tables are dropped.
inline constexpr RecordTable kRecordTables[] = {
    {"warnings", "run_id, seq, code, message"},
    {"grants", "run_id, id, entitlement_id, principal_type, principal_id, unresolved"},
    {"entitlements", "run_id, id, resource_type, resource_id, slug, display_name, purpose"},
    {"resources", "run_id, type, id, display_name, email, status, attributes"},
    {"resource_types", "run_id, id, display_name, traits"},
};

// Version 1 to 2: the checkpoint of an unfinished run (the columns a version-1 run never has).
inline constexpr const char *kMigrateV1toV2Sql = R"sql(
ALTER TABLE sync_runs ADD COLUMN resume_token TEXT;
ALTER TABLE sync_runs ADD COLUMN checkpointed_at TEXT;
UPDATE snapshot_meta SET value = '2' WHERE key = 'schema_version';
PRAGMA user_version = 2;
)sql";

// The table of run `run` holding the records of `table` (a name of kRecordTables): resources_7.
inline std::string run_table(std::string_view table, int64_t run) {
    return std::string(table) + "_" + std::to_string(run);
}

// `sql` with every {run} replaced by the run's id.
inline std::string for_run(std::string_view sql, int64_t run) {
    const std::string id = std::to_string(run);
    std::string out;
    out.reserve(sql.size() + 64);
    for (size_t at = 0;;) {
        const size_t next = sql.find("{run}", at);
        out.append(sql.substr(at, next == std::string_view::npos ? std::string_view::npos : next - at));
        if (next == std::string_view::npos) return out;
        out += id;
        at = next + 5;
    }
}

}  // namespace connector_host::store
