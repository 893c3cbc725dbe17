// End-to-end: sync --out X.db writes SQLite snapshots, and the question commands read them (the real
// connector-host binary and the test plugin, whose data is known exactly: tests/host/test_plugin.cpp).
// The snapshot is read back here through SQLite's C API, independently of the host's store.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "process.hpp"

#include <rapidjson/document.h>
#include <sqlite3.h>

#include <sys/stat.h>

#include <set>

using namespace host_test;
namespace fs = std::filesystem;

namespace {

const std::string host = CONNECTOR_HOST_PATH;
const std::string plugin = TEST_PLUGIN_PATH;
const std::string token = "good-Tk9-snapshot-5e1b7c2a";
const std::vector<std::string> config_env_names = {"SERVICE_URL", "API_TOKEN", "USERS", "GROUPS", "MODE", "DELAY_MS",
                                                   "CONNECTOR_PLUGINS_DIR"};

std::map<std::string, std::string> env_for(int users, const std::string &mode = "normal") {
    return {{"SERVICE_URL", "https://admin:hunter22pw@svc.example/scim/v2?tenant=7#x"},
            {"API_TOKEN", token},
            {"USERS", std::to_string(users)},
            {"MODE", mode}};
}

// Paths given to the host are absolute: it runs in the test's working directory.
std::string at(const TempDir &t, const char *name) { return (t / name).string(); }

Result ch(std::vector<std::string> args, const TempDir &dir, std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), host);
    return run(args, dir.path(), std::move(env), config_env_names);
}

rapidjson::Document parse(const std::string &text) {
    rapidjson::Document d;
    d.Parse(text.c_str());
    REQUIRE_MESSAGE(!d.HasParseError(), text);
    return d;
}

// Every row of a query, each as its columns joined by '|'.
std::vector<std::string> sql_rows(const fs::path &db, const std::string &sql) {
    sqlite3 *h = nullptr;
    REQUIRE(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sqlite3_busy_timeout(h, 10000); // a sync writing its run may hold the file's lock a moment
    sqlite3_stmt *st = nullptr;
    REQUIRE_MESSAGE(sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) == SQLITE_OK, sqlite3_errmsg(h));
    std::vector<std::string> rows;
    while (sqlite3_step(st) == SQLITE_ROW) {
        std::string row;
        for (int i = 0; i < sqlite3_column_count(st); ++i) {
            const auto *t = reinterpret_cast<const char *>(sqlite3_column_text(st, i));
            row += (i ? "|" : "") + std::string(t ? t : "NULL");
        }
        rows.push_back(row);
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return rows;
}

std::string sql_one(const fs::path &db, const std::string &sql) {
    auto rows = sql_rows(db, sql);
    REQUIRE(rows.size() == 1);
    return rows[0];
}

// The "col" member of every object in the document's array `what`.
std::vector<std::string> column_of(const rapidjson::Document &d, const char *what, const char *col) {
    std::vector<std::string> out;
    for (const auto &row : d[what].GetArray())
        out.emplace_back(row[col].IsString() ? row[col].GetString() : "null");
    return out;
}

}  // namespace

