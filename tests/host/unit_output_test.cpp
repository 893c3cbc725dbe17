// Output writers, record validation, the secret scrubber, printable lines and the sort spool.
#include <doctest/doctest.h>

#include <connector/connector_abi.hpp>
#include <connector_host/cli/record_validation.hpp>
#include <connector_host/cli/sync_writers.hpp>
#include <connector_host/cli/text_safety.hpp>
#include <connector_host/store/sort_spool.hpp>

#include <unistd.h>

#include <rapidjson/document.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

using namespace connector_host::cli;

namespace {


// A small fixed descriptor with user and group types.
const char *const to_user[] = {"user"};
const conn_entitlement_type member{sizeof(conn_entitlement_type), CONN_PURPOSE_ASSIGNMENT, CONN_ENT_GRANTABLE, 1,
                                   "member", "Member", "", to_user};
const conn_entitlement_type *const ents[] = {&member};
const conn_resource_type user_t{sizeof(conn_resource_type), CONN_TRAIT_USER, CONN_RT_SYNC, 0, "user", "User", "", nullptr};
const conn_resource_type group_t{sizeof(conn_resource_type), CONN_TRAIT_GROUP, CONN_RT_SYNC, 1, "group", "Group", "", ents};
const conn_resource_type *const types[] = {&user_t, &group_t};
const conn_descriptor desc{sizeof(conn_descriptor), 1, 0, CONN_CAP_SYNC, "unit", "Unit", "9.9.9", "", nullptr, nullptr,
                           2, 0, 0, 0, types, nullptr, nullptr};

struct Records {
    conn_attr uattrs[4]{};
    conn_resource user{}, group{};
    conn_attr gattrs[1]{};
    conn_entitlement ent{};
    conn_grant grant{}, ghost{};
    Records() {
        uattrs[0] = conn_attr{conn::str("login"), CONN_ATTR_STRING, 0, conn::str("jane@example.com"), 0};
        uattrs[1] = conn_attr{conn::str("status"), CONN_ATTR_STRING, 0, conn::str("active"), 0};
        uattrs[2] = conn_attr{conn::str("admin"), CONN_ATTR_BOOL, 0, {}, 1};
        uattrs[3] = conn_attr{conn::str("logins"), CONN_ATTR_INT, 0, {}, 42};
        user = conn_resource{sizeof(conn_resource), 0, conn::str("user"), conn::str("u1"), conn::str("Jane \"J\" Smith\n"), uattrs, 4};
        gattrs[0] = conn_attr{conn::str("member_count"), CONN_ATTR_INT, 0, {}, 2};
        group = conn_resource{sizeof(conn_resource), 0, conn::str("group"), conn::str("g1"), conn::str("Admins"), gattrs, 1};
        ent = conn_entitlement{sizeof(conn_entitlement), CONN_PURPOSE_ASSIGNMENT, conn::str("group:g1:member"), conn::str("group"), conn::str("g1"),
                               conn::str("member"), conn::str("Admins member")};
        grant = conn_grant{sizeof(conn_grant), 0, conn::str("group:g1:member:user:u1"), conn::str("group:g1:member"), conn::str("user"), conn::str("u1")};
        ghost = conn_grant{sizeof(conn_grant), CONN_GRANT_UNRESOLVED_PRINCIPAL, conn::str("group:g1:member:user:zz"),
                           conn::str("group:g1:member"), conn::str("user"), conn::str("zz")};
    }
};

// Runs a writer over records delivered interleaved, returns the bytes it wrote.
std::string render(SyncFormat format, const SecretScrubber &sc = {}, const SyncWriterOptions &options = {}) {
    std::FILE *f = std::tmpfile();
    REQUIRE(f != nullptr);
    Records r;
    auto w = make_sync_writer(format, f, sc, options);
    w->begin(desc);
    w->grant(r.grant); // before its entitlement and principal: allowed
    w->resource(r.group);
    w->entitlement(r.ent);
    w->resource(r.user);
    w->grant(r.ghost);
    w->warning("unresolved_member", "g1 names zz");
    SyncSummary s;
    s.counts.resources = 2;
    s.counts.entitlements = 1;
    s.counts.grants = 2;
    s.counts.unresolved = 1;
    s.counts.warnings = 1;
    s.counts.resources_by_type = {{"group", 1}, {"user", 1}};
    s.pages = 3;
    w->finish(s);
    std::fflush(f);
    std::rewind(f);
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    std::fclose(f);
    return out;
}

}  // namespace

