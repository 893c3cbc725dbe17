// The streaming member reader (plugin/src/scim/members_reader.cpp) against the DOM parser it replaces on the
// sync path (parse_group_members): same documents accepted, same members, in order, however the body is cut.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "scim/members_reader.hpp"
#include "scim/scim_json.hpp"

namespace {

using ce::scim::GroupMembersReader;
using ce::scim::Member;
using ce::scim::ParseError;

struct Outcome {
    bool ok = false;
    std::vector<Member> members;  // delivered (for the reader: also those delivered before an error)
};

Outcome dom(const std::string &body) {
    Outcome o;
    std::string copy = body;
    try {
        o.members = ce::scim::parse_group_members(copy);
        o.ok = true;
    } catch (const ParseError &) {
    }
    return o;
}

Outcome streamed(const std::string &body, size_t piece) {
    Outcome o;
    GroupMembersReader reader([&](std::string_view value, std::string_view type) {
        o.members.push_back(Member{std::string(value), std::string(type)});
    });
    try {
        for (size_t pos = 0; pos < body.size(); pos += piece) reader.feed(std::string_view(body).substr(pos, piece));
        reader.finish();
        o.ok = true;
        CHECK(reader.members() == o.members.size());
    } catch (const ParseError &) {
    }
    return o;
}

void same(const Outcome &want, const Outcome &got, const std::string &body, size_t piece) {
    INFO("body: " << body << "  (pieces of " << piece << ")");
    REQUIRE(got.ok == want.ok);
    if (!want.ok) return;
    REQUIRE(got.members.size() == want.members.size());
    for (size_t i = 0; i < got.members.size(); ++i) {
        CHECK(got.members[i].value == want.members[i].value);
        CHECK(got.members[i].type == want.members[i].type);
    }
}

const std::vector<std::string> kDocuments = {
    R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g1","members":[{"value":"u1","type":"User","display":"A [b] {c}"},{"value":"g2","type":"Group"},{"value":"u3"}],"meta":{"resourceType":"Group"}})",
    R"({"id":"g1"})",
    R"({"id":"g1","members":[]})",
    R"({"id":"g1","members":[ ] })",
    R"( { "members" : [ { "value" : "u1" } , { "value" : "u2" } ] } )",
    R"({"members":null})",
    R"({"members":null,"Members":[{"value":"u1"}]})",
    R"({"MEMBERS":[{"value":"u1"}],"members":[{"value":"u2"}]})",
    R"({"m\u0065mbers":[{"value":"u1"}]})",
    R"({"m\u0045MBERS":[{"value":"u1"}]})",
    R"({"members\u0000":[{"value":"u1"}]})",
    R"({"a":{"members":[{"value":"nested"}]},"members":[{"value":"top"}]})",
    R"({"a":"members","members":[{"value":"u1"}]})",
    R"({"members":[{"value":"u1","value":"u2","type":null,"TYPE":"Group"}]})",
    R"({"members":[{"VALUE":"u1","Type":"user"}]})",
    R"({"members":[{"x":{"value":"deep"},"value":"u1"}]})",
    R"({"members":[{"value":"a\"b\\c]},{"}]})",
    R"({"members":[{"value":"\u00e9\ud83d\ude00"}]})",
    R"({"members":[{"value":""}]})",
    R"({"members":[{"value":"u1","n":1e400}]})",
    R"({"members":[{"value":"u1"}],"n":-0.5e-3,"t":true,"f":false,"z":null,"o":{"p":[1,[2,{}]]}})",
    // Refused by both.
    R"({"members":[{"value":null}]})",
    R"({"members":[{"value":"u1","value":null}]})",
    R"({"members":[{"value":null,"value":"u1"}]})",
    R"({"members":[{"type":"User"}]})",
    R"({"members":[{"value":1}]})",
    R"({"members":[{"value":"u1","type":2}]})",
    R"({"members":[{"value":["u1"]}]})",
    R"({"members":[{"value":{"id":"u1"}}]})",
    R"({"members":["u1"]})",
    R"({"members":[1]})",
    R"({"members":[[]]})",
    R"({"members":{"value":"u1"}})",
    R"({"members":"u1"})",
    R"({"members":5})",
    R"({"members":true})",
    R"({"members":[{"value":"u1"},]})",
    R"({"members":[,{"value":"u1"}]})",
    R"({"members":[{"value":"u1"},,{"value":"u2"}]})",
    R"({"members":[{"value":"u1"} {"value":"u2"}]})",
    R"({"members":[{"value":"u1"}})",
    R"({"members":[{"value":"u1"}]]})",
    R"({"members":[{"value":"u1"})",
    R"({"members" [{"value":"u1"}]})",
    R"({"members":[{"value":"\udc00"}]})",
    R"({"members":[{"value":"u1","type":"\udc00"}]})",
    R"({"members":[{"value":"u1\x"}]})",
    R"({"members":[{"value":"u1"}]}{"id":"again"})",
    R"({"id":"g1"}{"members":[{"value":"u1"}]})",
    R"([{"members":[{"value":"u1"}]}])",
    R"("members")",
    R"(null)",
    "",
    "   ",
    R"({"members":[{"value":"u1"}],})",
    R"({"members":[{"value":"u1"}],"x":tru})",
    R"({"members":[{"value":"u1"}],"x":01})",
    "{\"members\":[{\"value\":\"u\xc3\"}]}",        // a UTF-8 sequence cut short inside a value
    "{\"members\":[{\"value\":\"u1\"}],\"x\":\"\xff\"}",  // invalid UTF-8 outside the member list
    "{\"members\":[{\"value\":\"u1\"}]}\xc3",       // ... and cut short at the very end
};

}  // namespace

