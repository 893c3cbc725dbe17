// Error mapping, retries, Retry-After, bad token, unreachable host, redirects, size cap, config refusals and
// the ABI's argument and state rules, all through the real plugin.
#include <doctest/doctest.h>
#include <scim_sim/server.hpp>

#include <chrono>
#include <cstring>
#include <set>

#include "plugin_harness.hpp"

using namespace harness;

namespace {

ScriptedServer::Reply status_reply(int status, std::string body = {}, std::string type = "application/scim+json") {
    ScriptedServer::Reply r;
    r.status = status;
    r.body = std::move(body);
    r.content_type = std::move(type);
    return r;
}

const char *kUsersPage = R"({"totalResults":3,"Resources":[{"id":"u1","userName":"a@example.com"}]})";

}  // namespace

TEST_CASE("descriptor and entry") {
    auto &p = Plugin::get();
    const conn_descriptor *d = p.v->describe();
    REQUIRE(d != nullptr);
    CHECK(std::string(d->id) == "claude-enterprise");
    CHECK(std::string(d->name) == "Claude Enterprise");
    CHECK(std::string(d->version) == "0.1.0");
    CHECK(d->abi_major == 1u);
    CHECK(d->capabilities == (CONN_CAP_CHECK | CONN_CAP_SYNC | CONN_CAP_CREATE_ACCOUNT | CONN_CAP_DELETE |
                              CONN_CAP_GRANT | CONN_CAP_REVOKE | CONN_CAP_CHECKPOINT));
    REQUIRE(d->resource_type_count == 5);
    CHECK(std::string(d->resource_types[0]->id) == "user");
    CHECK(d->resource_types[0]->traits == CONN_TRAIT_USER);
    CHECK(d->resource_types[0]->capabilities == (CONN_RT_SYNC | CONN_RT_CREATE | CONN_RT_DELETE));
    CHECK(std::string(d->resource_types[1]->id) == "group");
    CHECK(d->resource_types[1]->capabilities == CONN_RT_SYNC);
    REQUIRE(d->resource_types[1]->entitlement_type_count == 1);
    const auto *et = d->resource_types[1]->entitlement_types[0];
    CHECK(std::string(et->slug) == "member");
    CHECK(et->purpose == CONN_PURPOSE_ASSIGNMENT);
    CHECK(et->flags == (CONN_ENT_GRANTABLE | CONN_ENT_REVOCABLE));
    REQUIRE(et->grantable_to_count == 1);
    CHECK(std::string(et->grantable_to[0]) == "user");
    // The Admin API's types: roles held by groups and organisation roles held by users (read-only), invites.
    CHECK(std::string(d->resource_types[2]->id) == "role");
    CHECK(d->resource_types[2]->traits == CONN_TRAIT_ROLE);
    REQUIRE(d->resource_types[2]->entitlement_type_count == 1);
    CHECK(std::string(d->resource_types[2]->entitlement_types[0]->slug) == "assigned");
    CHECK(d->resource_types[2]->entitlement_types[0]->flags == 0u);
    CHECK(std::string(d->resource_types[2]->entitlement_types[0]->grantable_to[0]) == "group");
    CHECK(std::string(d->resource_types[3]->id) == "org_role");
    CHECK(std::string(d->resource_types[3]->entitlement_types[0]->grantable_to[0]) == "user");
    CHECK(std::string(d->resource_types[4]->id) == "invite");
    CHECK(d->resource_types[3]->entitlement_types[0]->flags == (CONN_ENT_GRANTABLE | CONN_ENT_REVOCABLE));
    CHECK(d->resource_types[4]->capabilities == (CONN_RT_SYNC | CONN_RT_DELETE));
    std::map<std::string, const conn_field *> fields;
    for (uint32_t i = 0; i < d->config_field_count; ++i) fields[d->config_fields[i]->name] = d->config_fields[i];
    for (const char *f : {"scim-url", "scim-token", "page-size", "concurrency", "connect-timeout-ms",
                          "request-timeout-ms", "retry-budget-ms", "ca-file", "max-response-mb", "max-member-list-mb", "max-member-kb",
                          "index-memory-kb", "spill-dir", "admin-api-key", "admin-api-url", "admin-api-rate-limit"})
        CHECK_MESSAGE(fields.count(f) == 1, f);
    // Either source may be configured alone: neither is required by itself (the config must name one).
    CHECK(fields.at("scim-token")->flags == CONN_FIELD_SECRET);
    CHECK(fields.at("scim-url")->flags == 0u);
    CHECK(fields.at("admin-api-key")->flags == CONN_FIELD_SECRET);
    CHECK(std::string(fields.at("admin-api-url")->default_value) == "https://api.anthropic.com");
    CHECK(std::string(fields.at("admin-api-rate-limit")->default_value) == "100");
    CHECK(fields.at("scim-url")->type == CONN_FIELD_URL);
    CHECK(std::string(fields.at("page-size")->default_value) == "1000");
    CHECK(std::string(fields.at("concurrency")->default_value) == "16");
    CHECK(fields.at("ca-file")->type == CONN_FIELD_PATH);
    REQUIRE(d->account_field_count == 4);
    CHECK(std::string(d->account_fields[2]->name) == "role");
    CHECK(std::string(d->account_fields[3]->name) == "groups");
    CHECK(std::string(d->account_fields[0]->name) == "email");
    CHECK(d->account_fields[0]->type == CONN_FIELD_EMAIL);
    CHECK(std::string(d->account_fields[1]->name) == "display_name");
    CHECK(p.entry->get_interface("connector.v2") == nullptr);
    CHECK(p.entry->get_interface("") == nullptr);
    CHECK(p.entry->init() == CONN_ERR_INVALID_STATE);  // init twice
}

