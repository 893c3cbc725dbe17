// scim-sim the executable: start-up line, a request, clean stop on SIGTERM/SIGINT, argument refusals.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <httplib.h>

#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <poll.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#ifndef SCIM_SIM_EXE
#error "SCIM_SIM_EXE must name the scim-sim executable"
#endif

namespace {

const std::string kSecret = "exe-test-token-Zq81";

struct Child {
    pid_t pid = -1;
    int out = -1, err = -1;
    std::string out_text, err_text;

    explicit Child(const std::vector<std::string> &args) {
        int o[2], e[2];
        REQUIRE(::pipe(o) == 0);
        REQUIRE(::pipe(e) == 0);
        pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            ::dup2(o[1], 1);
            ::dup2(e[1], 2);
            ::close(o[0]);
            ::close(e[0]);
            std::vector<char *> argv;
            std::string exe = SCIM_SIM_EXE;
            argv.push_back(exe.data());
            std::vector<std::string> copy = args;
            for (auto &a : copy) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(exe.c_str(), argv.data());
            ::_exit(127);
        }
        ::close(o[1]);
        ::close(e[1]);
        out = o[0];
        err = e[0];
    }

    // Reads stdout until a full line arrives or the child closes it (sanity bound only: 60 s).
    std::string read_line() {
        for (int rounds = 0; rounds < 600; ++rounds) {
            auto nl = out_text.find('\n');
            if (nl != std::string::npos) return out_text.substr(0, nl);
            pollfd p{out, POLLIN, 0};
            if (::poll(&p, 1, 100) > 0) {
                char buf[512];
                ssize_t n = ::read(out, buf, sizeof buf);
                if (n <= 0) return out_text;
                out_text.append(buf, static_cast<size_t>(n));
            }
        }
        return {};
    }

    static std::string drain(int fd) {
        std::string s;
        char buf[4096];
        ssize_t n;
        while ((n = ::read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<size_t>(n));
        return s;
    }

    int wait_exit() {
        int status = 0;
        ::waitpid(pid, &status, 0);
        pid = -1;
        out_text += drain(out);
        err_text = drain(err);
        ::close(out);
        ::close(err);
        if (WIFEXITED(status)) return WEXITSTATUS(status);
        return 128 + WTERMSIG(status);
    }

    ~Child() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    }
};

}  // namespace

TEST_CASE("scim-sim prints LISTENING, serves, and exits 0 on SIGTERM; never prints the token") {
    for (int sig : {SIGTERM, SIGINT}) {
        Child c({"--port", "0", "--token", kSecret, "--seed-users", "25", "--seed-groups", "3", "--seed-members", "30",
                 "--base-path", "/scim/v2"});
        std::string line = c.read_line();
        REQUIRE(line.rfind("LISTENING http://127.0.0.1:", 0) == 0);
        std::string url = line.substr(10);
        REQUIRE(url.size() > 9);
        CHECK(url.substr(url.size() - 8) == "/scim/v2");
        std::string origin = url.substr(0, url.size() - 8);
        httplib::Client cli(origin);
        auto r = cli.Get("/scim/v2/Users?count=5", httplib::Headers{{"Authorization", "Bearer " + kSecret}});
        REQUIRE(r);
        CHECK(r->status == 200);
        CHECK(r->body.find("\"totalResults\":25") != std::string::npos);
        auto st = cli.Get("/_admin/state");
        REQUIRE(st);
        CHECK(st->status == 200);
        cli.stop();
        REQUIRE(::kill(c.pid, sig) == 0);
        CHECK(c.wait_exit() == 0);
        CHECK(c.out_text == line + "\n");  // exactly one line on stdout
        CHECK(c.out_text.find(kSecret) == std::string::npos);
        CHECK(c.err_text.find(kSecret) == std::string::npos);
    }
}

