// A SCIM server that lies in the ways RFC 7644 allows or real servers do (issue "Trust nothing", items 1-4): it
// ignores `filter` (filtering is optional), ignores `startIndex` (answers page 1 for every index), or reports a
// stale / capped `totalResults`. The connector must never act on an account it did not positively identify,
// never report "already granted / revoked / deleted" without proof, and never report an incomplete sync as
// complete.
#include "admin_truth.hpp"
#include "rel_support.hpp"
#include "support.hpp"  // conformance/src: json_escape

#include <doctest/doctest.h>
#include <scim_sim/server.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <stdlib.h>
#include <cctype>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace {

std::string jstr(const std::string &s) { return "\"" + conformance::json_escape(s) + "\""; }
std::string path_of(const std::string &target) { return target.substr(0, target.find('?')); }
std::string lower(std::string s) {
    for (auto &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

struct FakeUser {
    std::string id, user_name;
    bool active = true;
};

// A small stateful SCIM server with switches for each lie. Users and groups keep their order (a stable listing).
class LyingScim {
public:
    bool ignore_filter = false;      // every filtered list answers the unfiltered collection
    bool ignore_start_index = false; // every list answers from index 1
    int64_t total_cap = -1;          // totalResults reported at most this (-1: the truth)
    size_t page_cap = 100;           // the server's largest page
    bool unreadable_create = false;  // a 201 whose body cannot be read
    std::string get_user_answers_as; // GET /Users/{id} answers with this user id instead (when set)
    std::string get_group_answers_as; // GET /Groups/{id} answers with this group's id and members (when set)

    void add_user(const std::string &id, const std::string &user_name, bool active = true) {
        std::lock_guard lock(mu_);
        users_.push_back({id, user_name, active});
    }
    void add_group(const std::string &id, std::vector<std::string> members, const std::string &display_name = {}) {
        std::lock_guard lock(mu_);
        groups_.emplace_back(id, std::move(members));
        if (!display_name.empty()) names_[id] = display_name;
    }
    std::vector<std::string> members_of(const std::string &gid) const {
        std::lock_guard lock(mu_);
        for (const auto &[id, m] : groups_)
            if (id == gid) return m;
        return {};
    }
    const FakeUser *user(const std::string &user_name) const {
        std::lock_guard lock(mu_);
        for (const auto &u : users_)
            if (u.user_name == user_name) return &u;
        return nullptr;
    }

    rel::Reply handle(const rel::Req &req) {
        std::lock_guard lock(mu_);
        const std::string p = path_of(req.target);
        const std::string base = "/scim/v2";
        if (p.rfind(base, 0) != 0) return error(404);
        const std::string rest = p.substr(base.size());
        if (rest == "/Users") return req.method == "POST" ? create(req) : list_users(req);
        if (rest == "/Groups") return list_groups(req);
        if (rest.rfind("/Users/", 0) == 0) return one_user(req, rel::percent_decode(rest.substr(7)));
        if (rest.rfind("/Groups/", 0) == 0) return one_group(req, rel::percent_decode(rest.substr(8)));
        return error(404);
    }

private:
    static rel::Reply error(int status) {
        rel::Reply r;
        r.status = status;
        r.body = R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":")" + std::to_string(status) +
                 R"("})";
        return r;
    }
    static std::string user_json(const FakeUser &u) {
        return "{\"id\":" + jstr(u.id) + ",\"userName\":" + jstr(u.user_name) + ",\"displayName\":" + jstr(u.user_name) +
               ",\"active\":" + (u.active ? "true" : "false") + "}";
    }
    // One page of `objects` as the lies configured say.
    rel::Reply page(const rel::Req &req, const std::vector<std::string> &objects) const {
        const std::string si = rel::query_param(req.target, "startIndex");
        const std::string cn = rel::query_param(req.target, "count");
        size_t start = si.empty() || ignore_start_index ? 1 : static_cast<size_t>(std::max(1L, std::atol(si.c_str())));
        size_t count = cn.empty() ? page_cap : std::min(page_cap, static_cast<size_t>(std::max(0L, std::atol(cn.c_str()))));
        int64_t total = static_cast<int64_t>(objects.size());
        if (total_cap >= 0) total = std::min(total, total_cap);
        std::string body = "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:ListResponse\"],\"totalResults\":" +
                           std::to_string(total) + ",\"startIndex\":" + std::to_string(start) + ",\"Resources\":[";
        for (size_t i = start - 1, n = 0; i < objects.size() && n < count; ++i, ++n) body += (n ? "," : "") + objects[i];
        rel::Reply r;
        r.body = body + "]}";
        return r;
    }
    rel::Reply list_users(const rel::Req &req) const {
        const std::string filter = rel::query_param(req.target, "filter");
        std::vector<std::string> objs;
        for (const auto &u : users_) {
            if (!filter.empty() && !ignore_filter && lower(filter) != lower("userName eq " + jstr(u.user_name))) continue;
            objs.push_back(user_json(u));
        }
        return page(req, objs);
    }
    rel::Reply list_groups(const rel::Req &req) const {
        const std::string filter = rel::query_param(req.target, "filter");
        std::vector<std::string> objs;
        for (const auto &[gid, m] : groups_) {
            if (!filter.empty() && !ignore_filter) {
                bool match = false;
                for (const auto &uid : m) match = match || filter == "id eq " + jstr(gid) + " and members.value eq " + jstr(uid);
                if (!match) continue;
            }
            objs.push_back("{\"id\":" + jstr(gid) + ",\"displayName\":" + jstr(name_of(gid)) + "}");
        }
        return page(req, objs);
    }
    rel::Reply create(const rel::Req &req) {
        const auto at = req.body.find("\"userName\":\"");
        const std::string name = req.body.substr(at + 12, req.body.find('"', at + 12) - at - 12);
        for (const auto &u : users_)
            if (lower(u.user_name) == lower(name)) return error(409);
        users_.push_back({"u-new-" + std::to_string(users_.size()), name, true});
        rel::Reply r;
        r.status = 201;
        r.body = unreadable_create ? "{\"id\":" : user_json(users_.back());
        return r;
    }
    rel::Reply one_user(const rel::Req &req, const std::string &id) {
        auto it = std::find_if(users_.begin(), users_.end(), [&](const FakeUser &u) { return u.id == id; });
        if (it == users_.end()) return error(404);
        rel::Reply r;
        if (req.method == "GET") {
            FakeUser shown = *it;
            if (!get_user_answers_as.empty()) shown.id = get_user_answers_as;
            r.body = user_json(shown);
        } else if (req.method == "PATCH") {
            it->active = req.body.find("true") != std::string::npos;
            r.body = user_json(*it);
        } else if (req.method == "DELETE") {
            users_.erase(it);
            r.status = 204;
            r.content_type.clear();
        }
        return r;
    }
    rel::Reply one_group(const rel::Req &req, const std::string &gid) {
        auto it = std::find_if(groups_.begin(), groups_.end(), [&](const auto &g) { return g.first == gid; });
        if (it == groups_.end()) return error(404);
        rel::Reply r;
        if (req.method == "GET") {
            if (!get_group_answers_as.empty())
                it = std::find_if(groups_.begin(), groups_.end(), [&](const auto &g) { return g.first == get_group_answers_as; });
            std::string m;
            for (const auto &uid : it->second) m += (m.empty() ? "" : ",") + std::string("{\"value\":") + jstr(uid) + "}";
            r.body = "{\"id\":" + jstr(it->first) + ",\"displayName\":" + jstr(name_of(it->first)) +
                     ",\"members\":[" + m + "]}";
        } else if (req.method == "PATCH") {
            apply_patch(it->second, req.body);
            r.status = 204;
            r.content_type.clear();
        }
        return r;
    }
    void apply_patch(std::vector<std::string> &members, const std::string &body) {
        if (body.find("\"op\":\"add\"") != std::string::npos) {
            const auto at = body.find("\"value\":[{\"value\":\"");
            const std::string uid = body.substr(at + 19, body.find('"', at + 19) - at - 19);
            if (std::find(members.begin(), members.end(), uid) == members.end()) members.push_back(uid);
        } else {
            members.erase(std::remove_if(members.begin(), members.end(),
                                         [&](const std::string &uid) {
                                             return body.find("value eq \\\"" + uid + "\\\"") != std::string::npos;
                                         }),
                          members.end());
        }
    }

    std::string name_of(const std::string &gid) const {
        const auto it = names_.find(gid);
        return it == names_.end() ? "Group " + gid : it->second;
    }

    mutable std::mutex mu_;
    std::map<std::string, std::string> names_;  // display names given to add_group
    std::vector<FakeUser> users_;
    std::vector<std::pair<std::string, std::vector<std::string>>> groups_;
};

