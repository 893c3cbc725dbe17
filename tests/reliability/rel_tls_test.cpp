// TLS and redirects (issue 8, item 3): scim-sim served over HTTPS with a throwaway CA made at test time with the
// `openssl` command; verification fails without the CA (a message naming the TLS problem, no SCIM request ever
// reaches the server), succeeds with ca-file, fails with another CA; no config key turns verification off;
// plain http is refused outside loopback; redirects are never followed and the token never reaches another origin.
#include "rel_support.hpp"

#include <scim_sim/server.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <string>

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

scim_sim::Options https_options(const rel::TestCa &ca) {
    scim_sim::Options o;
    o.token = rel::kToken;
    o.seed = 11;
    o.seed_users = 30;
    o.seed_groups = 4;
    o.seed_members = 40;
    o.tls_cert = ca.server_cert.string();
    o.tls_key = ca.server_key.string();
    return o;
}

}  // namespace

TEST_SUITE("tls") {

TEST_CASE("HTTPS with a throwaway CA: refused without it, exact with ca-file, refused with another CA") {
    rel::TempDir dir;
    const rel::TestCa ca = rel::make_test_ca(dir.path());
    scim_sim::Server sim(https_options(ca));
    sim.start();
    REQUIRE(sim.base_url().rfind("https://127.0.0.1:", 0) == 0);

    SUBCASE("no ca-file: the system store does not know the CA") {
        rel::Instance in;
        conn_error err{};
        REQUIRE(in.create({{"scim-url", sim.base_url()}, {"scim-token", rel::kToken}, {"retry-budget-ms", "500"}}, err) == CONN_OK);
        conn_check_result res{};
        const conn_status st = rel::check(in, res, err);
        MESSAGE("check without the CA: status " << st << ", field '" << err.field << "', message: " << err.message);
        CHECK((st == CONN_ERR_INVALID_CONFIG || st == CONN_ERR_TRANSIENT));
        const std::string msg = lower(err.message);
        CHECK((msg.find("tls") != std::string::npos || msg.find("ssl") != std::string::npos));
        CHECK(msg.find("certificate") != std::string::npos);
        const rel::SyncRun run = rel::sync(in);
        CHECK(run.status == st);
        CHECK(run.resources.empty());
        CHECK(lower(run.err.message).find("certificate") != std::string::npos);
        // The handshake failed, so no request (and no token) ever reached the SCIM surface.
        CHECK(sim.stats().total_requests == 0);
        CHECK(rel::count_hits(in.texts().all(), rel::kToken) == 0);
    }
    SUBCASE("ca-file names the throwaway CA: check works and the sync equals the truth") {
        rel::Instance in;
        conn_error err{};
        REQUIRE(in.create({{"scim-url", sim.base_url()}, {"scim-token", rel::kToken}, {"ca-file", ca.ca_cert.string()}}, err) == CONN_OK);
        conn_check_result res{};
        REQUIRE_MESSAGE(rel::check(in, res, err) == CONN_OK, err.message);
        CHECK(res.user_count == static_cast<int64_t>(sim.user_count()));
        const rel::SyncRun run = rel::sync(in);
        REQUIRE_MESSAGE(run.status == CONN_OK, run.err.message);
        const auto diff = rel::diff_sync_truth(run, rel::parse_truth(sim.state_json()));
        for (const auto &d : diff) MESSAGE(d);
        CHECK(diff.empty());
        CHECK(run.resources.size() == sim.user_count() + sim.group_count());
    }
    SUBCASE("ca-file names another CA: refused like no CA at all") {
        rel::Instance in;
        conn_error err{};
        REQUIRE(in.create({{"scim-url", sim.base_url()}, {"scim-token", rel::kToken}, {"ca-file", ca.other_ca_cert.string()},
                           {"retry-budget-ms", "500"}}, err) == CONN_OK);
        conn_check_result res{};
        const conn_status st = rel::check(in, res, err);
        CHECK(st != CONN_OK);
        CHECK(lower(err.message).find("certificate") != std::string::npos);
        CHECK(sim.stats().total_requests == 0);
    }
    SUBCASE("a ca-file that is not a certificate is refused, never treated as 'no verification'") {
        rel::spit(dir / "junk.pem", "this is not a certificate\n");
        rel::Instance in;
        conn_error err{};
        conn_status st = in.create({{"scim-url", sim.base_url()}, {"scim-token", rel::kToken}, {"ca-file", (dir / "junk.pem").string()},
                                    {"retry-budget-ms", "500"}}, err);
        if (st == CONN_OK) {
            conn_check_result res{};
            st = rel::check(in, res, err);
        }
        MESSAGE("junk ca-file: status " << st << ": " << err.message);
        CHECK(st != CONN_OK);
        CHECK(sim.stats().total_requests == 0);
        rel::Instance missing;
        CHECK(missing.create({{"scim-url", sim.base_url()}, {"scim-token", rel::kToken}, {"ca-file", (dir / "nope.pem").string()}}, err) ==
              CONN_ERR_INVALID_CONFIG);
        CHECK(std::string(err.field) == "ca-file");
    }
}

TEST_CASE("hostname verification: a certificate from the right CA for another name is refused") {
    rel::TempDir dir;
    const rel::TestCa ca = rel::make_test_ca(dir.path());
    scim_sim::Options o = https_options(ca);
    o.tls_cert = ca.wrong_name_cert.string();
    o.tls_key = ca.wrong_name_key.string();
    scim_sim::Server sim(o);
    sim.start();
    rel::Instance in;
    conn_error err{};
    REQUIRE(in.create({{"scim-url", sim.base_url()}, {"scim-token", rel::kToken}, {"ca-file", ca.ca_cert.string()},
                       {"retry-budget-ms", "500"}}, err) == CONN_OK);
    conn_check_result res{};
    const conn_status st = rel::check(in, res, err);
    MESSAGE("wrong name: status " << st << ": " << err.message);
    CHECK(st != CONN_OK);
    const std::string msg = lower(err.message);
    CHECK((msg.find("tls") != std::string::npos || msg.find("ssl") != std::string::npos));
    CHECK(rel::sync(in).status != CONN_OK);
    CHECK(sim.stats().total_requests == 0);
}

TEST_CASE("no config key turns verification off, and plain http is refused outside loopback") {
    const char *keys[] = {"insecure", "verify-tls", "tls-verify", "verify-ssl", "ssl-verify", "skip-tls-verify",
                          "insecure-skip-verify", "tls-insecure", "no-verify", "verify", "ssl-verify-peer",
                          "ssl_verify_peer", "CURLOPT_SSL_VERIFYPEER", "verify-host", "allow-insecure", "INSECURE"};
    for (const char *key : keys)
        for (const char *value : {"true", "false", "0", "1"}) {
            rel::Instance in;
            conn_error err{};
            const conn_status st = in.create({{"scim-url", "https://scim.example.com/scim/v2"}, {"scim-token", rel::kToken}, {key, value}}, err);
            CHECK_MESSAGE(st == CONN_ERR_INVALID_CONFIG, key << "=" << value << " was accepted");
            CHECK(std::string(err.field) == key);
        }
    // The descriptor declares no such field either.
    const conn_descriptor *d = rel::plugin().describe();
    for (uint32_t i = 0; i < d->config_field_count; ++i) {
        const std::string name = lower(d->config_fields[i]->name);
        CHECK_MESSAGE(name.find("insecure") == std::string::npos, name);
        CHECK_MESSAGE(name.find("verify") == std::string::npos, name);
    }
    for (const char *url : {"http://scim.example.com/scim/v2", "http://10.0.0.1/scim/v2", "http://127.0.0.1.nip.io/scim",
                            "ftp://127.0.0.1/scim", "file:///etc/passwd", "gopher://127.0.0.1/"}) {
        rel::Instance in;
        conn_error err{};
        CHECK_MESSAGE(in.create({{"scim-url", url}, {"scim-token", rel::kToken}}, err) == CONN_ERR_INVALID_CONFIG, url);
        CHECK(std::string(err.field) == "scim-url");
        CHECK(rel::count_hits(in.texts().all(), rel::kToken) == 0);
    }
}

TEST_CASE("redirects are not followed; the token never reaches another origin") {
    rel::ScriptServer other([](const rel::Req &) {
        rel::Reply r;
        r.body = R"({"totalResults":0,"Resources":[]})";
        return r;
    });
    for (int code : {301, 302, 303, 307, 308}) {
        CAPTURE(code);
        rel::ScriptServer redirector([&](const rel::Req &req) {
            rel::Reply r;
            r.status = code;
            r.headers.push_back({"Location", other.origin() + req.target});
            r.body = "moved";
            r.content_type = "text/plain";
            return r;
        });
        rel::Instance in;
        conn_error err{};
        REQUIRE(in.create({{"scim-url", redirector.url()}, {"scim-token", rel::kToken}, {"retry-budget-ms", "300"}}, err) == CONN_OK);
        conn_check_result res{};
        const conn_status st = rel::check(in, res, err);
        CHECK(st != CONN_OK);
        MESSAGE("check answered " << code << ": status " << st << ": " << err.message);
        CHECK(lower(err.message).find("redirect") != std::string::npos);
        CHECK(rel::sync(in).status != CONN_OK);
        CHECK(rel::grant(in, "group:g1:member", "user", "u1").status != CONN_OK);
        CHECK(rel::revoke(in, "group:g1:member", "user", "u1").status != CONN_OK);
        CHECK(rel::delete_resource(in, "user", "u1").status != CONN_OK);
        CHECK(rel::create_account(in, {{"email", "a@example.com"}, {"display_name", "A B"}}).status != CONN_OK);
        CHECK(redirector.requests().size() >= 6);
        CHECK(rel::count_hits(in.texts().all(), rel::kToken) == 0);
    }
    // Not one request reached the other origin, so it never saw an Authorization header.
    CHECK(other.requests().empty());
    size_t auth_seen = 0;
    for (const auto &r : other.requests()) auth_seen += r.authorization.empty() ? 0 : 1;
    CHECK(auth_seen == 0);
}

}  // TEST_SUITE