TEST_CASE("json writer: one document with the contract's shape, spooled sections appended in order") {
    std::string out = render(SyncFormat::json);
    rapidjson::Document d;
    d.Parse(out.c_str());
    REQUIRE_FALSE(d.HasParseError());
    REQUIRE(d.IsObject());
    CHECK(std::string(d["plugin"]["id"].GetString()) == "unit");
    CHECK(std::string(d["plugin"]["version"].GetString()) == "9.9.9");
    REQUIRE(d["resource_types"].Size() == 2);
    CHECK(std::string(d["resource_types"][1]["id"].GetString()) == "group");
    CHECK(std::string(d["resource_types"][1]["entitlements"][0]["slug"].GetString()) == "member");
    const auto &res = d["resources"];
    REQUIRE(res.Size() == 2);
    CHECK(std::string(res[0]["type"].GetString()) == "group");
    CHECK(res[0]["member_count"].IsInt64());
    CHECK(res[0]["member_count"].GetInt64() == 2);
    const auto &u = res[1];
    CHECK(std::string(u["id"].GetString()) == "u1");
    CHECK(std::string(u["display_name"].GetString()) == "Jane \"J\" Smith\n"); // escaped by the Writer, intact
    CHECK(std::string(u["login"].GetString()) == "jane@example.com");
    CHECK(u["admin"].IsBool());
    CHECK(u["admin"].GetBool());
    CHECK(u["logins"].GetInt64() == 42);
    REQUIRE(d["entitlements"].Size() == 1);
    const auto &e = d["entitlements"][0];
    CHECK(std::string(e["id"].GetString()) == "group:g1:member");
    CHECK(std::string(e["resource"]["type"].GetString()) == "group");
    CHECK(std::string(e["resource"]["id"].GetString()) == "g1");
    CHECK(std::string(e["slug"].GetString()) == "member");
    CHECK(std::string(e["display_name"].GetString()) == "Admins member");
    REQUIRE(d["grants"].Size() == 2);
    CHECK(std::string(d["grants"][0]["entitlement"].GetString()) == "group:g1:member");
    CHECK(std::string(d["grants"][0]["principal"]["id"].GetString()) == "u1");
    CHECK_FALSE(d["grants"][0].HasMember("unresolved"));
    CHECK(d["grants"][1]["unresolved"].GetBool());
    CHECK(d["warnings"].Size() == 1);
    CHECK(d["summary"]["grants"].GetUint64() == 2);
}

TEST_CASE("json writer: empty sync is still a valid document") {
    std::FILE *f = std::tmpfile();
    const SecretScrubber none; // the writer keeps a reference: it must outlive it
    auto w = make_sync_writer(SyncFormat::json, f, none);
    w->begin(desc);
    w->finish(SyncSummary{});
    std::rewind(f);
    char buf[4096] = {};
    size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    rapidjson::Document d;
    d.Parse(buf, n);
    REQUIRE_FALSE(d.HasParseError());
    CHECK(d["resources"].Size() == 0);
    CHECK(d["entitlements"].Size() == 0);
    CHECK(d["grants"].Size() == 0);
}

TEST_CASE("ndjson writer: one record per line with a kind, in arrival order") {
    std::string out = render(SyncFormat::ndjson);
    std::istringstream lines(out);
    std::vector<std::string> kinds;
    for (std::string line; std::getline(lines, line);) {
        rapidjson::Document d;
        d.Parse(line.c_str());
        REQUIRE_FALSE(d.HasParseError());
        kinds.emplace_back(d["kind"].GetString());
        if (kinds.back() == "grant" && kinds.size() == 4) CHECK(std::string(d["principal"]["id"].GetString()) == "u1");
    }
    CHECK(kinds == std::vector<std::string>{"plugin", "resource_type", "resource_type", "grant", "resource", "entitlement",
                                            "resource", "grant", "warning", "run", "summary"});
}

