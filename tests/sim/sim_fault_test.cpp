// scim-sim: fault injection (each flag), drift, concurrency, TLS.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "sim_test_util.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <barrier>
#include <ctime>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <thread>
#include <unistd.h>

using namespace simtest;

namespace {
scim_sim::Options seeded(size_t users, uint64_t seed = 11) {
    auto o = options();
    o.seed_users = users;
    o.seed_groups = 2;
    o.seed_members = users;
    o.seed = seed;
    return o;
}

// Runs n requests at once (released together) from n clients; returns the responses.
std::vector<Response> concurrent_gets(const scim_sim::Server &s, size_t n, const std::string &path) {
    std::vector<Response> out(n);
    std::barrier sync(static_cast<std::ptrdiff_t>(n));
    std::vector<std::thread> threads;
    for (size_t i = 0; i < n; ++i) {
        threads.emplace_back([&, i] {
            Client c(s);
            sync.arrive_and_wait();
            out[i] = c.get(path);
        });
    }
    for (auto &t : threads) t.join();
    return out;
}
}  // namespace

TEST_CASE("fail-rate 1.0: every SCIM request gets 503 with a SCIM error; admin is unaffected") {
    auto o = seeded(5);
    o.fail_rate = 1.0;
    scim_sim::Server s(o);
    s.start();
    Client c(s);
    for (const char *p : {"/Users", "/Groups", "/ServiceProviderConfig", "/Users/x"}) {
        auto r = c.get(p);
        CHECK(r.status == 503);
        CHECK(str(r.json(), "status") == "503");
    }
    CHECK(c.post("/Users", user_body("f@example.com")).status == 503);
    CHECK(s.user_count() == 5);
    CHECK(c.admin_get("state").status == 200);
    CHECK(s.stats().faults["fail"] == 5);
}

TEST_CASE("fail-rate 0.5: deterministic sequence for a given seed") {
    auto run = [](uint64_t seed) {
        auto o = seeded(5, seed);
        o.fail_rate = 0.5;
        scim_sim::Server s(o);
        s.start();
        Client c(s);
        std::string seq;
        for (int i = 0; i < 40; ++i) seq += c.get("/Users?count=1").status == 503 ? 'F' : '.';
        return seq;
    };
    auto a = run(3), b = run(3), other = run(4);
    CHECK(a == b);
    CHECK(a != other);
    CHECK(a.find('F') != std::string::npos);
    CHECK(a.find('.') != std::string::npos);
}

TEST_CASE("rate-limit: excess requests get 429 with Retry-After and a SCIM error") {
    auto o = seeded(5);
    o.rate_limit = 2;
    scim_sim::Server s(o);
    s.start();
    Client c(s);
    CHECK(c.get("/Users").status == 200);  // the bucket starts full
    int limited = 0, ok = 0;
    for (int i = 0; i < 30; ++i) {
        auto r = c.get("/Users?count=1");
        if (r.status == 429) {
            ++limited;
            CHECK(r.header("Retry-After") == "1");
            CHECK(str(r.json(), "status") == "429");
        } else {
            CHECK(r.status == 200);
            ++ok;
        }
    }
    CHECK(limited > 0);
    CHECK(s.stats().faults["rate_limit"] == static_cast<uint64_t>(limited));
    CHECK(c.admin_get("stats").status == 200);  // admin is never limited
}

