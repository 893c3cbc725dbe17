// The SQL behind each question, with the column names each answer carries (documented in host/SNAPSHOT.md).
// ?1 is always the run id. Tables are named {resources}, {grants}, {entitlements}, {warnings} and the index
// {grants_by_entitlement}; in diff_sql, the old run's are {old:grants} and so on. tables_for_run() names them:
// a version-3 snapshot keeps each run in tables of its own (grants_7), older versions every run in one table.
#pragma once

#include "snapshot_schema.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace connector_host::store {

// A grant to a principal that is a resource reaches that resource's members, to at most this depth.
inline constexpr int kMaxHoldingDepth = 8;

inline constexpr const char *kRunSql =
    "SELECT id, plugin_id, plugin_version, tenant, started_at, coalesce(ended_at, ''), status FROM sync_runs";

inline constexpr const char *kRunsSql =
    "SELECT id, status, plugin_id, plugin_version, tenant, started_at, ended_at, resources, entitlements, grants, "
    "warnings, error FROM sync_runs ORDER BY id DESC";
inline const std::vector<std::string> kRunsColumns = {"run", "status", "plugin", "version", "tenant", "started_at",
                                                      "ended_at", "resources", "entitlements", "grants", "warnings",
                                                      "error"};

inline constexpr const char *kResourcesSql =
    "SELECT r.type, r.id, r.display_name, r.email, r.status, r.attributes FROM {resources} r";
inline const std::vector<std::string> kResourcesColumns = {"type", "id", "display_name", "email", "status",
                                                           "attributes"};

inline constexpr const char *kEntitlementsSql =
    "SELECT e.id, e.display_name, e.resource_type || ':' || e.resource_id, r.display_name, e.slug, e.purpose, "
    "(SELECT count(*) FROM {grants} g WHERE g.run_id = e.run_id AND g.entitlement_id = e.id) "
    "FROM {entitlements} e LEFT JOIN {resources} r ON r.run_id = e.run_id AND r.type = e.resource_type AND "
    "r.id = e.resource_id";
inline const std::vector<std::string> kEntitlementsColumns = {"id", "display_name", "resource", "resource_name",
                                                              "slug", "purpose", "grants"};

inline constexpr const char *kGrantsSql =
    "SELECT g.entitlement_id, e.display_name, g.principal_type || ':' || g.principal_id, p.display_name, p.email, "
    "g.unresolved FROM {grants} g "
    "LEFT JOIN {entitlements} e ON e.run_id = g.run_id AND e.id = g.entitlement_id "
    "LEFT JOIN {resources} p ON p.run_id = g.run_id AND p.type = g.principal_type AND p.id = g.principal_id";
inline const std::vector<std::string> kGrantsColumns = {"entitlement", "entitlement_name", "principal",
                                                        "principal_name", "principal_email", "unresolved"};

// ?2/?3 the principal, ?4 the depth limit. `holders` are the principal and every resource it is (through
// assignment entitlements, transitively) a member of, each with the path that led there.
inline constexpr const char *kAccessSql = R"sql(
WITH RECURSIVE holders(ptype, pid, path, depth) AS (
  SELECT ?2, ?3, '', 0
  UNION
  SELECT e.resource_type, e.resource_id,
         h.path || CASE WHEN h.path = '' THEN '' ELSE ' > ' END || e.resource_type || ':' || e.resource_id ||
           coalesce(' (' || r.display_name || ')', ''),
         h.depth + 1
  FROM holders h
  JOIN {grants} g ON g.run_id = ?1 AND g.principal_type = h.ptype AND g.principal_id = h.pid
  JOIN {entitlements} e ON e.run_id = ?1 AND e.id = g.entitlement_id AND e.purpose = 'assignment'
  LEFT JOIN {resources} r ON r.run_id = ?1 AND r.type = e.resource_type AND r.id = e.resource_id
  WHERE h.depth < ?4
)
SELECT g.entitlement_id, e.display_name, e.resource_type || ':' || e.resource_id, r.display_name,
       CASE WHEN h.path = '' THEN 'direct' ELSE 'via ' || h.path END
