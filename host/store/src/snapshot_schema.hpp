// The snapshot's schema, version 2 (documented in host/SNAPSHOT.md: change both together, and bump
// kSchemaVersion for any change a reader could notice): kSchemaSql and kQueryIndexesSql together.
#pragma once

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
CREATE TABLE resource_types (
  run_id INTEGER NOT NULL REFERENCES sync_runs(id),
  id TEXT NOT NULL,
  display_name TEXT NOT NULL,
  traits TEXT NOT NULL,
  PRIMARY KEY (run_id, id)
) WITHOUT ROWID;
CREATE TABLE resources (
  run_id INTEGER NOT NULL REFERENCES sync_runs(id),
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  display_name TEXT NOT NULL,
  email TEXT,
  status TEXT,
  attributes TEXT NOT NULL,
  PRIMARY KEY (run_id, type, id)
) WITHOUT ROWID;
CREATE TABLE entitlements (
  run_id INTEGER NOT NULL REFERENCES sync_runs(id),
  id TEXT NOT NULL,
  resource_type TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  slug TEXT NOT NULL,
  display_name TEXT NOT NULL,
  purpose TEXT NOT NULL,
  PRIMARY KEY (run_id, id)
) WITHOUT ROWID;
CREATE TABLE grants (
  run_id INTEGER NOT NULL REFERENCES sync_runs(id),
  id TEXT NOT NULL,
  entitlement_id TEXT NOT NULL,
  principal_type TEXT NOT NULL,
  principal_id TEXT NOT NULL,
  unresolved INTEGER NOT NULL
);
CREATE UNIQUE INDEX grants_by_entitlement ON grants (run_id, entitlement_id, principal_type, principal_id);
CREATE TABLE warnings (
  run_id INTEGER NOT NULL REFERENCES sync_runs(id),
  seq INTEGER NOT NULL,
  code TEXT NOT NULL,
  message TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
)sql";

// The indexes only the questions use (no write reads them). Every run drops them when it starts and builds them
// again when it ends (complete or failed), from the rows at once (a sort), instead of keeping them up to date by
// every insert in arrival order, which was most of a snapshot's extra cost over JSON. Between a run's checkpoints
// the committed file lacks them: questions asked then (or after a writer was killed) are answered by scans, no
// question names them (INDEXED BY), and the next writer builds whatever is missing.
inline constexpr const char *kQueryIndexesSql = R"sql(
CREATE INDEX IF NOT EXISTS resources_by_email ON resources (run_id, email) WHERE email IS NOT NULL;
CREATE INDEX IF NOT EXISTS entitlements_by_resource ON entitlements (run_id, resource_type, resource_id);
CREATE INDEX IF NOT EXISTS grants_by_principal ON grants (run_id, principal_type, principal_id);
)sql";
inline constexpr const char *kDropQueryIndexesSql = R"sql(
DROP INDEX IF EXISTS resources_by_email;
DROP INDEX IF EXISTS entitlements_by_resource;
DROP INDEX IF EXISTS grants_by_principal;
)sql";

// Version 1 to 2: the checkpoint of an unfinished run (the columns a version-1 run never has).
inline constexpr const char *kMigrateV1toV2Sql = R"sql(
ALTER TABLE sync_runs ADD COLUMN resume_token TEXT;
ALTER TABLE sync_runs ADD COLUMN checkpointed_at TEXT;
UPDATE snapshot_meta SET value = '2' WHERE key = 'schema_version';
PRAGMA user_version = 2;
)sql";

// Tables holding a run's records, in the order a pruned run's rows are deleted.
inline constexpr const char *kRecordTables[] = {"warnings", "grants", "entitlements", "resources", "resource_types"};

}  // namespace connector_host::store