TEST_CASE("drop-rate 1.0: headers announce the full length, the body stops halfway, the connection closes") {
    auto o = seeded(20);
    o.drop_rate = 1.0;
    scim_sim::Server s(o);
    s.start();
    // raw socket: read everything until EOF and compare with Content-Length
    httplib::Client probe(origin(s));
    auto r = probe.Get("/scim/v2/Users", httplib::Headers{{"Authorization", "Bearer " + kToken}});
    CHECK(!r);  // httplib reports a read error
    Client c(s);
    CHECK(c.get("/Groups").status == 0);
    CHECK(c.get("/Users/nope").status == 404);  // error answers are not dropped
    CHECK(s.stats().faults["drop"] == 2);

    // with a plain socket, see the truncated body
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(s.port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0);
    std::string req = "GET /scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + kToken + "\r\n\r\n";
    REQUIRE(::write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size()));
    std::string got;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
    ::close(fd);
    auto hdr_end = got.find("\r\n\r\n");
    REQUIRE(hdr_end != std::string::npos);
    auto cl = got.find("Content-Length: ");
    REQUIRE(cl != std::string::npos);
    size_t announced = std::stoul(got.substr(cl + 16));
    size_t body = got.size() - hdr_end - 4;
    CHECK(body < announced);
    CHECK(body > 0);
}

TEST_CASE("garbage-rate 1.0: 200 with a body that is not valid JSON") {
    auto o = seeded(20);
    o.garbage_rate = 1.0;
    scim_sim::Server s(o);
    s.start();
    Client c(s);
    for (int i = 0; i < 12; ++i) {
        auto r = c.get("/Users?count=" + std::to_string(i + 1));
        CHECK(r.status == 200);
        CHECK(!is_json(r.body));
    }
    CHECK(is_json(c.get("/Users/nope").body));  // errors stay well-formed
    CHECK(s.stats().faults["garbage"] == 12);
}

TEST_CASE("latency: 64 concurrent delayed requests all succeed and overlap") {
    auto o = seeded(10);
    o.latency_ms = 400;
    scim_sim::Server s(o);
    s.start();
    auto rs = concurrent_gets(s, 64, "/Users?count=1");
    for (auto &r : rs) CHECK(r.status == 200);
    auto st = s.stats();
    CHECK(st.faults["latency"] == 64);
    CHECK(st.max_concurrent_seen > 1);  // delayed requests did not run one after another
    MESSAGE("max concurrent requests seen: " << st.max_concurrent_seen);
}

TEST_CASE("max-concurrent: excess concurrent requests are refused with 503 and Retry-After") {
    auto o = seeded(10);
    o.latency_ms = 500;
    o.max_concurrent = 2;
    scim_sim::Server s(o);
    s.start();
    auto rs = concurrent_gets(s, 12, "/Users?count=1");
    int ok = 0, refused = 0;
    for (auto &r : rs) {
        if (r.status == 200) ++ok;
        else {
            CHECK(r.status == 503);
            CHECK(r.header("Retry-After") == "1");
            ++refused;
        }
    }
    CHECK(ok >= 1);
    CHECK(refused >= 1);
    CHECK(s.stats().faults["max_concurrent"] == static_cast<uint64_t>(refused));
}

TEST_CASE("drift: drift-* users appear and disappear while a client pages; seeded users stay intact") {
    auto o = seeded(60, 5);
    o.drift = true;
    scim_sim::Server s(o);
    s.start();
    auto seeded_ids = s.user_ids();
    auto seeded_state = parse(s.state_json());
    Client c(s);
    std::set<std::string> seen_ids, drift_names;
    size_t duplicates = 0;
    int start = 1;
    bool finished = false;
    for (int pages = 0; pages < 200; ++pages) {
        auto d = c.get("/Users?startIndex=" + std::to_string(start) + "&count=7").json();
        auto &res = d["Resources"];
        if (res.Empty()) {
            finished = true;
            break;
        }
        for (auto &u : res.GetArray()) {
            std::string name = u["userName"].GetString();
            if (name.rfind("drift-", 0) == 0) drift_names.insert(name);
            if (!seen_ids.insert(u["id"].GetString()).second) ++duplicates;
        }
        start += static_cast<int>(res.Size());
    }
    CHECK(finished);  // the pager reaches the end despite the drift
    CHECK(!drift_names.empty());
    for (auto &id : seeded_ids) CHECK(seen_ids.count(id) == 1);  // every seeded user was seen
    auto st = s.stats();
    CHECK(st.faults["drift_created"] > 0);
    CHECK(st.faults["drift_deleted"] > 0);
    // the seeded part of the truth is unchanged
    auto now = parse(s.state_json());
    std::set<std::string> now_ids;
    size_t drift_now = 0;
    for (auto &u : now["users"].GetArray()) {
        now_ids.insert(u["id"].GetString());
        drift_now += std::string(u["userName"].GetString()).rfind("drift-", 0) == 0;
    }
    for (auto &id : seeded_ids) CHECK(now_ids.count(id) == 1);
    CHECK(now_ids.size() == seeded_ids.size() + drift_now);
    CHECK(now["groups"] == seeded_state["groups"]);
    MESSAGE("drift users seen: " << drift_names.size() << ", duplicates seen: " << duplicates);
}

