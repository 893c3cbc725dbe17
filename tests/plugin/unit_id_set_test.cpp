// The compact structures a sync keeps for its whole length: the id sets behind exactly-once delivery and
// unresolved-member detection, the per-group member set, the packed group list.
#include <doctest/doctest.h>

#include "common/id_set.hpp"
#include "common/member_set.hpp"
#include "connector/group_list.hpp"
#include "connector/member_buffer.hpp"

#include <string>
#include <unordered_set>
#include <vector>

TEST_CASE("IdSet inserts once, answers membership, and survives growth") {
    ce::IdSet set;
    CHECK(set.empty());
    CHECK_FALSE(set.contains("anything"));
    CHECK(set.insert("a"));
    CHECK_FALSE(set.insert("a"));
    CHECK(set.contains("a"));
    CHECK_FALSE(set.contains("A")); // ids are case-sensitive
    CHECK(set.insert(""));          // the empty id is an id like any other
    CHECK(set.contains(""));

    std::unordered_set<std::string> reference{"a", ""};
    for (int i = 0; i < 200000; ++i) {
        std::string id = "00000000-0000-4000-8000-" + std::to_string(1000000000000 + i * 7919);
        CHECK_EQ(set.insert(id), reference.insert(id).second);
        if (i % 3 == 0) CHECK_FALSE(set.insert(id)); // a repeat on a later page
    }
    CHECK(set.size() == reference.size());
    for (const auto &id : reference) REQUIRE(set.contains(id));
    CHECK_FALSE(set.contains("00000000-0000-4000-8000-not-there"));
}

TEST_CASE("IdSet fingerprints differ for ids that differ in one byte") {
    CHECK(ce::IdSet::fingerprint("user-1") != ce::IdSet::fingerprint("user-2"));
    CHECK(ce::IdSet::fingerprint("ab") != ce::IdSet::fingerprint("ba"));
    CHECK(ce::IdSet::fingerprint("") != 0u);
}

TEST_CASE("IdSet reserved for n ids holds them without growing, at any table size") {
    for (size_t n : {size_t{1}, size_t{7}, size_t{100}, size_t{1000}, size_t{99991}}) {
        ce::IdSet set;
        set.reserve(n);
        const size_t capacity = set.capacity();
        CHECK(capacity * 3 >= n * 4);  // at most 3/4 full
        CHECK(capacity <= n + n / 3 + 2);  // and no bigger than that needs
        for (size_t i = 0; i < n; ++i) REQUIRE(set.insert("id-" + std::to_string(i)));
        CHECK(set.capacity() == capacity);
        CHECK(set.size() == n);
        for (size_t i = 0; i < n; ++i) REQUIRE(set.contains("id-" + std::to_string(i)));
        CHECK_FALSE(set.contains("id-" + std::to_string(n)));
        // Past the reservation it grows and keeps everything.
        for (size_t i = n; i < 3 * n + 10; ++i) REQUIRE(set.insert("id-" + std::to_string(i)));
        CHECK(set.capacity() > capacity);
        for (size_t i = 0; i < 3 * n + 10; ++i) REQUIRE_FALSE(set.insert("id-" + std::to_string(i)));
    }
}