TEST_CASE("sorted (a file): every list in its stable order; the run's facts; secrets scrubbed from the tenant") {
    SecretScrubber sc;
    sc.add("s3cr3t-tenant-key");
    const SyncWriterOptions sorted{true, "https://example.com/t/s3cr3t-tenant-key", {}, false};
    const std::string nd = render(SyncFormat::ndjson, sc, sorted);
    std::istringstream lines(nd);
    std::vector<std::string> order;
    for (std::string line; std::getline(lines, line);) {
        rapidjson::Document d;
        d.Parse(line.c_str());
        REQUIRE_FALSE(d.HasParseError());
        const std::string kind = d["kind"].GetString();
        order.push_back(kind + (d.HasMember("id") && d["id"].IsString() ? " " + std::string(d["id"].GetString()) : ""));
        if (kind == "run") {
            CHECK(std::string(d["tenant"].GetString()) == "https://example.com/t/[redacted]");
            CHECK(std::string(d["started_at"].GetString()).size() == 20);
        }
    }
    CHECK(order == std::vector<std::string>{"plugin unit", "resource_type user", "resource_type group", "resource g1",
                                            "resource u1", "entitlement group:g1:member",
                                            "grant group:g1:member:user:u1", "grant group:g1:member:user:zz", "warning",
                                            "run", "summary"});
    CHECK(nd.find("s3cr3t") == std::string::npos);
    // json: the same order, one record per line, a valid document.
    const std::string js = render(SyncFormat::json, sc, sorted);
    rapidjson::Document d;
    d.Parse(js.c_str());
    REQUIRE_FALSE(d.HasParseError());
    CHECK(std::string(d["resources"][0]["id"].GetString()) == "g1");
    CHECK(std::string(d["resources"][1]["id"].GetString()) == "u1");
    CHECK(std::string(d["run"]["tenant"].GetString()) == "https://example.com/t/[redacted]");
    CHECK(js.find("\n{\"type\":\"user\",\"id\":\"u1\"") != std::string::npos);
}

TEST_CASE("table writer: counts first, then tables; terminal controls neutralised") {
    std::string out = render(SyncFormat::table);
    CHECK(out.rfind("Plugin:       unit 9.9.9\n", 0) == 0);
    CHECK(out.find("Resources:    2 (1 group, 1 user)") != std::string::npos);
    CHECK(out.find("Grants:       2 (1 unresolved)") != std::string::npos);
    auto resources = out.find("RESOURCES");
    auto grants = out.find("GRANTS");
    REQUIRE(resources != std::string::npos);
    REQUIRE(grants != std::string::npos);
    CHECK(resources < grants);
    CHECK(out.find("Jane \"J\" Smith") != std::string::npos);
    CHECK(out.find("Smith\n") == std::string::npos); // the newline inside the name became a space
    CHECK(out.find("unresolved") != std::string::npos);
    CHECK(out.find("admin=true") != std::string::npos);
}

TEST_CASE("writers scrub secret values from every string") {
    SecretScrubber sc({"jane@example.com"});
    for (auto f : {SyncFormat::json, SyncFormat::ndjson, SyncFormat::table}) {
        std::string out = render(f, sc);
        CHECK(out.find("jane@example.com") == std::string::npos);
        CHECK(out.find(std::string(SecretScrubber::mask)) != std::string::npos);
    }
}

TEST_CASE("default format follows --out and the terminal") {
    CHECK(default_sync_format("out.json", true) == SyncFormat::json);
    CHECK(default_sync_format("out.ndjson", true) == SyncFormat::ndjson);
    CHECK(default_sync_format("", true) == SyncFormat::table_sample);
    CHECK(parse_sync_format("table") == SyncFormat::table);
    CHECK(default_sync_format("", false) == SyncFormat::json);
    CHECK(default_sync_format("out.txt", true) == SyncFormat::json);
    CHECK(parse_sync_format("table") == SyncFormat::table);
    CHECK_THROWS_AS(parse_sync_format("xml"), std::invalid_argument);
}

