// Token hygiene (issue 8, item 4): every connector-host command and every error path we can provoke (bad token,
// bad URLs, bad config values, unreachable host, each 4xx/5xx, a server that echoes the token back in its error
// bodies and headers, TLS failure, timeout, SIGINT/SIGTERM), run with a distinctive token at trace level; every
// byte written (stdout, stderr, --out files, anything else left in the working directory) is scanned for the
// token and for a fragment of it. The same error paths through the ABI: conn_error texts and log lines.
#include "rel_support.hpp"

#include <scim_sim/server.hpp>

#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;

namespace {

const std::string kFragment = "9b41e7d2-c0ffee";  // a distinctive part of rel::kToken: catches truncated leaks

struct Scanned {
    size_t bytes = 0, hits = 0, runs = 0;
};
Scanned &scanned() {
    static Scanned s;
    return s;
}

void scan(const std::string &text) {
    scanned().bytes += text.size();
    scanned().hits += rel::count_hits(text, rel::kToken) + rel::count_hits(text, kFragment);
}

// Every file in dir (recursively), except the token files the test wrote itself.
void scan_dir(const fs::path &dir) {
    for (const auto &e : fs::recursive_directory_iterator(dir)) {
        if (!e.is_regular_file()) continue;
        const std::string name = e.path().filename().string();
        if (name.rfind("secret-", 0) == 0) continue;
        const std::string text = rel::slurp(e.path());
        const size_t before = scanned().hits;
        scan(text);
        CHECK_MESSAGE(scanned().hits == before, "the token is in " << e.path());
    }
}

// Environment without any inherited config variable.
std::map<std::string, std::string> env_with(std::map<std::string, std::string> extra = {}) {
    std::map<std::string, std::string> env{{"SCIM_URL", ""}, {"SCIM_TOKEN", ""}, {"PAGE_SIZE", ""}, {"CA_FILE", ""},
                                           {"RETRY_BUDGET_MS", ""}, {"CONNECTOR_PLUGINS_DIR", ""}};
    for (auto &[k, v] : extra) env[k] = v;
    return env;
}

rel::ProcResult host(std::vector<std::string> args, const rel::TempDir &dir, std::map<std::string, std::string> env = {}) {
    std::vector<std::string> argv{CONNECTOR_HOST_PATH, "--log-level", "trace"};
    argv.insert(argv.end(), args.begin(), args.end());
    rel::ProcResult r = rel::run(argv, dir.path(), env_with(std::move(env)));
    ++scanned().runs;
    const size_t before = scanned().hits;
    scan(r.out);
    scan(r.err);
    CHECK_MESSAGE(scanned().hits == before, "token in the output of connector-host " << args[0] << ": " << r.out << r.err);
    return r;
}

const std::string plugin = rel::plugin_path();

// The token as the host reads it: from the environment, a file, a config file, or literally.
std::vector<std::pair<std::string, std::map<std::string, std::string>>> token_sources(const rel::TempDir &dir,
                                                                                    const std::string &url,
                                                                                    const std::string &token) {
    rel::spit(dir / "secret-token", token + "\n");
    rel::spit(dir / "secret-config.json", "{\"scim-url\":\"" + url + "\",\"scim-token\":\"" + token + "\"}");
    return {{"env", {{"SCIM_URL", url}, {"SCIM_TOKEN", token}}},
            {"--set scim-token=@file", {{"SCIM_URL", url}, {"ARGS", "--set\nscim-token=@" + (dir / "secret-token").string()}}},
            {"--config", {{"ARGS", "--config\n" + (dir / "secret-config.json").string()}}},
            {"--set literal", {{"SCIM_URL", url}, {"ARGS", "--set\nscim-token=" + token}}}};
}

std::vector<std::string> split_args(const std::map<std::string, std::string> &src) {
    std::vector<std::string> out;
    auto it = src.find("ARGS");
    if (it == src.end()) return out;
    std::string s = it->second;
    size_t pos = 0;
    while (pos <= s.size()) {
        size_t nl = s.find('\n', pos);
        if (nl == std::string::npos) nl = s.size();
        out.push_back(s.substr(pos, nl - pos));
        pos = nl + 1;
    }
    return out;
}

// Runs `cmd` (with its own arguments) with the token from a source; extra `--set`s appended.
rel::ProcResult with_source(const std::vector<std::string> &cmd, const std::pair<std::string, std::map<std::string, std::string>> &src,
                            const rel::TempDir &dir, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = cmd;
    for (const auto &a : split_args(src.second)) args.push_back(a);
    args.insert(args.end(), extra.begin(), extra.end());
    auto env = src.second;
    env.erase("ARGS");
    return host(args, dir, env);
}

scim_sim::Options sim_options() {
    scim_sim::Options o;
    o.token = rel::kToken;
    o.seed = 5;
    o.seed_users = 25;
    o.seed_groups = 4;
    o.seed_members = 40;
    return o;
}

std::string scim_error(int status, const std::string &detail) {
    return R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":")" + std::to_string(status) +
           R"(","detail":")" + detail + "\"}";
}

}  // namespace