TEST_CASE("scim-sim --token-file and --patch-response") {
    auto dir = std::filesystem::temp_directory_path() / ("scim-sim-exe-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "token") << kSecret << "\n";
    Child c({"--port", "0", "--token-file", (dir / "token").string(), "--patch-response", "200"});
    std::string line = c.read_line();
    REQUIRE(line.rfind("LISTENING http://127.0.0.1:", 0) == 0);
    httplib::Client cli(line.substr(10, line.size() - 10 - 8));
    httplib::Headers auth{{"Authorization", "Bearer " + kSecret}};
    auto g = cli.Post("/scim/v2/Groups", auth, R"({"displayName":"X"})", "application/scim+json");
    REQUIRE(g);
    REQUIRE(g->status == 201);
    auto loc = g->get_header_value("Location");
    auto path = loc.substr(loc.find("/scim/v2"));
    auto p = cli.Patch(path.c_str(), auth, R"({"Operations":[{"op":"replace","path":"displayName","value":"Y"}]})",
                       "application/scim+json");
    REQUIRE(p);
    CHECK(p->status == 200);
    CHECK(p->body.find("\"displayName\":\"Y\"") != std::string::npos);
    cli.stop();
    ::kill(c.pid, SIGTERM);
    CHECK(c.wait_exit() == 0);
    std::filesystem::remove_all(dir);
}

TEST_CASE("scim-sim refuses bad invocations") {
    {
        Child c({"--port", "0"});  // no token
        CHECK(c.wait_exit() != 0);
        CHECK(c.out_text.find("LISTENING") == std::string::npos);
    }
    {
        Child c({"--port", "0", "--token", kSecret, "--bind", "0.0.0.0"});  // non-loopback without --allow-remote
        CHECK(c.wait_exit() != 0);
        CHECK(c.err_text.find("non-loopback") != std::string::npos);
        CHECK(c.err_text.find(kSecret) == std::string::npos);
    }
    {
        Child c({"--port", "0", "--token", kSecret, "--fail-rate", "2"});
        CHECK(c.wait_exit() != 0);
    }
    {
        Child c({"--port", "0", "--token", kSecret, "--patch-response", "201"});
        CHECK(c.wait_exit() != 0);
    }
}

TEST_CASE("scim-sim serves HTTPS with --tls-cert/--tls-key and a seed file") {
    auto dir = std::filesystem::temp_directory_path() / ("scim-sim-exe-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
    std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
                      "-addext subjectAltName=IP:127.0.0.1 -keyout '" + key + "' -out '" + cert + "' >/dev/null 2>&1";
    REQUIRE(std::system(cmd.c_str()) == 0);
    std::ofstream(dir / "org.json") << R"({"users":[{"id":"u1","userName":"one@example.com","givenName":"One","familyName":"User","displayName":"One User","active":true}],"groups":[{"id":"g1","displayName":"G","members":["u1"]}]})";
    Child c({"--port", "0", "--token", kSecret, "--tls-cert", cert, "--tls-key", key, "--seed-file",
             (dir / "org.json").string(), "--base-path", "/v2/opaque-key"});
    std::string line = c.read_line();
    REQUIRE(line.rfind("LISTENING https://127.0.0.1:", 0) == 0);
    CHECK(line.substr(line.size() - 14) == "/v2/opaque-key");
    auto port = std::stoi(line.substr(std::string("LISTENING https://127.0.0.1:").size()));
    httplib::SSLClient cli("127.0.0.1", port);
    cli.set_ca_cert_path(cert.c_str());
    cli.enable_server_certificate_verification(true);
    auto r = cli.Get("/v2/opaque-key/Groups/g1", httplib::Headers{{"Authorization", "Bearer " + kSecret}});
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body.find("\"u1\"") != std::string::npos);
    cli.stop();
    ::kill(c.pid, SIGTERM);
    CHECK(c.wait_exit() == 0);
    std::filesystem::remove_all(dir);
}

TEST_CASE("scim-sim --admin-key-file: the Admin API at the server's origin; LISTENING unchanged; key never printed") {
    const std::string key = "sk-ant-api01-exe-admin-Kq7";
    auto dir = std::filesystem::temp_directory_path() / ("scim-sim-exe-admin-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "key") << key << "\n";
    Child c({"--port", "0", "--token", kSecret, "--admin-key-file", (dir / "key").string(), "--seed-users", "300",
             "--seed-groups", "10", "--seed-members", "900", "--seed-direct-users", "20", "--seed-direct-groups", "3",
             "--seed-roles", "4", "--seed-invites", "9", "--admin-rate-limit", "3", "--admin-legacy"});
    std::string line = c.read_line();
    REQUIRE(line.rfind("LISTENING http://127.0.0.1:", 0) == 0);
    CHECK(line.substr(line.size() - 8) == "/scim/v2");
    httplib::Client cli(line.substr(10, line.size() - 10 - 8));
    httplib::Headers h{{"x-api-key", key}, {"anthropic-version", "2023-06-01"}};
    auto r = cli.Get("/v1/organizations/users?limit=5", h);
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body.find("\"has_more\":true") != std::string::npos);
    auto legacy = cli.Get("/v1/organizations/rbac_groups", h);  // --admin-legacy: no beta header, 404
    REQUIRE(legacy);
    CHECK(legacy->status == 404);
    cli.Get("/v1/organizations/users", h);
    auto limited = cli.Get("/v1/organizations/users", h);  // --admin-rate-limit 3
    REQUIRE(limited);
    CHECK(limited->status == 429);
    CHECK(limited->has_header("retry-after"));
    auto st = cli.Get("/_admin/state");
    REQUIRE(st);
    CHECK(st->body.find("\"members\":[") != std::string::npos);
    cli.stop();
    ::kill(c.pid, SIGTERM);
    CHECK(c.wait_exit() == 0);
    CHECK(c.out_text == line + "\n");
    CHECK(c.err_text.find("900 memberships") != std::string::npos);  // --seed-members is exact
    CHECK(c.out_text.find(key) == std::string::npos);
    CHECK(c.err_text.find(key) == std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST_CASE("scim-sim refuses bad Admin API invocations and memberships that cannot fit") {
    auto refused = [](std::vector<std::string> args, const char *says) {
        args.insert(args.begin(), {"--port", "0", "--token", kSecret});
        Child c(args);
        CHECK(c.wait_exit() != 0);
        CHECK(c.out_text.find("LISTENING") == std::string::npos);
        CHECK(c.err_text.find(says) != std::string::npos);
    };
    refused({"--seed-users", "10", "--seed-groups", "2", "--seed-members", "21"}, "cannot fit");
    refused({"--seed-direct-users", "5"}, "--admin-key");
    refused({"--admin-key", "k", "--admin-role-ids-null", "2"}, "admin-role-ids-null");
    refused({"--admin-key", "k", "--admin-scopes", "read:members,read:all"}, "unknown admin scope");
    refused({"--admin-key", "k", "--admin-key-file", "/nonexistent"}, "excludes");
}
