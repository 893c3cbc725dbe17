// End-to-end: the real connector-host binary against the test plugin (tests/host/test_plugin.cpp).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "process.hpp"

#include <rapidjson/document.h>
#include <sqlite3.h>

#include <csignal>
#include <pty.h>
#include <set>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>

using namespace host_test;
namespace fs = std::filesystem;

namespace {

const std::string host = CONNECTOR_HOST_PATH;
const std::string plugin = TEST_PLUGIN_PATH;
const std::string token = "good-Tk9-host-e2e-7f3a9c1d";
const std::vector<std::string> config_env_names = {
    "SERVICE_URL", "API_TOKEN", "USERS", "GROUPS", "MODE", "DELAY_MS", "CONNECTOR_PLUGINS_DIR",
    "CONNECTOR_HOST_TEST_SERVICE_URL", "CONNECTOR_HOST_TEST_API_TOKEN", "CONNECTOR_HOST_TEST_USERS",
    "CONNECTOR_HOST_TEST_GROUPS", "CONNECTOR_HOST_TEST_MODE", "CONNECTOR_HOST_TEST_DELAY_MS"};

// Every byte the host wrote in this test file, to scan for the token at the end.
std::string &all_written() {
    static std::string bytes;
    return bytes;
}

Result ch(std::vector<std::string> args, const TempDir &dir, std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), host);
    Result r = run(args, dir.path(), std::move(env), config_env_names);
    all_written() += r.out + r.err;
    return r;
}

std::map<std::string, std::string> good_env() { return {{"SERVICE_URL", "https://svc.example"}, {"API_TOKEN", token}}; }

rapidjson::Document parse(const std::string &text) {
    rapidjson::Document d;
    d.Parse(text.c_str());
    REQUIRE_MESSAGE(!d.HasParseError(), text);
    return d;
}

fs::path plugin_dir_with_copy(const TempDir &dir, const std::string &name = "host-test.so") {
    fs::create_directories(dir / "plugins");
    fs::copy_file(plugin, dir / "plugins" / name, fs::copy_options::overwrite_existing);
    return dir / "plugins";
}

size_t count_lines(const std::string &s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }


std::vector<std::string> leftovers(const fs::path &dir) {
    std::vector<std::string> names;
    for (const auto &e : fs::directory_iterator(dir))
        if (e.path().filename().string().find(".tmp-") != std::string::npos) names.push_back(e.path().string());
    return names;
}

}  // namespace

TEST_CASE("version and help") {
    TempDir t;
    auto r = ch({"--version"}, t);
    CHECK(r.code == 0);
    CHECK(r.out.find("connector-host") != std::string::npos);
    CHECK(r.out.find("ABI 1.1") != std::string::npos);
    r = ch({"--help"}, t);
    CHECK(r.code == 0);
    CHECK(r.out.find("Exit codes") != std::string::npos);
    CHECK(r.out.find("130") != std::string::npos);
    for (const char *cmd : {"plugins", "describe", "check", "sync", "grant", "revoke", "create-account", "delete",
                            "resources", "entitlements", "grants", "access", "members", "stats", "diff"}) {
        r = ch({cmd, "--help"}, t);
        CHECK_MESSAGE(r.code == 0, cmd);
        CHECK_MESSAGE(r.out.find("Usage") != std::string::npos, cmd);
        CHECK_MESSAGE(r.out.find("Exit codes") != std::string::npos, cmd);
    }
    r = ch({"frobnicate"}, t);
    CHECK(r.code == 2);
    CHECK(r.err.find("did you mean") == std::string::npos);
    r = ch({"synk", plugin}, t);
    CHECK(r.code == 2);
    CHECK(r.err.find("unknown command 'synk', did you mean 'sync'?") != std::string::npos);
    r = ch({"--log-level", "info", "membres", "x.db", "group:g1"}, t);
    CHECK(r.code == 2);
    CHECK(r.err.find("did you mean 'members'?") != std::string::npos);
    r = ch({}, t);
    CHECK(r.code == 2);
    r = ch({"sync"}, t);
    CHECK(r.code == 2);
    r = ch({"sync", plugin, "--format", "xml"}, t);
    CHECK(r.code == 2);
}

TEST_CASE("plugins: listing, junk skipped with a warning, duplicate ids refused") {
    TempDir t;
    fs::path dir = plugin_dir_with_copy(t);
    auto r = ch({"--plugins-dir", dir.string(), "plugins"}, t);
    CHECK(r.code == 0);
    CHECK(r.out.find("host-test") != std::string::npos);
    CHECK(r.out.find("1.2.3") != std::string::npos);
    CHECK(r.out.find("1.1") != std::string::npos);
    CHECK(r.out.find((dir / "host-test.so").string()) != std::string::npos);

    r = ch({"--plugins-dir", dir.string(), "plugins", "--json"}, t);
    CHECK(r.code == 0);
    auto d = parse(r.out);
    REQUIRE(d.Size() == 1);
    CHECK(std::string(d[0]["id"].GetString()) == "host-test");
    CHECK(std::string(d[0]["abi"].GetString()) == "1.1");

    // Junk: a text file named x.so, a copy of libc, a file without a plugin extension (ignored).
    spit(dir / "x.so", "this is not a library\n");
    fs::copy_file("/lib/x86_64-linux-gnu/libc.so.6", dir / "libc-copy.so");
    spit(dir / "README.txt", "hello");
    r = ch({"--plugins-dir", dir.string(), "plugins"}, t);
    CHECK(r.code == 0);
    CHECK(r.out.find("host-test") != std::string::npos);
    CHECK(r.err.find("x.so") != std::string::npos);
    CHECK(r.err.find("libc-copy.so") != std::string::npos);
    CHECK(r.err.find("warning") != std::string::npos);
    CHECK(r.err.find("README") == std::string::npos);

    // The same plugin twice: an error naming both paths.
    fs::copy_file(plugin, dir / "again.so");
    r = ch({"--plugins-dir", dir.string(), "plugins"}, t);
    CHECK(r.code == 8);
    CHECK(r.err.find((dir / "again.so").string()) != std::string::npos);
    CHECK(r.err.find((dir / "host-test.so").string()) != std::string::npos);
    // And resolving that id refuses too.
    r = ch({"--plugins-dir", dir.string(), "describe", "host-test"}, t);
    CHECK(r.code == 8);
    CHECK(r.err.find("again.so") != std::string::npos);

    r = ch({"--plugins-dir", (t / "nope").string(), "plugins"}, t);
    CHECK(r.code == 8);
    CHECK(count_lines(r.err) == 1);
}

TEST_CASE("describe: by id (flag or env), by path, as text and JSON") {
    TempDir t;
    fs::path dir = plugin_dir_with_copy(t);
    auto r = ch({"--plugins-dir", dir.string(), "describe", "host-test"}, t);
    CHECK(r.code == 0);
    CHECK(r.out.find("Host test plugin") != std::string::npos);
    CHECK(r.out.find("api-token (string, required, secret)  env CONNECTOR_HOST_TEST_API_TOKEN or API_TOKEN") !=
          std::string::npos);
    CHECK(r.out.find("group:<id>:member") != std::string::npos);
    CHECK(r.out.find("display_name") != std::string::npos);

    r = ch({"describe", "host-test", "--json"}, t, {{"CONNECTOR_PLUGINS_DIR", dir.string()}});
    CHECK(r.code == 0);
    auto d = parse(r.out);
    CHECK(std::string(d["id"].GetString()) == "host-test");
    CHECK(std::string(d["version"].GetString()) == "1.2.3");
    CHECK(d["capabilities"].Size() == 6);
    CHECK(d["resource_types"].Size() == 3);
    CHECK(std::string(d["resource_types"][1]["entitlements"][0]["slug"].GetString()) == "member");
    CHECK(d["config_fields"].Size() == 6);
    CHECK(d["config_fields"][1]["secret"].GetBool());
    CHECK(std::string(d["config_fields"][0]["env"].GetString()) == "SERVICE_URL");
    CHECK(std::string(d["config_fields"][0]["env_plugin"].GetString()) == "CONNECTOR_HOST_TEST_SERVICE_URL");
    CHECK(d["account_fields"].Size() == 2);

    r = ch({"describe", plugin}, t);
    CHECK(r.code == 0);
    CHECK(r.out.find("host-test") != std::string::npos);
}

