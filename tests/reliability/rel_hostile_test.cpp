// Hostile input (issue 8, item 5): a SCIM server written in the test answers with oversized and endless bodies,
// 100k-level nesting, huge strings, invalid UTF-8, control characters, and ids holding `/`, `?`, `%`, `..`, `#`,
// quotes and CR/LF that are then used in grant, revoke and delete. The plugin must give clear errors or escape
// correctly (every request target the server receives is checked), never crash, never loop, never follow a URL
// the server hands it, and never pass invalid UTF-8 through the ABI.
#include "rel_raw_server.hpp"
#include "rel_support.hpp"
#include "support.hpp"  // conformance/src: json_escape

#include <scim_sim/server.hpp>
#include <zlib.h>

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <chrono>
#include <mutex>
#include <thread>
#include <set>
#include <string>
#include <vector>

namespace {

// A JSON string literal (the conformance runner's escaper): quotes, backslashes and C0 controls escaped; every
// other byte passed through as is (so a test can put invalid UTF-8 on the wire on purpose).
std::string jstr(const std::string &s) { return "\"" + conformance::json_escape(s) + "\""; }

std::string list_page(const std::vector<std::string> &objects, const std::string &target) {
    const std::string si = rel::query_param(target, "startIndex");
    const long start = si.empty() ? 1 : std::max(1L, std::atol(si.c_str()));
    std::string body = R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":)" +
                       std::to_string(objects.size()) + R"(,"startIndex":)" + std::to_string(start) + R"(,"Resources":[)";
    for (size_t i = static_cast<size_t>(start - 1); i < objects.size(); ++i) body += (i + 1 == static_cast<size_t>(start) ? "" : ",") + objects[i];
    return body + "]}";
}

std::string path_of(const std::string &target) { return target.substr(0, target.find('?')); }

std::string user_json(const std::string &id, const std::string &user_name, const std::string &display, const std::string &extra = {}) {
    return "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"id\":" + jstr(id) + ",\"userName\":" + jstr(user_name) +
           ",\"displayName\":" + jstr(display) + ",\"active\":true" + extra + "}";
}

// A small SCIM server over raw JSON texts.
struct FakeScim {
    std::vector<std::string> users, groups;                 // list objects
    std::map<std::string, std::vector<std::string>> members;  // group id -> member ids
    std::set<std::string> user_ids, group_ids;
    std::string member_extra;                              // appended to each member object

    rel::Reply handle(const rel::Req &req) const {
        rel::Reply r;
        const std::string p = path_of(req.target);
        const std::string base = "/scim/v2";
        if (p.rfind(base, 0) != 0) return not_found();
        const std::string rest = p.substr(base.size());
        if (req.method == "GET" && rest == "/Users") {
            r.body = list_page(users, req.target);
        } else if (req.method == "GET" && rest == "/Groups") {
            r.body = rel::query_param(req.target, "filter").empty() ? list_page(groups, req.target)
                                                                     : std::string(R"({"totalResults":0,"Resources":[]})");
        } else if (rest.rfind("/Groups/", 0) == 0 && rest.find('/', 8) == std::string::npos) {
            const std::string gid = rel::percent_decode(rest.substr(8));
            if (!group_ids.count(gid)) return not_found();
            if (req.method == "PATCH") {
                r.status = 204;
                r.content_type.clear();
            } else if (req.method == "GET") {
                std::string m = "[";
                auto it = members.find(gid);
                if (it != members.end())
                    for (size_t i = 0; i < it->second.size(); ++i)
                        m += (i ? "," : "") + std::string("{\"value\":") + jstr(it->second[i]) + member_extra + "}";
                r.body = "{\"id\":" + jstr(gid) + ",\"members\":" + m + "]}";
            } else {
                return not_found();
            }
        } else if (rest.rfind("/Users/", 0) == 0 && rest.find('/', 7) == std::string::npos) {
            const std::string uid = rel::percent_decode(rest.substr(7));
            if (!user_ids.count(uid)) return not_found();
            if (req.method == "DELETE") {
                r.status = 204;
                r.content_type.clear();
            } else if (req.method == "GET") {
                r.body = user_json(uid, "x@example.com", "X");
            } else {
                return not_found();
            }
        } else {
            return not_found();
        }
        return r;
    }
    static rel::Reply not_found() {
        rel::Reply r;
        r.status = 404;
        r.body = R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"404","detail":"no such resource"})";
        return r;
    }
};

// Every request reached an allowed path: a collection, or one resource of that collection whose decoded id is
// one the server handed out. Returns the offending targets.
std::vector<std::string> unintended(const std::vector<rel::Req> &reqs, const FakeScim &fake) {
    std::vector<std::string> bad;
    for (const auto &r : reqs) {
        const std::string p = path_of(r.target);
        if (r.target.find('#') != std::string::npos) bad.push_back(r.method + " " + r.target + " (raw #)");
        if (p == "/scim/v2/Users" || p == "/scim/v2/Groups") continue;
        bool ok = false;
        for (const auto &[prefix, ids] : {std::pair{std::string("/scim/v2/Users/"), &fake.user_ids},
                                          std::pair{std::string("/scim/v2/Groups/"), &fake.group_ids}})
            if (p.rfind(prefix, 0) == 0) {
                const std::string seg = p.substr(prefix.size());
                ok = seg.find('/') == std::string::npos && ids->count(rel::percent_decode(seg)) == 1;
            }
        if (!ok) bad.push_back(r.method + " " + r.target);
    }
    return bad;
}

bool all_valid_utf8(const rel::SyncRun &run) {
    auto ok = [](const std::string &s) { return connector_host::is_valid_utf8(s); };
    for (const auto &r : run.resources) {
        if (!ok(r.id) || !ok(r.display_name) || !ok(r.type)) return false;
        for (const auto &[k, v] : r.attrs)
            if (!ok(k) || !ok(v)) return false;
    }
    for (const auto &g : run.grants)
        if (!ok(g.id) || !ok(g.principal_id) || !ok(g.entitlement_id)) return false;
    for (const auto &e : run.entitlements)
        if (!ok(e)) return false;
    for (const auto &[c, m] : run.warnings)
        if (!ok(c) || !ok(m)) return false;
    return ok(run.err.message);
}