TEST_CASE("record validation refuses garbage and accepts good records") {
    std::vector<std::string> declared{"user", "group"};
    Records r;
    conn_resource out{};
    CHECK_FALSE(check_resource(&r.user, out, declared).has_value());
    CHECK(out.attr_count == 4);

    SUBCASE("too-small struct") {
        conn_resource small = r.user;
        small.struct_size = 16;
        CHECK(check_resource(&small, out, declared)->find("struct_size") != std::string::npos);
    }
    SUBCASE("invalid UTF-8") {
        conn_resource bad = r.user;
        bad.display_name = conn::str("bad\xC3\x28");
        CHECK(check_resource(&bad, out, declared)->find("UTF-8") != std::string::npos);
        bad = r.user;
        bad.id = conn::str("\xED\xA0\x80"); // a surrogate
        CHECK(check_resource(&bad, out, declared).has_value());
    }
    SUBCASE("unknown type, empty id, NULL with size") {
        conn_resource bad = r.user;
        bad.type = conn::str("robot");
        CHECK(check_resource(&bad, out, declared)->find("robot") != std::string::npos);
        bad = r.user;
        bad.id = conn::str("");
        CHECK(check_resource(&bad, out, declared).has_value());
        bad = r.user;
        bad.display_name = conn_str{nullptr, 5};
        CHECK(check_resource(&bad, out, declared).has_value());
    }
    SUBCASE("absurd sizes and attributes") {
        conn_resource bad = r.user;
        std::string huge(5000, 'x');
        bad.id = conn_str{huge.data(), huge.size()};
        CHECK(check_resource(&bad, out, declared)->find("limit") != std::string::npos);
        bad = r.user;
        bad.attr_count = 100000;
        CHECK(check_resource(&bad, out, declared).has_value());
        conn_attr attrs[2] = {r.uattrs[0], r.uattrs[0]};
        bad = r.user;
        bad.attrs = attrs;
        bad.attr_count = 2;
        CHECK(check_resource(&bad, out, declared)->find("twice") != std::string::npos);
        attrs[1] = conn_attr{conn::str("id"), CONN_ATTR_STRING, 0, conn::str("x"), 0};
        CHECK(check_resource(&bad, out, declared)->find("collides") != std::string::npos);
        attrs[1] = conn_attr{conn::str("flag"), CONN_ATTR_BOOL, 0, {}, 7};
        CHECK(check_resource(&bad, out, declared).has_value());
        attrs[1] = conn_attr{conn::str("odd"), 9, 0, {}, 0};
        CHECK(check_resource(&bad, out, declared)->find("unknown kind") != std::string::npos);
    }
    SUBCASE("entitlements and grants") {
        conn_entitlement e{};
        CHECK_FALSE(check_entitlement(&r.ent, e, declared).has_value());
        conn_entitlement bad = r.ent;
        bad.purpose = 5;
        CHECK(check_entitlement(&bad, e, declared).has_value());
        bad = r.ent;
        bad.slug = conn::str("");
        CHECK(check_entitlement(&bad, e, declared).has_value());
        conn_grant g{};
        CHECK_FALSE(check_grant(&r.ghost, g).has_value());
        conn_grant badg = r.grant;
        badg.flags = 0x80;
        CHECK(check_grant(&badg, g)->find("flags") != std::string::npos);
        badg = r.grant;
        badg.principal_id = conn::str("");
        CHECK(check_grant(&badg, g).has_value());
        CHECK(check_grant(nullptr, g).has_value());
        badg = r.grant;
        badg.principal_type = conn::str("robot");
        CHECK_FALSE(check_grant(&badg, g).has_value()); // no declared types given: not checked
        CHECK(check_grant(&badg, g, RecordLimits{}, declared)->find("robot") != std::string::npos);
    }
}

TEST_CASE("scrubber and printable lines") {
    SecretScrubber sc({"s3cr3t-token", "abc"});
    CHECK(sc.scrub("x s3cr3t-token y s3cr3t-token") == "x [redacted] y [redacted]");
    CHECK(sc.scrub("abc stays: too short to be a secret") == "abc stays: too short to be a secret");
    CHECK(sc.contains_secret("..s3cr3t-token.."));
    CHECK_FALSE(SecretScrubber{}.contains_secret("anything"));
    SecretScrubber nested({"token", "token-long"});
    CHECK(nested.scrub("token-long") == "[redacted]");
    CHECK(printable_line("a\nb\x1b[31mc\td") == "a b [31mc d");
    CHECK(printable_line("ok \xC3\xA9") == "ok \xC3\xA9");
    CHECK(printable_line("bad \xC3\x28") == "bad \xEF\xBF\xBD(");
}