TEST_CASE("TLS: HTTPS with a throwaway self-signed certificate") {
    auto dir = std::filesystem::temp_directory_path() / ("scim-sim-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
    std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
                      "-addext subjectAltName=IP:127.0.0.1 -keyout '" + key + "' -out '" + cert + "' >/dev/null 2>&1";
    REQUIRE(std::system(cmd.c_str()) == 0);
    auto o = seeded(5);
    o.tls_cert = cert;
    o.tls_key = key;
    scim_sim::Server s(o);
    s.start();
    CHECK(s.base_url().rfind("https://127.0.0.1:", 0) == 0);
    httplib::SSLClient ssl("127.0.0.1", s.port());
    ssl.set_ca_cert_path(cert.c_str());
    ssl.enable_server_certificate_verification(true);
    auto r = ssl.Get("/scim/v2/Users", httplib::Headers{{"Authorization", "Bearer " + kToken}});
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(parse(r->body)["totalResults"].GetInt() == 5);
    auto unauth = ssl.Get("/scim/v2/Users");
    REQUIRE(unauth);
    CHECK(unauth->status == 401);
    // plain HTTP to the TLS port does not get an answer
    httplib::Client plain(origin(s).replace(0, 5, "http"));
    plain.set_read_timeout(5, 0);
    auto p = plain.Get("/scim/v2/Users");
    CHECK((!p || p->status != 200));
    s.stop();
    // a bad key is refused at start
    auto bad = seeded(1);
    bad.tls_cert = cert;
    bad.tls_key = cert;
    scim_sim::Server sb(bad);
    CHECK_THROWS(sb.start());
    std::filesystem::remove_all(dir);
}

TEST_CASE("lifecycle: stop is idempotent, port is released, keep-alive serves many requests per connection") {
    auto o = seeded(3);
    scim_sim::Server s(o);
    s.start();
    CHECK(s.port() != 0);
    {
        Client c(s);
        c.cli->set_keep_alive(true);
        for (int i = 0; i < 50; ++i) REQUIRE(c.get("/Users?count=1").status == 200);
    }
    s.stop();
    s.stop();
    Client after(s);
    after.cli->set_connection_timeout(2, 0);
    CHECK(after.get("/Users").status == 0);
}

TEST_CASE("concurrent membership changes keep the indexes consistent") {
    auto o = options();
    o.seed_users = 200;
    o.seed_groups = 6;
    o.seed_members = 300;
    o.seed = 21;
    scim_sim::Server s(o);
    s.start();
    auto users = s.user_ids();
    auto groups = s.group_ids();
    std::vector<std::thread> ts;
    std::atomic<int> failures{0};
    for (int t = 0; t < 8; ++t) {
        ts.emplace_back([&, t] {
            Client c(s);
            for (int i = 0; i < 40; ++i) {
                const std::string &g = groups[static_cast<size_t>(t + i) % groups.size()];
                const std::string &u = users[static_cast<size_t>(t * 41 + i * 7) % users.size()];
                std::string body = (i % 3 == 2)
                    ? patch_body(R"([{"op":"remove","path":"members[value eq \")" + u + R"(\"]"}])")
                    : patch_body(R"([{"op":"add","path":"members","value":[{"value":")" + u + R"("}]}])");
                if (c.patch("/Groups/" + g, body).status != 204) ++failures;
                if (i % 5 == 0 && c.get("/Users?count=50&startIndex=" + std::to_string(1 + i)).status != 200) ++failures;
                if (i % 7 == 0 && c.get("/Groups?count=3").status != 200) ++failures;
            }
        });
    }
    for (auto &t : ts) t.join();
    CHECK(failures == 0);
    // the truth, the groups' members and every user's groups agree
    auto st = parse(s.state_json());
    size_t links = 0;
    std::map<std::string, std::set<std::string>> groups_of;
    for (auto &g : st["groups"].GetArray()) {
        links += g["members"].Size();
        for (auto &m : g["members"].GetArray()) groups_of[m.GetString()].insert(g["id"].GetString());
    }
    CHECK(links == s.membership_count());
    Client c(s);
    for (size_t i = 0; i < users.size(); i += 13) {
        auto u = c.get("/Users/" + users[i]).json();
        std::set<std::string> listed;
        for (auto &g : u["groups"].GetArray()) listed.insert(g["value"].GetString());
        CHECK(listed == groups_of[users[i]]);
    }
}