TEST_CASE("the streaming member reader agrees with parse_group_members, in any pieces") {
    for (const auto &body : kDocuments) {
        const Outcome want = dom(body);
        for (size_t piece : {size_t{1}, size_t{2}, size_t{3}, size_t{7}, size_t{64}, body.size() + 1})
            same(want, streamed(body, piece), body, piece);
    }
}

TEST_CASE("every prefix of an answer is judged like parse_group_members judges it") {
    const std::string body = kDocuments.front() + "\n";
    for (size_t n = 0; n <= body.size(); ++n) {
        const std::string prefix = body.substr(0, n);
        same(dom(prefix), streamed(prefix, 5), prefix, 5);
    }
    // Only the whole answer (with or without its final newline) is accepted.
    CHECK_FALSE(streamed(body.substr(0, body.size() - 2), 4).ok);
    CHECK(streamed(body.substr(0, body.size() - 1), 4).ok);
}

TEST_CASE("members are delivered as they complete, before the body ends") {
    std::vector<std::string> seen;
    GroupMembersReader reader([&](std::string_view v, std::string_view) { seen.emplace_back(v); });
    reader.feed(R"({"id":"g","members":[{"value":"u1"},{"val)");
    CHECK(seen == std::vector<std::string>{"u1"});
    reader.feed(R"(ue":"u2"})");
    CHECK(seen.size() == 1);  // not complete until the delimiter after it
    reader.feed(R"(,{"value":"u3"}]})");
    CHECK(seen == std::vector<std::string>{"u1", "u2", "u3"});
    reader.finish();
}

TEST_CASE("a broken tail is an error after the members before it were delivered") {
    std::vector<std::string> seen;
    GroupMembersReader reader([&](std::string_view v, std::string_view) { seen.emplace_back(v); });
    reader.feed(R"({"members":[{"value":"u1"},{"value":"u2"}],"meta":{"x":)");
    CHECK(seen.size() == 2);
    reader.feed("}}");
    CHECK_THROWS_AS(reader.finish(), ParseError);
}