// ---- Issue 15 (trust nothing) --------------------------------------------------------------------------
namespace {

const SecretScrubber no_secrets; // writers keep a reference: it must outlive them

const std::vector<std::string> c1_and_bidi = {"\xC2\x80", "\xC2\x85", "\xC2\x9B", "\xC2\x9F", "\xE2\x80\xAA", "\xE2\x80\xAE",
                                              "\xE2\x81\xA6", "\xE2\x81\xA9", "\xE2\x80\x8E", "\xE2\x80\x8F", "\xD8\x9C"};

std::string render_hostile(SyncFormat format) {
    std::FILE *f = std::tmpfile();
    REQUIRE(f != nullptr);
    std::string name = "n";
    for (const auto &c : c1_and_bidi) name += c + "|";
    conn_attr attr{conn::str("\xC2\x85key"), CONN_ATTR_STRING, 0, conn_str{name.data(), name.size()}, 0};
    conn_resource r{sizeof(conn_resource), 0, conn::str("user"), conn::str("u\xC2\x9B"), conn_str{name.data(), name.size()}, &attr, 1};
    auto w = make_sync_writer(format, f, no_secrets);
    w->begin(desc);
    w->resource(r);
    w->warning("c\xC2\x85", name);
    w->finish(SyncSummary{});
    std::rewind(f);
    std::string out;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
    std::fclose(f);
    return out;
}

}  // namespace

TEST_CASE("json and ndjson: C1 controls are escaped as \\u0080..\\u009f, values intact after parsing") {
    for (SyncFormat format : {SyncFormat::json, SyncFormat::ndjson}) {
        const std::string out = render_hostile(format);
        for (const char *c1 : {"\xC2\x80", "\xC2\x85", "\xC2\x9B", "\xC2\x9F"}) CHECK(out.find(c1) == std::string::npos);
        CHECK(out.find("\\u0080") != std::string::npos);
        CHECK(out.find("\\u009f") != std::string::npos);
        CHECK(out.find("\\u0085key") != std::string::npos);
        if (format == SyncFormat::json) continue; // one document over several lines, parsed below
        std::istringstream lines(out);
        for (std::string line; std::getline(lines, line);) {
            rapidjson::Document d;
            d.Parse(line.c_str(), line.size());
            REQUIRE_FALSE(d.HasParseError());
        }
    }
    const std::string out = render_hostile(SyncFormat::json);
    rapidjson::Document d;
    d.Parse(out.c_str(), out.size());
    REQUIRE_FALSE(d.HasParseError());
    std::string name = "n";
    for (const auto &c : c1_and_bidi) name += c + "|";
    CHECK(std::string(d["resources"][0]["display_name"].GetString()) == name);
    CHECK(std::string(d["resources"][0]["id"].GetString()) == "u\xC2\x9B");
    CHECK(d["resources"][0].HasMember("\xC2\x85key"));
    CHECK(json_quoted("a\"b\\c\x01\x7f\xC2\x85\xE2\x80\xAE\xC3\xA9") == "\"a\\\"b\\\\c\\u0001\\u007f\\u0085\\u202e\xC3\xA9\"");
}

TEST_CASE("printable lines: bidi and C1 controls become visible \\uXXXX escapes; the table carries none") {
    CHECK(printable_line("c1 \xC2\x9B") == "c1 \\u009b");
    CHECK(printable_line("x\xE2\x80\xAEgnp.exe\xE2\x80\xAC") == "x\\u202egnp.exe\\u202c");
    CHECK(printable_line("\xE2\x81\xA6\xE2\x81\xA9\xE2\x80\x8E\xE2\x80\x8F\xD8\x9C") == "\\u2066\\u2069\\u200e\\u200f\\u061c");
    CHECK(printable_line("\xE2\x80\x94 dash, \xE2\x80\xA6 ellipsis, \xC2\xA0nbsp") == "\xE2\x80\x94 dash, \xE2\x80\xA6 ellipsis, \xC2\xA0nbsp");
    const std::string table = render_hostile(SyncFormat::table);
    for (const auto &c : c1_and_bidi) CHECK(table.find(c) == std::string::npos);
    CHECK(table.find("\\u202e") != std::string::npos);
}