TEST_CASE("admin endpoints refuse clients that are not on loopback") {
    // Find a local non-loopback IPv4 address; without one there is nothing to check here.
    std::string local;
    {
        int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in probe{};
        probe.sin_family = AF_INET;
        probe.sin_port = htons(9);
        ::inet_pton(AF_INET, "192.0.2.1", &probe.sin_addr);  // TEST-NET-1: connect() on UDP sends nothing
        if (::connect(fd, reinterpret_cast<sockaddr *>(&probe), sizeof probe) == 0) {
            sockaddr_in me{};
            socklen_t len = sizeof me;
            if (::getsockname(fd, reinterpret_cast<sockaddr *>(&me), &len) == 0) {
                char buf[INET_ADDRSTRLEN];
                ::inet_ntop(AF_INET, &me.sin_addr, buf, sizeof buf);
                local = buf;
            }
        }
        ::close(fd);
    }
    if (local.empty() || local.rfind("127.", 0) == 0) {
        MESSAGE("no non-loopback IPv4 address on this machine: admin refusal not exercised");
        return;
    }
    auto o = options();
    o.bind = local;  // the library does not refuse (the executable does, without --allow-remote)
    scim_sim::Server s(o);
    s.start();
    httplib::Client c("http://" + local + ":" + std::to_string(s.port()));
    auto r = c.Get("/_admin/state");
    REQUIRE(r);
    CHECK(r->status == 403);
    auto scim = c.Get("/scim/v2/Users", httplib::Headers{{"Authorization", "Bearer " + kToken}});
    REQUIRE(scim);
    CHECK(scim->status == 200);
}

TEST_CASE("rate-limit with Retry-After as an HTTP date") {
    auto o = seeded(3);
    o.rate_limit = 1;
    o.retry_after_http_date = true;
    scim_sim::Server s(o);
    s.start();
    Client c(s);
    std::string retry_after;
    for (int i = 0; i < 20 && retry_after.empty(); ++i) {
        auto r = c.get("/Users?count=1");
        if (r.status == 429) retry_after = r.header("Retry-After");
    }
    REQUIRE(!retry_after.empty());
    // e.g. "Sun, 06 Nov 1994 08:49:37 GMT"
    CHECK(retry_after.size() == 29);
    CHECK(retry_after.substr(retry_after.size() - 4) == " GMT");
    CHECK(retry_after[3] == ',');
    std::tm tm{};
    CHECK(::strptime(retry_after.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm) != nullptr);
}