rel::Entries cfg(const std::string &url, rel::Entries extra = {}) {
    rel::Entries e{{"scim-url", url}, {"scim-token", rel::kToken}, {"retry-budget-ms", "300"}};
    e.insert(e.end(), extra.begin(), extra.end());
    return e;
}

size_t count_method(const std::vector<rel::Req> &reqs, const std::string &method) {
    return static_cast<size_t>(std::count_if(reqs.begin(), reqs.end(), [&](const rel::Req &r) { return r.method == method; }));
}

// An org where the first users listed are not the ones a test asks for: a deactivated CEO first, then filler, so
// that a server ignoring filters answers a lookup with other people.
void seed_org(LyingScim &fake) {
    fake.add_user("u-ceo", "ceo@example.com", false);
    for (int i = 0; i < 4; ++i) fake.add_user("u-" + std::to_string(i), "staff" + std::to_string(i) + "@example.com");
    fake.add_group("g-eng", {"u-0", "u-1"});
}

}  // namespace

TEST_SUITE("hostile") {

TEST_CASE("create-account against a server that ignores filter never adopts someone else's account") {
    LyingScim fake;
    fake.ignore_filter = true;
    fake.page_cap = 2;  // the lookup's answer holds the CEO and staff0 only
    seed_org(fake);
    fake.add_user("u-jane", "jane.new@example.com");  // exists already, beyond the first page
    rel::ScriptServer server([&](const rel::Req &r) { return fake.handle(r); });
    rel::Instance in;
    conn_error err{};
    REQUIRE(in.create(cfg(server.url()), err) == CONN_OK);

    SUBCASE("409, the account beyond the lookup's page: refused, nothing changed") {
        const auto r = rel::create_account(in, {{"email", "jane.new@example.com"}, {"display_name", "Jane New"}});
        CHECK(r.status == CONN_ERR_ALREADY_EXISTS);
        CHECK(std::string(r.err.message).find("ignored the userName filter") != std::string::npos);
        CHECK(count_method(server.requests(), "PATCH") == 0);
        CHECK_FALSE(fake.user("ceo@example.com")->active);
    }
    SUBCASE("409, the account on the lookup's page: that account, in any letter case") {
        fake.page_cap = 100;  // the whole collection in one answer: the lookup can tell
        const auto r = rel::create_account(in, {{"email", "Staff1@Example.com"}, {"display_name", "Staff One"}});
        REQUIRE_MESSAGE(r.status == CONN_OK, r.err.message);
        CHECK(r.outcome == CONN_OUTCOME_ALREADY_EXISTS);
        CHECK(r.resource.id == "u-1");
        CHECK(count_method(server.requests(), "PATCH") == 0);
        CHECK_FALSE(fake.user("ceo@example.com")->active);
    }
    SUBCASE("201 whose body cannot be read: the created account, or a clear error, never another") {
        fake.unreadable_create = true;
        const auto r = rel::create_account(in, {{"email", "new.person@example.com"}, {"display_name", "New Person"}});
        CHECK(r.status == CONN_ERR_TRANSIENT);
        CHECK(r.resource.id.empty());
        CHECK(count_method(server.requests(), "PATCH") == 0);
    }
}

TEST_CASE("create-account: a lookup that honours the filter finds the account, also its other letter case") {
    LyingScim fake;
    seed_org(fake);
    rel::ScriptServer server([&](const rel::Req &r) { return fake.handle(r); });
    rel::Instance in;
    conn_error err{};
    REQUIRE(in.create(cfg(server.url()), err) == CONN_OK);
    const auto r = rel::create_account(in, {{"email", "ceo@example.com"}, {"display_name", "The CEO"}});
    REQUIRE(r.status == CONN_OK);
    CHECK(r.outcome == CONN_OUTCOME_REACTIVATED);  // it was inactive (ABI 1.1; 1.0 hosts get ALREADY_EXISTS)
    CHECK(r.resource.id == "u-ceo");
    CHECK(fake.user("ceo@example.com")->active);  // reactivated: the one account positively identified
}

TEST_CASE("grant and revoke against a server that ignores the membership filter decide from the member list") {
    LyingScim fake;
    fake.ignore_filter = true;
    seed_org(fake);
    rel::ScriptServer server([&](const rel::Req &r) { return fake.handle(r); });
    rel::Instance in;
    conn_error err{};
    REQUIRE(in.create(cfg(server.url()), err) == CONN_OK);

    const auto missing_group = rel::grant(in, "group:g-nope:member", "user", "u-2");
    CHECK(missing_group.status == CONN_ERR_NOT_FOUND);
    const auto missing_user = rel::grant(in, "group:g-eng:member", "user", "u-nobody");
    CHECK(missing_user.status == CONN_ERR_NOT_FOUND);
    const auto fresh = rel::grant(in, "group:g-eng:member", "user", "u-2");
    REQUIRE(fresh.status == CONN_OK);
    CHECK(fresh.outcome == CONN_OUTCOME_GRANTED);
    CHECK(fake.members_of("g-eng") == std::vector<std::string>{"u-0", "u-1", "u-2"});
    const auto again = rel::grant(in, "group:g-eng:member", "user", "u-2");
    REQUIRE(again.status == CONN_OK);
    CHECK(again.outcome == CONN_OUTCOME_ALREADY_GRANTED);

    const size_t patches = count_method(server.requests(), "PATCH");
    const auto non_member = rel::revoke(in, "group:g-eng:member", "user", "u-3");
    REQUIRE(non_member.status == CONN_OK);
    CHECK(non_member.outcome == CONN_OUTCOME_ALREADY_REVOKED);
    CHECK(count_method(server.requests(), "PATCH") == patches);  // nothing sent for a non-member
    const auto member = rel::revoke(in, "group:g-eng:member", "user", "u-0");
    REQUIRE(member.status == CONN_OK);
    CHECK(member.outcome == CONN_OUTCOME_REVOKED);
    CHECK(fake.members_of("g-eng") == std::vector<std::string>{"u-1", "u-2"});
}

TEST_CASE("delete / grant / revoke of an e-mail where an id belongs is refused; email=<address> resolves") {
    LyingScim fake;
    seed_org(fake);
    fake.add_user("u-cher", "cher@example.com");
    rel::ScriptServer server([&](const rel::Req &r) { return fake.handle(r); });
    rel::Instance in;
    conn_error err{};
    REQUIRE(in.create(cfg(server.url()), err) == CONN_OK);

    const auto by_mail = rel::delete_resource(in, "user", "cher@example.com");
    CHECK(by_mail.status == CONN_ERR_INVALID_ARGUMENT);
    CHECK(std::string(by_mail.err.message).find("email=") != std::string::npos);
    CHECK(rel::grant(in, "group:g-eng:member", "user", "cher@example.com").status == CONN_ERR_INVALID_ARGUMENT);
    CHECK(rel::revoke(in, "group:g-eng:member", "user", "cher@example.com").status == CONN_ERR_INVALID_ARGUMENT);
    CHECK(rel::grant(in, "group:a@b:member", "user", "u-cher").status == CONN_ERR_INVALID_ARGUMENT);
    CHECK(count_method(server.requests(), "DELETE") + count_method(server.requests(), "PATCH") == 0);
    REQUIRE(fake.user("cher@example.com") != nullptr);

    const auto g = rel::grant(in, "group:g-eng:member", "user", "email=CHER@example.com");
    REQUIRE(g.status == CONN_OK);
    CHECK(g.grant.principal_id == "u-cher");
    CHECK(rel::revoke(in, "group:g-eng:member", "user", "email=cher@example.com").outcome == CONN_OUTCOME_REVOKED);
    const auto d = rel::delete_resource(in, "user", "email=cher@example.com");
    REQUIRE(d.status == CONN_OK);
    CHECK(d.outcome == CONN_OUTCOME_DELETED);
    CHECK(fake.user("cher@example.com") == nullptr);
    const auto again = rel::delete_resource(in, "user", "email=cher@example.com");
    REQUIRE(again.status == CONN_OK);
    CHECK(again.outcome == CONN_OUTCOME_ALREADY_DELETED);

    // The same lookups against a server that ignores the filter: unidentifiable, so nothing is done.
    fake.ignore_filter = true;
    fake.page_cap = 2;
    fake.add_user("u-dana", "dana@example.com");
    const size_t writes = count_method(server.requests(), "DELETE") + count_method(server.requests(), "PATCH");
    CHECK(rel::delete_resource(in, "user", "email=dana@example.com").status == CONN_ERR_FAILED_PRECONDITION);
    CHECK(rel::grant(in, "group:g-eng:member", "user", "email=dana@example.com").status == CONN_ERR_FAILED_PRECONDITION);
    CHECK(count_method(server.requests(), "DELETE") + count_method(server.requests(), "PATCH") == writes);
    CHECK(fake.user("dana@example.com") != nullptr);
}

TEST_CASE("a read by id that answers with another user is never acted on") {
    LyingScim fake;
    seed_org(fake);
    fake.get_user_answers_as = "u-someone-else";
    rel::ScriptServer server([&](const rel::Req &r) { return fake.handle(r); });
    rel::Instance in;
    conn_error err{};
    REQUIRE(in.create(cfg(server.url()), err) == CONN_OK);
    const auto d = rel::delete_resource(in, "user", "u-2");
    CHECK(d.status == CONN_ERR_TRANSIENT);
    CHECK(count_method(server.requests(), "DELETE") == 0);
    const auto g = rel::grant(in, "group:g-eng:member", "user", "u-2");
    CHECK(g.status == CONN_ERR_TRANSIENT);
    CHECK(count_method(server.requests(), "PATCH") == 0);
}

TEST_CASE("a server that ignores startIndex: the sync says the user list is incomplete") {
    LyingScim fake;
    fake.ignore_start_index = true;
    for (int i = 0; i < 450; ++i) fake.add_user("u" + std::to_string(i), "user" + std::to_string(i) + "@example.com");
    rel::ScriptServer server([&](const rel::Req &r) { return fake.handle(r); });
    rel::Instance in;
    conn_error err{};
    REQUIRE(in.create(cfg(server.url()), err) == CONN_OK);
    const auto run = rel::sync(in);
    MESSAGE("status " << run.status << ", " << run.resources.size() << " resources, " << run.warnings.size() << " warnings");
    if (run.status == CONN_OK) {
        const bool warned = std::any_of(run.warnings.begin(), run.warnings.end(), [](const auto &w) {
            return w.first.rfind("incomplete_", 0) == 0 && w.second.find("user") != std::string::npos;
        });
        CHECK_MESSAGE(warned, "100 of 450 users reported without an incomplete_* warning");
    }
}

// A sync stopped at a checkpoint in the users phase against an honest server, resumed after the server began to lie.
struct ResumeAcrossALie {
    LyingScim fake;
    std::filesystem::path dir;
    std::set<std::string> want;
    ResumeAcrossALie() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "rel-resume-XXXXXX").string();
        dir = ::mkdtemp(tmpl.data());
        for (int i = 0; i < 450; ++i) {
            fake.add_user("u" + std::to_string(i), "user" + std::to_string(i) + "@example.com");
            want.insert("u" + std::to_string(i));
        }
        fake.add_group("g-1", {"u1", "u200", "u449"});
    }
    ~ResumeAcrossALie() { std::filesystem::remove_all(dir); }
    rel::Entries config(const std::string &url) const {
        return cfg(url, {{"checkpoint-interval-ms", "0"}, {"spill-dir", dir.string()}, {"concurrency", "2"}});
    }
    // A sync of its own stopped at checkpoint `at` (0-based), or resumed from `token` when one is given.
    rel::SyncRun sync(const std::string &url, int stop_at, const std::string &token = {}) const {
        rel::Instance in;
        conn_error err{};
        REQUIRE(in.create(config(url), err) == CONN_OK);
        rel::Controls controls;
        controls.take_checkpoints = true;
        controls.stop_at_checkpoint = stop_at;
        controls.resume_from = token;
        return rel::sync(in, controls);
    }
    // The users delivered before checkpoint `at` of `stopped`, then every user of `resumed`, counted.
    static std::map<std::string, int> users_of(const rel::SyncRun &stopped, size_t at, const rel::SyncRun &resumed) {
        std::map<std::string, int> n;
        for (size_t i = 0; i < stopped.checkpoints.at(at).resources; ++i)
            if (stopped.resources[i].type == "user") ++n[stopped.resources[i].id];
        for (const auto &r : resumed.resources)
            if (r.type == "user") ++n[r.id];
        return n;
    }
};

