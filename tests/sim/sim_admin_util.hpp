// Helpers of the Admin API tests: an organisation with both views, walkers of both paging styles, truth lookups.
#pragma once

#include <doctest/doctest.h>

#include "sim_test_util.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace simtest {

struct OrgSize {
    size_t users = 30, groups = 4, members = 60;           // SCIM
    size_t direct = 12, direct_groups = 4, roles = 3, invites = 10;  // Admin API only
    uint64_t seed = 5;
};

inline scim_sim::Options admin_org(const OrgSize &z = {}) {
    auto o = options();
    o.admin_key = kAdminKey;
    o.admin_rate_limit = 0;  // tests walk at page size 1; the rate limit has tests of its own
    o.seed = z.seed;
    o.seed_users = z.users;
    o.seed_groups = z.groups;
    o.seed_members = z.members;
    o.seed_direct_users = z.direct;
    o.seed_direct_groups = z.direct_groups;
    o.seed_roles = z.roles;
    o.seed_invites = z.invites;
    return o;
}

inline std::string with_query(const std::string &path, const std::string &q) {
    return path + (path.find('?') == std::string::npos ? "?" : "&") + q;
}

struct Walk {
    std::vector<std::string> ids;
    size_t pages = 0, short_pages = 0;  // short: fewer rows than the limit while has_more is true
};

// Paging A: after_id = last_id until has_more is false; checks the envelope of every page.
inline Walk walk_a(AdminClient &c, const std::string &path, int limit) {
    Walk out;
    std::string after;
    for (int guard = 0; guard < 200000; ++guard) {
        std::string q = "limit=" + std::to_string(limit) + (after.empty() ? "" : "&after_id=" + enc(after));
        auto r = c.get(with_query(path, q));
        REQUIRE(r.status == 200);
        auto d = r.json();
        const auto &data = d["data"];
        REQUIRE(data.Size() <= static_cast<unsigned>(limit));
        ++out.pages;
        for (auto &x : data.GetArray()) out.ids.push_back(str(x, "id"));
        if (data.Size() > 0) {
            CHECK(str(d, "first_id") == str(data[0], "id"));
            CHECK(str(d, "last_id") == str(data[data.Size() - 1], "id"));
        } else {
            CHECK(d["first_id"].IsNull());
            CHECK(d["last_id"].IsNull());
        }
        if (!d["has_more"].GetBool()) break;
        REQUIRE(data.Size() > 0);
        after = str(d, "last_id");
    }
    return out;
}

// Paging B: `page` = the previous next_page verbatim until next_page is null.
inline Walk walk_b(AdminClient &c, const std::string &path, int limit, const char *id_key = "id") {
    Walk out;
    std::string page;
    for (int guard = 0; guard < 200000; ++guard) {
        std::string q = "limit=" + std::to_string(limit) + (page.empty() ? "" : "&page=" + enc(page));
        auto r = c.get(with_query(path, q));
        REQUIRE(r.status == 200);
        auto d = r.json();
        const auto &data = d["data"];
        REQUIRE(data.Size() <= static_cast<unsigned>(limit));
        ++out.pages;
        for (auto &x : data.GetArray()) out.ids.push_back(str(x, id_key));
        bool more = d["has_more"].GetBool();
        CHECK(more == d["next_page"].IsString());
        if (!more) break;
        if (data.Size() < static_cast<unsigned>(limit)) ++out.short_pages;
        page = d["next_page"].GetString();
    }
    return out;
}

inline std::vector<std::string> truth_ids(const rapidjson::Document &st, const char *array) {
    std::vector<std::string> out;
    for (auto &x : st[array].GetArray()) out.push_back(str(x, "id"));
    return out;
}

inline const rapidjson::Value *truth_find(const rapidjson::Document &st, const char *array, const std::string &id) {
    for (auto &x : st[array].GetArray()) {
        if (str(x, "id") == id) return &x;
    }
    return nullptr;
}

// First truth entry of `array` whose `key` equals `value`.
inline std::string truth_id_where(const rapidjson::Document &st, const char *array, const char *key,
                                  const std::string &value) {
    for (auto &x : st[array].GetArray()) {
        if (str(x, key) == value) return str(x, "id");
    }
    return {};
}

inline std::vector<std::string> string_array(const rapidjson::Value &v) {
    std::vector<std::string> out;
    for (auto &x : v.GetArray()) out.push_back(x.GetString());
    return out;
}

}  // namespace simtest