rel::Entries cfg(const std::string &url, rel::Entries extra = {}) {
    rel::Entries e{{"scim-url", url}, {"scim-token", rel::kToken}, {"retry-budget-ms", "300"}};
    e.insert(e.end(), extra.begin(), extra.end());
    return e;
}

}  // namespace

TEST_SUITE("hostile") {

TEST_CASE("ids with / ? % .. # quotes and CR/LF: synced exactly, escaped in every request path and body") {
    FakeScim fake;
    const std::vector<std::string> uids = {"a/b", "x?y=1&z=2", "50%", "%2F", "..", ".", "#frag", "../../_admin/state",
                                           "sp ace", "q\"x\\y", "crlf\r\nX-Injected: 1", "plain"};
    const std::vector<std::string> gids = {"g/1", "..", "g?x#y", "g%41", "..%2F..%2Fetc"};
    rel::Truth truth;
    for (size_t i = 0; i < uids.size(); ++i) {
        const std::string name = "user" + std::to_string(i) + "@example.com";
        fake.users.push_back(user_json(uids[i], name, "User " + std::to_string(i)));
        fake.user_ids.insert(uids[i]);
        truth.users[uids[i]] = rel::Truth::User{uids[i], name, "User " + std::to_string(i), true};
    }
    for (size_t i = 0; i < gids.size(); ++i) {
        fake.groups.push_back("{\"id\":" + jstr(gids[i]) + ",\"displayName\":\"Group " + std::to_string(i) + "\"}");
        fake.group_ids.insert(gids[i]);
        std::vector<std::string> m;
        for (size_t j = i; j < uids.size(); j += 2) m.push_back(uids[j]);
        if (i == 0) m.push_back("..");  // ".." is also a group id: a user of that id exists too, so it is a user member
        std::sort(m.begin(), m.end());
        m.erase(std::unique(m.begin(), m.end()), m.end());
        fake.members[gids[i]] = m;
        truth.groups[gids[i]] = rel::Truth::Group{gids[i], "Group " + std::to_string(i), m};
    }
    rel::ScriptServer server([&](const rel::Req &r) { return fake.handle(r); });
    rel::Instance in;
    conn_error err{};
    REQUIRE(in.create(cfg(server.url(), {{"page-size", "3"}}), err) == CONN_OK);
    const rel::SyncRun run = rel::sync(in);
    REQUIRE_MESSAGE(run.status == CONN_OK, run.err.message);
    const auto diff = rel::diff_sync_truth(run, truth);
    for (const auto &d : diff) MESSAGE(d);
    CHECK(diff.empty());

    // Grant, revoke and delete with those ids: each lands on the right resource, with the id intact in the body.
    // An id with control characters may instead be refused as an invalid argument (then nothing is sent).
    auto has_control = [](const std::string &id) {
        return std::any_of(id.begin(), id.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; });
    };
    auto expect_done_or_refused = [&](const rel::OpResult &r, const std::string &what, const std::string &id) {
        if (has_control(id)) {
            CHECK_MESSAGE((r.status == CONN_OK || r.status == CONN_ERR_INVALID_ARGUMENT), what);
            if (r.status != CONN_OK) CHECK(std::string(r.err.message).find("control") != std::string::npos);
            return r.status == CONN_OK;
        }
        CHECK_MESSAGE(r.status == CONN_OK, what << ": " << r.err.message);
        return r.status == CONN_OK;
    };
    const size_t before = server.requests().size();
    size_t want_patches = 0, revokes = 0;
    std::set<std::string> want_deleted;
    for (const auto &gid : gids)
        for (const auto &uid : {uids[0], uids[1], uids[6], uids[9], uids[10]}) {
            const std::string ent = "group:" + gid + ":member";
            const auto g = rel::grant(in, ent, "user", uid);
            if (expect_done_or_refused(g, "grant " + gid + " / " + uid, uid)) {
                ++want_patches;  // an add: this server says "not a member" to the membership filter
                CHECK(g.grant.id == ent + ":user:" + uid);
            }
            // A revoke may be answered "already revoked" from the same filter without any PATCH.
            if (expect_done_or_refused(rel::revoke(in, ent, "user", uid), "revoke " + gid + " / " + uid, uid)) ++revokes;
        }
    for (const auto &uid : uids)
        if (expect_done_or_refused(rel::delete_resource(in, "user", uid), "delete " + uid, uid)) want_deleted.insert(uid);
    const auto reqs = server.requests();
    const auto bad = unintended(reqs, fake);
    for (const auto &b : bad) MESSAGE("unintended request: " << b);
    CHECK(bad.empty());

    size_t patches = 0, removes = 0, deletes = 0;
    std::multiset<std::string> deleted;
    for (size_t i = before; i < reqs.size(); ++i) {
        const auto &r = reqs[i];
        if (r.method == "DELETE") {
            ++deletes;
            deleted.insert(rel::percent_decode(path_of(r.target).substr(std::string("/scim/v2/Users/").size())));
        }
        if (r.method != "PATCH") continue;
        ++patches;
        rapidjson::Document d;
        d.Parse(r.body.c_str(), r.body.size());
        REQUIRE_MESSAGE(!d.HasParseError(), r.method << " " << r.target << " body: '" << r.body << "'");
        const auto &op = d["Operations"][0];
        const std::string kind = op["op"].GetString();
        std::string uid;
        if (kind != "add") ++removes;
        if (kind == "add") {
            uid = op["value"][0]["value"].GetString();
        } else {
            // members[value eq "<uid as a JSON string>"]
            const std::string path = op["path"].GetString();
            REQUIRE(path.rfind("members[value eq ", 0) == 0);
            const std::string lit = path.substr(17, path.size() - 18);
            rapidjson::Document s;
            s.Parse(lit.c_str(), lit.size());
            REQUIRE_MESSAGE(s.IsString(), path);
            uid = s.GetString();
        }
        CHECK_MESSAGE(std::find(uids.begin(), uids.end(), uid) != uids.end(), "PATCH names an unknown member: " << uid);
    }
    CHECK(patches - removes == want_patches);
    CHECK(removes <= revokes);
    CHECK(want_patches >= gids.size() * 4);
    CHECK(deletes >= want_deleted.size());
    for (const auto &uid : want_deleted) CHECK_MESSAGE(deleted.count(uid) >= 1, "no DELETE reached user " << uid);
    for (const auto &uid : deleted) CHECK_MESSAGE(want_deleted.count(uid) == 1, "a DELETE reached user " << uid);
    CHECK(rel::count_hits(in.texts().all(), rel::kToken) == 0);
}