TEST_CASE("IdSet moves leave the source empty and usable") {
    ce::IdSet a;
    for (int i = 0; i < 100; ++i) a.insert("u" + std::to_string(i));
    ce::IdSet b = std::move(a);
    CHECK(b.size() == 100);
    CHECK(b.contains("u42"));
    CHECK(a.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is specified
    CHECK_FALSE(a.contains("u42"));
    CHECK(a.insert("u42"));
    ce::IdSet c;
    c = std::move(b);
    CHECK(c.size() == 100);
    CHECK(b.empty());
}

TEST_CASE("MemberSet counts each member once, small or large, users or not") {
    ce::IdSet users;
    const int kUsers = 50000;
    users.reserve(kUsers);
    for (int i = 0; i < kUsers; ++i) users.insert("user-" + std::to_string(i));

    for (int members : {0, 1, 10, 1000, 20000, 50000}) {
        ce::MemberSet set(users);
        std::unordered_set<std::string> reference;
        for (int i = 0; i < members; ++i) {
            // Users (some listed twice), plus ids that are no user (groups, unresolved), also repeated.
            const std::string u = "user-" + std::to_string((i * 7919) % kUsers);
            REQUIRE(set.insert(u) == reference.insert(u).second);
            if (i % 5 == 0) REQUIRE_FALSE(set.insert(u));
            if (i % 9 == 0) {
                const std::string other = "group-or-ghost-" + std::to_string(i / 9);
                REQUIRE(set.insert(other) == reference.insert(other).second);
                REQUIRE_FALSE(set.insert(other));
            }
        }
        CHECK(set.size() == reference.size());
        for (const auto &id : reference) REQUIRE_FALSE(set.insert(id));
        CHECK(set.size() == reference.size());
        // Large groups switch to one bit per user slot, and cost less than a fingerprint set of their members.
        if (members >= 20000) {
            CHECK(set.uses_bitmap());
            CHECK(set.bytes() < reference.size() * 8);
        }
        if (members <= 10) CHECK_FALSE(set.uses_bitmap());
    }
}

TEST_CASE("MemberSet without any user keeps everything in its id set") {
    ce::IdSet none;
    ce::MemberSet set(none);
    for (int i = 0; i < 5000; ++i) REQUIRE(set.insert("ghost-" + std::to_string(i)));
    for (int i = 0; i < 5000; ++i) REQUIRE_FALSE(set.insert("ghost-" + std::to_string(i)));
    CHECK(set.size() == 5000);
    CHECK_FALSE(set.uses_bitmap());
}

TEST_CASE("GroupList gives back every group as it was pushed") {
    ce::connector::GroupList list;
    std::vector<ce::scim::Group> pushed;
    for (int i = 0; i < 3000; ++i) {
        ce::scim::Group g;
        g.id = "00000000-0000-4000-8000-" + std::to_string(100000000000 + i);
        g.display_name = i % 7 == 0 ? std::string() : "Team \xc3\xa9 " + std::to_string(i);  // some without a name
        g.external_id = i % 3 == 0 ? "ext-" + std::to_string(i) : std::string();
        list.push(g);
        pushed.push_back(g);
    }
    REQUIRE(list.size() == pushed.size());
    for (size_t i = 0; i < pushed.size(); ++i) {
        const ce::scim::Group g = list.at(i);
        REQUIRE(list.id(i) == pushed[i].id);
        REQUIRE(g.id == pushed[i].id);
        REQUIRE(g.display_name == pushed[i].display_name);
        REQUIRE(g.external_id == pushed[i].external_id);
    }
    CHECK(ce::connector::GroupList().size() == 0);
}

TEST_CASE("MemberBuffer keeps members in order until cleared") {
    using Kind = ce::connector::MemberBuffer::Kind;
    ce::connector::MemberBuffer buf;
    CHECK(buf.size() == 0);
    buf.add("u1", Kind::user);
    buf.add("", Kind::unknown);  // an empty id is kept as given (the connector decides what it means)
    buf.add("g\xc3\xa9", Kind::group);
    REQUIRE(buf.size() == 3);
    CHECK(buf.value(0) == "u1");
    CHECK(buf.kind(0) == Kind::user);
    CHECK(buf.value(1).empty());
    CHECK(buf.kind(1) == Kind::unknown);
    CHECK(buf.value(2) == "g\xc3\xa9");
    CHECK(buf.kind(2) == Kind::group);
    buf.clear();
    CHECK(buf.size() == 0);
    for (int i = 0; i < 10000; ++i) buf.add("id-" + std::to_string(i), Kind::user);
    for (int i = 0; i < 10000; ++i) REQUIRE(buf.value(static_cast<size_t>(i)) == "id-" + std::to_string(i));
}