TEST_CASE("a resume against a server that began to ignore startIndex never reports the user list complete") {
    ResumeAcrossALie t;
    rel::ScriptServer server([&](const rel::Req &r) { return t.fake.handle(r); });
    const rel::SyncRun stopped = t.sync(server.url(), 1);  // after the second page of 100 users
    REQUIRE_MESSAGE(stopped.status == CONN_ERR_STOPPED, stopped.err.message);
    REQUIRE(stopped.checkpoints.at(1).resources < 450);
    t.fake.ignore_start_index = true;  // from now on every list answers its first page
    const rel::SyncRun resumed = t.sync(server.url(), -1, stopped.checkpoints.at(1).token);
    const auto users = ResumeAcrossALie::users_of(stopped, 1, resumed);
    MESSAGE("resumed: status " << resumed.status << ", " << users.size() << " of 450 users in all, " << resumed.warnings.size()
                               << " warnings");
    for (const auto &[id, n] : users) CHECK_MESSAGE(n == 1, id << " delivered " << n << " times across the resume");
    if (resumed.status == CONN_OK && users.size() < t.want.size()) {
        const bool warned = std::any_of(resumed.warnings.begin(), resumed.warnings.end(),
                                        [](const auto &w) { return w.first.rfind("incomplete_", 0) == 0; });
        CHECK_MESSAGE(warned, users.size() << " of 450 users reported without an incomplete_* warning");
    }
}