TEST_CASE("URLs handed out by the server (meta.location, $ref, Location) are never followed") {
    rel::ScriptServer elsewhere([](const rel::Req &) { return rel::Reply{}; });
    FakeScim fake;
    const std::string evil = elsewhere.origin() + "/steal";
    fake.users.push_back(user_json("u1", "u1@example.com", "U1", ",\"meta\":{\"location\":" + jstr(evil) + "}"));
    fake.user_ids.insert("u1");
    fake.groups.push_back("{\"id\":\"g1\",\"displayName\":\"G1\",\"meta\":{\"location\":" + jstr(evil) + "}}");
    fake.group_ids.insert("g1");
    fake.members["g1"] = {"u1"};
    fake.member_extra = ",\"$ref\":" + jstr(evil + "/Users/u1");
    rel::ScriptServer server([&](const rel::Req &r) {
        rel::Reply reply = fake.handle(r);
        reply.headers.push_back({"Location", evil});
        reply.headers.push_back({"Content-Location", evil});
        return reply;
    });
    rel::Instance in;
    conn_error err{};
    REQUIRE(in.create(cfg(server.url()), err) == CONN_OK);
    const auto run = rel::sync(in);
    CHECK_MESSAGE(run.status == CONN_OK, run.err.message);
    CHECK(rel::grant(in, "group:g1:member", "user", "u1").status == CONN_OK);
    CHECK(rel::delete_resource(in, "user", "u1").status == CONN_OK);
    CHECK(elsewhere.requests().empty());
    CHECK(unintended(server.requests(), fake).empty());
}

TEST_CASE("a body past max-response-mb, with or without Content-Length, fails clearly") {
    for (bool chunked : {false, true}) {
        CAPTURE(chunked);
        rel::ScriptServer server([&](const rel::Req &) {
            rel::Reply r;
            if (chunked)
                r.stream_bytes = size_t{1} << 40;  // endless, as far as the client can tell
            else
                r.body = R"({"totalResults":1,"Resources":[],"pad":")" + std::string(3u << 20, 'x') + "\"}";
            return r;
        });
        rel::Instance in;
        conn_error err{};
        REQUIRE(in.create(cfg(server.url(), {{"max-response-mb", "1"}}), err) == CONN_OK);
        const auto run = rel::sync(in);
        MESSAGE("status " << run.status << ", field '" << run.err.field << "': " << run.err.message);
        CHECK(run.status != CONN_OK);
        CHECK(run.resources.empty());
        const std::string msg = run.err.message;
        CHECK((msg.find("max-response-mb") != std::string::npos || std::string(run.err.field) == "max-response-mb"));
        conn_check_result res{};
        CHECK(rel::check(in, res, err) != CONN_OK);
        server.stop();
    }
}

TEST_CASE("100k levels of nesting, in a list, a member list and an error body: a clear failure, no crash") {
    const std::string deep_arrays = std::string(100000, '[') + std::string(100000, ']');
    std::string deep_objects;
    for (int i = 0; i < 100000; ++i) deep_objects += "{\"a\":";
    deep_objects += "1" + std::string(100000, '}');
    const std::string *deeps[] = {&deep_arrays, &deep_objects};
    for (const std::string *deep : deeps) {
        for (const std::string where : {"list", "resources", "members", "error"}) {
            CAPTURE(where);
            CAPTURE(deep->substr(0, 8));
            FakeScim fake;
            fake.users.push_back(user_json("u1", "u1@example.com", "U1"));
            fake.user_ids.insert("u1");
            fake.groups.push_back(R"({"id":"g1","displayName":"G1"})");
            fake.group_ids.insert("g1");
            rel::ScriptServer server([&](const rel::Req &r) {
                const std::string p = path_of(r.target);
                rel::Reply reply;
                if (where == "list" && p == "/scim/v2/Users") {
                    reply.body = *deep;
                } else if (where == "resources" && p == "/scim/v2/Users") {
                    reply.body = R"({"totalResults":1,"Resources":)" + *deep + "}";
                } else if (where == "members" && p == "/scim/v2/Groups/g1") {
                    reply.body = R"({"id":"g1","members":)" + *deep + "}";
                } else if (where == "error") {
                    reply.status = 400;
                    reply.body = R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","detail":)" + *deep + "}";
                } else {
                    reply = fake.handle(r);
                }
                return reply;
            });
            rel::Instance in;
            conn_error err{};
            REQUIRE(in.create(cfg(server.url()), err) == CONN_OK);
            const auto run = rel::sync(in);
            MESSAGE("status " << run.status << ": " << run.err.message);
            if (where == "list" && deep == &deep_objects && run.status == CONN_OK) {
                // {"a":{"a":...}} has neither totalResults nor Resources: the plugin reads it as an empty list (a
                // known bug, kept failing in "a list answer that is not a ListResponse ..."). Here: no crash, no user.
                for (const auto &r : run.resources) CHECK(r.type != "user");
                continue;
            }
            CHECK(run.status != CONN_OK);
            // A 200 KB member (nested arrays, one element) passes max-member-kb (issue 15): refused naming it.
            if (where == "members" && run.status == CONN_ERR_INVALID_CONFIG)
                CHECK(std::string(run.err.field) == "max-member-kb");
            else
                CHECK((run.status == CONN_ERR_TRANSIENT || run.status == CONN_ERR_INVALID_ARGUMENT));
            CHECK(std::string(run.err.message).size() > 10);
            CHECK(std::string(run.err.message).size() < CONN_ERROR_MESSAGE_CAPACITY);
        }
    }
}