TEST_CASE("init/deinit state machine") {
    auto &p = Plugin::get();
    p.entry->deinit();
    CHECK(p.entry->get_interface(CONN_IFACE_CONNECTOR_V1) == nullptr);
    auto err = conn::make<conn_error>();
    conn_instance *inst = reinterpret_cast<conn_instance *>(0x1);
    auto cfg = conn::make<conn_config>();
    CHECK(p.v->instance_create(&cfg, nullptr, &inst, &err) == CONN_ERR_INVALID_STATE);
    CHECK(inst == nullptr);
    CHECK(err.status == CONN_ERR_INVALID_STATE);
    auto res = conn::make<conn_check_result>();
    CHECK(p.v->check(nullptr, nullptr, &res, &err) == CONN_ERR_INVALID_STATE);
    REQUIRE(p.entry->init() == CONN_OK);
    CHECK(p.entry->init() == CONN_ERR_INVALID_STATE);
    CHECK(p.entry->get_interface(CONN_IFACE_CONNECTOR_V1) == p.v);
}

TEST_CASE("argument validation: NULLs, short structs, bad strings") {
    auto &p = Plugin::get();
    auto err = conn::make<conn_error>();
    conn_instance *out = nullptr;
    CHECK(p.v->instance_create(nullptr, nullptr, &out, &err) == CONN_ERR_INVALID_ARGUMENT);
    conn_config cfg{};
    cfg.struct_size = 0;  // not even its own size field
    CHECK(p.v->instance_create(&cfg, nullptr, &out, &err) == CONN_ERR_INVALID_ARGUMENT);
    cfg.struct_size = 8;  // an (imaginary) older host without entries: the missing tail reads as zero
    CHECK(p.v->instance_create(&cfg, nullptr, &out, &err) == CONN_ERR_INVALID_CONFIG);
    CHECK(std::string(err.field) == "scim-url");
    cfg.struct_size = sizeof cfg;
    cfg.entry_count = 2;  // entries NULL
    CHECK(p.v->instance_create(&cfg, nullptr, &out, &err) == CONN_ERR_INVALID_ARGUMENT);
    conn_kv bad{conn_str{nullptr, 4}, conn_str{"x", 1}};
    cfg.entries = &bad;
    cfg.entry_count = 1;
    CHECK(p.v->instance_create(&cfg, nullptr, &out, &err) == CONN_ERR_INVALID_ARGUMENT);
    CHECK(p.v->instance_create(&cfg, nullptr, nullptr, &err) == CONN_ERR_INVALID_ARGUMENT);
    CHECK(out == nullptr);
    // An error struct may be NULL.
    CHECK(p.v->instance_create(nullptr, nullptr, &out, nullptr) == CONN_ERR_INVALID_ARGUMENT);

    ScriptedServer srv([](const std::string &, const std::string &, int) { return status_reply(200, kUsersPage); });
    Instance in;
    in.open(config_for(srv.url()));
    auto res = conn::make<conn_check_result>();
    CHECK(p.v->check(nullptr, nullptr, &res, &err) == CONN_ERR_INVALID_ARGUMENT);
    CHECK(p.v->check(in.inst.get(), nullptr, nullptr, &err) == CONN_ERR_INVALID_ARGUMENT);
    conn_call call{};
    call.struct_size = 0;
    CHECK(p.v->check(in.inst.get(), &call, &res, &err) == CONN_ERR_INVALID_ARGUMENT);
    call.struct_size = offsetof(conn_call, is_cancelled);  // an older host's call: no callbacks
    call.is_cancelled = [](void *) -> int32_t { return 1; };  // beyond struct_size: must not be called
    CHECK(p.v->check(in.inst.get(), &call, &res, &err) == CONN_OK);
    CHECK(p.v->sync(in.inst.get(), nullptr, nullptr, nullptr, nullptr, &err) == CONN_ERR_INVALID_ARGUMENT);
    conn_outcome oc = CONN_OUTCOME_NONE;
    CHECK(p.v->delete_resource(in.inst.get(), nullptr, conn_str{nullptr, 3}, conn_str{"x", 1}, &oc, &err) ==
          CONN_ERR_INVALID_ARGUMENT);
    CHECK(p.v->delete_resource(in.inst.get(), nullptr, conn_str{"user", 4}, conn_str{"x", 1}, nullptr, &err) ==
          CONN_ERR_INVALID_ARGUMENT);
    CHECK(p.v->revoke(nullptr, nullptr, conn_str{}, conn_str{}, conn_str{}, &oc, &err) == CONN_ERR_INVALID_ARGUMENT);
    auto opts = conn::make<conn_sync_options>();
    opts.resume_from = conn_str{"tok", 3};
    auto sink = conn::make<conn_sink>();
    // A token this plugin never wrote: refused before any request, naming resume_from.
    CHECK(p.v->sync(in.inst.get(), nullptr, &opts, &sink, nullptr, &err) == CONN_ERR_INVALID_ARGUMENT);
    CHECK(std::string(err.field) == "resume_from");

    // A smaller (older) conn_check_result: only its bytes are written.
    struct {
        conn_check_result r;
        char guard[16];
    } small{};
    std::memset(&small, 0x5a, sizeof small);
    small.r.struct_size = offsetof(conn_check_result, message);
    CHECK(p.v->check(in.inst.get(), nullptr, &small.r, &err) == CONN_OK);
    CHECK(small.r.user_count == 3);
    CHECK(static_cast<unsigned char>(small.r.message[0]) == 0x5a);
    CHECK(static_cast<unsigned char>(small.guard[0]) == 0x5a);
    conn_check_result full{};
    conn_error e2{};
    CHECK(check(in, full, e2) == CONN_OK);
    CHECK(full.user_count == 3);
    CHECK(std::string(full.message).find("3") != std::string::npos);
}

