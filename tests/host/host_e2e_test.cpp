// End-to-end: the real connector-host binary against the test plugin (tests/host/test_plugin.cpp).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "process.hpp"

#include <rapidjson/document.h>

#include <csignal>
#include <pty.h>
#include <set>
#include <sys/wait.h>

using namespace host_test;
namespace fs = std::filesystem;

namespace {

const std::string host = CONNECTOR_HOST_PATH;
const std::string plugin = TEST_PLUGIN_PATH;
const std::string token = "good-Tk9-host-e2e-7f3a9c1d";
const std::vector<std::string> config_env_names = {"SERVICE_URL", "API_TOKEN", "USERS", "GROUPS", "MODE", "DELAY_MS",
                                                   "CONNECTOR_PLUGINS_DIR"};

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

} // namespace

TEST_CASE("version and help") {
    TempDir t;
    auto r = ch({"--version"}, t);
    CHECK(r.code == 0);
    CHECK(r.out.find("connector-host") != std::string::npos);
    CHECK(r.out.find("ABI 1.0") != std::string::npos);
    r = ch({"--help"}, t);
    CHECK(r.code == 0);
    CHECK(r.out.find("Exit codes") != std::string::npos);
    CHECK(r.out.find("130") != std::string::npos);
    for (const char *cmd : {"plugins", "describe", "check", "sync", "grant", "revoke", "create-account", "delete"}) {
        r = ch({cmd, "--help"}, t);
        CHECK_MESSAGE(r.code == 0, cmd);
        CHECK_MESSAGE(r.out.find("Usage") != std::string::npos, cmd);
    }
    r = ch({"frobnicate"}, t);
    CHECK(r.code == 2);
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
    CHECK(r.out.find("1.0") != std::string::npos);
    CHECK(r.out.find((dir / "host-test.so").string()) != std::string::npos);

    r = ch({"--plugins-dir", dir.string(), "plugins", "--json"}, t);
    CHECK(r.code == 0);
    auto d = parse(r.out);
    REQUIRE(d.Size() == 1);
    CHECK(std::string(d[0]["id"].GetString()) == "host-test");
    CHECK(std::string(d[0]["abi"].GetString()) == "1.0");

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
    CHECK(r.out.find("api-token (string, required, secret)  env API_TOKEN") != std::string::npos);
    CHECK(r.out.find("group:<id>:member") != std::string::npos);
    CHECK(r.out.find("display_name") != std::string::npos);

    r = ch({"describe", "host-test", "--json"}, t, {{"CONNECTOR_PLUGINS_DIR", dir.string()}});
    CHECK(r.code == 0);
    auto d = parse(r.out);
    CHECK(std::string(d["id"].GetString()) == "host-test");
    CHECK(std::string(d["version"].GetString()) == "1.2.3");
    CHECK(d["capabilities"].Size() == 6);
    CHECK(d["resource_types"].Size() == 2);
    CHECK(std::string(d["resource_types"][1]["entitlements"][0]["slug"].GetString()) == "member");
    CHECK(d["config_fields"].Size() == 6);
    CHECK(d["config_fields"][1]["secret"].GetBool());
    CHECK(std::string(d["config_fields"][0]["env"].GetString()) == "SERVICE_URL");
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

TEST_CASE("on a terminal: table by default and a live progress line; off a terminal: only the summary") {
    TempDir t;
    auto env = good_env();
    env["USERS"] = "8";
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
    CHECK(tty.find("Resources:    10 (2 group, 8 user)") != std::string::npos); // table by default
    CHECK(tty.find("sync: 10 resources") != std::string::npos);                 // the summary

    auto r = ch({"sync", plugin, "--out", (t / "x.json").string()}, t, env);
    CHECK(r.code == 0);
    CHECK(r.err.find('\r') == std::string::npos);
    CHECK(r.err.find("\x1b") == std::string::npos);
    CHECK(count_lines(r.err) == 1);
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
    CHECK(r.err.find("service-url (SERVICE_URL)") != std::string::npos);
    CHECK(r.err.find("api-token (API_TOKEN)") != std::string::npos);
    CHECK(count_lines(r.err) == 1);

    r = ch({"check", plugin, "--set", "bogus=1", "--set", "colour=red"}, t, good_env());
    CHECK(r.code == 3);
    CHECK(r.err.find("bogus, colour") != std::string::npos);

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
    CHECK(count_lines(slurp(t / "out.ndjson")) == 1 + 2 + 7 + 2 + 6 + 1 + 1);
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
    CHECK(r.out.empty());
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