TEST_CASE("load refusals: one clear line, non-zero, no crash") {
    TempDir t;
    auto r = ch({"describe", "/lib/x86_64-linux-gnu/libc.so.6"}, t);
    CHECK(r.code == 8);
    CHECK(count_lines(r.err) == 1);
    CHECK(r.err.find("connector_plugin_entry") != std::string::npos);

    r = ch({"describe", (t / "missing.so").string()}, t);
    CHECK(r.code == 8);
    CHECK(count_lines(r.err) == 1);
    CHECK(r.err.find("no plugin file") != std::string::npos);

    spit(t / "text.so", "not elf");
    r = ch({"sync", (t / "text.so").string()}, t);
    CHECK(r.code == 8);
    CHECK(count_lines(r.err) == 1);
    CHECK(r.err.find("cannot be loaded") != std::string::npos);

    fs::path dir = plugin_dir_with_copy(t);
    r = ch({"--plugins-dir", dir.string(), "describe", "no-such-plugin"}, t);
    CHECK(r.code == 8);
    CHECK(r.err.find("no plugin with id 'no-such-plugin'") != std::string::npos);
    CHECK(r.err.find("host-test") != std::string::npos);
}

#ifdef FUTURE_MAJOR_PLUGIN_PATH
TEST_CASE("a plugin that only serves a future ABI major is refused") {
    TempDir t;
    auto r = ch({"describe", FUTURE_MAJOR_PLUGIN_PATH}, t);
    CHECK(r.code == 8);
    CHECK(count_lines(r.err) == 1);
    CHECK(r.err.find("ABI major") != std::string::npos);
}
#endif