TEST_CASE("sync --out X.db: a snapshot with its run, every record, no secret, mode 0600") {
    TempDir t;
    auto r = ch({"sync", plugin, "--out", at(t, "org.db")}, t, env_for(5));
    REQUIRE_MESSAGE(r.code == 0, r.err);
    const fs::path db = t / "org.db";
    struct stat st {};
    REQUIRE(::stat(db.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(sql_one(db, "select value from snapshot_meta where key = 'schema_version'") == "3");
    CHECK(sql_one(db, "select status, plugin_id, plugin_version, tenant, resources, entitlements, grants, "
                      "unresolved_grants, warnings from sync_runs") ==
          "complete|host-test|1.2.3|https://svc.example/scim/v2|7|2|6|1|1");
    CHECK(sql_one(db, "select count(*) from grants") == "6");
    CHECK(sql_one(db, "select count(*) from resources where type = 'user' and status = 'disabled'") == "1");
    CHECK(sql_one(db, "select json_extract(attributes, '$.login') from resources where id = 'u3'") ==
          "user3@example.com");
    CHECK(sql_one(db, "select code from warnings") == "unresolved_member");
    CHECK(sql_one(db, "select started_at <= ended_at and ended_at like '20__-__-__T__:__:__Z' from sync_runs") == "1");
    const std::string bytes = slurp(db);
    CHECK(bytes.find(token) == std::string::npos);
    CHECK(bytes.find("hunter22pw") == std::string::npos);
    CHECK(r.out.find(token) == std::string::npos);
    CHECK(r.err.find(token) == std::string::npos);

    SUBCASE("--format sqlite chooses a snapshot whatever the name; standard output is refused") {
        r = ch({"sync", plugin, "--format", "sqlite", "--out", at(t, "snap.bin")}, t, env_for(2));
        CHECK(r.code == 0);
        CHECK(sql_one(t / "snap.bin", "select count(*) from resources") == "4");
        r = ch({"sync", plugin, "--format", "sqlite"}, t, env_for(2));
        CHECK(r.code == 2);
        CHECK(r.err.find("needs --out FILE") != std::string::npos);
    }
}

namespace {
// The indexes of a run's tables (schema version 3: <table>_<run>), named without the run's suffix, sorted.
std::string indexes_of(const fs::path &db, int run) {
    const std::string r = std::to_string(run);
    return sql_one(db, "select group_concat(name, ',') from (select substr(name, 1, length(name) - " +
                           std::to_string(r.size() + 1) + ") as name from sqlite_schema where type = 'index' and "
                           "name not like 'sqlite_%' and name like '%\\_" + r + "' escape '\\' order by name)");
}
const std::string all_indexes = "entitlements_by_resource,grants_by_entitlement,grants_by_principal,resources_by_email";
}  // namespace

TEST_CASE("each run keeps its records in tables of its own, indexed when it ends (complete or failed)") {
    TempDir t;
    const fs::path db = t / "new.db";
    REQUIRE(ch({"sync", plugin, "--out", at(t, "new.db")}, t, env_for(3)).code == 0);
    CHECK(indexes_of(db, 1) == all_indexes);
    REQUIRE(ch({"sync", plugin, "--out", at(t, "new.db")}, t, env_for(4)).code == 0); // a second run, same file
    CHECK(indexes_of(db, 1) == all_indexes);
    CHECK(indexes_of(db, 2) == all_indexes);
    CHECK(sql_one(db, "select count(*) from sqlite_schema where type = 'table' and name like 'grants%'") == "2");
    // The names of the shared tables of version 2 are views over every run's.
    CHECK(sql_one(db, "select count(*) from resources") == std::to_string(3 + 2 + 4 + 2));
    CHECK(sql_one(db, "select count(*) from resources where run_id = 2") == "6");
    // A run that fails (with no checkpoint: rolled back whole) is indexed too.
    CHECK(ch({"sync", plugin, "--out", at(t, "failed.db")}, t, env_for(3, "bad-utf8")).code == 8);
    CHECK(indexes_of(t / "failed.db", 1) == all_indexes);
    CHECK(ch({"sync", plugin, "--out", at(t, "new.db")}, t, env_for(3, "bad-utf8")).code == 8);
    CHECK(indexes_of(db, 3) == all_indexes);
    const auto r = ch({"grants", at(t, "new.db"), "--principal", "user:u1", "--format", "json"}, t);
    CHECK(r.code == 0);
    CHECK(parse(r.out)["run"]["id"].GetInt() == 2);
    // --keep 1 drops the older runs' tables with their rows.
    REQUIRE(ch({"sync", plugin, "--out", at(t, "new.db"), "--keep", "1"}, t, env_for(5)).code == 0);
    CHECK(sql_rows(db, "select id from sync_runs order by id") == std::vector<std::string>{"4"});
    CHECK(sql_one(db, "select group_concat(name, ',') from (select name from sqlite_schema where type = 'table' "
                      "and name like 'grants%' order by name)") == "grants_4");
    CHECK(sql_one(db, "select count(*) from grants") == sql_one(db, "select count(*) from grants_4"));
}

TEST_CASE("runs add up to --keep; a failed or interrupted run is marked and never shadows the last complete one") {
    TempDir t;
    for (int users : {3, 4, 5}) REQUIRE(ch({"sync", plugin, "--out", at(t, "org.db")}, t, env_for(users)).code == 0);
    const fs::path db = t / "org.db";
    CHECK(sql_rows(db, "select id, status from sync_runs order by id") == std::vector<std::string>{"2|complete", "3|complete"});
    CHECK(sql_one(db, "select count(distinct run_id) from resources") == "2");

    auto r = ch({"sync", plugin, "--out", at(t, "org.db")}, t, env_for(6, "bad-utf8"));
    CHECK(r.code == 8);
    CHECK(r.err.find("marked failed") != std::string::npos);
    CHECK(sql_one(db, "select status, error like '%not valid UTF-8%' from sync_runs where id = 4") == "failed|1");
    CHECK(sql_one(db, "select count(*) from resources where run_id = 4") == "0");
    r = ch({"stats", at(t, "org.db"), "--format", "json"}, t);
    REQUIRE(r.code == 0);
    CHECK(parse(r.out)["run"]["id"].GetInt() == 3);

    auto slow = env_for(1000);
    slow["DELAY_MS"] = "50";
    Child c({host, "sync", plugin, "--out", (t / "org.db").string()}, t.path(), slow, config_env_names);
    for (int i = 0; i < 500 && sql_rows(db, "select id from sync_runs where status = 'running'").empty(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    c.signal(SIGINT);
    r = c.wait(std::chrono::seconds(20));
    CHECK(r.code == 130);
    CHECK(sql_one(db, "select status, error from sync_runs where id = 5") == "failed|sync interrupted");
    r = ch({"resources", at(t, "org.db"), "--type", "user", "--format", "json"}, t);
    CHECK(parse(r.out)["run"]["id"].GetInt() == 3);
    CHECK(parse(r.out)["resources"].Size() == 5);

    r = ch({"sync", plugin, "--out", at(t, "org.db"), "--keep", "1"}, t, env_for(2));
    CHECK(r.code == 0);
    CHECK(sql_rows(db, "select id, status from sync_runs order by id") == std::vector<std::string>{"6|complete"});
    r = ch({"resources", at(t, "org.db"), "--run", "5"}, t);
    CHECK(r.code == 5);
}

TEST_CASE("resources, entitlements, grants: filters, names beside ids, every format") {
    TempDir t;
    REQUIRE(ch({"sync", plugin, "--out", at(t, "org.db")}, t, env_for(10)).code == 0);
    auto r = ch({"resources", at(t, "org.db"), "--filter", "status=disabled", "--format", "json"}, t);
    REQUIRE(r.code == 0);
    auto d = parse(r.out);
    CHECK(column_of(d, "resources", "id") == std::vector<std::string>{"u10", "u5"});
    CHECK(d["resources"][0]["attributes"]["status"].GetString() == std::string("disabled"));
    r = ch({"resources", at(t, "org.db"), "--filter", "admin=true", "--format", "csv"}, t);
    CHECK(r.out == "type,id,display_name,email,status,attributes\r\nuser,u1,\"Zo\xC3\xAB \"\"Quote\"\" O'Brien\","
                   "user1@example.com,active,\"{\"\"login\"\":\"\"user1@example.com\"\",\"\"email\"\":\"\"user1@example.com\"\","
                   "\"\"status\"\":\"\"active\"\",\"\"admin\"\":true}\"\r\n");
    r = ch({"resources", at(t, "org.db"), "--type", "group", "--search", "UP 2", "--format", "ndjson"}, t);
    CHECK(r.out == "{\"type\":\"group\",\"id\":\"g2\",\"display_name\":\"Group 2\",\"email\":null,\"status\":null,"
                   "\"attributes\":{\"member_count\":5}}\n");

    r = ch({"entitlements", at(t, "org.db"), "--resource", "group:g1", "--format", "json"}, t);
    d = parse(r.out);
    REQUIRE(d["entitlements"].Size() == 1);
    CHECK(d["entitlements"][0]["grants"].GetInt() == 6); // five users and the ghost

    r = ch({"grants", at(t, "org.db"), "--principal", "user:email=user4@example.com", "--format", "json"}, t);
    d = parse(r.out);
    REQUIRE(d["grants"].Size() == 1);
    CHECK(d["grants"][0]["entitlement"].GetString() == std::string("group:g2:member"));
    CHECK(d["grants"][0]["entitlement_name"].GetString() == std::string("Group 2 member"));
    CHECK(d["grants"][0]["principal_name"].GetString() == std::string("User 4"));
    r = ch({"grants", at(t, "org.db"), "--entitlement", "group:g1:member", "--format", "table"}, t);
    CHECK(r.out.find("ENTITLEMENT      ENTITLEMENT NAME  PRINCIPAL   PRINCIPAL NAME") == 0);
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 7);
    r = ch({"grants", at(t, "org.db"), "--principal", "user:email=nobody@example.com"}, t);
    CHECK(r.code == 5);
    r = ch({"grants", at(t, "missing.db")}, t);
    CHECK(r.code == 2);
}

TEST_CASE("access and members: a role held by a group reaches its members, with the path") {
    TempDir t;
    REQUIRE(ch({"sync", plugin, "--out", at(t, "org.db")}, t, env_for(3, "roles")).code == 0);
    auto r = ch({"access", at(t, "org.db"), "user:u1", "--format", "json"}, t);
    REQUIRE_MESSAGE(r.code == 0, r.err);
    auto d = parse(r.out);
    CHECK(column_of(d, "access", "entitlement") == std::vector<std::string>{"group:g1:member", "role:r1:assigned"});
    CHECK(column_of(d, "access", "path") == std::vector<std::string>{"direct", "via group:g1 (Group 1)"});
    CHECK(column_of(d, "access", "resource_name") == std::vector<std::string>{"Group 1", "Workspace admin"});

    r = ch({"access", at(t, "org.db"), "user:email=user2@example.com", "--format", "csv"}, t);
    CHECK(r.out == "entitlement,entitlement_name,resource,resource_name,path\r\n"
                   "group:g2:member,Group 2 member,group:g2,Group 2,direct\r\n"
                   "role:r1:assigned,Workspace admin assigned,role:r1,Workspace admin,direct\r\n");

    r = ch({"members", at(t, "org.db"), "role:r1", "--format", "json"}, t);
    d = parse(r.out);
    CHECK(column_of(d, "members", "principal") ==
          std::vector<std::string>{"group:g1", "user:ghost", "user:u1", "user:u2", "user:u3"});
    CHECK(column_of(d, "members", "path") ==
          std::vector<std::string>{"direct", "via group:g1", "via group:g1", "direct", "via group:g1"});
    CHECK(column_of(d, "members", "email")[2] == "user1@example.com");
    r = ch({"members", at(t, "org.db"), "group:g2:member", "--format", "json"}, t);
    CHECK(column_of(parse(r.out), "members", "principal") == std::vector<std::string>{"user:u2"});
}

TEST_CASE("stats and diff: counts, the last two runs, two files; diff exits 1 with changes, 0 without") {
    TempDir t;
    REQUIRE(ch({"sync", plugin, "--out", at(t, "old.db")}, t, env_for(5)).code == 0);
    auto r = ch({"stats", at(t, "old.db"), "--format", "csv"}, t);
    CHECK(r.out.find("resources,user,5\r\n") != std::string::npos);
    CHECK(r.out.find("status,user disabled,1\r\n") != std::string::npos);
    CHECK(r.out.find("grants,unresolved,1\r\n") != std::string::npos);
    CHECK(r.out.find("warnings,unresolved_member,1\r\n") != std::string::npos);

    r = ch({"diff", at(t, "old.db")}, t);
    CHECK(r.code == 5); // one run: nothing to diff against

    REQUIRE(ch({"sync", plugin, "--out", at(t, "old.db")}, t, env_for(5)).code == 0);
    r = ch({"diff", at(t, "old.db"), "--format", "json"}, t);
    CHECK(r.code == 0);
    CHECK(parse(r.out)["changes"].Size() == 0);

    fs::copy_file(t / "old.db", t / "new.db");
    REQUIRE(ch({"sync", plugin, "--out", at(t, "new.db")}, t, env_for(6)).code == 0);
    r = ch({"diff", at(t, "new.db"), "--format", "json"}, t);
    CHECK(r.code == 1);
    auto d = parse(r.out);
    CHECK(column_of(d, "changes", "id") == std::vector<std::string>{"user:u6", "group:g2:member:user:u6"});
    CHECK(column_of(d, "changes", "change") == std::vector<std::string>{"added", "added"});
    CHECK(column_of(d, "changes", "name") == std::vector<std::string>{"User 6", "User 6 -> Group 2 member"});
    r = ch({"diff", at(t, "new.db"), at(t, "old.db"), "--format", "json"}, t); // old is new.db here: u6 left
    CHECK(r.code == 1);
    d = parse(r.out);
    CHECK(column_of(d, "changes", "change") == std::vector<std::string>{"removed", "removed"});
    CHECK(r.err.find("2 change(s)") != std::string::npos);
}

// ---- resumable runs (issue 19): the checkpoint build of the test plugin, host-test-ckpt --------------------
// With USERS=5 it delivers 16 records (g1, its entitlement, g2, its entitlement, then each user and its grant,
// the ghost's grant, its warning) with a checkpoint after records 3, 4 (the end of the groups), 6, 9, 12, 15.
namespace {

const std::string ckpt_plugin = CKPT_PLUGIN_PATH;

// The knobs of the checkpoint build are environment variables, not config: the fingerprint stays the same.
std::map<std::string, std::string> ckpt_env(int users, std::map<std::string, std::string> knobs = {}) {
    auto env = env_for(users);
    env.erase("MODE");
    for (auto &[k, v] : knobs) env[k] = v;
    return env;
}

void sql_exec(const fs::path &db, const std::string &sql) {
    sqlite3 *h = nullptr;
    REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
    char *error = nullptr;
    const int rc = sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &error);
    const std::string why = error ? error : "";
    sqlite3_free(error);
    sqlite3_close(h);
    REQUIRE_MESSAGE(rc == SQLITE_OK, why);
}

// Every record of a run (its rows without the run id), in one order: what "equals the truth" compares.
std::vector<std::string> run_records(const fs::path &db, int run) {
    const std::string r = std::to_string(run);
    std::vector<std::string> all;
    for (const std::string &sql : std::vector<std::string>{
             "select 'T', id, display_name, traits from resource_types where run_id = " + r + " order by id",
             "select 'R', type, id, display_name, email, status, attributes from resources where run_id = " + r + " order by type, id",
             "select 'E', id, resource_type, resource_id, slug, display_name, purpose from entitlements where run_id = " + r + " order by id",
             "select 'G', id, entitlement_id, principal_type, principal_id, unresolved from grants where run_id = " + r + " order by id",
             "select 'W', seq, code, message from warnings where run_id = " + r + " order by seq",
             "select 'N', status, resources, entitlements, grants, unresolved_grants, warnings, resume_token from sync_runs where id = " + r}) {
        auto rows = sql_rows(db, sql);
        all.insert(all.end(), rows.begin(), rows.end());
    }
    return all;
}

// The truth: a full, uninterrupted sync of the same data into its own snapshot.
std::vector<std::string> truth(const TempDir &t, int users) {
    const std::string db = at(t, ("truth-" + std::to_string(users) + ".db").c_str());
    auto r = ch({"sync", ckpt_plugin, "--out", db}, t, ckpt_env(users));
    REQUIRE_MESSAGE(r.code == 0, r.err);
    return run_records(db, 1);
}

// Whether a run holds a checkpoint whose token begins with prefix; false too while the file has no schema yet.
bool has_checkpoint(const fs::path &db, const std::string &prefix) {
    sqlite3 *h = nullptr;
    if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        sqlite3_close(h);
        return false;
    }
    sqlite3_busy_timeout(h, 10000);
    sqlite3_stmt *st = nullptr;
    const std::string sql = "select id from sync_runs where resume_token like '" + prefix + "%'";
    const bool found = sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    sqlite3_close(h);
    return found;
}

// Waits until the run holds a checkpoint whose token begins with `prefix` (the host sleeps in the plugin then).
void wait_for_checkpoint(const fs::path &db, const std::string &prefix) {
    for (int i = 0; i < 1000; ++i) {
        if (fs::exists(db) && has_checkpoint(db, prefix)) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL("no checkpoint " << prefix << " in " << db);
}

}  // namespace

TEST_CASE("a snapshot sync killed at several points resumes its run, which ends equal to a full sync") {
    TempDir t;
    const auto full = truth(t, 5);
    // died after record N -> the last checkpoint kept (0: none), with its resources, entitlements and grants
    const std::vector<std::tuple<int, int, std::string>> points = {
        {2, 0, ""}, {3, 3, "2|1|0"}, {4, 4, "2|2|0"}, {5, 4, "2|2|0"}, {7, 6, "3|2|1"}, {12, 12, "6|2|4"}, {15, 15, "7|2|6"}};
    for (const auto &[died_after, kept, counts] : points) {
        CAPTURE(died_after);
        const std::string db = at(t, ("org-" + std::to_string(died_after) + ".db").c_str());
        auto r = ch({"sync", ckpt_plugin, "--out", db}, t, ckpt_env(5, {{"TESTPLUGIN_DIE_AFTER", std::to_string(died_after)}}));
        REQUIRE(r.code == 128 + SIGABRT);
        if (kept == 0) {
            CHECK(sql_one(db, "select status, resume_token is null from sync_runs") == "running|1");
        } else {
            CHECK(sql_one(db, "select status, resume_token like 'tp1." + std::to_string(kept) + ".%', resources, "
                              "entitlements, grants from sync_runs") == "running|1|" + counts);
            CHECK(sql_one(db, "select count(*) from resources") == counts.substr(0, counts.find('|')));
        }
        r = ch({"sync", ckpt_plugin, "--out", db}, t, ckpt_env(5));
        REQUIRE_MESSAGE(r.code == 0, r.err);
        const int run = kept == 0 ? 2 : 1;
        CHECK((r.err.find("resuming run 1 of " + db) != std::string::npos) == (kept != 0));
        CHECK(r.err.find("tp1.") == std::string::npos); // the token is never printed
        CHECK(run_records(db, run) == full);
        r = ch({"resources", db, "--format", "json"}, t);
        REQUIRE(r.code == 0);
        CHECK(parse(r.out)["run"]["id"].GetInt() == run);
    }
}

TEST_CASE("a snapshot sync interrupted by SIGINT, kill -9, --timeout or a failure resumes and equals a full sync") {
    TempDir t;
    const auto full = truth(t, 5);
    for (const std::string &how : std::vector<std::string>{"SIGINT", "SIGKILL", "timeout", "failure"}) {
        CAPTURE(how);
        const std::string db = at(t, (how + ".db").c_str());
        std::map<std::string, std::string> knobs = {{"TESTPLUGIN_SLEEP_AFTER", "8"}};
        if (how == "failure") knobs = {{"TESTPLUGIN_FAIL_AFTER", "8"}};
        std::vector<std::string> argv = {host, "sync", ckpt_plugin, "--out", db};
        if (how == "timeout") argv.insert(argv.begin() + 1, {"--timeout", "1"});
        Child c(argv, t.path(), ckpt_env(5, knobs), config_env_names);
        if (how == "SIGINT" || how == "SIGKILL") {
            wait_for_checkpoint(db, "tp1.6.");
            if (how == "SIGINT") { // a second sync neither writes beside it nor resumes the run it is writing
                const Result second = ch({"sync", ckpt_plugin, "--out", db}, t, ckpt_env(5));
                CHECK(second.code == 12);
                CHECK(second.err.find("another sync is writing to the snapshot") != std::string::npos);
            }
            c.signal(how == "SIGINT" ? SIGINT : SIGKILL);
        }
        const Result r = c.wait(std::chrono::seconds(30));
        const int expected = how == "SIGINT" ? 130 : how == "SIGKILL" ? 128 + SIGKILL : how == "timeout" ? 13 : 7;
        CHECK_MESSAGE(r.code == expected, r.err);
        CHECK(sql_one(db, "select status, resume_token like 'tp1.6.%', resources, grants from sync_runs") ==
              (how == "SIGKILL" ? "running" : "failed") + std::string("|1|3|1"));
        if (how != "SIGKILL") CHECK(r.err.find("sync again to resume it") != std::string::npos);
        // The run dropped the query indexes and committed that with its first checkpoint: an ended run built them
        // again; a killed one could not, and its file answers by scans until the next sync builds them.
        CHECK(indexes_of(db, 1) == (how == "SIGKILL" ? "grants_by_entitlement" : all_indexes));
        const Result again = ch({"sync", ckpt_plugin, "--out", db}, t, ckpt_env(5));
        REQUIRE_MESSAGE(again.code == 0, again.err);
        CHECK(again.err.find("resuming run 1") != std::string::npos);
        CHECK(again.err.find("sync: 7 resources (2 group, 5 user)") != std::string::npos); // the whole run's counts
        CHECK(run_records(db, 1) == full);
        CHECK(indexes_of(db, 1) == all_indexes);
    }
}

TEST_CASE("--fresh starts over: the unfinished run is dropped, never resumed and never shadows a complete one") {
    TempDir t;
    const auto full = truth(t, 5);
    const std::string db = at(t, "org.db");
    REQUIRE(ch({"sync", ckpt_plugin, "--out", db}, t, ckpt_env(5, {{"TESTPLUGIN_DIE_AFTER", "7"}})).code == 128 + SIGABRT);
    auto r = ch({"sync", ckpt_plugin, "--out", db, "--fresh"}, t, ckpt_env(5));
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK(r.err.find("resuming") == std::string::npos);
    CHECK(sql_one(db, "select status, resume_token is null, error like '%--fresh%' from sync_runs where id = 1") == "failed|1|1");
    CHECK(sql_one(db, "select count(*) from resources where run_id = 1") == "0");
    CHECK(run_records(db, 2) == full);
    r = ch({"sync", ckpt_plugin, "--out", db}, t, ckpt_env(5));
    REQUIRE(r.code == 0);
    CHECK(r.err.find("resuming") == std::string::npos);
    CHECK(sql_rows(db, "select id, status from sync_runs order by id") == std::vector<std::string>{"2|complete", "3|complete"});
}

TEST_CASE("a stored token the plugin refuses fails clearly, suggests --fresh, and does not start over silently") {
    TempDir t;
    const std::string db = at(t, "org.db");
    REQUIRE(ch({"sync", ckpt_plugin, "--out", db}, t, ckpt_env(5, {{"TESTPLUGIN_DIE_AFTER", "7"}})).code == 128 + SIGABRT);
    sql_exec(db, "update sync_runs set resume_token = 'tp1.x.corrupted'");
    auto r = ch({"sync", ckpt_plugin, "--out", db}, t, ckpt_env(5));
    CHECK(r.code != 0);
    CHECK(r.err.find("refused the stored checkpoint") != std::string::npos);
    CHECK(r.err.find("--fresh") != std::string::npos);
    CHECK(r.err.find("tp1.x.corrupted") == std::string::npos);
    CHECK(sql_one(db, "select count(*), max(status) from sync_runs") == "1|failed");
    CHECK(sql_one(db, "select count(*) from resources") == "3"); // the records of its checkpoint stay
    r = ch({"sync", ckpt_plugin, "--out", db, "--fresh"}, t, ckpt_env(5));
    CHECK(r.code == 0);
}

TEST_CASE("--keep never deletes a resumable run, nor the run being resumed") {
    TempDir t;
    const auto full = truth(t, 5);
    const std::string db = at(t, "org.db");
    REQUIRE(ch({"sync", ckpt_plugin, "--out", db}, t, ckpt_env(5)).code == 0);                                   // 1
    REQUIRE(ch({"sync", ckpt_plugin, "--out", db}, t, ckpt_env(5, {{"TESTPLUGIN_DIE_AFTER", "7"}})).code != 0); // 2
    REQUIRE(ch({"sync", ckpt_plugin, "--out", db, "--keep", "1"}, t, ckpt_env(4)).code == 0);                    // 3
    CHECK(sql_rows(db, "select id, status from sync_runs order by id") == std::vector<std::string>{"2|running", "3|complete"});
    auto r = ch({"sync", ckpt_plugin, "--out", db, "--keep", "1"}, t, ckpt_env(5));
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK(r.err.find("resuming run 2") != std::string::npos);
    CHECK(sql_rows(db, "select id, status from sync_runs order by id") == std::vector<std::string>{"2|complete", "3|complete"});
    CHECK(run_records(db, 2) == full);
}

namespace {

// Schema version 2 as the previous release wrote it, frozen here: the input of the upgrade to version 3 (every
// run in one table per kind, keyed by run_id first).
const char *const kVersion2Schema = R"sql(
CREATE TABLE snapshot_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sync_runs (id INTEGER PRIMARY KEY, plugin_id TEXT NOT NULL, plugin_version TEXT NOT NULL,
  config_fingerprint TEXT NOT NULL, tenant TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT,
  status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'incomplete', 'failed')), error TEXT,
  resources INTEGER NOT NULL DEFAULT 0, entitlements INTEGER NOT NULL DEFAULT 0, grants INTEGER NOT NULL DEFAULT 0,
  unresolved_grants INTEGER NOT NULL DEFAULT 0, warnings INTEGER NOT NULL DEFAULT 0, requests INTEGER NOT NULL DEFAULT 0,
  retries INTEGER NOT NULL DEFAULT 0, pages INTEGER NOT NULL DEFAULT 0, elapsed_seconds REAL NOT NULL DEFAULT 0,
  resume_token TEXT, checkpointed_at TEXT);
CREATE TABLE resource_types (run_id INTEGER NOT NULL REFERENCES sync_runs(id), id TEXT NOT NULL,
  display_name TEXT NOT NULL, traits TEXT NOT NULL, PRIMARY KEY (run_id, id)) WITHOUT ROWID;
CREATE TABLE resources (run_id INTEGER NOT NULL REFERENCES sync_runs(id), type TEXT NOT NULL, id TEXT NOT NULL,
  display_name TEXT NOT NULL, email TEXT, status TEXT, attributes TEXT NOT NULL, PRIMARY KEY (run_id, type, id)) WITHOUT ROWID;
CREATE TABLE entitlements (run_id INTEGER NOT NULL REFERENCES sync_runs(id), id TEXT NOT NULL, resource_type TEXT NOT NULL,
  resource_id TEXT NOT NULL, slug TEXT NOT NULL, display_name TEXT NOT NULL, purpose TEXT NOT NULL,
  PRIMARY KEY (run_id, id)) WITHOUT ROWID;
CREATE TABLE grants (run_id INTEGER NOT NULL REFERENCES sync_runs(id), id TEXT NOT NULL, entitlement_id TEXT NOT NULL,
  principal_type TEXT NOT NULL, principal_id TEXT NOT NULL, unresolved INTEGER NOT NULL);
CREATE UNIQUE INDEX grants_by_entitlement ON grants (run_id, entitlement_id, principal_type, principal_id);
CREATE TABLE warnings (run_id INTEGER NOT NULL REFERENCES sync_runs(id), seq INTEGER NOT NULL, code TEXT NOT NULL,
  message TEXT NOT NULL, PRIMARY KEY (run_id, seq)) WITHOUT ROWID;
CREATE INDEX resources_by_email ON resources (run_id, email) WHERE email IS NOT NULL;
CREATE INDEX entitlements_by_resource ON entitlements (run_id, resource_type, resource_id);
CREATE INDEX grants_by_principal ON grants (run_id, principal_type, principal_id);
INSERT INTO snapshot_meta VALUES ('schema_version', '2'), ('created_at', '2026-12-01T10:00:00Z');
PRAGMA user_version = 2;
INSERT INTO sync_runs (id, plugin_id, plugin_version, config_fingerprint, tenant, started_at, ended_at, status,
  resources, entitlements, grants) VALUES (1, 'host-test', '1.2.3', 'fnv1a64:0000000000000000', 'https://svc.example',
  '2026-12-01T10:00:00Z', '2026-12-01T10:00:05Z', 'complete', 3, 1, 2);
INSERT INTO resource_types VALUES (1, 'user', 'User', 'user'), (1, 'group', 'Group', 'group');
INSERT INTO resources VALUES (1, 'user', 'u1', 'User One', 'user1@example.com', 'active', '{"login":"user1@example.com"}'),
  (1, 'user', 'old-9', 'Old Nine', 'old9@example.com', 'active', '{}'), (1, 'group', 'g1', 'Group 1', NULL, NULL, '{}');
INSERT INTO entitlements VALUES (1, 'group:g1:member', 'group', 'g1', 'member', 'Group 1 member', 'assignment');
INSERT INTO grants VALUES (1, 'group:g1:member:user:u1', 'group:g1:member', 'user', 'u1', 0),
  (1, 'group:g1:member:user:old-9', 'group:g1:member', 'user', 'old-9', 0);
INSERT INTO warnings VALUES (1, 1, 'unresolved_member', 'a warning of the old run');
)sql";

}  // namespace