TEST_CASE("config refusals name the field and never the token") {
    Instance a;
    conn_error err{};
    CHECK(a.create({{"scim-url", "http://example.com/scim"}, {"scim-token", kToken}}, err) == CONN_ERR_INVALID_CONFIG);
    CHECK(std::string(err.field) == "scim-url");
    CHECK(std::string(err.message).find("https") != std::string::npos);
    CHECK(a.create({{"scim-url", "https://example.com/scim"}}, err) == CONN_ERR_INVALID_CONFIG);
    CHECK(std::string(err.field) == "scim-token");
    CHECK(a.create(config_for("https://example.com/scim", kToken, {{"page-size", "zero"}}), err) == CONN_ERR_INVALID_CONFIG);
    CHECK(std::string(err.field) == "page-size");
    CHECK(a.create(config_for("https://example.com/scim", kToken, {{"verify-tls", "false"}}), err) == CONN_ERR_INVALID_CONFIG);
    CHECK(std::string(err.field) == "verify-tls");
    // A token smuggled into another field's value is scrubbed from the message.
    CHECK(a.create(config_for("https://example.com/scim", kToken, {{"concurrency", kToken}}), err) == CONN_ERR_INVALID_CONFIG);
    CHECK(std::string(err.field) == "concurrency");
    // Loopback http is accepted with a warning in the log.
    Instance b;
    b.open(config_for("http://127.0.0.1:1/scim/v2"));
    bool warned = false;
    for (auto &[lvl, line] : b.log)
        if (lvl == CONN_LOG_WARN && line.find("plain http") != std::string::npos) warned = true;
    CHECK(warned);
}