TEST_CASE("a resume against a server that began to under-report totalResults still reads every user once") {
    // Below what was read before the checkpoint, and between the frontier and the end. Each resume spends its
    // token (a completed sync removes the journal), so each cap gets a sync of its own to resume.
    for (const int64_t cap : {int64_t{150}, int64_t{250}}) {
        CAPTURE(cap);
        ResumeAcrossALie t;
        rel::ScriptServer server([&](const rel::Req &r) { return t.fake.handle(r); });
        const rel::SyncRun stopped = t.sync(server.url(), 1);
        REQUIRE_MESSAGE(stopped.status == CONN_ERR_STOPPED, stopped.err.message);
        t.fake.total_cap = cap;
        const rel::SyncRun resumed = t.sync(server.url(), -1, stopped.checkpoints.at(1).token);
        REQUIRE_MESSAGE(resumed.status == CONN_OK, resumed.err.message);
        const auto users = ResumeAcrossALie::users_of(stopped, 1, resumed);
        CHECK(users.size() == t.want.size());
        for (const auto &[id, n] : users) CHECK_MESSAGE(n == 1, id << " delivered " << n << " times across the resume");
        CHECK(stopped.checkpoints.at(1).grants + resumed.grants.size() == 3);
    }
}

TEST_CASE("a stale or capped totalResults: every user is still read") {
    for (const int64_t cap : {int64_t{1090}, int64_t{100}, int64_t{2400}}) {
        CAPTURE(cap);
        LyingScim fake;
        fake.total_cap = cap;
        std::set<std::string> want;
        for (int i = 0; i < 2500; ++i) {
            fake.add_user("u" + std::to_string(i), "user" + std::to_string(i) + "@example.com");
            want.insert("u" + std::to_string(i));
        }
        rel::ScriptServer server([&](const rel::Req &r) { return fake.handle(r); });
        rel::Instance in;
        conn_error err{};
        REQUIRE(in.create(cfg(server.url()), err) == CONN_OK);
        const auto run = rel::sync(in);
        REQUIRE_MESSAGE(run.status == CONN_OK, run.err.message);
        std::set<std::string> got;
        for (const auto &r : run.resources)
            if (r.type == "user") got.insert(r.id);
        CHECK(got.size() == want.size());
        CHECK(got == want);
        MESSAGE("totalResults capped at " << cap << ": " << got.size() << " users in " << server.requests().size() << " requests");
    }
}