TEST_CASE("huge strings, invalid UTF-8 and control characters: valid UTF-8 across the ABI or a clear error") {
    const std::string huge(4u << 20, 'h');
    struct Case {
        const char *name;
        std::string user;
    };
    const std::vector<Case> cases = {
        {"4 MB displayName", user_json("u-huge", "huge@example.com", huge)},
        {"1 MB userName", user_json("u-huge-name", std::string(1u << 20, 'n') + "@example.com", "N")},
        {"1 MB id", user_json(std::string(1u << 20, 'i'), "longid@example.com", "I")},
        {"invalid UTF-8 in displayName", user_json("u-bad", "bad@example.com", "bad \xff\xfe name")},
        {"overlong and surrogate in userName", user_json("u-bad2", "o\xc0\xafx\xed\xa0\x80@example.com", "B")},
        {"invalid UTF-8 in id", user_json("id-\xc3\x28", "badid@example.com", "C")},
        {"control characters in names", user_json("u-ctl", "ctl\x01@example.com", "Evil \x1b[2J\x1b]0;pwned\x07 \r\n\t name")},
        {"an escaped NUL in names", "{\"id\":\"u-nul\",\"userName\":\"nul\\u0000@example.com\",\"displayName\":\"a\\u0000b\",\"active\":true}"},
        {"escaped lone surrogate", "{\"id\":\"u-sur\",\"userName\":\"s\\ud800@example.com\",\"displayName\":\"\\udfff\",\"active\":true}"},
    };
    for (const auto &c : cases) {
        const std::string case_name = c.name;
        CAPTURE(case_name);
        FakeScim fake;
        fake.users = {user_json("u-ok", "ok@example.com", "OK"), c.user};
        fake.user_ids = {"u-ok"};
        rel::ScriptServer server([&](const rel::Req &r) { return fake.handle(r); });
        rel::Instance in;
        conn_error err{};
        REQUIRE(in.create(cfg(server.url()), err) == CONN_OK);
        const auto run = rel::sync(in);
        MESSAGE(c.name << ": status " << run.status << ", " << run.resources.size() << " resources, "
                       << run.warnings.size() << " warnings; " << run.err.message);
        CHECK(all_valid_utf8(run));
        if (run.status == CONN_OK) {
            CHECK(run.resources.size() >= 1);
        } else {
            CHECK((run.status == CONN_ERR_TRANSIENT || run.status == CONN_ERR_INVALID_ARGUMENT || run.status == CONN_ERR_INTERNAL));
            CHECK(std::string(run.err.message).size() > 10);
        }
        if (std::string(c.name) == "4 MB displayName" && run.status == CONN_OK) {
            bool found = false;
            for (const auto &r : run.resources) found = found || r.display_name.size() == huge.size();
            CHECK(found);
        }
        // The plugin's log lines and error text are valid UTF-8 and carry no terminal control sequence.
        for (const auto &line : in.log_lines()) {
            CHECK(connector_host::is_valid_utf8(line));
            CHECK_MESSAGE(line.find('\x1b') == std::string::npos, "raw ESC in a log line");
        }
        CHECK(std::string(run.err.message).find('\x1b') == std::string::npos);
    }
}

TEST_CASE("a server that never ends its pages or answers the first page again: the sync ends") {
    for (const std::string mode : {"same page forever", "huge totalResults, empty pages", "itemsPerPage lies"}) {
        CAPTURE(mode);
        rel::ScriptServer server([&](const rel::Req &r) {
            rel::Reply reply;
            const std::string p = path_of(r.target);
            if (p == "/scim/v2/Users") {
                const std::string m = mode;
                std::string res = user_json("u1", "u1@example.com", "U1") + "," + user_json("u2", "u2@example.com", "U2");
                if (m == "huge totalResults, empty pages" && rel::query_param(r.target, "startIndex") != "1" &&
                    !rel::query_param(r.target, "startIndex").empty())
                    res.clear();
                reply.body = R"({"totalResults":1000000000,"itemsPerPage":)" + std::string(m == "itemsPerPage lies" ? "100000" : "2") +
                             R"(,"startIndex":1,"Resources":[)" + res + "]}";
            } else {
                reply.body = R"({"totalResults":0,"Resources":[]})";
            }
            return reply;
        });
        rel::Instance in;
        conn_error err{};
        REQUIRE(in.create(cfg(server.url(), {{"page-size", "2"}}), err) == CONN_OK);
        const auto run = rel::sync(in);
        MESSAGE(mode << ": status " << run.status << " after " << server.requests().size() << " requests; " << run.err.message);
        if (run.status == CONN_OK) {
            std::set<std::string> ids;
            for (const auto &r : run.resources) CHECK_MESSAGE(ids.insert(r.type + "/" + r.id).second, "duplicate " << r.id);
        } else {
            CHECK((run.status == CONN_ERR_TRANSIENT || run.status == CONN_ERR_INVALID_ARGUMENT));
        }
        CHECK(server.requests().size() < 5000);
    }
}

}  // TEST_SUITE

TEST_SUITE("hostile") {

// A list answer that is not a SCIM ListResponse (no totalResults, no Resources: a proxy's `{}`, an unrelated
// JSON document) must not read as "the organisation has no users": that would be an empty result reported as
// success, and a host would then consider every account gone.
TEST_CASE("a list answer that is not a ListResponse is not an empty organisation") {
    for (const std::string body : {"{}", R"({"a":{"a":1}})", R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"]})",
                                   "[]", "null", "\"text\"", "42", R"({"Resources":null})"}) {
        CAPTURE(body);
        rel::ScriptServer server([&](const rel::Req &r) {
            rel::Reply reply;
            reply.body = path_of(r.target) == "/scim/v2/Users" ? body : std::string(R"({"totalResults":0,"Resources":[]})");
            return reply;
        });
        rel::Instance in;
        conn_error err{};
        REQUIRE(in.create(cfg(server.url()), err) == CONN_OK);
        const auto run = rel::sync(in);
        MESSAGE("GET /Users answered " << body << ": status " << run.status << ", " << run.resources.size() << " resources; "
                                       << run.err.message);
        CHECK(run.status != CONN_OK);
    }
}

}  // TEST_SUITE

namespace {
// A server whose /Users list (pages of at most 5) is `ids`, which `churn(ids, startIndex)` may change before
// each answer (under a lock: requests arrive concurrently). The page at `slow_start` is answered 300 ms late, so
// that pages asked after it are served before it. Every other path lists nothing.
using Churn = std::function<void(std::vector<std::string> &ids, long start)>;
rel::ScriptServer::Handler churning_user_list(std::vector<std::string> &ids, std::mutex &mu, Churn churn,
                                              long slow_start = 0) {
    return [&ids, &mu, churn, slow_start](const rel::Req &r) {
        rel::Reply reply;
        if (path_of(r.target) != "/scim/v2/Users") {
            reply.body = R"({"totalResults":0,"Resources":[]})";
            return reply;
        }
        const std::string si = rel::query_param(r.target, "startIndex");
        const long start = si.empty() ? 1 : std::atol(si.c_str());
        const std::string c = rel::query_param(r.target, "count");
        const long count = c.empty() ? 5 : std::min(5L, std::atol(c.c_str()));
        if (start == slow_start) std::this_thread::sleep_for(std::chrono::milliseconds(300));
        std::lock_guard<std::mutex> lock(mu);
        churn(ids, start);
        std::string res;
        for (long i = start - 1; i >= 0 && i < start - 1 + count && i < static_cast<long>(ids.size()); ++i) {
            const std::string &id = ids[static_cast<size_t>(i)];
            res += (i == start - 1 ? "" : ",") + user_json(id, id + "@example.com", id);
        }
        reply.body = R"({"totalResults":)" + std::to_string(ids.size()) + R"(,"startIndex":)" + std::to_string(start) +
                     R"(,"itemsPerPage":5,"Resources":[)" + res + "]}";
        return reply;
    };
}
}  // namespace