TEST_SUITE("token") {

TEST_CASE("the plugin declares scim-token secret, so hosts know to scrub it") {
    const conn_descriptor *d = rel::plugin().describe();
    bool found = false;
    for (uint32_t i = 0; i < d->config_field_count; ++i)
        if (std::string(d->config_fields[i]->name) == "scim-token") {
            found = true;
            CHECK((d->config_fields[i]->flags & CONN_FIELD_SECRET) != 0);
            CHECK(d->config_fields[i]->default_value == nullptr);
        }
    CHECK(found);
}

TEST_CASE("every connector-host command, with the token from each source, against the simulator") {
    rel::TempDir dir;
    scim_sim::Server sim(sim_options());
    sim.start();
    const std::string gid = sim.group_ids().at(0), uid = sim.user_ids().at(0);
    const std::string ent = "group:" + gid + ":member";
    CHECK(host({"--help"}, dir).code == 0);
    CHECK(host({"--version"}, dir).code == 0);
    CHECK(host({"--plugins-dir", fs::path(plugin).parent_path().string(), "plugins"}, dir).code == 0);
    CHECK(host({"--plugins-dir", fs::path(plugin).parent_path().string(), "plugins", "--json"}, dir).code == 0);
    CHECK(host({"describe", plugin}, dir).code == 0);
    CHECK(host({"describe", plugin, "--json"}, dir).code == 0);
    for (const auto &src : token_sources(dir, sim.base_url(), rel::kToken)) {
        CAPTURE(src.first);
        CHECK(with_source({"check", plugin}, src, dir).code == 0);
        CHECK(with_source({"check", plugin, "--json"}, src, dir).code == 0);
        CHECK(with_source({"sync", plugin, "--out", (dir / "org.json").string()}, src, dir).code == 0);
        CHECK(with_source({"sync", plugin, "--out", (dir / "org.ndjson").string()}, src, dir).code == 0);
        CHECK(with_source({"sync", plugin, "--format", "table"}, src, dir).code == 0);
        CHECK(with_source({"sync", plugin, "--format", "ndjson"}, src, dir).code == 0);
        CHECK(with_source({"create-account", plugin, "--email", "tok.test@example.com", "--profile", "display_name=Tok Test"}, src, dir).code == 0);
        CHECK(with_source({"grant", plugin, "--entitlement", ent, "--principal", "user:" + uid}, src, dir).code == 0);
        CHECK(with_source({"revoke", plugin, "--entitlement", ent, "--principal", "user:" + uid}, src, dir).code == 0);
        CHECK(with_source({"delete", plugin, "--resource", "user:" + sim.find_user("tok.test@example.com")}, src, dir).code == 0);
        // Failures after a good config: unknown entitlement / principal, a bad account field, a usage error.
        CHECK(with_source({"grant", plugin, "--entitlement", "group:nope:member", "--principal", "user:" + uid}, src, dir).code == 5);
        CHECK(with_source({"create-account", plugin, "--email", "not-an-email", "--profile", "display_name=X"}, src, dir).code != 0);
        CHECK(with_source({"grant", plugin, "--entitlement", ent, "--principal", "no-colon"}, src, dir).code == 2);
        CHECK(with_source({"sync", plugin, "--no-such-flag"}, src, dir).code == 2);
    }
    scan_dir(dir.path());
    CHECK(scanned().hits == 0);
}

TEST_CASE("bad token, bad URLs, bad config values, unreachable host, TLS failure") {
    rel::TempDir dir;
    scim_sim::Server sim(sim_options());
    sim.start();
    // A wrong token that CONTAINS the distinctive one: any echo of it is a hit.
    for (const auto &src : token_sources(dir, sim.base_url(), rel::kToken + "-but-wrong")) {
        CAPTURE(src.first);
        CHECK(with_source({"check", plugin}, src, dir).code == 4);
        CHECK(with_source({"sync", plugin, "--out", (dir / "x.json").string()}, src, dir).code == 4);
        CHECK(with_source({"grant", plugin, "--entitlement", "group:g:member", "--principal", "user:u"}, src, dir).code == 4);
    }
    CHECK_FALSE(fs::exists(dir / "x.json"));
    const auto good = token_sources(dir, sim.base_url(), rel::kToken);
    const std::vector<std::string> bad_urls{"not a url", "ftp://127.0.0.1/scim", "http://scim.example.com/scim/v2", "https://", "",
                                            "http://user:" + rel::kToken + "@127.0.0.1:1/scim"};
    for (const std::string &url : bad_urls) {
        for (const auto &src : good) {
            auto r = with_source({"check", plugin}, src, dir, {"--set", "scim-url=" + url});
            CHECK_MESSAGE((r.code == 3 || r.code == 7), url << " -> " << r.code);
        }
    }
    for (const std::string bad : {"page-size=0", "page-size=abc", "page-size=99999999999999999999", "concurrency=1000",
                                  "connect-timeout-ms=-1", "request-timeout-ms=1e9", "retry-budget-ms=x",
                                  "max-response-mb=0", "ca-file=/nonexistent/ca.pem", "insecure=true", "verify-tls=false"})
        for (const auto &src : good) CHECK_MESSAGE(with_source({"check", plugin}, src, dir, {"--set", bad}).code == 3, bad);
    const std::string unreachable = "http://127.0.0.1:" + std::to_string(rel::closed_port()) + "/scim/v2";
    for (const auto &src : good) {
        CHECK(with_source({"check", plugin}, src, dir, {"--set", "scim-url=" + unreachable, "--set", "retry-budget-ms=200"}).code == 7);
        CHECK(with_source({"sync", plugin}, src, dir, {"--set", "scim-url=" + unreachable, "--set", "retry-budget-ms=200"}).code == 7);
    }
    // TLS: the simulator over HTTPS with a throwaway CA, no ca-file.
    fs::create_directories(dir / "ca");
    const rel::TestCa ca = rel::make_test_ca(dir / "ca");
    auto o = sim_options();
    o.tls_cert = ca.server_cert.string();
    o.tls_key = ca.server_key.string();
    scim_sim::Server tls(o);
    tls.start();
    for (const auto &src : token_sources(dir, tls.base_url(), rel::kToken)) {
        auto r = with_source({"check", plugin}, src, dir, {"--set", "retry-budget-ms=200"});
        CHECK(r.code == 3);
        CHECK(r.err.find("TLS") != std::string::npos);
        CHECK(with_source({"sync", plugin}, src, dir, {"--set", "retry-budget-ms=200"}).code == 3);
        CHECK(with_source({"check", plugin}, src, dir, {"--set", "ca-file=" + ca.ca_cert.string()}).code == 0);
    }
    scan_dir(dir.path());
    CHECK(scanned().hits == 0);
}

TEST_CASE("each 4xx/5xx, from a server that echoes the token in bodies and headers") {
    rel::TempDir dir;
    for (int status : {400, 401, 403, 404, 409, 412, 413, 429, 500, 502, 503, 504}) {
        CAPTURE(status);
        rel::ScriptServer server([&](const rel::Req &req) {
            rel::Reply r;
            r.status = status;
            // The worst server: the Authorization header it received, echoed everywhere it can.
            const std::string echo = "you sent " + req.authorization;
            r.body = status == 502 ? "<html><body>Bad gateway: " + echo + "</body></html>" : scim_error(status, echo);
            if (status == 502) r.content_type = "text/html";
            r.headers.push_back({"WWW-Authenticate", "Bearer error=\"invalid_token\", token=\"" + req.authorization + "\""});
            r.headers.push_back({"X-Echo", echo});
            if (status == 429) r.headers.push_back({"Retry-After", "0"});
            return r;
        });
        for (const auto &src : token_sources(dir, server.url(), rel::kToken)) {
            CAPTURE(src.first);
            const std::vector<std::string> budget{"--set", "retry-budget-ms=200"};
            CHECK(with_source({"check", plugin}, src, dir, budget).code != 0);
            CHECK(with_source({"sync", plugin, "--out", (dir / "s.json").string()}, src, dir, budget).code != 0);
            CHECK(with_source({"grant", plugin, "--entitlement", "group:g:member", "--principal", "user:u"}, src, dir, budget).code != 0);
            CHECK(with_source({"revoke", plugin, "--entitlement", "group:g:member", "--principal", "user:u"}, src, dir, budget).code != 0);
            with_source({"create-account", plugin, "--email", "e@example.com", "--profile", "display_name=E F"}, src, dir, budget);
            with_source({"delete", plugin, "--resource", "user:u"}, src, dir, budget);
        }
        // The same through the ABI: error texts and log lines.
        rel::Instance in;
        conn_error err{};
        REQUIRE(in.create({{"scim-url", server.url()}, {"scim-token", rel::kToken}, {"retry-budget-ms", "200"}}, err) == CONN_OK);
        conn_check_result res{};
        CHECK(rel::check(in, res, err) != CONN_OK);
        CHECK(rel::sync(in).status != CONN_OK);
        CHECK(rel::grant(in, "group:g:member", "user", "u").status != CONN_OK);
        rel::revoke(in, "group:g:member", "user", "u");
        rel::create_account(in, {{"email", "e@example.com"}, {"display_name", "E F"}});
        rel::delete_resource(in, "user", "u");
        const std::string texts = in.texts().all();
        scan(texts);
        CHECK(rel::count_hits(texts, rel::kToken) + rel::count_hits(texts, kFragment) == 0);
        CHECK(server.requests().size() > 0);
        CHECK(server.requests().front().authorization == "Bearer " + rel::kToken);
    }
    CHECK_FALSE(fs::exists(dir / "s.json"));
    scan_dir(dir.path());
    CHECK(scanned().hits == 0);
}

TEST_CASE("cancellation: --timeout, SIGINT and SIGTERM while the server hangs") {
    rel::TempDir dir;
    rel::ScriptServer server([](const rel::Req &) {
        rel::Reply r;
        r.delay_ms = 20000;
        r.body = R"({"totalResults":0,"Resources":[]})";
        return r;
    });
    const auto srcs = token_sources(dir, server.url(), rel::kToken);
    for (const auto &src : srcs) {
        CAPTURE(src.first);
        CHECK(with_source({"--timeout", "1", "sync", plugin, "--out", (dir / "t.json").string()}, src, dir).code == 13);
        CHECK(with_source({"--timeout", "1", "check", plugin}, src, dir).code == 13);
    }
    for (int sig : {SIGINT, SIGTERM}) {
        std::vector<std::string> argv{CONNECTOR_HOST_PATH, "--log-level", "trace", "sync", plugin, "--out", (dir / "t.json").string()};
        rel::Child c(argv, dir.path(), env_with({{"SCIM_URL", server.url()}, {"SCIM_TOKEN", rel::kToken}}));
        std::this_thread::sleep_for(std::chrono::milliseconds(700));
        c.signal(sig);
        auto r = c.wait(std::chrono::seconds(30));
        CHECK(r.code == 130);
        scan(r.out);
        scan(r.err);
    }
    // ... and through the ABI: a cancelled sync.
    rel::Instance in;
    conn_error err{};
    REQUIRE(in.create({{"scim-url", server.url()}, {"scim-token", rel::kToken}}, err) == CONN_OK);
    std::atomic<bool> cancel{false};
    std::thread canceller([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        cancel = true;
    });
    const auto run = rel::sync(in, rel::Controls{&cancel});
    canceller.join();
    CHECK(run.status == CONN_ERR_CANCELLED);
    scan(in.texts().all());
    CHECK_FALSE(fs::exists(dir / "t.json"));
    scan_dir(dir.path());
    CHECK(scanned().hits == 0);
}

TEST_CASE("token scan summary") {
    MESSAGE("token hygiene: " << scanned().runs << " connector-host runs, " << scanned().bytes << " bytes scanned, "
                              << scanned().hits << " hits");
    if (scanned().runs > 0) CHECK(scanned().bytes > 10000);  // the scan saw real output (run as a suite)
    CHECK(scanned().hits == 0);
}

}  // TEST_SUITE