TEST_CASE("reset() starts over: the same body read twice gives the same members") {
    std::vector<std::string> seen;
    GroupMembersReader reader([&](std::string_view v, std::string_view) { seen.emplace_back(v); });
    const std::string body = R"({"members":[{"value":"u1"},{"value":"u2"}]})";
    reader.feed(body.substr(0, 20));  // a first attempt that breaks off
    reader.reset();
    seen.clear();
    reader.feed(body);
    reader.finish();
    CHECK(seen == std::vector<std::string>{"u1", "u2"});
    CHECK(reader.members() == 2);
}

TEST_CASE("a NUL byte is refused wherever it is") {
    const std::string good = R"({"members":[{"value":"u1"}]})";
    for (size_t at : {size_t{0}, size_t{5}, size_t{20}, good.size()}) {
        std::string body = good;
        body.insert(at, 1, '\0');
        CHECK_FALSE(streamed(body, 3).ok);
    }
}

TEST_CASE("errors name the member and the field") {
    GroupMembersReader reader([](std::string_view, std::string_view) {});
    try {
        reader.feed(R"({"members":[{"value":"u1"},{"value":7}]})");
        FAIL("no error");
    } catch (const ParseError &e) {
        CHECK(std::string(e.what()).find("members[1].value") != std::string::npos);
    }
    reader.reset();
    try {
        reader.feed(R"({"members":[{"value":"u1"},{"type":"User"}]})");
        FAIL("no error");
    } catch (const ParseError &e) {
        CHECK(std::string(e.what()).find("'members[1].value' is missing") != std::string::npos);
    }
    reader.reset();
    CHECK_THROWS_WITH_AS(reader.feed(R"({"members":"u1"})"), "the field 'members' is not an array", ParseError);
}

TEST_CASE("a large group is read in flat memory: the reader holds one member, not the list") {
    std::string head = R"({"id":"big","members":[)";
    size_t n = 0;
    GroupMembersReader reader([&](std::string_view v, std::string_view t) {
        REQUIRE(v.size() == 36);
        REQUIRE(t == "User");
        ++n;
    });
    reader.feed(head);
    std::string chunk;
    for (int i = 0; i < 200000; ++i) {
        char id[40];
        std::snprintf(id, sizeof id, "%08d-0000-4000-8000-000000000000", i);
        chunk += std::string(i ? "," : "") + R"({"value":")" + id + R"(","type":"User","display":"Someone"})";
        if (chunk.size() > 16384) {
            reader.feed(chunk);
            chunk.clear();
        }
    }
    reader.feed(chunk + "]}");
    reader.finish();
    CHECK(n == 200000);
}

// Issue 15: what the reader holds is bounded; past a limit it throws LimitError naming the setting.
TEST_CASE("a member or a document around the list past its limit: LimitError naming the setting, memory bounded") {
    ce::scim::MemberReaderLimits limits;
    limits.member_bytes = 1024;
    limits.envelope_bytes = 4096;
    size_t peak = 0;
    const auto feed_all = [&](const std::string &body) -> std::string {
        GroupMembersReader reader([](std::string_view, std::string_view) {}, limits);
        try {
            for (size_t i = 0; i < body.size(); i += 100) {
                reader.feed(std::string_view(body).substr(i, 100));
                peak = std::max(peak, reader.held_bytes());
            }
            reader.finish();
        } catch (const ce::scim::LimitError &e) {
            return e.field();
        }
        return "";
    };
    const std::string big(100000, 'x');
    CHECK(feed_all(R"({"members":[{"value":"u1","display":")" + big + "\"}]}") == "max-member-kb");
    CHECK(feed_all(R"({"pad":")" + big + R"(","members":[{"value":"u1"}]})") == "max-response-mb");
    CHECK(feed_all(R"({"members":[{"value":"u1"}],"pad":[")" + big + "\"]}") == "max-response-mb");
    CHECK(peak <= limits.member_bytes * 2 + limits.envelope_bytes + 64);
    // Within the limits: read as before.
    std::string members;
    for (int i = 0; i < 2000; ++i) members += std::string(i ? "," : "") + R"({"value":"u)" + std::to_string(i) + "\"}";
    CHECK(feed_all(R"({"id":"g","members":[)" + members + "]}").empty());
}