TEST_SUITE("hostile") {

// Users created and deleted during the sync (as on any live directory) shift the pages: a deletion behind the
// cursor moves the next user into a page already read. The plugin re-walks when totalResults changes, up to a
// few passes; here the server churns in EVERY pass (one user created when page 1 is asked, one deleted just
// before page 11 is served), so the same users fall between pages each time. Every user that existed throughout
// must be delivered, or the sync must fail: success with users missing is a wrong result.
TEST_CASE("churn behind the cursor in every pass: exact, or not a success") {
    for (const std::string concurrency : {"1", "4"}) {
        CAPTURE(concurrency);
        std::mutex mu;
        std::vector<std::string> ids{"t0"};
        for (int i = 1; i <= 30; ++i) ids.push_back((i < 10 ? "u0" : "u") + std::to_string(i));
        int temp = 0;
        rel::ScriptServer server(churning_user_list(
            ids, mu,
            [&](std::vector<std::string> &l, long start) {
                if (start == 1 && l.front()[0] != 't') l.insert(l.begin(), "t" + std::to_string(++temp));
                if (start == 11 && l.front()[0] == 't') l.erase(l.begin());
            },
            11));
        rel::Instance in;
        conn_error err{};
        REQUIRE(in.create(cfg(server.url(), {{"page-size", "5"}, {"concurrency", concurrency}}), err) == CONN_OK);
        const auto run = rel::sync(in);
        std::set<std::string> got;
        for (const auto &r : run.resources) got.insert(r.id);
        std::vector<std::string> missing;
        for (int i = 1; i <= 30; ++i) {
            const std::string id = (i < 10 ? "u0" : "u") + std::to_string(i);
            if (!got.count(id)) missing.push_back(id);
        }
        std::string list;
        for (const auto &m : missing) list += m + " ";
        MESSAGE("concurrency " << concurrency << ": status " << run.status << " after " << server.requests().size()
                               << " requests, " << run.warnings.size() << " warnings, missing: " << list << run.err.message);
        if (run.status == CONN_OK) CHECK_MESSAGE(missing.empty(), "success with users that existed throughout missing: " << list);
    }
}

TEST_CASE("a user list still growing in the last pass: every original user, and an incomplete_listing_changed warning") {
    std::mutex mu;
    std::vector<std::string> ids;
    for (int i = 1; i <= 40; ++i) ids.push_back("s" + std::to_string(100 + i));
    const std::vector<std::string> original = ids;
    int created = 0;
    rel::ScriptServer server(churning_user_list(ids, mu, [&](std::vector<std::string> &l, long) {
        l.push_back("n" + std::to_string(++created));  // two new users before every answer
        l.push_back("n" + std::to_string(++created));
    }));
    rel::Instance in;
    conn_error err{};
    REQUIRE(in.create(cfg(server.url(), {{"page-size", "5"}, {"concurrency", "4"}}), err) == CONN_OK);
    const auto run = rel::sync(in);
    REQUIRE(run.status == CONN_OK);
    std::set<std::string> got;
    for (const auto &r : run.resources) got.insert(r.id);
    for (const auto &id : original) CHECK_MESSAGE(got.count(id) == 1, "missing " << id);
    size_t changed = 0;
    for (const auto &[code, message] : run.warnings)
        if (code == "incomplete_listing_changed") {
            ++changed;
            CHECK(message.find("user list was still changing in the last of 3 passes") != std::string::npos);
        }
    CHECK(changed == 1);
}

}  // TEST_SUITE

// ---- Issue 15 (trust nothing): hostile servers that try to blow up memory, outrun cancellation, hide requests,
// or read the token through a proxy. The servers are rel::RawServer (raw HTTP/1.1, gzip written by the test).