FROM holders h
JOIN {grants} g ON g.run_id = ?1 AND g.principal_type = h.ptype AND g.principal_id = h.pid
LEFT JOIN {entitlements} e ON e.run_id = ?1 AND e.id = g.entitlement_id
LEFT JOIN {resources} r ON r.run_id = ?1 AND r.type = e.resource_type AND r.id = e.resource_id
ORDER BY g.entitlement_id, h.depth, h.path
)sql";
inline const std::vector<std::string> kAccessColumns = {"entitlement", "entitlement_name", "resource",
                                                        "resource_name", "path"};

// ?2 an entitlement id, or ?3/?4 a resource whose assignment entitlements are meant; ?5 the depth limit. The
// holders' names are read one by one (correlated lookups by primary key): as a LEFT JOIN, SQLite chose to build a
// Bloom filter over every resource of the run first, 0.17 s of a 0.18 s answer on the 1,000,000-user org.
inline constexpr const char *kMembersSql = R"sql(
WITH RECURSIVE targets(id) AS (
  SELECT id FROM {entitlements} WHERE run_id = ?1 AND
    (id = ?2 OR (resource_type = ?3 AND resource_id = ?4 AND purpose = 'assignment'))
),
holders(ptype, pid, entitlement, path, depth) AS (
  SELECT g.principal_type, g.principal_id, g.entitlement_id, '', 0
  FROM targets t CROSS JOIN {grants} g ON g.run_id = ?1 AND g.entitlement_id = t.id
  UNION
  SELECT g.principal_type, g.principal_id, h.entitlement,
         h.path || CASE WHEN h.path = '' THEN '' ELSE ' < ' END || h.ptype || ':' || h.pid, h.depth + 1
  FROM holders h
  JOIN {entitlements} e ON e.run_id = ?1 AND e.resource_type = h.ptype AND e.resource_id = h.pid AND
    e.purpose = 'assignment'
  JOIN {grants} g ON g.run_id = ?1 AND g.entitlement_id = e.id
  WHERE h.depth < ?5
)
SELECT h.ptype || ':' || h.pid,
       (SELECT r.display_name FROM {resources} r WHERE r.run_id = ?1 AND r.type = h.ptype AND r.id = h.pid),
       (SELECT r.email FROM {resources} r WHERE r.run_id = ?1 AND r.type = h.ptype AND r.id = h.pid),
       (SELECT r.status FROM {resources} r WHERE r.run_id = ?1 AND r.type = h.ptype AND r.id = h.pid),
       h.entitlement, CASE WHEN h.path = '' THEN 'direct' ELSE 'via ' || h.path END
FROM holders h
ORDER BY h.ptype, h.pid, h.entitlement, h.depth
)sql";
inline const std::vector<std::string> kMembersColumns = {"principal", "name", "email", "status", "entitlement",
                                                         "path"};

inline constexpr const char *kStatsSql = R"sql(
SELECT 'resources', type, count(*) FROM {resources} WHERE run_id = ?1 GROUP BY type
UNION ALL
SELECT 'status', type || ' ' || coalesce(status, '(none)'), count(*) FROM {resources} WHERE run_id = ?1
  GROUP BY type, status
UNION ALL
SELECT 'source', type || ' ' || CAST(json_extract(attributes, '$.source') AS TEXT), count(*) FROM {resources}
  WHERE run_id = ?1 AND json_extract(attributes, '$.source') IS NOT NULL GROUP BY 2
UNION ALL
SELECT 'entitlements', resource_type || ' ' || slug, count(*) FROM {entitlements} WHERE run_id = ?1
  GROUP BY resource_type, slug
UNION ALL
SELECT 'grants', 'total', count(*) FROM {grants} WHERE run_id = ?1
UNION ALL
SELECT 'grants', 'unresolved', count(*) FROM {grants} WHERE run_id = ?1 AND unresolved = 1
UNION ALL
SELECT 'warnings', code, count(*) FROM {warnings} WHERE run_id = ?1 GROUP BY code
)sql";
inline const std::vector<std::string> kStatsColumns = {"what", "key", "count"};

inline const std::vector<std::string> kDiffColumns = {"change", "kind", "id", "name", "detail"};