TEST_CASE("on a terminal: the summary and a sample by default, a live progress line; off a terminal: only the summary") {
    TempDir t;
    auto env = good_env();
    env["USERS"] = "25";
    env["DELAY_MS"] = "60";
    int master = -1;
    pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
    REQUIRE(pid >= 0);
    if (pid == 0) {
        for (const auto &name : config_env_names) ::unsetenv(name.c_str());
        for (const auto &[k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
        ::execl(host.c_str(), host.c_str(), "sync", plugin.c_str(), static_cast<char *>(nullptr));
        ::_exit(127);
    }
    std::string tty;
    char buf[4096];
    while (true) {
        ssize_t n = ::read(master, buf, sizeof buf);
        if (n <= 0) break; // EIO once the child has exited and closed the terminal
        tty.append(buf, static_cast<size_t>(n));
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::close(master);
    all_written() += tty;
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(tty.find("\r\x1b[Ksync") != std::string::npos); // the live progress line
    CHECK(tty.find("pages") != std::string::npos);
    CHECK(tty.find("Resources:    27 (2 group, 25 user)") != std::string::npos); // the counts by default
    CHECK(tty.find("User 8") != std::string::npos);                              // a sample of ten rows
    CHECK(tty.find("User 9") == std::string::npos);
    CHECK(tty.find("... and 17 more resources (--format table or --out FILE for every row)") != std::string::npos);
    CHECK(tty.find("sync: 27 resources") != std::string::npos);                  // the summary

    auto r = ch({"sync", plugin, "--out", (t / "x.json").string()}, t, env);
    CHECK(r.code == 0);
    CHECK(r.err.find('\r') == std::string::npos);
    CHECK(r.err.find("\x1b") == std::string::npos);
    CHECK(count_lines(r.err) == 1);
}

TEST_CASE("environment: CONNECTOR_<PLUGIN>_<FIELD> wins over the short name; a refused value names its variable") {
    TempDir t;
    auto env = good_env();
    env["USERS"] = "9";
    env["CONNECTOR_HOST_TEST_USERS"] = "2";
    auto r = ch({"check", plugin}, t, env);
    CHECK(r.code == 0);
    CHECK(r.out.find("authenticated to https://svc.example") != std::string::npos);
    r = ch({"sync", plugin, "--format", "json"}, t, env);
    REQUIRE(r.code == 0);
    CHECK(parse(r.out)["summary"]["resources_by_type"]["user"].GetInt() == 2);

    env["CONNECTOR_HOST_TEST_SERVICE_URL"] = "ftp://svc.example";
    r = ch({"check", plugin}, t, env);
    CHECK(r.code == 3);
    CHECK(r.err.find("service-url came from the environment variable CONNECTOR_HOST_TEST_SERVICE_URL") !=
          std::string::npos);
}

TEST_CASE("check: config from each source, missing, unknown and bad config, bad token") {
    TempDir t;
    auto r = ch({"check", plugin}, t, good_env());
    CHECK(r.code == 0);
    CHECK(r.out == "ok: authenticated to https://svc.example\n");

    spit(t / "cfg.json", R"({"service-url":"https://file.example","api-token":")" + token + R"(","users":7})");
    r = ch({"check", plugin, "--config", (t / "cfg.json").string(), "--json"}, t);
    CHECK(r.code == 0);
    auto d = parse(r.out);
    CHECK(d["ok"].GetBool());
    CHECK(d["user_count"].GetInt64() == 7);

    spit(t / "token.txt", token + "\n");
    r = ch({"check", plugin, "--set", "service-url=https://set.example", "--set", "api-token=@" + (t / "token.txt").string()}, t);
    CHECK(r.code == 0);
    CHECK(r.err.empty());

    // Precedence: --set beats --config beats the environment.
    r = ch({"check", plugin, "--config", (t / "cfg.json").string(), "--set", "service-url=https://set.example"}, t, good_env());
    CHECK(r.code == 0);
    CHECK(r.out.find("https://set.example") != std::string::npos);
    r = ch({"check", plugin, "--config", (t / "cfg.json").string()}, t, good_env());
    CHECK(r.out.find("https://file.example") != std::string::npos);

    // A literal secret works, with a warning that does not repeat it.
    r = ch({"check", plugin, "--set", "service-url=https://x.example", "--set", "api-token=" + token}, t);
    CHECK(r.code == 0);
    CHECK(r.err.find("warning") != std::string::npos);
    CHECK(r.err.find("other users") != std::string::npos);

    r = ch({"check", plugin}, t);
    CHECK(r.code == 3);
    CHECK(r.err.find("service-url (CONNECTOR_HOST_TEST_SERVICE_URL or SERVICE_URL)") != std::string::npos);
    CHECK(r.err.find("api-token (CONNECTOR_HOST_TEST_API_TOKEN or API_TOKEN)") != std::string::npos);
    CHECK(count_lines(r.err) == 1);

    r = ch({"check", plugin, "--set", "bogus=1", "--set", "colour=red"}, t, good_env());
    CHECK(r.code == 3);
    CHECK(r.err.find("--set #1 (7 characters), --set #2 (10 characters)") != std::string::npos);
    CHECK(r.err.find("bogus") == std::string::npos);

    r = ch({"check", plugin, "--set", "service-url=ftp://nope"}, t, good_env());
    CHECK(r.code == 3);
    CHECK(r.err.find("service-url") != std::string::npos);

    spit(t / "broken.json", "{");
    r = ch({"check", plugin, "--config", (t / "broken.json").string()}, t, good_env());
    CHECK(r.code == 3);

    r = ch({"check", plugin, "--set", "api-token=bad-token-0000"}, t, good_env());
    CHECK(r.code == 4);
    CHECK(r.err.find("unauthenticated") != std::string::npos);
    CHECK(r.err.find("HTTP 401") != std::string::npos);
}

TEST_CASE("sync: json to --out, json on a pipe by default, ndjson, table") {
    TempDir t;
    auto env = good_env();
    env["USERS"] = "5";
    env["GROUPS"] = "2";
    auto r = ch({"sync", plugin, "--out", (t / "sync.json").string()}, t, env);
    REQUIRE(r.code == 0);
    CHECK(r.out.empty());
    CHECK(r.err.find("sync: 7 resources (2 group, 5 user), 2 entitlements, 6 grants (1 unresolved), 1 warnings") !=
          std::string::npos);
    CHECK(count_lines(r.err) == 1);
    std::string text = slurp(t / "sync.json");
    all_written() += text;
    auto d = parse(text);
    CHECK(std::string(d["plugin"]["id"].GetString()) == "host-test");
    CHECK(d["resources"].Size() == 7);
    CHECK(d["entitlements"].Size() == 2);
    CHECK(d["grants"].Size() == 6);
    std::set<std::string> users;
    for (const auto &res : d["resources"].GetArray()) {
        if (std::string(res["type"].GetString()) != "user") continue;
        users.insert(res["id"].GetString());
        CHECK(res["login"].IsString());
        CHECK(res["admin"].IsBool());
    }
    CHECK(users == std::set<std::string>{"u1", "u2", "u3", "u4", "u5"});
    for (const auto &res : d["resources"].GetArray())
        if (std::string(res["id"].GetString()) == "u1") CHECK(std::string(res["display_name"].GetString()) == "Zoë \"Quote\" O'Brien");
    int unresolved = 0;
    for (const auto &g : d["grants"].GetArray())
        if (g.HasMember("unresolved")) ++unresolved;
    CHECK(unresolved == 1);
    CHECK(leftovers(t.path()).empty());

    // stdout is a file here (not a terminal): json by default.
    r = ch({"sync", plugin}, t, env);
    CHECK(r.code == 0);
    auto d2 = parse(r.out);
    CHECK(d2["resources"].Size() == 7);

    r = ch({"sync", plugin, "--format", "ndjson"}, t, env);
    CHECK(r.code == 0);
    std::istringstream lines(r.out);
    std::map<std::string, int> kinds;
    for (std::string line; std::getline(lines, line);) kinds[parse(line)["kind"].GetString()]++;
    CHECK(kinds["plugin"] == 1);
    CHECK(kinds["resource"] == 7);
    CHECK(kinds["entitlement"] == 2);
    CHECK(kinds["grant"] == 6);
    CHECK(kinds["warning"] == 1);
    CHECK(kinds["summary"] == 1);

    r = ch({"sync", plugin, "--out", (t / "out.ndjson").string()}, t, env);
    CHECK(r.code == 0);
    CHECK(count_lines(slurp(t / "out.ndjson")) == 1 + 3 + 7 + 2 + 6 + 1 + 1 + 1); // ... warning, run, summary
    all_written() += slurp(t / "out.ndjson");

    r = ch({"sync", plugin, "--format", "table"}, t, env);
    CHECK(r.code == 0);
    CHECK(r.out.find("Resources:    7 (2 group, 5 user)") != std::string::npos);
    CHECK(r.out.find("GRANTS") != std::string::npos);
    CHECK(r.out.find("user:u5") != std::string::npos);

    // Output into a directory that does not exist: output error, nothing left behind.
    r = ch({"sync", plugin, "--out", (t / "no/such/dir/x.json").string()}, t, env);
    CHECK(r.code == 12);
}

TEST_CASE("provisioning: one JSON object with the outcome; exit 0 for every success") {
    TempDir t;
    auto env = good_env();
    auto outcome = [&](const Result &r) {
        REQUIRE_MESSAGE(r.code == 0, r.err);
        CHECK(count_lines(r.out) == 1);
        return std::string(parse(r.out)["outcome"].GetString());
    };
    auto r = ch({"grant", plugin, "--entitlement", "group:g1:member", "--principal", "user:u9"}, t, env);
    CHECK(outcome(r) == "granted");
    auto d = parse(r.out);
    CHECK(std::string(d["grant"]["entitlement"].GetString()) == "group:g1:member");
    CHECK(std::string(d["grant"]["principal"]["type"].GetString()) == "user");
    CHECK(std::string(d["grant"]["principal"]["id"].GetString()) == "u9");
    CHECK(std::string(d["grant"]["id"].GetString()) == "group:g1:member:user:u9");
    CHECK(outcome(ch({"grant", plugin, "--entitlement", "group:g1:member", "--principal", "user:already"}, t, env)) ==
          "already_granted");
    CHECK(outcome(ch({"revoke", plugin, "--entitlement", "group:g2:member", "--principal", "user:u1"}, t, env)) == "revoked");
    r = ch({"revoke", plugin, "--entitlement", "group:g2:member", "--principal", "user:absent"}, t, env);
    CHECK(outcome(r) == "already_revoked");
    CHECK(std::string(parse(r.out)["grant"]["principal"]["id"].GetString()) == "absent");

    r = ch({"create-account", plugin, "--email", "jane@example.com", "--profile", "display_name=Jane Smith"}, t, env);
    CHECK(outcome(r) == "created");
    d = parse(r.out);
    CHECK(std::string(d["resource"]["type"].GetString()) == "user");
    CHECK(std::string(d["resource"]["display_name"].GetString()) == "Jane Smith");
    CHECK(std::string(d["resource"]["email"].GetString()) == "jane@example.com");
    CHECK(outcome(ch({"create-account", plugin, "--email", "exists@example.com", "--profile", "display_name=J S"}, t, env)) ==
          "already_exists");

    r = ch({"delete", plugin, "--resource", "user:u3"}, t, env);
    CHECK(outcome(r) == "deleted");
    d = parse(r.out);
    CHECK(std::string(d["resource"]["id"].GetString()) == "u3");
    CHECK(outcome(ch({"delete", plugin, "--resource", "user:gone"}, t, env)) == "already_deleted");

    // Failures and refusals.
    r = ch({"delete", plugin, "--resource", "user:missing"}, t, env);
    CHECK(r.code == 5);
    // A failure is one JSON object too, the error's.
    CHECK(r.out.rfind("{\"error\":{\"status\":\"not_found\",", 0) == 0);
    CHECK(r.out.find("\"exit_code\":5}}\n") != std::string::npos);
    r = ch({"grant", plugin, "--entitlement", "group:g99:member", "--principal", "user:u1"}, t, env);
    CHECK(r.code == 5);
    r = ch({"delete", plugin, "--resource", "group:g1"}, t, env);
    CHECK(r.code == 10); // the group type does not declare delete
    r = ch({"delete", plugin, "--resource", "nocolon"}, t, env);
    CHECK(r.code == 2);
    r = ch({"grant", plugin, "--entitlement", "group:g1:member"}, t, env);
    CHECK(r.code == 2);
    r = ch({"create-account", plugin, "--email", "a@b.c", "--profile", "shoe_size=44", "--profile", "display_name=A"}, t, env);
    CHECK(r.code == 2);
    CHECK(r.err.find("shoe_size") != std::string::npos);
    r = ch({"create-account", plugin, "--email", "a@b.c"}, t, env);
    CHECK(r.code == 2);
    CHECK(r.err.find("display_name") != std::string::npos);
    r = ch({"create-account", plugin, "--email", "not-an-email", "--profile", "display_name=A"}, t, env);
    CHECK(r.code == 9);
    r = ch({"grant", plugin, "--entitlement", "group:g1:member", "--principal", "user:u1", "--set", "api-token=bad-abcdef"}, t, env);
    CHECK(r.code == 4);
}

TEST_CASE("garbage from the plugin: refused with the plugin-failure code, output untouched") {
    TempDir t;
    for (const char *mode : {"bad-utf8", "bad-attr-kind", "wrong-thread", "unknown-type"}) {
        CAPTURE(mode);
        spit(t / "keep.json", "ORIGINAL");
        auto env = good_env();
        env["MODE"] = mode;
        auto r = ch({"sync", plugin, "--out", (t / "keep.json").string()}, t, env);
        CHECK(r.code == 8);
        CHECK(r.err.find("refused") != std::string::npos);
        CHECK(slurp(t / "keep.json") == "ORIGINAL");
        CHECK(leftovers(t.path()).empty());
    }
}

TEST_CASE("SIGINT during a slow sync: exit 130, --out untouched, no temp file left") {
    TempDir t;
    spit(t / "keep.json", "ORIGINAL");
    auto env = good_env();
    env["USERS"] = "1000";
    env["DELAY_MS"] = "200";
    Child c({host, "sync", plugin, "--out", (t / "keep.json").string()}, t.path(), env, config_env_names);
    // Wait until the host has created its temp file (the sync is running), then interrupt.
    for (int i = 0; i < 500 && leftovers(t.path()).empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    c.signal(SIGINT);
    auto r = c.wait(std::chrono::seconds(20));
    all_written() += r.out + r.err;
    MESSAGE("exited " << r.code << " after SIGINT; total run " << r.seconds << " s");
    CHECK(r.code == 130);
    CHECK(r.err.find("interrupted") != std::string::npos);
    CHECK(slurp(t / "keep.json") == "ORIGINAL");
    CHECK(leftovers(t.path()).empty());

    // SIGTERM too, writing to a new file: the file never appears.
    Child c2({host, "sync", plugin, "--out", (t / "new.json").string()}, t.path(), env, config_env_names);
    for (int i = 0; i < 500 && leftovers(t.path()).empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    c2.signal(SIGTERM);
    r = c2.wait(std::chrono::seconds(20));
    CHECK(r.code == 130);
    CHECK_FALSE(fs::exists(t / "new.json"));
    CHECK(leftovers(t.path()).empty());
}

TEST_CASE("a plugin that ignores cancellation: the host still exits, leaving the output as it was") {
    TempDir t;
    spit(t / "keep.json", "ORIGINAL");
    auto env = good_env();
    env["USERS"] = "1000";
    env["DELAY_MS"] = "200";
    env["MODE"] = "hang";
    Child c({host, "sync", plugin, "--out", (t / "keep.json").string()}, t.path(), env, config_env_names);
    for (int i = 0; i < 500 && leftovers(t.path()).empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    c.signal(SIGINT);
    auto r = c.wait(std::chrono::seconds(20));
    all_written() += r.out + r.err;
    MESSAGE("hung plugin: exited " << r.code << " after " << r.seconds << " s");
    CHECK(r.code == 130);
    CHECK(r.err.find("did not stop") != std::string::npos);
    CHECK(slurp(t / "keep.json") == "ORIGINAL");
    CHECK(leftovers(t.path()).empty());

    // --timeout bounds it without a signal.
    r = ch({"--timeout", "0.5", "sync", plugin, "--out", (t / "keep.json").string()}, t, env);
    CHECK(r.code == 13);
    CHECK(slurp(t / "keep.json") == "ORIGINAL");
    env["MODE"] = "normal";
    r = ch({"--timeout", "0.5", "sync", plugin, "--out", (t / "keep.json").string()}, t, env);
    CHECK(r.code == 13);
    CHECK(r.err.find("timed out") != std::string::npos);
}

TEST_CASE("plugin log lines: level and plugin id, filtered by --log-level") {
    TempDir t;
    auto r = ch({"--log-level", "info", "check", plugin}, t, good_env());
    CHECK(r.code == 0);
    CHECK(r.err.find("[info] host-test: instance created for https://svc.example") != std::string::npos);
    r = ch({"check", plugin}, t, good_env());
    CHECK(r.err.find("[info]") == std::string::npos);
}

TEST_CASE("the token never appears in anything the host writes") {
    TempDir t;
    // A careless plugin that logs the token and puts it in an error message: the host scrubs both.
    auto env = good_env();
    env["MODE"] = "log-secret";
    auto r = ch({"--log-level", "trace", "sync", plugin, "--out", (t / "s.json").string()}, t, env);
    CHECK(r.code == 0);
    CHECK(r.err.find("[redacted]") != std::string::npos);
    all_written() += slurp(t / "s.json");
    r = ch({"--log-level", "trace", "check", plugin, "--set", "api-token=bad-" + token}, t, env);
    CHECK(r.code == 4);
    CHECK(r.err.find("[redacted]") != std::string::npos);
    // Literal secrets on the command line, usage errors quoting arguments, every format.
    ch({"check", plugin, "--set", "api-token=" + token, "--set", "service-url=https://x.example"}, t);
    ch({"check", plugin, "--set", "api-token=" + token, "--bogus-flag"}, t);
    ch({"check", plugin, "--set", "api-token=" + token, "--set", "nope=" + token}, t);
    ch({"sync", plugin, "--format", "table", "--set", "api-token=" + token, "--set", "service-url=https://x.example"}, t);
    ch({"sync", plugin, "--format", "ndjson"}, t, env);
    ch({"describe", plugin, "--json"}, t, env);
    ch({"grant", plugin, "--entitlement", "group:g1:member", "--principal", "user:" + token}, t, env);
    CHECK(all_written().size() > 10000);
    size_t hits = 0;
    for (size_t pos = 0; (pos = all_written().find(token, pos)) != std::string::npos; ++pos) ++hits;
    MESSAGE("scanned " << all_written().size() << " bytes written by connector-host for the token: " << hits << " hits");
    CHECK(hits == 0);
}

// ---- Issue 15 (trust nothing) ------------------------------------------------------------------------------
namespace {

struct stat stat_of(const fs::path &p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st;
}

// A pid that is certainly dead: a child that exited and was reaped.
pid_t dead_pid() {
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    int st;
    ::waitpid(pid, &st, 0);
    return pid;
}

// Reads everything from fd into `into` until EOF (on a thread).
std::thread drain(int fd, std::string &into, size_t stop_after = 0) {
    return std::thread([fd, &into, stop_after] {
        char buf[4096];
        ssize_t n;
        while ((n = ::read(fd, buf, sizeof buf)) > 0) {
            into.append(buf, static_cast<size_t>(n));
            if (stop_after > 0 && into.size() >= stop_after) break;
        }
        ::close(fd);
    });
}

Result sync_to_fd(const std::vector<std::string> &args, const TempDir &t, int fd, std::map<std::string, std::string> env) {
    std::vector<std::string> argv{host};
    argv.insert(argv.end(), args.begin(), args.end());
    Result r = run_with_stdout(argv, t.path(), fd, std::move(env), config_env_names, std::chrono::seconds(20));
    all_written() += r.err;
    return r;
}

}  // namespace

// Before pointing --out into the shared /dev: a private device node (root only; CI runs as root) must survive
// a sync, so a host that would replace a device harms nothing shared. Without root /dev is not writable anyway.
bool devices_survive(const TempDir &t, unsigned minor) {
    const fs::path node = t / ("dev-node-" + std::to_string(minor));
    if (::mknod(node.c_str(), S_IFCHR | 0666, ::makedev(1, minor)) != 0) return ::access("/dev", W_OK) != 0;
    ch({"sync", plugin, "--out", node.string()}, t, good_env());
    bool survived = S_ISCHR(stat_of(node).st_mode);
    fs::remove(node);
    return survived && leftovers(t.path()).empty();
}

TEST_CASE("--out: a character device is written directly and stays a device (/dev/null too)") {
    TempDir t;
    auto env = good_env();
    REQUIRE_MESSAGE(devices_survive(t, 3), "the host replaced a character device with a file");
    auto r = ch({"sync", plugin, "--out", "/dev/null"}, t, env);
    CHECK(r.code == 0);
    CHECK(S_ISCHR(stat_of("/dev/null").st_mode));
    CHECK(leftovers("/dev").empty());
}

TEST_CASE("--out: a symlink is written through; /dev/stdout on a pipe is streamed") {
    TempDir t;
    auto env = good_env();
    fs::create_directories(t / "real");
    spit(t / "real" / "org.json", "OLD");
    fs::create_symlink(t / "real" / "org.json", t / "link.json");
    auto r = ch({"sync", plugin, "--out", (t / "link.json").string()}, t, env);
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK(fs::is_symlink(t / "link.json"));
    CHECK(parse(slurp(t / "real" / "org.json"))["resources"].Size() == 5);
    CHECK(leftovers(t.path()).empty());
    CHECK(leftovers(t / "real").empty());
    // A dangling relative link: the file it names is created.
    fs::create_symlink("real/new.json", t / "dangling.json");
    r = ch({"sync", plugin, "--out", (t / "dangling.json").string()}, t, env);
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK(fs::is_symlink(t / "dangling.json"));
    CHECK(parse(slurp(t / "real" / "new.json"))["resources"].Size() == 5);

    REQUIRE_MESSAGE(devices_survive(t, 3), "the host replaced a character device with a file");
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    std::string got;
    std::thread reader = drain(p[0], got);
    r = sync_to_fd({"sync", plugin, "--out", "/dev/stdout"}, t, p[1], env);
    ::close(p[1]);
    reader.join();
    CHECK_MESSAGE(r.code == 0, r.err);
    CHECK(parse(got)["resources"].Size() == 5);
}

TEST_CASE("--out: a FIFO with a reader gets the data and stays a FIFO") {
    TempDir t;
    const fs::path fifo = t / "org.fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    // The reader: opened before the host runs (non-blocking, so nothing waits); the output fits the pipe buffer.
    int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    REQUIRE(reader >= 0);
    auto r = ch({"sync", plugin, "--format", "ndjson", "--out", fifo.string()}, t, good_env());
    std::string got;
    char buf[4096];
    for (ssize_t n; (n = ::read(reader, buf, sizeof buf)) > 0;) got.append(buf, static_cast<size_t>(n));
    ::close(reader);
    CHECK_MESSAGE(r.code == 0, r.err);
    CHECK(S_ISFIFO(stat_of(fifo).st_mode));
    CHECK(count_lines(got) == 1 + 3 + 5 + 2 + 4 + 1 + 1 + 1); // ... warning, run, summary
    CHECK(leftovers(t.path()).empty());
}

TEST_CASE("--out: an existing file keeps its mode and owner; a new file is 0600") {
    TempDir t;
    auto env = good_env();
    const fs::path out = t / "org.json";
    spit(out, "OLD");
    REQUIRE(::chmod(out.c_str(), 0640) == 0);
    const bool root = ::geteuid() == 0;
    if (root) REQUIRE(::chown(out.c_str(), 65534, 65534) == 0);
    auto r = ch({"sync", plugin, "--out", out.string()}, t, env);
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK((stat_of(out).st_mode & 07777) == 0640);
    if (root) {
        CHECK(stat_of(out).st_uid == 65534);
        CHECK(stat_of(out).st_gid == 65534);
    }
    r = ch({"sync", plugin, "--out", (t / "fresh.json").string()}, t, env);
    REQUIRE(r.code == 0);
    CHECK((stat_of(t / "fresh.json").st_mode & 07777) == 0600);
}

TEST_CASE("--out: a directory or a socket is refused (exit 2), nothing replaced") {
    TempDir t;
    auto env = good_env();
    fs::create_directories(t / "adir");
    auto r = ch({"sync", plugin, "--out", (t / "adir").string()}, t, env);
    CHECK(r.code == 2);
    CHECK(r.err.find("is a directory") != std::string::npos);
    CHECK(fs::is_directory(t / "adir"));
    fs::create_symlink(t / "adir", t / "dirlink");
    r = ch({"sync", plugin, "--out", (t / "dirlink").string()}, t, env);
    CHECK(r.code == 2);
    CHECK(fs::is_symlink(t / "dirlink"));

    const fs::path sock = t / "s.sock";
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock.c_str());
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0);
    r = ch({"sync", plugin, "--out", sock.string()}, t, env);
    ::close(fd);
    CHECK(r.code == 2);
    CHECK(r.err.find("socket") != std::string::npos);
    CHECK(fs::is_socket(fs::symlink_status(sock)));
}

TEST_CASE("--out: a stale temporary file of a killed run is removed; a live one is kept") {
    TempDir t;
    const fs::path stale = t / (".org.json.tmp-" + std::to_string(dead_pid()) + "-a1b2c3");
    const fs::path live = t / (".org.json.tmp-" + std::to_string(::getpid()) + "-d4e5f6");
    spit(stale, "half-written");
    spit(live, "another run, still going");
    auto r = ch({"sync", plugin, "--out", (t / "org.json").string()}, t, good_env());
    REQUIRE(r.code == 0);
    CHECK_FALSE(fs::exists(stale));
    CHECK(fs::exists(live));
}

TEST_CASE("SIGHUP and SIGTERM mid-sync leave no temporary file") {
    TempDir t;
    auto env = good_env();
    env["USERS"] = "1000";
    env["DELAY_MS"] = "200";
    for (int sig : {SIGHUP, SIGTERM}) {
        CAPTURE(sig);
        Child c({host, "sync", plugin, "--out", (t / "org.json").string()}, t.path(), env, config_env_names);
        for (int i = 0; i < 500 && leftovers(t.path()).empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        REQUIRE_FALSE(leftovers(t.path()).empty());
        std::this_thread::sleep_for(std::chrono::milliseconds(300)); // past exec, into the sync
        c.signal(sig);
        auto r = c.wait(std::chrono::seconds(20));
        CHECK(r.code == 130);
        CHECK(leftovers(t.path()).empty());
        CHECK_FALSE(fs::exists(t / "org.json"));
    }
}

TEST_CASE("a closed pipe on stdout ends quietly with 141; a full disk is exit 12 for every writer") {
    TempDir t;
    auto env = good_env();
    env["USERS"] = "3000";
    for (const char *fmt : {"json", "ndjson", "table"}) {
        CAPTURE(fmt);
        int p[2];
        REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
        ::close(p[0]); // the reader is gone before the first write
        auto r = sync_to_fd({"sync", plugin, "--format", fmt}, t, p[1], env);
        ::close(p[1]);
        CHECK(r.code == 141);
        CHECK_MESSAGE(r.err.empty(), r.err);
        // `| head -c 100`: the reader goes away after a little.
        REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
        std::string got;
        std::thread reader = drain(p[0], got, 100);
        r = sync_to_fd({"sync", plugin, "--format", fmt}, t, p[1], env);
        ::close(p[1]);
        reader.join();
        CHECK(r.code == 141);
        CHECK_MESSAGE(r.err.empty(), r.err);

        int full = ::open("/dev/full", O_WRONLY);
        REQUIRE(full >= 0);
        r = sync_to_fd({"sync", plugin, "--format", fmt}, t, full, good_env());
        ::close(full);
        CHECK(r.code == 12);
        CHECK(r.err.find("No space left") != std::string::npos);
        REQUIRE_MESSAGE(devices_survive(t, 7), "the host replaced a character device with a file");
        r = ch({"sync", plugin, "--format", fmt, "--out", "/dev/full"}, t, good_env());
        CHECK(r.code == 12);
    }
    for (const std::vector<std::string> &args : {std::vector<std::string>{"describe", plugin, "--json"},
                                                 std::vector<std::string>{"describe", plugin},
                                                 std::vector<std::string>{"check", plugin}}) {
        int p[2];
        REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
        ::close(p[0]);
        auto r = sync_to_fd(args, t, p[1], good_env());
        ::close(p[1]);
        CHECK(r.code == 141);
        CHECK(r.err.empty());
        int full = ::open("/dev/full", O_WRONLY);
        r = sync_to_fd(args, t, full, good_env());
        ::close(full);
        CHECK(r.code == 12);
    }
}

TEST_CASE("config files and @FILE values: regular files of at most 1 MiB, else a clear error") {
    TempDir t;
    auto env = good_env();
    auto r = ch({"check", plugin, "--config", "/dev/zero"}, t, env);
    CHECK(r.code == 3);
    CHECK(r.err.find("/dev/zero is not a regular file") != std::string::npos);
    r = ch({"check", plugin, "--set", "api-token=@/dev/zero"}, t, env);
    CHECK(r.code == 3);
    CHECK(r.err.find("api-token") != std::string::npos);
    CHECK(r.err.find("is not a regular file") != std::string::npos);
    fs::create_directories(t / "adir");
    r = ch({"check", plugin, "--set", "api-token=@" + (t / "adir").string()}, t, env);
    CHECK(r.code == 3);
    CHECK(r.err.find("api-token") != std::string::npos);
    CHECK(r.err.find("is a directory") != std::string::npos);
    spit(t / "big.json", "{\"users\": \"" + std::string(size_t{1} << 21, 'x') + "\"}");
    r = ch({"check", plugin, "--config", (t / "big.json").string()}, t, env);
    CHECK(r.code == 3);
    CHECK(r.err.find("is larger than 1 MiB") != std::string::npos);
    const fs::path fifo = t / "token.fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    Child c({host, "check", plugin, "--set", "api-token=@" + fifo.string()}, t.path(), env, config_env_names);
    r = c.wait(std::chrono::seconds(10));
    CHECK(r.code == 3);
    CHECK(r.err.find("is not a regular file") != std::string::npos);
    // A symlink to a regular file is followed.
    spit(t / "token.txt", token + "\n");
    fs::create_symlink(t / "token.txt", t / "token.link");
    r = ch({"check", plugin, "--set", "api-token=@" + (t / "token.link").string()}, t, env);
    CHECK(r.code == 0);
}

TEST_CASE("a plugin path that is a FIFO, a directory or a device is refused; discovery skips them") {
    TempDir t;
    fs::path dir = plugin_dir_with_copy(t);
    const fs::path fifo = dir / "fifo.so";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    fs::create_directories(dir / "dir.so");
    Child c({host, "describe", fifo.string()}, t.path(), {}, config_env_names);
    auto r = c.wait(std::chrono::seconds(10));
    CHECK(r.code == 8);
    CHECK(r.err.find("not a regular file") != std::string::npos);
    CHECK(r.seconds < 5);
    r = ch({"describe", (dir / "dir.so").string()}, t);
    CHECK(r.code == 8);
    r = ch({"describe", "/dev/zero.so"}, t);
    CHECK(r.code == 8);
    fs::create_symlink("/dev/zero", dir / "zero.so");
    Child c2({host, "describe", (dir / "zero.so").string()}, t.path(), {}, config_env_names);
    r = c2.wait(std::chrono::seconds(10));
    CHECK(r.code == 8);
    CHECK(r.err.find("not a regular file") != std::string::npos);
    Child c3({host, "--plugins-dir", dir.string(), "plugins"}, t.path(), {}, config_env_names);
    r = c3.wait(std::chrono::seconds(10));
    CHECK(r.code == 0);
    CHECK(r.out.find("host-test") != std::string::npos);
    CHECK(r.err.find("fifo.so") != std::string::npos);
}

TEST_CASE("a --set typo never shows the value: base64 padding, '=' and ':' in the secret") {
    TempDir t;
    auto env = good_env();
    const std::vector<std::string> typos = {"api-token:c2VjcmV0LXRva2Vu==", "c2VjcmV0LXRva2Vu==", "api-tokn=c2VjcmV0LXRva2Vu==",
                                            "se:cr=et-S3cr3tV4lue", "se=cr:et-S3cr3tV4lue", "api-token:se=cr:et-S3cr3tV4lue",
                                            "S3cr3tV4lue=", "x S3cr3tV4lue=y"};
    for (const auto &typo : typos) {
        CAPTURE(typo);
        auto r = ch({"check", plugin, "--set", typo}, t, env);
        CHECK(r.code == 3);
        for (const char *fragment : {"c2VjcmV0", "S3cr3t", "V4lue", "se:cr", "cr=et", "cr:et"})
            CHECK(r.err.find(fragment) == std::string::npos);
    }
    auto r = ch({"check", plugin, "--set", "api-token:c2VjcmV0LXRva2Vu=="}, t, env);
    CHECK(r.err.find("'api-token' followed by ':'") != std::string::npos);
    r = ch({"check", plugin, "--set", "api-tokn=c2VjcmV0LXRva2Vu=="}, t, env);
    CHECK(r.err.find("did you mean 'api-token'") != std::string::npos);
}

TEST_CASE("C1 and bidi controls: escaped in JSON, made visible in tables and on stderr") {
    TempDir t;
    auto env = good_env();
    env["MODE"] = "hostile-text";
    const std::vector<std::string> raw = {"\xC2\x85", "\xC2\x9B", "\xE2\x80\xAE", "\xE2\x80\xAC", "\xE2\x81\xA6",
                                          "\xD8\x9C", "\xE2\x80\x8F"};
    auto r = ch({"--log-level", "info", "sync", plugin, "--out", (t / "o.json").string()}, t, env);
    REQUIRE_MESSAGE(r.code == 0, r.err);
    const std::string json = slurp(t / "o.json");
    for (const auto &c : {raw[0], raw[1]}) CHECK(json.find(c) == std::string::npos);
    CHECK(json.find("\\u0085") != std::string::npos);
    CHECK(json.find("C1 \xC2\x85\xC2\x9B bidi") == std::string::npos);
    bool found = false;
    const auto doc = parse(json);  // kept alive while its array is walked
    for (const auto &res : doc["resources"].GetArray())
        found = found || std::string(res["display_name"].GetString()) == "C1 \xC2\x85\xC2\x9B bidi \xE2\x80\xAEgnp.exe\xE2\x80\xAC";
    CHECK(found); // escaped, not altered
    for (const auto &c : raw) CHECK(r.err.find(c) == std::string::npos);
    CHECK(r.err.find("\\u202e") != std::string::npos);
    CHECK(r.err.find("\\u009b") != std::string::npos);
    r = ch({"sync", plugin, "--format", "ndjson"}, t, env);
    for (const auto &c : {raw[0], raw[1]}) CHECK(r.out.find(c) == std::string::npos);
    r = ch({"sync", plugin, "--format", "table"}, t, env);
    for (const auto &c : raw) CHECK(r.out.find(c) == std::string::npos);
    CHECK(r.out.find("\\u202e") != std::string::npos);
}

TEST_CASE("a flood of warnings: a hundred lines per code, then one summary line; counts stay exact") {
    TempDir t;
    auto env = good_env();
    env["MODE"] = "noisy";
    auto r = ch({"--log-level", "info", "sync", plugin, "--out", (t / "o.json").string()}, t, env);
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK(count_lines(r.err) < 260);
    CHECK(r.err.find("and 901 more `unresolved_member` warnings") != std::string::npos);
    CHECK(r.err.find("900 more warn lines from host-test") != std::string::npos);
    auto d = parse(slurp(t / "o.json"));
    CHECK(d["warnings"].Size() == 1001);
    CHECK(d["summary"]["warnings"].GetUint64() == 1001);
    CHECK(d["summary"]["warnings_by_code"]["unresolved_member"].GetUint64() == 1001);
    r = ch({"sync", plugin, "--out", (t / "o.json").string()}, t, env); // default level: the plugin's warn lines
    CHECK(count_lines(r.err) < 130);
    CHECK(r.err.find("900 more warn lines") != std::string::npos);
}

TEST_CASE("incomplete_* warnings: shown and recorded; --strict fails the sync with 14") {
    TempDir t;
    auto env = good_env();
    auto r = ch({"sync", plugin, "--out", (t / "ok.json").string()}, t, env);
    REQUIRE(r.code == 0);
    CHECK(parse(slurp(t / "ok.json"))["summary"]["complete"].GetBool());
    env["MODE"] = "incomplete";
    r = ch({"sync", plugin, "--out", (t / "part.json").string()}, t, env);
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK(r.err.find("incomplete_listing") != std::string::npos);
    CHECK(r.err.find("may be incomplete") != std::string::npos);
    CHECK_FALSE(parse(slurp(t / "part.json"))["summary"]["complete"].GetBool());
    r = ch({"sync", plugin, "--format", "ndjson"}, t, env);
    REQUIRE(r.code == 0);
    std::string last = r.out.substr(r.out.rfind('\n', r.out.size() - 2) + 1);
    auto s = parse(last);
    CHECK(std::string(s["kind"].GetString()) == "summary");
    CHECK_FALSE(s["complete"].GetBool());

    spit(t / "keep.json", "ORIGINAL");
    r = ch({"sync", plugin, "--strict", "--out", (t / "keep.json").string()}, t, env);
    CHECK(r.code == 14);
    CHECK(r.err.find("incomplete") != std::string::npos);
    CHECK(slurp(t / "keep.json") == "ORIGINAL");
    CHECK(leftovers(t.path()).empty());
    env["MODE"] = "normal";
    CHECK(ch({"sync", plugin, "--strict", "--out", (t / "keep.json").string()}, t, env).code == 0);
    r = ch({"--help"}, t);
    CHECK(r.out.find("14  incomplete") != std::string::npos);
    CHECK(r.out.find("141") != std::string::npos);
    CHECK(ch({"sync", "--help"}, t).out.find("--strict") != std::string::npos);
}

TEST_CASE("user:email=<address> reaches the plugin unchanged as the id email=<address>") {
    TempDir t;
    auto env = good_env();
    auto r = ch({"--log-level", "info", "delete", plugin, "--resource", "user:email=jane@example.com"}, t, env);
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK(r.err.find("delete_resource type=[user] id=[email=jane@example.com]") != std::string::npos);
    CHECK(std::string(parse(r.out)["resource"]["id"].GetString()) == "email=jane@example.com");
    for (const char *cmd : {"grant", "revoke"}) {
        r = ch({"--log-level", "info", cmd, plugin, "--entitlement", "group:g1:member", "--principal",
                "user:email=jane@example.com"}, t, env);
        REQUIRE_MESSAGE(r.code == 0, r.err);
        CHECK(r.err.find("principal type=[user] id=[email=jane@example.com]") != std::string::npos);
        CHECK(std::string(parse(r.out)["grant"]["principal"]["id"].GetString()) == "email=jane@example.com");
    }
}

// ---- sync --checkpoint FILE / --resume (issue 19): the checkpoint build of the test plugin ----------------
// With USERS=5 it delivers 16 records with a checkpoint after records 3, 4, 6, 9, 12 and 15 (test_plugin.cpp).
namespace {

const std::string ckpt_plugin = CKPT_PLUGIN_PATH;

std::map<std::string, std::string> ckpt_env(int users, std::map<std::string, std::string> knobs = {}) {
    auto env = good_env();
    env["USERS"] = std::to_string(users);
    for (auto &[k, v] : knobs) env[k] = v;
    return env;
}

// The output less the run's own facts (times) and the summary (requests, elapsed time): the lines that
// differ between two syncs of the same data.
std::string records_only(const std::string &text) {
    std::string out, line;
    std::istringstream in(text);
    while (std::getline(in, line))
        if (line.rfind("\"run\":", 0) != 0 && line.rfind("\"summary\":", 0) != 0 &&
            line.find("{\"kind\":\"run\"") != 0 && line.find("{\"kind\":\"summary\"") != 0)
            out += line + "\n";
    return out;
}

unsigned file_mode(const fs::path &p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 0777;
}

// The whole uninterrupted sync into a file, as the truth to compare a resumed one with.
std::string full_sync(const TempDir &t, const std::string &format) {
    const std::string out = (t / ("full." + format)).string();
    auto r = ch({"sync", ckpt_plugin, "--out", out}, t, ckpt_env(5));
    REQUIRE_MESSAGE(r.code == 0, r.err);
    return slurp(out);
}

// The summary's record counts (not its requests or time), as one line.
std::string parse_summary(const std::string &text, const std::string &format) {
    std::string line = text;
    if (format == "ndjson") {
        const auto at = text.find("{\"kind\":\"summary\"");
        REQUIRE(at != std::string::npos);
        line = text.substr(at, text.find('\n', at) - at);
    }
    rapidjson::Document d = parse(line);
    const rapidjson::Value &v = format == "ndjson" ? d : d["summary"];
    std::string out;
    for (const char *k : {"resources", "entitlements", "grants", "unresolved_grants", "warnings"})
        out += std::string(k) + "=" + std::to_string(v[k].GetUint64()) + " ";
    for (const auto &m : v["resources_by_type"].GetObject())
        out += m.name.GetString() + std::string("=") + std::to_string(m.value.GetUint64()) + " ";
    return out;
}

void sql_exec(const fs::path &db, const std::string &sql) {
    sqlite3 *h = nullptr;
    REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
    const int rc = sqlite3_exec(h, sql.c_str(), nullptr, nullptr, nullptr);
    sqlite3_close(h);
    REQUIRE(rc == SQLITE_OK);
}

void wait_for_file(const fs::path &p) {
    for (int i = 0; i < 1000 && !fs::exists(p); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE_MESSAGE(fs::exists(p), p.string());
}

}  // namespace

TEST_CASE("--checkpoint: a json/ndjson sync killed at several points resumes with --resume into the whole sync") {
    TempDir t;
    for (const std::string &format : std::vector<std::string>{"json", "ndjson"}) {
        const std::string full = full_sync(t, format);
        // died after record N -> the checkpoint kept
        for (auto [died_after, kept_at] : std::vector<std::pair<int, int>>{{4, 4}, {7, 6}, {12, 12}, {15, 15}}) {
            CAPTURE(format);
            CAPTURE(died_after);
            const std::string n = std::to_string(died_after);
            const std::string out = (t / ("part-" + n + "." + format)).string(), ck = (t / ("ck-" + format)).string();
            auto r = ch({"sync", ckpt_plugin, "--out", out, "--checkpoint", ck}, t,
                        ckpt_env(5, {{"TESTPLUGIN_DIE_AFTER", std::to_string(died_after)}}));
            REQUIRE(r.code == 128 + SIGABRT);
            CHECK_FALSE(fs::exists(out));
            CHECK(file_mode(ck) == 0600);
            CHECK(file_mode(ck + ".spool") == 0600);
            const std::string kept = slurp(ck);
            CHECK(kept.find("plugin_id=host-test-ckpt\n") != std::string::npos);
            CHECK(kept.find("format=" + format + "\n") != std::string::npos);
            CHECK(kept.find("token=tp1." + std::to_string(kept_at) + ".") != std::string::npos);
            r = ch({"sync", ckpt_plugin, "--out", out, "--checkpoint", ck, "--resume"}, t, ckpt_env(5));
            REQUIRE_MESSAGE(r.code == 0, r.err);
            CHECK(r.err.find("resuming the sync checkpointed in " + ck) != std::string::npos);
            CHECK(r.err.find("tp1.") == std::string::npos);
            CHECK(records_only(slurp(out)) == records_only(full));
            CHECK(parse_summary(slurp(out), format) == parse_summary(full, format));
            CHECK_FALSE(fs::exists(ck));
            CHECK_FALSE(fs::exists(ck + ".spool"));
        }
    }
}

TEST_CASE("--checkpoint: SIGINT, kill -9, --timeout and a failure between checkpoints; --resume drops what came after") {
    TempDir t;
    const std::string full = full_sync(t, "json");
    for (const std::string &how : std::vector<std::string>{"SIGINT", "SIGKILL", "timeout", "failure"}) {
        CAPTURE(how);
        const std::string out = (t / (how + ".json")).string(), ck = (t / (how + ".ck")).string();
        std::map<std::string, std::string> knobs = {{"TESTPLUGIN_SLEEP_AFTER", "8"}};
        if (how == "failure") knobs = {{"TESTPLUGIN_FAIL_AFTER", "8"}};
        std::vector<std::string> argv = {host, "sync", ckpt_plugin, "--out", out, "--checkpoint", ck};
        if (how == "timeout") argv.insert(argv.begin() + 1, {"--timeout", "1"});
        Child c(argv, t.path(), ckpt_env(5, knobs), config_env_names);
        if (how == "SIGINT" || how == "SIGKILL") {
            for (int i = 0; i < 1000 && slurp(ck).find("token=tp1.6.") == std::string::npos; ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            c.signal(how == "SIGINT" ? SIGINT : SIGKILL);
        }
        const Result r = c.wait(std::chrono::seconds(30));
        all_written() += r.out + r.err;
        const int expected = how == "SIGINT" ? 130 : how == "SIGKILL" ? 128 + SIGKILL : how == "timeout" ? 13 : 7;
        CHECK_MESSAGE(r.code == expected, r.err);
        CHECK(slurp(ck).find("token=tp1.6.") != std::string::npos);
        if (how != "SIGKILL") CHECK(r.err.find("--resume --checkpoint " + ck + " continues the sync") != std::string::npos);
        const Result again = ch({"sync", ckpt_plugin, "--out", out, "--checkpoint", ck, "--resume"}, t, ckpt_env(5));
        REQUIRE_MESSAGE(again.code == 0, again.err);
        CHECK(records_only(slurp(out)) == records_only(full));
    }
}

TEST_CASE("--checkpoint: a checkpoint the host cannot keep stops the sync at it; --resume continues from the spool") {
    TempDir t;
    const std::string full = full_sync(t, "ndjson");
    const std::string out = (t / "part.ndjson").string(), ck = (t / "ck").string();
    // The first checkpoint (after record 3) is kept; then the temporary file of the next one cannot be made.
    Child c({host, "sync", ckpt_plugin, "--out", out, "--checkpoint", ck}, t.path(),
            ckpt_env(5, {{"TESTPLUGIN_SLEEP_AFTER", "3"}, {"TESTPLUGIN_SLEEP_MS", "1500"}}), config_env_names);
    wait_for_file(ck);
    fs::create_directory(ck + ".tmp");
    Result r = c.wait(std::chrono::seconds(30));
    all_written() += r.out + r.err;
    CHECK(r.code == 12);
    CHECK(r.err.find("cannot write the checkpoint") != std::string::npos);
    CHECK(slurp(ck).find("token=tp1.3.") != std::string::npos);
    fs::remove(ck + ".tmp");
    // The spool committed the records of checkpoint 4 before FILE could name it: the resume starts there.
    r = ch({"sync", ckpt_plugin, "--out", out, "--checkpoint", ck, "--resume"}, t, ckpt_env(5));
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK(r.err.find("2 resources, 2 entitlements, 0 grants kept") != std::string::npos);
    CHECK(records_only(slurp(out)) == records_only(full));
}

TEST_CASE("--checkpoint / --resume refusals: a missing or foreign checkpoint, the wrong options, a refused token") {
    TempDir t;
    const std::string out = (t / "part.json").string(), ck = (t / "ck").string();
    auto r = ch({"sync", ckpt_plugin, "--out", out, "--checkpoint", ck, "--resume"}, t, ckpt_env(5));
    CHECK(r.code == 2);
    CHECK(r.err.find("there is no checkpoint " + ck) != std::string::npos);
    REQUIRE(ch({"sync", ckpt_plugin, "--out", out, "--checkpoint", ck}, t,
               ckpt_env(5, {{"TESTPLUGIN_DIE_AFTER", "7"}})).code == 128 + SIGABRT);
    r = ch({"sync", ckpt_plugin, "--out", out, "--checkpoint", ck, "--resume"}, t, ckpt_env(4));
    CHECK(r.code == 2);
    CHECK(r.err.find("is the checkpoint of another sync") != std::string::npos);
    r = ch({"sync", ckpt_plugin, "--out", (t / "part.ndjson").string(), "--checkpoint", ck, "--resume"}, t, ckpt_env(5));
    CHECK(r.code == 2);
    CHECK(r.err.find("format json") != std::string::npos);
    for (const auto &args : std::vector<std::vector<std::string>>{
             {"sync", ckpt_plugin, "--out", out, "--resume"},
             {"sync", ckpt_plugin, "--out", (t / "org.db").string(), "--checkpoint", ck},
             {"sync", ckpt_plugin, "--checkpoint", ck},
             {"sync", ckpt_plugin, "--out", out, "--checkpoint", ck, "--resume", "--resume-from", "tp1.3.x"}}) {
        r = ch(args, t, ckpt_env(5));
        CHECK_MESSAGE(r.code == 2, r.err);
    }
    r = ch({"sync", plugin, "--out", out, "--checkpoint", ck}, t, ckpt_env(5));
    CHECK(r.code == 10);
    CHECK(r.err.find("does not support --checkpoint") != std::string::npos);
    // A sync that fails before its first checkpoint leaves nothing to resume, and no spool.
    r = ch({"sync", ckpt_plugin, "--out", (t / "early.json").string(), "--checkpoint", (t / "early.ck").string()}, t,
           ckpt_env(5, {{"TESTPLUGIN_FAIL_AFTER", "2"}}));
    CHECK(r.code == 7);
    CHECK_FALSE(fs::exists(t / "early.ck"));
    CHECK_FALSE(fs::exists(t / "early.ck.spool"));
    // A token the plugin refuses (here: a spool whose token was corrupted) fails and says how to start over.
    std::string spool = slurp(ck).substr(slurp(ck).find("spool=") + 6);
    spool = spool.substr(0, spool.find('\n'));
    sql_exec(spool, "update spool_meta set value = 'tp1.x.corrupted' where key = 'token'");
    r = ch({"sync", ckpt_plugin, "--out", out, "--checkpoint", ck, "--resume"}, t, ckpt_env(5));
    CHECK(r.code != 0);
    CHECK(r.err.find("refused the stored checkpoint") != std::string::npos);
    CHECK(r.err.find("without --resume to start over") != std::string::npos);
    CHECK(r.err.find("corrupted") == std::string::npos);
    // Without --resume it starts over (and says that it drops the unfinished sync).
    r = ch({"sync", ckpt_plugin, "--out", out, "--checkpoint", ck}, t, ckpt_env(5));
    CHECK(r.code == 0);
    CHECK(r.err.find("starting over") != std::string::npos);
    CHECK_FALSE(fs::exists(ck));
}

TEST_CASE("--resume-from TOKEN still resumes without the host keeping anything: the output holds only the rest") {
    TempDir t;
    const std::string out = (t / "rest.ndjson").string();
    auto r = ch({"sync", ckpt_plugin, "--out", out, "--resume-from", "tp1.12.0"}, t, ckpt_env(5));
    CHECK(r.code != 0); // another config's fingerprint: refused by the plugin
    CHECK(r.err.find("refused the stored checkpoint") == std::string::npos);
    // The tokens come with NDJSON streamed to stdout (a file holds no checkpoint records).
    CHECK(full_sync(t, "ndjson").find("\"kind\":\"checkpoint\"") == std::string::npos);
    const auto streamed = ch({"sync", ckpt_plugin, "--format", "ndjson"}, t, ckpt_env(5));
    REQUIRE_MESSAGE(streamed.code == 0, streamed.err);
    const std::string full = streamed.out;
    const auto at = full.find("{\"kind\":\"checkpoint\",\"token\":\"tp1.12.");
    REQUIRE(at != std::string::npos);
    const size_t begin = at + std::string("{\"kind\":\"checkpoint\",\"token\":\"").size();
    const std::string tok = full.substr(begin, full.find('"', begin) - begin);
    r = ch({"sync", ckpt_plugin, "--out", out, "--resume-from", tok}, t, ckpt_env(5));
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK(count_lines(slurp(out)) > 0);
    CHECK(slurp(out).find("\"id\":\"u5\"") != std::string::npos);
    CHECK(slurp(out).find("\"id\":\"u1\"") == std::string::npos);
}