namespace {

constexpr uint64_t kMiB = 1024 * 1024;
// The figure's bound: max-response-mb (64) x concurrency (8) + 64 MB.
constexpr uint64_t kRssBoundMb = 64 * 8 + 64;

// Peak RSS (VmHWM) under one hostile server, against the bound; the rows are printed by the last test case.
struct RssRow {
    std::string server;
    uint64_t base_mb, peak_mb;
};
std::vector<RssRow> &rss_rows() {
    static std::vector<RssRow> rows;
    return rows;
}

class PeakRss {
public:
    explicit PeakRss(std::string what) : what_(std::move(what)) {
        reset_ = rel::reset_peak_rss();
        base_kb_ = rel::peak_rss_kb();
    }
    // Records the row and checks the peak: at most 200 MB above where it started, and under the bound.
    void check() const {
        const uint64_t peak_kb = rel::peak_rss_kb();
        const uint64_t base_mb = base_kb_ / 1024, peak_mb = peak_kb / 1024;
        rss_rows().push_back({what_, base_mb, peak_mb});
        MESSAGE(what_ << ": peak RSS " << peak_mb << " MB (at start " << base_mb << " MB; VmHWM reset: "
                      << std::string(reset_ ? "yes" : "no") << "), bound " << kRssBoundMb << " MB");
        CHECK_MESSAGE(peak_kb <= base_kb_ + 200 * 1024, what_ << ": the peak RSS rose by " << (peak_kb - base_kb_) / 1024 << " MB");
        CHECK(peak_mb <= kRssBoundMb);
    }

private:
    std::string what_;
    bool reset_ = false;
    uint64_t base_kb_ = 0;
};

rel::RawReply json_reply(std::string body, int status = 200) {
    rel::RawReply r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

// The gzip body in pieces of 4 KiB, one every 10 ms: answers to concurrent requests are all in flight at once
// (unpaced, libcurl would read and inflate a whole ~100 KB bomb in one turn, one transfer after the other).
rel::RawReply gzip_reply(const std::string &gz, int status = 200) {
    rel::RawReply r;
    r.status = status;
    r.headers = {{"Content-Encoding", "gzip"}};
    auto pos = std::make_shared<size_t>(0);
    r.next = [&gz, pos](std::string &out) {
        const size_t n = std::min<size_t>(4096, gz.size() - *pos);
        out.append(gz, *pos, n);
        *pos += n;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        return *pos < gz.size();
    };
    return r;
}

// A directory: users u1..u<users> (one list page), groups g1..g<groups> (one page); `members` answers
// GET /Groups/{id}.
using MemberAnswer = std::function<rel::RawReply(const std::string &gid)>;
rel::RawServer::Handler directory(size_t users, size_t groups, MemberAnswer members) {
    return [users, groups, members](const rel::RawReq &r) {
        const std::string p = path_of(r.target);
        if (p == "/scim/v2/Users") {
            std::vector<std::string> objs;
            for (size_t i = 1; i <= users; ++i)
                objs.push_back(user_json("u" + std::to_string(i), "u" + std::to_string(i) + "@example.com", "U"));
            return json_reply(list_page(objs, r.target));
        }
        if (p == "/scim/v2/Groups") {
            std::vector<std::string> objs;
            for (size_t i = 1; i <= groups; ++i)
                objs.push_back("{\"id\":\"g" + std::to_string(i) + "\",\"displayName\":\"G" + std::to_string(i) + "\"}");
            return json_reply(list_page(objs, r.target));
        }
        if (p.rfind("/scim/v2/Groups/", 0) == 0) return members(p.substr(16));
        return json_reply(R"({"detail":"no such resource"})", 404);
    };
}

bool names(const rel::SyncRun &run, const std::string &field) {
    return std::string(run.err.field) == field || std::string(run.err.message).find(field) != std::string::npos;
}

}  // namespace

TEST_SUITE("hostile") {

TEST_CASE("issue 15: a gzip bomb on users list pages fails naming max-response-mb; the RSS does not jump") {
    // ~100 KB of gzip expanding to 100 MB (past max-response-mb = 64), on pages 2..8 of the user list: seven
    // bombs in flight at once (concurrency 8).
    static const std::string bomb = rel::gzip_repeat(R"({"totalResults":80,"Resources":[],"pad":")",
                                                     std::string(1024, '0'), 100 * 1024, "\"}");
    MESSAGE("bomb: " << bomb.size() << " bytes of gzip for 100 MiB");
    rel::RawServer server([&](const rel::RawReq &r) {
        const std::string p = path_of(r.target), si = rel::query_param(r.target, "startIndex");
        if (p == "/scim/v2/Users" && (si.empty() || si == "1")) {
            std::vector<std::string> objs;
            for (int i = 1; i <= 10; ++i) objs.push_back(user_json("u" + std::to_string(i), "u" + std::to_string(i) + "@x.example", "U"));
            std::string page = list_page(objs, r.target);
            page.replace(page.find("\"totalResults\":10"), 17, "\"totalResults\":80");
            return json_reply(page);
        }
        if (p == "/scim/v2/Users") return gzip_reply(bomb);
        return json_reply(R"({"totalResults":0,"Resources":[]})");
    });
    rel::Instance in;
    conn_error err{};
    REQUIRE(in.create(cfg(server.url(), {{"page-size", "10"}}), err) == CONN_OK);
    PeakRss peak("gzip bomb on 7 user list pages in flight (100 KB -> 100 MiB each)");
    const auto run = rel::sync(in);
    MESSAGE("status " << run.status << ", field '" << run.err.field << "': " << run.err.message);
    CHECK(run.status == CONN_ERR_INVALID_CONFIG);
    CHECK(names(run, "max-response-mb"));
    peak.check();
}

TEST_CASE("issue 15: a member object of 50 MB fails naming max-member-kb; the RSS does not jump") {
    static const std::string body = rel::gzip_repeat(R"({"id":"g1","members":[{"value":"u1","display":")",
                                                     std::string(1024, 'd'), 50 * 1024, "\"}]}");
    rel::RawServer server(directory(2, 1, [&](const std::string &) { return gzip_reply(body); }));
    rel::Instance in;
    conn_error err{};
    REQUIRE(in.create(cfg(server.url()), err) == CONN_OK);
    PeakRss peak("one member object of 50 MiB (gzip)");
    const auto run = rel::sync(in);
    MESSAGE("status " << run.status << ", field '" << run.err.field << "': " << run.err.message);
    CHECK(run.status == CONN_ERR_INVALID_CONFIG);
    CHECK(names(run, "max-member-kb"));
    peak.check();
}

TEST_CASE("issue 15: a huge field outside the member list fails naming max-response-mb; the RSS does not jump") {
    for (const bool before : {true, false}) {
        CAPTURE(before);
        const std::string members = R"("members":[{"value":"u1"},{"value":"u2"}])";
        const std::string body = before ? rel::gzip_repeat(R"({"id":"g1","pad":")", std::string(1024, 'p'), 100 * 1024,
                                                           "\"," + members + "}")
                                        : rel::gzip_repeat("{\"id\":\"g1\"," + members + R"(,"pad":[")",
                                                           std::string(1024, 'p'), 100 * 1024, "\"]}");
        rel::RawServer server(directory(2, 1, [&](const std::string &) { return gzip_reply(body); }));
        rel::Instance in;
        conn_error err{};
        REQUIRE(in.create(cfg(server.url()), err) == CONN_OK);
        PeakRss peak(std::string("a 100 MiB top-level field ") + (before ? "before" : "after") + " members (gzip)");
        const auto run = rel::sync(in);
        MESSAGE("status " << run.status << ", field '" << run.err.field << "': " << run.err.message);
        CHECK(run.status == CONN_ERR_INVALID_CONFIG);
        CHECK(names(run, "max-response-mb"));
        peak.check();
    }
}