TEST_CASE("each HTTP status maps to its status code, with http_status filled") {
    struct Case {
        int http;
        conn_status expected;
    };
    const Case cases[] = {{400, CONN_ERR_INVALID_ARGUMENT}, {401, CONN_ERR_UNAUTHENTICATED},
                          {403, CONN_ERR_PERMISSION_DENIED}, {404, CONN_ERR_NOT_FOUND},
                          {409, CONN_ERR_ALREADY_EXISTS},    {412, CONN_ERR_FAILED_PRECONDITION},
                          {413, CONN_ERR_INVALID_ARGUMENT},  {429, CONN_ERR_RATE_LIMITED},
                          {500, CONN_ERR_TRANSIENT},         {502, CONN_ERR_TRANSIENT},
                          {503, CONN_ERR_TRANSIENT},         {504, CONN_ERR_TRANSIENT}};
    for (const auto &c : cases) {
        CAPTURE(c.http);
        ScriptedServer srv([&c](const std::string &, const std::string &, int) {
            if (c.http == 413 || c.http == 502)  // no SCIM body at all, or an HTML one
                return status_reply(c.http, "<html><body><h1>" + std::to_string(c.http) + "</h1></body></html>", "text/html");
            return status_reply(c.http, R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":")" +
                                            std::to_string(c.http) + R"(","detail":"scripted failure"})");
        });
        Instance in;
        in.open(config_for(srv.url(), kToken, {{"retry-budget-ms", "300"}}));
        conn_check_result res{};
        conn_error err{};
        CHECK(check(in, res, err) == c.expected);
        CHECK(err.status == c.expected);
        CHECK(err.http_status == c.http);
        CHECK(std::strlen(err.message) > 0);
        CHECK(std::string(err.message).find("<html>") == std::string::npos);
        if (c.http == 401) CHECK(std::string(err.message).find("the SCIM token was refused (HTTP 401)") != std::string::npos);
        if (c.http == 404) CHECK(std::string(err.message).find("scripted failure") != std::string::npos);
        const bool transient = c.http == 429 || c.http >= 500;
        if (transient) CHECK(srv.requests() > 1);  // retried within the budget
        else CHECK(srv.requests() == 1);           // never retried
    }
}

TEST_CASE("429 with Retry-After is honoured, then succeeds") {
    ScriptedServer srv([](const std::string &, const std::string &, int nth) {
        if (nth == 0) {
            auto r = status_reply(429, R"({"status":429,"detail":"slow down"})");
            r.headers.emplace_back("Retry-After", "1");
            return r;
        }
        return status_reply(200, kUsersPage);
    });
    Instance in;
    in.open(config_for(srv.url()));
    conn_check_result res{};
    conn_error err{};
    REQUIRE(check(in, res, err) == CONN_OK);
    CHECK(res.user_count == 3);
    auto times = srv.request_times();
    REQUIRE(times.size() == 2);
    // A lower bound only: the plugin must not ask again before Retry-After has passed.
    CHECK(times[1] - times[0] >= std::chrono::milliseconds(950));
}

TEST_CASE("429 past the retry budget: RATE_LIMITED with retry_after_ms from the header (seconds or HTTP date)") {
    for (bool as_date : {false, true}) {
        CAPTURE(as_date);
        ScriptedServer srv([as_date](const std::string &, const std::string &, int) {
            auto r = status_reply(429, "");
            if (as_date) {
                const std::time_t when = std::time(nullptr) + 30;
                char buf[64];
                std::tm tm{};
                gmtime_r(&when, &tm);
                std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
                r.headers.emplace_back("Retry-After", buf);
            } else {
                r.headers.emplace_back("Retry-After", "7");
            }
            return r;
        });
        Instance in;
        in.open(config_for(srv.url(), kToken, {{"retry-budget-ms", "500"}}));
        conn_check_result res{};
        conn_error err{};
        CHECK(check(in, res, err) == CONN_ERR_RATE_LIMITED);
        CHECK(err.http_status == 429);
        if (as_date) {
            CHECK(err.retry_after_ms >= 25000);
            CHECK(err.retry_after_ms <= 31000);
        } else {
            CHECK(err.retry_after_ms == 7000);
        }
        CHECK(srv.requests() == 1);  // waiting 7 s would break the 0.5 s budget: no retry
    }
}

