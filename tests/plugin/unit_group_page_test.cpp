// The streaming group page reader (plugin/src/scim/group_page_reader.cpp) against the DOM parsers of the same
// answers: a page's groups as parse_group_page reads them, each group's members as parse_group_members reads them,
// however the body is cut into pieces; refusals where either refuses.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "scim/group_page_reader.hpp"
#include "scim/scim_json.hpp"

namespace {

using ce::scim::GroupPageReader;
using ce::scim::ListedGroup;
using ce::scim::ParseError;

struct PageOutcome {
    bool ok = false;
    int64_t total = -1;
    std::vector<std::string> ids, names;
    std::vector<bool> listed;
    std::vector<std::vector<std::string>> members;  // value/type per group
};

PageOutcome streamed(const std::string &body, size_t piece) {
    PageOutcome o;
    std::vector<std::string> current;
    GroupPageReader reader(
        [&](std::string_view value, std::string_view type) { current.push_back(std::string(value) + "/" + std::string(type)); },
        [&](ListedGroup &g) {
            o.ids.push_back(g.group.id);
            o.names.push_back(g.group.display_name);
            o.listed.push_back(g.members_listed);
            CHECK(g.members == current.size());
            o.members.push_back(current);
            current.clear();
        });
    try {
        for (size_t pos = 0; pos < body.size(); pos += piece) reader.feed(std::string_view(body).substr(pos, piece));
        const auto summary = reader.finish();
        o.total = summary.total_results;
        CHECK(summary.returned == o.ids.size());
        o.ok = true;
    } catch (const ParseError &) {
    }
    return o;
}

// What the DOM parsers make of the same page: the groups, and each group's object read as a member list.
PageOutcome dom(const std::string &body) {
    PageOutcome o;
    try {
        std::string copy = body;
        auto page = ce::scim::parse_group_page(copy);
        o.total = page.total_results;
        for (auto &g : page.resources) {
            o.ids.push_back(g.id);
            o.names.push_back(g.display_name);
        }
        o.ok = true;
    } catch (const ParseError &) {
    }
    return o;
}

const char *kPage = R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":7,
 "itemsPerPage":3,"startIndex":1,"Resources":[
  {"id":"g1","displayName":"Admins","members":[{"value":"u1","type":"User"},{"value":"g2","type":"Group","$ref":"x"}]},
  {"members":[{"display":"late id","value":"u3"}],"displayName":"Ops","id":"g2"},
  {"id":"g3","displayName":"Empty"},
  {"id":"g4","displayName":"Null","members":null},
  {"id":"g5","displayName":"Esc \"q\" \u00e9","MEMBERS":[{"value":"u\"9","type":"User"}]}
 ]})";

}  // namespace

TEST_CASE("group page reader: groups and their members, however the body is cut") {
    const std::string body = kPage;
    for (size_t piece : {size_t{1}, size_t{2}, size_t{7}, size_t{64}, body.size()}) {
        CAPTURE(piece);
        const PageOutcome s = streamed(body, piece);
        const PageOutcome d = dom(body);
        REQUIRE(s.ok);
        REQUIRE(d.ok);
        CHECK(s.total == 7);
        CHECK(s.ids == d.ids);
        CHECK(s.names == d.names);
        CHECK(s.listed == std::vector<bool>{true, true, false, false, true});
        CHECK(s.members[0] == std::vector<std::string>{"u1/User", "g2/Group"});
        CHECK(s.members[1] == std::vector<std::string>{"u3/"});
        CHECK(s.members[4] == std::vector<std::string>{"u\"9/User"});
    }
}

TEST_CASE("group page reader: refuses what is not a valid page") {
    const std::vector<std::string> bad = {
        "",
        "[]",
        R"({})",
        R"({"totalResults":1,"Resources":[{"displayName":"no id"}]})",
        R"({"totalResults":1,"Resources":[{"id":""}]})",
        R"({"totalResults":1,"Resources":["g1"]})",
        R"({"totalResults":1,"Resources":[{"id":"g1"},]})",
        R"({"totalResults":1,"Resources":[{"id":"g1"} {"id":"g2"}]})",
        R"({"totalResults":1,"Resources":[{"id":"g1","members":[{"type":"User"}]}]})",
        R"({"totalResults":1,"Resources":[{"id":"g1","members":[{"value":"u1"}]}])",
        R"({"totalResults":"x","Resources":[]})",
        R"({"totalResults":1,"Resources":{"id":"g1"}})",
        R"({"totalResults":1,"Resources":[{"id":"g1","members":7}]})",
        R"({"totalResults":1,"Resources":[{"id":"g1"} x]})",
        R"({"totalResults":1,"Resources":[{"id":"g1"}]} trailing)",
        std::string(R"({"totalResults":1,"Resources":[{"id":"g)") + '\0' + R"("}]})",
        R"({"totalResults":1,"Resources":[{"id":"g1","members":[{"value":"u1"}"}]{,,]}]})",
    };
    for (const auto &b : bad) {
        CAPTURE(b);
        CHECK_FALSE(streamed(b, 1).ok);
        CHECK_FALSE(streamed(b, b.size() + 1).ok);
    }
}

TEST_CASE("group page reader: an empty page and a page without Resources") {
    for (const std::string b : {R"({"totalResults":0})", R"({"totalResults":0,"Resources":[]})"}) {
        const PageOutcome s = streamed(b, 3);
        REQUIRE(s.ok);
        CHECK(s.total == 0);
        CHECK(s.ids.empty());
    }
}

TEST_CASE("group page reader: reset forgets a failed attempt") {
    std::vector<std::string> ids;
    GroupPageReader reader([](std::string_view, std::string_view) {}, [&](ListedGroup &g) { ids.push_back(g.group.id); });
    reader.feed(R"({"totalResults":2,"Resources":[{"id":"a"},{"id":)");
    reader.reset();
    ids.clear();
    reader.feed(R"({"totalResults":2,"Resources":[{"id":"b"}]})");
    CHECK(reader.finish().total_results == 2);
    CHECK(ids == std::vector<std::string>{"b"});
}