TEST_CASE("summary: exact warning counts per code and complete=true/false in json and ndjson") {
    for (SyncFormat format : {SyncFormat::json, SyncFormat::ndjson}) {
        for (bool complete : {true, false}) {
            std::FILE *f = std::tmpfile();
            auto w = make_sync_writer(format, f, no_secrets);
            w->begin(desc);
            SyncSummary s;
            s.counts.warnings = 1000003;
            s.counts.warnings_by_code = {{"unresolved_member", 1000000}, {"incomplete_listing", 3}};
            s.complete = complete;
            w->finish(s);
            std::rewind(f);
            std::string out;
            char buf[4096];
            for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
            std::fclose(f);
            const std::string last = out.substr(out.rfind('\n', out.size() - 2) + 1);
            rapidjson::Document d;
            d.Parse(format == SyncFormat::json ? out.c_str() : last.c_str());
            REQUIRE_FALSE(d.HasParseError());
            const auto &sum = format == SyncFormat::json ? d["summary"] : d;
            CHECK(sum["complete"].GetBool() == complete);
            CHECK(sum["warnings"].GetUint64() == 1000003);
            CHECK(sum["warnings_by_code"]["unresolved_member"].GetUint64() == 1000000);
        }
    }
}

TEST_CASE("write errors carry errno: EPIPE and ENOSPC are told apart") {
    for (SyncFormat format : {SyncFormat::json, SyncFormat::ndjson, SyncFormat::table}) {
        const std::string name(to_string(format));
        CAPTURE(name);
        std::FILE *full = std::fopen("/dev/full", "w");
        REQUIRE(full != nullptr);
        int err = 0;
        try {
            auto w = make_sync_writer(format, full, no_secrets);
            w->begin(desc);
            Records r;
            w->resource(r.user);
            w->finish(SyncSummary{});
        } catch (const OutputWriteError &e) {
            err = e.error();
        }
        std::fclose(full);
        CHECK(err == ENOSPC);
    }
}

// ---- the sort spool (host/store/sort_spool.hpp) ----------------------------------------------------------------

TEST_CASE("sort spool: each section comes back sorted by its keys, then the line, with no other section's lines") {
    connector_host::store::SortSpool spool(3);
    spool.add(1, "b", "", "B");
    spool.add(0, "z", "", "Z0");
    spool.add(1, "a", "2", "A2");
    spool.add(1, "a", "1", "A1y");
    spool.add(1, "a", "1", "A1x");
    spool.add(2, "", "", "");
    std::vector<std::string> got;
    spool.for_each(1, [&](std::string_view line) { got.emplace_back(line); });
    CHECK(got == std::vector<std::string>{"A1x", "A1y", "A2", "B"});
    got.clear();
    spool.for_each(0, [&](std::string_view line) { got.emplace_back(line); });
    CHECK(got == std::vector<std::string>{"Z0"});
    CHECK(spool.lines(2) == 1);
}

TEST_CASE("sort spool: a durable spool resumes from its last commit, also one written with a single shared table") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("spool-test-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const fs::path file = dir / "s.spool";
    {
        connector_host::store::SortSpool spool(2, file, false);
        spool.add(0, "b", "", "B");
        spool.add(1, "x", "", "X");
        spool.commit({{"token", "t1"}});
        spool.add(0, "a", "", "lost: after the last commit");
    }
    {
        connector_host::store::SortSpool spool(2, file, true);
        CHECK(spool.meta("token") == std::optional<std::string>("t1"));
        CHECK(spool.lines(0) == 1);
        std::vector<std::string> got;
        spool.for_each(0, [&](std::string_view line) { got.emplace_back(line); });
        CHECK(got == std::vector<std::string>{"B"});
    }
    // The layout before each section had its table: one table `spool` with a section column.
    connector_host::store::SortSpool::remove_files(file);
    {
        connector_host::store::Database db(file, connector_host::store::Database::Mode::read_write_create);
        db.execute("CREATE TABLE spool(section INTEGER NOT NULL, k1 BLOB NOT NULL, k2 BLOB NOT NULL, line BLOB NOT NULL);"
                   "CREATE TABLE spool_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                   "INSERT INTO spool VALUES (0, 'b', '', 'B'), (0, 'a', '', 'A'), (1, 'x', '', 'X');"
                   "INSERT INTO spool_meta VALUES ('token', 'old');");
    }
    {
        connector_host::store::SortSpool spool(2, file, true);
        CHECK(spool.lines(0) == 2);
        CHECK(spool.lines(1) == 1);
        std::vector<std::string> got;
        spool.for_each(0, [&](std::string_view line) { got.emplace_back(line); });
        CHECK(got == std::vector<std::string>{"A", "B"});
        CHECK(spool.meta("token") == std::optional<std::string>("old"));
    }
    connector_host::store::SortSpool::remove_files(file);
    fs::remove_all(dir);
}