TEST_CASE("issue 15: a 500 with an endless body is a transient HTTP 500, its body cut; the RSS does not jump") {
    for (const std::string where : {"member list", "user list"}) {
        CAPTURE(where);
        const auto endless = [](rel::RawServer *self) {
            rel::RawReply r;
            r.status = 500;
            r.headers = {{"Content-Type", "text/html"}};
            r.next = [self](std::string &out) {
                out.assign(65536, 'e');
                return !self->stopping();
            };
            return r;
        };
        rel::RawServer *self = nullptr;
        rel::RawServer server([&](const rel::RawReq &r) {
            if (where == "user list" && path_of(r.target) == "/scim/v2/Users") return endless(self);
            return directory(2, 2, [&](const std::string &) { return endless(self); })(r);
        });
        self = &server;
        rel::Instance in;
        conn_error err{};
        REQUIRE(in.create(cfg(server.url()), err) == CONN_OK);
        PeakRss peak("HTTP 500 with an endless body on the " + where);
        const auto run = rel::sync(in);
        MESSAGE("status " << run.status << ", HTTP " << run.err.http_status << ", field '" << run.err.field
                          << "': " << run.err.message << "; the server wrote " << server.body_bytes_sent() / kMiB << " MiB");
        CHECK(run.status == CONN_ERR_TRANSIENT);
        CHECK(run.err.http_status == 500);
        CHECK(std::string(run.err.message).find("HTTP 500") != std::string::npos);
        peak.check();
    }
}

TEST_CASE("issue 15: 8 groups in flight, each a 40 MiB gzip member list held outside members: fails, bounded") {
    // Each answer alone is under max-response-mb (64); all of them together are not.
    // One body for every group: it names none (a body naming another group than the one asked for is refused).
    static const std::string body = rel::gzip_repeat(R"({"members":[{"value":"u1"}],"pad":")",
                                                     std::string(1024, 'q'), 40 * 1024, "\"}");
    rel::RawServer server(directory(2, 8, [&](const std::string &) { return gzip_reply(body); }));
    rel::Instance in;
    conn_error err{};
    REQUIRE(in.create(cfg(server.url()), err) == CONN_OK);
    PeakRss peak("8 groups in flight, 40 MiB outside members each (gzip)");
    const auto run = rel::sync(in);
    MESSAGE("status " << run.status << ", field '" << run.err.field << "': " << run.err.message);
    CHECK(run.status == CONN_ERR_INVALID_CONFIG);
    CHECK(names(run, "max-response-mb"));
    peak.check();
}

TEST_CASE("issue 15: 8 groups in flight, each a large honest gzip member list: exact, bounded") {
    // 300,000 members each (u1, u2 repeated: two distinct members), 4.5 MB a list: nothing of it is held.
    static const std::string body =
        rel::gzip_repeat(R"({"members":[{"value":"u2"})", R"(,{"value":"u1","type":"User"})", 300000, "]}");
    rel::RawServer server(directory(2, 8, [&](const std::string &) { return gzip_reply(body); }));
    rel::Instance in;
    conn_error err{};
    REQUIRE(in.create(cfg(server.url()), err) == CONN_OK);
    PeakRss peak("8 groups in flight, 300,000 members each (gzip)");
    const auto run = rel::sync(in);
    REQUIRE_MESSAGE(run.status == CONN_OK, run.err.message);
    CHECK(run.grants.size() == 16);
    peak.check();
}

TEST_CASE("issue 16: a group page with a group of 2.4 million listed members: read on its own, bounded") {
    // 72 MB of page (gzip): its member ids would pass the page's budget, so the group is read with its own GET.
    static const std::string page = rel::gzip_repeat(
        R"({"totalResults":1,"Resources":[{"id":"g1","displayName":"G1","members":[{"value":"u2"})",
        R"(,{"value":"u1","type":"User"})", 2'400'000, "]}]}");
    const std::string users = list_page({user_json("u1", "u1@example.com", "U"), user_json("u2", "u2@example.com", "U")}, "/scim/v2/Users");
    rel::RawServer server([&](const rel::RawReq &r) {
        const std::string p = path_of(r.target);
        if (p == "/scim/v2/Users") return json_reply(users);
        if (p == "/scim/v2/Groups") return gzip_reply(page);
        if (p == "/scim/v2/Groups/g1") return json_reply(R"({"id":"g1","members":[{"value":"u1"},{"value":"u2"}]})");
        return json_reply(R"({"detail":"no such resource"})", 404);
    });
    rel::Instance in;
    conn_error err{};
    REQUIRE(in.create(cfg(server.url()), err) == CONN_OK);
    PeakRss peak("a group page holding one group of 2.4M listed members (gzip)");
    const auto run = rel::sync(in);
    REQUIRE_MESSAGE(run.status == CONN_OK, run.err.message);
    CHECK(run.grants.size() == 2);
    bool alone = false;
    for (const auto &line : in.log_lines())
        if (line.find("1 too large for a page") != std::string::npos) alone = true;
    CHECK(alone);
    peak.check();
}

