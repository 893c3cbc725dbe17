#include "connector_host/store/snapshot_reader.hpp"

#include "snapshot_queries.hpp"

#include <sqlite3.h>

namespace connector_host::store {

namespace {

// Every column of the current row as cells, typed as SQLite holds them.
std::vector<Cell> cells_of(const Statement &s, size_t count) {
    std::vector<Cell> cells(count);
    for (size_t i = 0; i < count; ++i) {
        const int c = static_cast<int>(i);
        if (s.is_null(c)) continue;
        if (s.column_is_integer(c)) {
            cells[i].kind = Cell::Kind::integer;
            cells[i].integer = s.integer(c);
        } else {
            cells[i].kind = Cell::Kind::text;
            cells[i].text = s.text(c);
        }
    }
    return cells;
}

uint64_t stream_rows(Statement &s, const std::vector<std::string> &names, RowVisitor &out) {
    out.columns(names);
    uint64_t rows = 0;
    while (s.step()) {
        out.row(cells_of(s, names.size()));
        ++rows;
    }
    s.reset();
    return rows;
}

// "type:id" split at the first ':'; throws StoreError when there is none.
std::pair<std::string, std::string> split_typed(const std::string &text, const char *what) {
    const auto colon = text.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
        throw StoreError(std::string(what) + " must be <type>:<id>, got '" + text + "'");
    return {text.substr(0, colon), text.substr(colon + 1)};
}

// An attribute (named by ?4) as text: JSON true / false as "true" / "false", numbers in decimal.
constexpr const char *kAttributeTextSql =
    "CASE json_type(r.attributes, '$.\"' || ?4 || '\"') WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
    "ELSE CAST(json_extract(r.attributes, '$.\"' || ?4 || '\"') AS TEXT) END";

bool is_resource_column(const std::string &key) {
    return key == "type" || key == "id" || key == "display_name" || key == "email" || key == "status";
}

}  // namespace

SnapshotReader::SnapshotReader(const std::filesystem::path &path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) throw StoreError(path.string() + " is not a snapshot file");
    db_ = std::make_unique<Database>(path, Database::Mode::read_only);
    auto version = db_->prepare("SELECT value FROM snapshot_meta WHERE key = 'schema_version'");
    if (!version.step()) throw StoreError(path.string() + " holds no snapshot schema version");
    const std::string found = version.text(0);
    if (found != "1" && found != "2" && found != "3")
        throw StoreError(path.string() + " is a snapshot of schema version " + found + " (this host reads 1 to 3)");
    per_run_tables_ = found == "3";
}

std::string SnapshotReader::sql_for(int64_t run, std::string sql) const {
    return tables_for_run(std::move(sql), RunTables{run, per_run_tables_});
}

RunSummary SnapshotReader::run(std::optional<int64_t> id) const {
    auto s = db_->prepare(id ? std::string(kRunSql) + " WHERE id = ?1"
                             : std::string(kRunSql) + " WHERE status IN ('complete', 'incomplete') ORDER BY id DESC LIMIT 1");
    if (id) s.bind(1, *id);
    if (!s.step())
        throw StoreNotFound(id ? "the snapshot has no run " + std::to_string(*id) : "the snapshot has no complete run");
    RunSummary r{s.integer(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5), s.text(6)};
    if (id && r.status != "complete" && r.status != "incomplete")
        throw StoreNotFound("run " + std::to_string(*id) + " is " + r.status + ": it holds no records");
    return r;
}

std::optional<int64_t> SnapshotReader::previous_run(int64_t run) const {
    auto s = db_->prepare("SELECT id FROM sync_runs WHERE id < ?1 AND status IN ('complete', 'incomplete') "
                          "ORDER BY id DESC LIMIT 1");
    s.bind(1, run);
    if (!s.step()) return std::nullopt;
    return s.integer(0);
}

void SnapshotReader::runs(RowVisitor &out) const {
    auto s = db_->prepare(kRunsSql);
    stream_rows(s, kRunsColumns, out);
}

std::pair<std::string, std::string> SnapshotReader::resolve_principal(int64_t run, const std::string &principal) const {
    auto [type, id] = split_typed(principal, "a principal");
    if (id.rfind("email=", 0) != 0) return {type, id};
    auto s = db_->prepare(sql_for(run, "SELECT id FROM {resources} WHERE run_id = ?1 AND type = ?2 AND email = ?3 COLLATE NOCASE"));
    s.bind(1, run).bind(2, type).bind(3, id.substr(6));
    if (!s.step()) throw StoreNotFound("no " + type + " with the e-mail " + id.substr(6) + " in run " + std::to_string(run));
    std::string found = s.text(0);
    if (s.step()) throw StoreError("two " + type + "s have the e-mail " + id.substr(6));
    return {type, found};
}