TEST_CASE("a total that is a whole number of full pages: one more request proves the end") {
    LyingScim fake;
    for (int i = 0; i < 300; ++i) fake.add_user("u" + std::to_string(i), "user" + std::to_string(i) + "@example.com");
    fake.total_cap = 298;  // the last planned page (298..397) comes back full: the total is contradicted
    rel::ScriptServer server([&](const rel::Req &r) { return fake.handle(r); });
    rel::Instance in;
    conn_error err{};
    REQUIRE(in.create(cfg(server.url()), err) == CONN_OK);
    const auto run = rel::sync(in);
    REQUIRE_MESSAGE(run.status == CONN_OK, run.err.message);
    size_t users = 0;
    for (const auto &r : run.resources) users += r.type == "user";
    CHECK(users == 300);
}

TEST_CASE("a member list answered for another group is never taken as this group's members") {
    LyingScim fake;
    seed_org(fake);
    fake.add_group("g-admins", {"u-2", "u-3"});
    fake.get_group_answers_as = "g-admins";
    rel::ScriptServer server([&](const rel::Req &r) { return fake.handle(r); });
    rel::Instance in;
    conn_error err{};
    REQUIRE(in.create(cfg(server.url()), err) == CONN_OK);
    const auto run = rel::sync(in);
    CHECK(run.status == CONN_ERR_TRANSIENT);  // before: g-eng reported with g-admins' members
    CHECK(std::string(run.err.message).find("another group") != std::string::npos);
    const auto r = rel::revoke(in, "group:g-eng:member", "user", "u-2");
    CHECK(r.status == CONN_ERR_TRANSIENT);  // before: "revoked" for a non-member of g-eng
    CHECK(count_method(server.requests(), "PATCH") == 0);
}