TEST_CASE("issue 15: cancelled inside a heavy gzip member list: CANCELLED having read a small part of the body") {
    // A member list of 2.5 GB decompressed, ~4.7 MB of gzip: 2,500 blocks of ~1 MB, each a member naming user
    // u<i> (a grant the sink sees at once: the blocks the plugin read) then u1 over and over. The host cancels after
    // 200 ms; the plugin must notice while it inflates and reads, not after: it returns CANCELLED having read far
    // fewer than a tenth of the blocks (before the fix: 840, the whole of one libcurl turn).
    const size_t blocks = 2500;
    std::string unit_block;
    for (int i = 0; i < 65536; ++i) unit_block += R"(,{"value":"u1"})";  // ~1 MB
    const std::string open = R"({"id":"g1","members":[{"value":"u1"})", close = "]}";
    const std::string unit = rel::deflate_segment(unit_block);  // the same bytes each time: sent over and over
    std::vector<std::string> markers;
    uLong crc = crc32(0, reinterpret_cast<const Bytef *>(open.data()), static_cast<uInt>(open.size()));
    uint64_t length = open.size();
    const uLong unit_crc = crc32(0, reinterpret_cast<const Bytef *>(unit_block.data()), static_cast<uInt>(unit_block.size()));
    for (size_t i = 1; i <= blocks; ++i) {
        const std::string m = R"(,{"value":"u)" + std::to_string(i) + "\"}";
        markers.push_back(rel::deflate_segment(m));
        crc = crc32(crc, reinterpret_cast<const Bytef *>(m.data()), static_cast<uInt>(m.size()));
        crc = crc32_combine(crc, unit_crc, static_cast<z_off_t>(unit_block.size()));
        length += m.size() + unit_block.size();
    }
    crc = crc32(crc, reinterpret_cast<const Bytef *>(close.data()), static_cast<uInt>(close.size()));
    const std::string tail = rel::deflate_segment(close) + rel::gzip_end(static_cast<uint32_t>(crc), length + close.size());
    MESSAGE("body: " << (length >> 20) << " MiB decompressed, ~" << blocks * (unit.size() + 16) / 1024 << " KiB of gzip");
    rel::RawServer *self = nullptr;
    rel::RawServer server(directory(blocks, 1, [&](const std::string &) {
        rel::RawReply r;
        r.headers = {{"Content-Encoding", "gzip"}};
        auto sent = std::make_shared<size_t>(0);
        r.next = [&, sent](std::string &out) {
            if (*sent == 0) out = rel::gzip_header() + rel::deflate_segment(open);
            for (int k = 0; k < 100 && *sent < blocks; ++k, ++*sent) out += markers[*sent] + unit;  // 100 MB a piece
            if (*sent == blocks) out += tail;
            for (int w = 0; w < 10 && !self->stopping(); ++w) std::this_thread::sleep_for(std::chrono::milliseconds(10));
            return *sent < blocks;
        };
        return r;
    }));
    self = &server;
    rel::Instance in;
    conn_error err{};
    REQUIRE(in.create(cfg(server.url(), {{"max-member-list-mb", "65536"}}), err) == CONN_OK);
    std::atomic<bool> cancel{false};
    std::thread canceller([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        cancel = true;
    });
    const auto t0 = std::chrono::steady_clock::now();
    const auto run = rel::sync(in, rel::Controls{&cancel});
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    canceller.join();
    const size_t read = run.grants.size() > 0 ? run.grants.size() - 1 : 0;  // u1's grant is not a block
    MESSAGE("status " << run.status << " after " << ms << " ms (printed, not asserted), " << read << " of " << blocks
                      << " blocks read; the server had written " << server.body_bytes_sent() / 1024 << " KiB");
    CHECK(run.status == CONN_ERR_CANCELLED);
    CHECK(read < blocks / 10);
    server.stop();
}

TEST_CASE("issue 15: a failed sync reports every request it made (a server answering 503 always)") {
    for (const std::string where : {"every request", "the groups"}) {
        CAPTURE(where);
        rel::ScriptServer server([&](const rel::Req &r) {
            rel::Reply reply;
            if (where == "the groups" && path_of(r.target) == "/scim/v2/Users") {
                reply.body = list_page({user_json("u1", "u1@example.com", "U1")}, r.target);
                return reply;
            }
            reply.status = 503;
            reply.body = R"({"detail":"unavailable"})";
            return reply;
        });
        rel::Instance in;
        conn_error err{};
        const rel::Entries config{{"scim-url", server.url()}, {"scim-token", rel::kToken}, {"retry-budget-ms", "1500"}};
        REQUIRE(in.create(config, err) == CONN_OK);
        const auto run = rel::sync(in);
        const size_t received = server.requests().size();
        MESSAGE("status " << run.status << ": " << run.err.message << "; the server received " << received
                          << ", result.requests " << run.result.requests << ", retries " << run.result.retries);
        CHECK(run.status == CONN_ERR_TRANSIENT);
        CHECK(received > 2);
        CHECK(run.result.requests == received);
        // "the groups": the user list is two pages (the one user, then the empty page that proves its end), then
        // the group list fails attempt after attempt.
        CHECK(run.result.retries == received - (where == "the groups" ? 3 : 1));
        CHECK(run.result.resources == run.resources.size());
        CHECK(run.result.pages == (where == "the groups" ? 2u : 0u));
    }
}

TEST_CASE("issue 15: with http_proxy / ALL_PROXY set, plain http to loopback never goes through the proxy") {
    rel::RawServer proxy([](const rel::RawReq &) { return json_reply("proxied", 502); });
    scim_sim::Options o;
    o.token = rel::kToken;
    o.seed = 15;
    o.seed_users = 30;
    o.seed_groups = 4;
    o.seed_members = 40;
    scim_sim::Server sim(o);
    sim.start();
    struct Env {
        std::vector<std::pair<std::string, std::optional<std::string>>> saved;
        void set(const char *k, const char *v) {
            const char *old = std::getenv(k);
            saved.emplace_back(k, old ? std::optional<std::string>(old) : std::nullopt);
            if (v) ::setenv(k, v, 1);
            else ::unsetenv(k);
        }
        ~Env() {
            for (auto it = saved.rbegin(); it != saved.rend(); ++it)
                if (it->second) ::setenv(it->first.c_str(), it->second->c_str(), 1);
                else ::unsetenv(it->first.c_str());
        }
    } env;
    for (const char *k : {"http_proxy", "HTTP_PROXY", "ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy"})
        env.set(k, proxy.origin().c_str());
    for (const char *k : {"no_proxy", "NO_PROXY"}) env.set(k, nullptr);
    rel::Instance in;
    conn_error err{};
    REQUIRE(in.create(cfg(sim.base_url(), {{"page-size", "7"}}), err) == CONN_OK);
    const auto run = rel::sync(in);
    MESSAGE("status " << run.status << ": " << run.err.message << "; the proxy saw " << proxy.connections() << " connections");
    CHECK(proxy.connections() == 0);
    CHECK(proxy.requests().empty());
    REQUIRE_MESSAGE(run.status == CONN_OK, run.err.message);
    const auto diff = rel::diff_sync_truth(run, rel::parse_truth(sim.state_json()));
    for (const auto &d : diff) MESSAGE(d);
    CHECK(diff.empty());
    conn_check_result res{};
    CHECK(rel::check(in, res, err) == CONN_OK);
    CHECK(proxy.connections() == 0);
}

TEST_CASE("issue 15: peak RSS under every hostile server above (printed)") {
    std::string table = "peak RSS (VmHWM, reset before each) vs the bound max-response-mb x concurrency + 64 MB = " +
                        std::to_string(kRssBoundMb) + " MB:\n";
    for (const auto &r : rss_rows())
        table += "  " + r.server + ": " + std::to_string(r.peak_mb) + " MB (at start " + std::to_string(r.base_mb) + " MB)\n";
    MESSAGE(table);
    std::printf("%s", table.c_str());
    for (const auto &r : rss_rows()) CHECK(r.peak_mb <= kRssBoundMb);
}

}  // TEST_SUITE