TEST_CASE("version-1 and version-2 snapshots are read as they are and upgraded to version 3 by the next sync") {
    for (const bool version_1 : {false, true}) {
        CAPTURE(version_1);
        TempDir t;
        const std::string db = at(t, "old.db");
        sql_exec(db, kVersion2Schema);
        if (version_1)
            sql_exec(db, "alter table sync_runs drop column resume_token; alter table sync_runs drop column checkpointed_at; "
                         "update snapshot_meta set value = '1' where key = 'schema_version'; pragma user_version = 1");
        auto r = ch({"resources", db, "--format", "json"}, t);
        REQUIRE_MESSAGE(r.code == 0, r.err);
        CHECK(column_of(parse(r.out), "resources", "id") == std::vector<std::string>{"g1", "old-9", "u1"});
        r = ch({"access", db, "user:email=user1@example.com", "--format", "json"}, t);
        REQUIRE_MESSAGE(r.code == 0, r.err);
        CHECK(r.out.find("group:g1:member") != std::string::npos);

        r = ch({"sync", plugin, "--out", db}, t, env_for(4));
        REQUIRE_MESSAGE(r.code == 0, r.err);
        CHECK(sql_one(db, "select value from snapshot_meta where key = 'schema_version'") == "3");
        CHECK(sql_one(db, "pragma user_version") == "3");
        CHECK(sql_rows(db, "select id, status, resume_token is null from sync_runs order by id") ==
              std::vector<std::string>{"1|complete|1", "2|complete|1"});
        // The old run's rows moved into its own tables, with its indexes; the shared names are views now.
        CHECK(sql_one(db, "select count(*) from resources_1") == "3");
        CHECK(sql_one(db, "select count(*) from grants_1") == "2");
        CHECK(sql_one(db, "select message from warnings_1") == "a warning of the old run");
        CHECK(indexes_of(db, 1) == all_indexes);
        CHECK(sql_one(db, "select group_concat(type, ',') from (select type from sqlite_schema where name in "
                          "('resources', 'grants', 'entitlements', 'warnings', 'resource_types') order by name)") ==
              "view,view,view,view,view");
        CHECK(sql_one(db, "select count(*) from resources where run_id = 1") == "3");
        // The diff of the upgraded run against the new one: old-9 left, u2..u4 and a group joined.
        r = ch({"diff", db, "--format", "json"}, t);
        CHECK(r.code == 1);
        CHECK(r.out.find("old-9") != std::string::npos);
        CHECK(r.out.find("\"removed\"") != std::string::npos);
    }
}