void SnapshotReader::resources(int64_t run, const ResourceQuery &q, RowVisitor &out) const {
    std::string sql = std::string(kResourcesSql) + " WHERE r.run_id = ?1";
    if (!q.type.empty()) sql += " AND r.type = ?2";
    if (!q.filter_key.empty())
        sql += is_resource_column(q.filter_key) ? " AND r." + q.filter_key + " = ?3"
                                                : " AND " + std::string(kAttributeTextSql) + " = ?3";
    if (!q.search.empty())
        sql += " AND (instr(lower(r.id), lower(?5)) OR instr(lower(r.display_name), lower(?5)) OR "
               "instr(lower(coalesce(r.email, '')), lower(?5)))";
    sql += " ORDER BY r.type, r.id";
    auto s = db_->prepare(sql_for(run, sql));
    s.bind(1, run);
    if (!q.type.empty()) s.bind(2, q.type);
    if (!q.filter_key.empty()) {
        s.bind(3, q.filter_value);
        if (!is_resource_column(q.filter_key)) s.bind(4, q.filter_key);
    }
    if (!q.search.empty()) s.bind(5, q.search);
    stream_rows(s, kResourcesColumns, out);
}

void SnapshotReader::entitlements(int64_t run, const std::string &resource, RowVisitor &out) const {
    std::string sql = std::string(kEntitlementsSql) + " WHERE e.run_id = ?1";
    std::pair<std::string, std::string> typed;
    if (!resource.empty()) {
        typed = split_typed(resource, "--resource");
        sql += " AND e.resource_type = ?2 AND e.resource_id = ?3";
    }
    auto s = db_->prepare(sql_for(run, sql + " ORDER BY e.id"));
    s.bind(1, run);
    if (!resource.empty()) s.bind(2, typed.first).bind(3, typed.second);
    stream_rows(s, kEntitlementsColumns, out);
}

void SnapshotReader::grants(int64_t run, const GrantQuery &q, RowVisitor &out) const {
    std::string sql = std::string(kGrantsSql) + " WHERE g.run_id = ?1";
    std::pair<std::string, std::string> principal;
    if (!q.entitlement.empty()) sql += " AND g.entitlement_id = ?2";
    if (!q.principal.empty()) {
        principal = resolve_principal(run, q.principal);
        sql += " AND g.principal_type = ?3 AND g.principal_id = ?4";
    }
    auto s = db_->prepare(sql_for(run, sql + " ORDER BY g.entitlement_id, g.principal_type, g.principal_id"));
    s.bind(1, run);
    if (!q.entitlement.empty()) s.bind(2, q.entitlement);
    if (!q.principal.empty()) s.bind(3, principal.first).bind(4, principal.second);
    stream_rows(s, kGrantsColumns, out);
}

void SnapshotReader::access(int64_t run, const std::string &principal, RowVisitor &out) const {
    const auto [type, id] = resolve_principal(run, principal);
    auto s = db_->prepare(sql_for(run, kAccessSql));
    s.bind(1, run).bind(2, type).bind(3, id).bind(4, int64_t{kMaxHoldingDepth});
    stream_rows(s, kAccessColumns, out);
}

void SnapshotReader::members(int64_t run, const std::string &target, RowVisitor &out) const {
    const auto [type, id] = split_typed(target, "a group or entitlement");
    auto s = db_->prepare(sql_for(run, kMembersSql));
    s.bind(1, run).bind(2, target).bind(3, type).bind(4, id).bind(5, int64_t{kMaxHoldingDepth});
    stream_rows(s, kMembersColumns, out);
}

void SnapshotReader::stats(int64_t run, RowVisitor &out) const {
    auto s = db_->prepare(sql_for(run, kStatsSql));
    s.bind(1, run);
    stream_rows(s, kStatsColumns, out);
}

uint64_t SnapshotReader::diff(const std::filesystem::path &old_snapshot, int64_t old_run, int64_t new_run,
                              RowVisitor &out) const {
    std::string schema = "main";
    RunTables old_tables{old_run, per_run_tables_};
    if (!old_snapshot.empty()) {
        db_->prepare("ATTACH DATABASE ?1 AS old").bind(1, old_snapshot.string()).run();
        schema = "old";
        auto version = db_->prepare("SELECT value FROM old.snapshot_meta WHERE key = 'schema_version'");
        old_tables.per_run = version.step() && version.text(0) == "3";
    }
    auto s = db_->prepare(tables_for_run(diff_sql(schema), RunTables{new_run, per_run_tables_}, old_tables));
    s.bind(1, old_run).bind(2, new_run);
    const uint64_t changes = stream_rows(s, kDiffColumns, out);
    if (!old_snapshot.empty()) db_->execute("DETACH DATABASE old");
    return changes;
}

}  // namespace connector_host::store