// ?1 the old run (in schema `old_schema`), ?2 the new run (in main). A run's grants are walked by
// grants_by_entitlement: a plugin delivers them group by group, so in that order the rows (fetched for their id)
// lie nearly in rowid order; the planner's sampled statistics sometimes chose grants_by_principal instead, whose
// order makes every row fetch a random read (a 100,000-user diff took 2.9 s instead of 0.7 s).
inline std::string diff_sql(const std::string &old_schema) {
    const std::string o = old_schema + ".";
    return "SELECT 'added', 'resource', n.type || ':' || n.id, n.display_name, coalesce(n.email, '') "
           "FROM main.{resources} n WHERE n.run_id = ?2 AND NOT EXISTS (SELECT 1 FROM " + o + "{old:resources} x "
           "WHERE x.run_id = ?1 AND x.type = n.type AND x.id = n.id) "
           "UNION ALL "
           "SELECT 'removed', 'resource', x.type || ':' || x.id, x.display_name, coalesce(x.email, '') "
           "FROM " + o + "{old:resources} x WHERE x.run_id = ?1 AND NOT EXISTS (SELECT 1 FROM main.{resources} n "
           "WHERE n.run_id = ?2 AND n.type = x.type AND n.id = x.id) "
           "UNION ALL "
           "SELECT 'changed', 'resource', n.type || ':' || n.id, n.display_name, "
           "CASE WHEN coalesce(x.status, '') <> coalesce(n.status, '') THEN 'status ' || coalesce(x.status, '(none)') "
           "|| ' -> ' || coalesce(n.status, '(none)') ELSE 'display_name ' || x.display_name || ' -> ' || "
           "n.display_name END "
           "FROM main.{resources} n JOIN " + o + "{old:resources} x ON x.run_id = ?1 AND x.type = n.type AND x.id = n.id "
           "WHERE n.run_id = ?2 AND (coalesce(x.status, '') <> coalesce(n.status, '') OR "
           "x.display_name <> n.display_name) "
           "UNION ALL "
           "SELECT 'added', 'grant', n.id, coalesce(p.display_name, '') || ' -> ' || coalesce(e.display_name, ''), '' "
           "FROM main.{grants} n INDEXED BY {grants_by_entitlement} LEFT JOIN main.{resources} p ON p.run_id = ?2 AND p.type = n.principal_type AND "
           "p.id = n.principal_id LEFT JOIN main.{entitlements} e ON e.run_id = ?2 AND e.id = n.entitlement_id "
           "WHERE n.run_id = ?2 AND NOT EXISTS (SELECT 1 FROM " + o + "{old:grants} x WHERE x.run_id = ?1 AND "
           "x.entitlement_id = n.entitlement_id AND x.principal_type = n.principal_type AND "
           "x.principal_id = n.principal_id) "
           "UNION ALL "
           "SELECT 'removed', 'grant', x.id, coalesce(p.display_name, '') || ' -> ' || coalesce(e.display_name, ''), '' "
           "FROM " + o + "{old:grants} x INDEXED BY {old:grants_by_entitlement} LEFT JOIN " + o + "{old:resources} p ON p.run_id = ?1 AND p.type = x.principal_type AND "
           "p.id = x.principal_id LEFT JOIN " + o + "{old:entitlements} e ON e.run_id = ?1 AND e.id = x.entitlement_id "
           "WHERE x.run_id = ?1 AND NOT EXISTS (SELECT 1 FROM main.{grants} n WHERE n.run_id = ?2 AND "
           "n.entitlement_id = x.entitlement_id AND n.principal_type = x.principal_type AND "
           "n.principal_id = x.principal_id) "
           "ORDER BY 2 DESC, 1, 3";
}

// Where a run's records are: the run's own tables (schema version 3), or the shared ones (versions 1 and 2).
struct RunTables {
    int64_t run = 0;
    bool per_run = true;
    std::string name(const std::string &table) const {
        return per_run ? run_table(table, run) : table;
    }
};

// `sql` with {table} named for `run` and {old:table} for `old`.
inline std::string tables_for_run(std::string sql, const RunTables &run, const RunTables &old = {}) {
    for (const char *table : {"resources", "grants", "entitlements", "warnings", "grants_by_entitlement"}) {
        for (const auto &[placeholder, tables] :
             {std::pair{"{" + std::string(table) + "}", &run}, std::pair{"{old:" + std::string(table) + "}", &old}}) {
            for (size_t at = sql.find(placeholder); at != std::string::npos; at = sql.find(placeholder, at))
                sql.replace(at, placeholder.size(), tables->name(table));
        }
    }
    return sql;
}

}  // namespace connector_host::store