TEST_CASE("check gives up in seconds: it retries for at most 5 s, whatever retry-budget-ms says") {
    // 503 with Retry-After: 2 to every request: attempts at 0, 2 and 4 s fit 5 s; a 30 s budget would make 15.
    ScriptedServer srv([](const std::string &, const std::string &, int) {
        auto r = status_reply(503, R"({"status":503,"detail":"down for maintenance"})");
        r.headers.emplace_back("Retry-After", "2");
        return r;
    });
    Instance in;
    in.open(config_for(srv.url(), kToken, {{"retry-budget-ms", "30000"}}));
    conn_check_result res{};
    conn_error err{};
    CHECK(check(in, res, err) == CONN_ERR_TRANSIENT);
    CHECK(err.http_status == 503);
    CHECK(srv.requests() >= 2);
    CHECK(srv.requests() <= 3);
    // The slow failure is not silent: the retry past 3 s (at 2 s, waiting 2 s more) says why, at warn, once.
    int warned = 0;
    for (auto &[lvl, line] : in.log) {
        if (lvl != CONN_LOG_WARN || line.find("retrying") == std::string::npos) continue;
        CHECK_MESSAGE(line.find(srv.url().substr(7, srv.url().find('/', 7) - 7) + " answers HTTP 503, retrying (attempt 3 in 2 s") !=
                          std::string::npos, line);
        ++warned;
    }
    CHECK(warned == 1);
}

TEST_CASE("malformed JSON on a GET is retried, then reported as transient") {
    ScriptedServer srv([](const std::string &, const std::string &, int nth) {
        return nth < 2 ? status_reply(200, "{\"totalResults\": 3, \"Resour") : status_reply(200, kUsersPage);
    });
    Instance in;
    in.open(config_for(srv.url()));
    conn_check_result res{};
    conn_error err{};
    CHECK(check(in, res, err) == CONN_OK);
    CHECK(srv.requests() == 3);
    ScriptedServer always([](const std::string &, const std::string &, int) { return status_reply(200, "<html>oops</html>", "text/html"); });
    Instance in2;
    in2.open(config_for(always.url(), kToken, {{"retry-budget-ms", "400"}}));
    CHECK(check(in2, res, err) == CONN_ERR_TRANSIENT);
    CHECK(std::string(err.message).find("malformed") != std::string::npos);
}

TEST_CASE("a bad token is UNAUTHENTICATED with an actionable message") {
    scim_sim::Options o;
    o.token = kToken;
    o.seed_users = 5;
    scim_sim::Server sim(o);
    sim.start();
    Instance in;
    in.open(config_for(sim.base_url(), kWrongToken));
    conn_check_result res{};
    conn_error err{};
    CHECK(check(in, res, err) == CONN_ERR_UNAUTHENTICATED);
    CHECK(err.http_status == 401);
    CHECK(std::string(err.message).find("the SCIM token was refused (HTTP 401)") != std::string::npos);
    CHECK(std::string(err.field) == "scim-token");
    auto run = sync(in);
    CHECK(run.status == CONN_ERR_UNAUTHENTICATED);
    auto c = create_account(in, {{"email", "x@example.com"}, {"display_name", "X Y"}});
    CHECK(c.status == CONN_ERR_UNAUTHENTICATED);
}