// The Admin API sync with SCIM configured reads SCIM twice: every SCIM user (for each member's scim_id) and every
// SCIM group's name (a `scim` group named by exactly one SCIM group has its members read through SCIM). Here the
// Admin API is the simulator's and SCIM is a LyingScim holding the simulator's own SCIM users and groups.
struct AdminWithLyingScim {
    scim_sim::Server sim;
    LyingScim fake;
    AdminWithLyingScim() : sim(options()) {
        sim.start();
        const rel::Truth truth = rel::parse_truth(sim.state_json());
        for (const auto &[id, u] : truth.users) fake.add_user(id, u.user_name, u.active);
        for (const auto &[id, g] : truth.groups) fake.add_group(id, g.members, g.display_name);
        fake.page_cap = 7;
    }
    static scim_sim::Options options() {
        scim_sim::Options o;
        o.token = "scim-token-of-the-simulator";
        o.admin_key = rel::kToken;
        o.admin_rate_limit = 0;
        o.seed = 21;
        o.seed_users = 40;
        o.seed_groups = 5;
        o.seed_members = 90;
        o.seed_direct_users = 10;
        o.seed_direct_groups = 3;
        return o;
    }
    rel::SyncRun sync(const std::string &scim_url) {
        const std::string base = sim.base_url();
        rel::Instance in;
        conn_error err{};
        REQUIRE(in.create({{"admin-api-key", rel::kToken}, {"admin-api-url", base.substr(0, base.find("/scim"))},
                           {"scim-url", scim_url}, {"scim-token", rel::kToken}, {"retry-budget-ms", "300"}},
                          err) == CONN_OK);
        return rel::sync(in);
    }
    std::vector<std::string> differences(const rel::SyncRun &run) {
        const plugin_test::DeliveredSync delivered{run.resources, run.entitlements, run.grants, run.warnings};
        return plugin_test::admin_differences(delivered, plugin_test::admin_truth(sim.state_json(), true));
    }
};