TEST_CASE("an unreachable URL is TRANSIENT and names the host") {
    const int port = closed_port();
    Instance in;
    in.open(config_for("http://127.0.0.1:" + std::to_string(port) + "/scim/v2", kToken, {{"retry-budget-ms", "300"}}));
    conn_check_result res{};
    conn_error err{};
    CHECK(check(in, res, err) == CONN_ERR_TRANSIENT);
    CHECK(std::string(err.message).find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
    CHECK(err.http_status == 0);
    auto run = sync(in);
    CHECK(run.status == CONN_ERR_TRANSIENT);
}

TEST_CASE("redirects are not followed: the token never goes to another origin") {
    ScriptedServer other([](const std::string &, const std::string &, int) { return status_reply(200, kUsersPage); });
    ScriptedServer srv([&other](const std::string &, const std::string &target, int) {
        auto r = status_reply(302, "");
        r.headers.emplace_back("Location", other.url() + target.substr(8));
        return r;
    });
    Instance in;
    in.open(config_for(srv.url()));
    conn_check_result res{};
    conn_error err{};
    CHECK(check(in, res, err) == CONN_ERR_INVALID_CONFIG);
    CHECK(err.http_status == 302);
    CHECK(std::string(err.field) == "scim-url");
    CHECK(std::string(err.message).find("redirect") != std::string::npos);
    CHECK(other.requests() == 0);
}

TEST_CASE("a response past max-response-mb fails with a clear error") {
    ScriptedServer srv([](const std::string &, const std::string &, int) {
        std::string big = R"({"totalResults":1,"Resources":[{"id":"u1","userName":")" + std::string(1536 * 1024, 'x') + R"("}]})";
        return status_reply(200, big);
    });
    Instance in;
    in.open(config_for(srv.url(), kToken, {{"max-response-mb", "1"}}));
    conn_check_result res{};
    conn_error err{};
    CHECK(check(in, res, err) == CONN_ERR_INVALID_CONFIG);
    CHECK(std::string(err.field) == "max-response-mb");
    CHECK_MESSAGE(std::string(err.message).find("larger than") != std::string::npos, err.message);
    CHECK(srv.requests() == 1);
}

TEST_CASE("a 5xx that recovers within the budget succeeds; the User-Agent and media types are sent") {
    ScriptedServer srv([](const std::string &, const std::string &, int nth) {
        return nth < 2 ? status_reply(503, "") : status_reply(200, kUsersPage);
    });
    Instance in;
    in.open(config_for(srv.url()));
    conn_check_result res{};
    conn_error err{};
    CHECK(check(in, res, err) == CONN_OK);
    CHECK(srv.requests() == 3);
}

TEST_CASE("a member list corrupted in the middle gives no grant: it is read again and only real members count") {
    // The first answer for g1's members has a stray `"}]{,,` inside the second member's id: read as it arrives,
    // it yields a member "u2-cut" before the document breaks. None of it may become a grant; the retry's
    // answer is the truth.
    int member_reads = 0;
    ScriptedServer srv([&member_reads](const std::string &method, const std::string &target, int) {
        if (method != "GET") return status_reply(405);
        if (target.rfind("/scim/v2/Users?", 0) == 0)
            return status_reply(200, R"({"totalResults":3,"Resources":[{"id":"u1","userName":"a@example.com"},)"
                                     R"({"id":"u2-cut-here","userName":"b@example.com"},{"id":"u3","userName":"c@example.com"}]})");
        if (target.rfind("/scim/v2/Groups?", 0) == 0)
            return status_reply(200, R"({"totalResults":1,"Resources":[{"id":"g1","displayName":"G"}]})");
        if (target.rfind("/scim/v2/Groups/g1?", 0) == 0) {
            ++member_reads;
            if (member_reads == 1)
                return status_reply(200, R"({"id":"g1","members":[{"value":"u1","type":"User"},{"value":"u2-cut"}]{,,-here","type":"User"}]})");
            return status_reply(200, R"({"id":"g1","members":[{"value":"u1","type":"User"},{"value":"u2-cut-here","type":"User"}]})");
        }
        return status_reply(404);
    });
    Instance in;
    in.open(config_for(srv.url()));
    auto run = sync(in);
    REQUIRE_MESSAGE(run.status == CONN_OK, run.err.message);
    CHECK(member_reads == 2);
    std::set<std::string> principals;
    for (const auto &g : run.grants) principals.insert(g.principal_id);
    CHECK(principals == std::set<std::string>{"u1", "u2-cut-here"});
    CHECK(run.grants.size() == 2);
    bool group_seen = false;
    for (const auto &r : run.resources)
        if (r.type == "group") {
            group_seen = true;
            CHECK(r.attrs.at("member_count") == "2");
        }
    CHECK(group_seen);
}