bool warned_incomplete(const rel::SyncRun &run) {
    return std::any_of(run.warnings.begin(), run.warnings.end(),
                       [](const auto &w) { return w.first.rfind("incomplete_", 0) == 0; });
}

TEST_CASE("the Admin API sync's SCIM reads: an under-reported totalResults still gives the exact picture") {
    AdminWithLyingScim org;
    org.fake.total_cap = 3;
    rel::ScriptServer server([&](const rel::Req &r) { return org.fake.handle(r); });
    const auto run = org.sync(server.url());
    REQUIRE_MESSAGE(run.status == CONN_OK, run.err.message);
    const auto diff = org.differences(run);
    for (size_t i = 0; i < diff.size() && i < 10; ++i) MESSAGE(diff[i]);
    CHECK(diff.empty());
}

TEST_CASE("the Admin API sync's SCIM reads: a server that ignores startIndex is never taken for the whole list") {
    AdminWithLyingScim org;
    org.fake.ignore_start_index = true;
    rel::ScriptServer server([&](const rel::Req &r) { return org.fake.handle(r); });
    const auto run = org.sync(server.url());
    REQUIRE_MESSAGE(run.status == CONN_OK, run.err.message);
    // Only the first page of SCIM users can be seen: the sync says so, and what it says is never wrong. A member
    // the first page did not show lacks its scim_id ("missing"), a `scim` group member it cannot join is an
    // unresolved grant; no member gets another's scim_id, no grant names the wrong member.
    CHECK(warned_incomplete(run));
    std::map<std::string, int> missing_by_group, unresolved_by_group;  // group grants, by group id
    const auto group_of = [](const std::string &grant_id) {
        return grant_id.substr(6, grant_id.find(":member:") - 6);  // "group:<gid>:member:..."
    };
    std::map<std::string, long> count_excess;  // group id -> member_count delivered minus the truth's
    for (const auto &d : org.differences(run)) {
        CAPTURE(d);
        if (d.find(": scim_id '<none>'") != std::string::npos) continue;  // a member the first page did not show
        if (const size_t at = d.find(": member_count '"); d.rfind("group:", 0) == 0 && at != std::string::npos) {
            const long got = std::atol(d.c_str() + at + 16);
            const long want = std::atol(d.c_str() + d.find("!= '") + 4);
            count_excess[d.substr(6, at - 6)] = got - want;
            continue;
        }
        if (d.rfind("missing grant group:", 0) == 0) {
            ++missing_by_group[group_of(d.substr(14))];
            continue;
        }
        bool flagged = false;
        for (const auto &g : run.grants)
            if (d == "extra grant " + g.id) flagged = (g.flags & CONN_GRANT_UNRESOLVED_PRINCIPAL) != 0 && g.id.rfind("group:", 0) == 0;
        CHECK_MESSAGE(flagged, "neither a missing scim_id, a missing member nor a grant flagged unresolved");
        if (flagged) ++unresolved_by_group[group_of(d.substr(12))];
    }
    // Each member missing from a `scim` group stands there as a grant flagged unresolved (by its SCIM id); a group's
    // member_count counts what its SCIM list held, so it exceeds the truth's by the unresolved grants that stand for
    // no member (a deactivated SCIM user the first page did not show holds no seat).
    for (const auto &[gid, missing] : missing_by_group) {
        CAPTURE(gid);
        CHECK(missing <= unresolved_by_group[gid]);
    }
    for (const auto &[gid, unresolved] : unresolved_by_group) {
        CAPTURE(gid);
        CHECK(count_excess[gid] == unresolved - missing_by_group[gid]);
    }
    for (const auto &[gid, excess] : count_excess) {
        CAPTURE(gid);
        CHECK(excess == unresolved_by_group[gid] - missing_by_group[gid]);
    }
}

}  // TEST_SUITE
