// The compact structures a sync keeps for its whole length: the id sets behind exactly-once delivery and
// unresolved-member detection (in memory, and spilled to disk past their budget), the per-group member set, the
// group list.
#include <doctest/doctest.h>

#include "common/errors.hpp"
#include "sync/store/id_index.hpp"
#include "sync/store/id_set.hpp"
#include "sync/store/member_set.hpp"
#include "sync/store/group_list.hpp"
#include "sync/store/member_buffer.hpp"

#include <random>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <vector>

TEST_CASE("IdSet inserts once, answers membership, and survives growth") {
    ce::store::IdSet set;
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
    CHECK(ce::store::IdSet::fingerprint("user-1") != ce::store::IdSet::fingerprint("user-2"));
    CHECK(ce::store::IdSet::fingerprint("ab") != ce::store::IdSet::fingerprint("ba"));
    CHECK(ce::store::IdSet::fingerprint("") != 0u);
}

TEST_CASE("IdSet reserved for n ids holds them without growing, at any table size") {
    for (size_t n : {size_t{1}, size_t{7}, size_t{100}, size_t{1000}, size_t{99991}}) {
        ce::store::IdSet set;
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
    ce::store::IdSet a;
    for (int i = 0; i < 100; ++i) a.insert("u" + std::to_string(i));
    ce::store::IdSet b = std::move(a);
    CHECK(b.size() == 100);
    CHECK(b.contains("u42"));
    CHECK(a.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is specified
    CHECK_FALSE(a.contains("u42"));
    CHECK(a.insert("u42"));
    ce::store::IdSet c;
    c = std::move(b);
    CHECK(c.size() == 100);
    CHECK(b.empty());
}

namespace {
// A budget that makes an index of n ids spill several times (the table holds 3/4 of 4096 slots).
constexpr size_t kTinyBudget = 4096 * sizeof(uint64_t);

std::string temp_dir() { return ce::store::SpillFile::default_dir(); }
}  // namespace

TEST_CASE("IdIndex equals a set of strings, in memory or spilled to disk") {
    for (size_t budget : {size_t{512}, kTinyBudget, ce::store::IdIndex::kDefaultMemoryBytes}) {
        CAPTURE(budget);
        ce::store::IdIndex index(budget, temp_dir());
        std::unordered_set<std::string> reference;
        std::mt19937_64 rng(budget);
        for (int i = 0; i < 40000; ++i) {
            // Fresh ids, and ids seen before (recent and old), as a re-walked listing sends them.
            std::string id;
            const auto pick = rng() % 10;
            if (pick < 7 || reference.empty()) id = "u-" + std::to_string(rng() % 1000000);
            else id = "u-" + std::to_string((rng() % 1000000) / 2 * 2);
            const bool had = reference.count(id) > 0;
            REQUIRE(index.contains(id) == had);
            REQUIRE(index.insert(id) == !had);
            reference.insert(id);
            REQUIRE_FALSE(index.insert(id));
        }
        CHECK(index.size() == reference.size());
        for (const auto &id : reference) REQUIRE(index.contains(id));
        for (int i = 0; i < 20000; ++i) {
            const std::string absent = "absent-" + std::to_string(i);
            REQUIRE_FALSE(index.contains(absent));
        }
        CHECK(index.spilled() == (budget < ce::store::IdIndex::kDefaultMemoryBytes));
        if (index.spilled()) {
            CHECK(index.disk_bytes() > 0);
            CHECK(index.memory_bytes() <= budget + 8192);
        }

        // Frozen: the same answers, and each id has its own slot below slot_count().
        index.freeze();
        CHECK(index.size() == reference.size());
        std::vector<bool> used(index.slot_count(), false);
        for (const auto &id : reference) {
            const size_t slot = index.slot_of(ce::store::IdSet::fingerprint(id));
            REQUIRE(slot < index.slot_count());
            REQUIRE_FALSE(used[slot]);
            used[slot] = true;
        }
        for (int i = 0; i < 2000; ++i) REQUIRE(index.slot_of(ce::store::IdSet::fingerprint("absent-" + std::to_string(i))) == ce::store::IdIndex::npos);
        if (index.spilled()) CHECK(index.memory_bytes() < 64 * 1024);  // the table is given back
    }
}

TEST_CASE("IdIndex reserve never passes the memory budget, and moves keep the spilled run") {
    ce::store::IdIndex index(kTinyBudget, temp_dir());
    index.reserve(1000000);
    CHECK(index.memory_bytes() <= kTinyBudget + 8192);
    for (int i = 0; i < 10000; ++i) REQUIRE(index.insert("id-" + std::to_string(i)));
    CHECK(index.spilled());
    ce::store::IdIndex moved = std::move(index);
    CHECK(moved.size() == 10000);
    for (int i = 0; i < 10000; ++i) REQUIRE(moved.contains("id-" + std::to_string(i)));
    CHECK_FALSE(moved.contains("id-10000"));
    // The source is left empty and usable.
    CHECK(index.empty());
    CHECK_FALSE(index.spilled());
    CHECK_FALSE(index.contains("id-1"));
    CHECK(index.insert("id-1"));
    ce::store::IdIndex assigned;
    assigned = std::move(moved);
    CHECK(assigned.size() == 10000);
    CHECK(assigned.contains("id-9999"));
    CHECK(moved.empty());
    CHECK_FALSE(moved.contains("id-9999"));
}

TEST_CASE("IdIndex in a directory it cannot write fails with an error naming spill-dir") {
    ce::store::IdIndex index(512, "/nonexistent-spill-dir");
    bool thrown = false;
    try {
        for (int i = 0; i < 1000; ++i) index.insert("id-" + std::to_string(i));
    } catch (const ce::Error &e) {
        thrown = true;
        CHECK(e.kind() == ce::ErrorKind::internal);
        CHECK(e.field() == "spill-dir");
        CHECK(std::string(e.what()).find("spill-dir") != std::string::npos);
        CHECK(std::string(e.what()).find("/nonexistent-spill-dir") != std::string::npos);
    }
    CHECK(thrown);
}

TEST_CASE("MemberSet counts each member once, small or large, users or not, over a table or a spilled index") {
    for (size_t budget : {ce::store::IdIndex::kDefaultMemoryBytes, kTinyBudget}) {
        CAPTURE(budget);
        ce::store::IdIndex users(budget, temp_dir());
        const int kUsers = 50000;
        users.reserve(kUsers);
        for (int i = 0; i < kUsers; ++i) users.insert("user-" + std::to_string(i));
        users.freeze();
        CHECK(users.spilled() == (budget == kTinyBudget));

        for (int members : {0, 1, 10, 1000, 20000, 50000}) {
            ce::store::MemberSet set(users);
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
}

TEST_CASE("MemberSet without any user keeps everything in its id set") {
    ce::store::IdIndex none;
    ce::store::MemberSet set(none);
    for (int i = 0; i < 5000; ++i) REQUIRE(set.insert("ghost-" + std::to_string(i)));
    for (int i = 0; i < 5000; ++i) REQUIRE_FALSE(set.insert("ghost-" + std::to_string(i)));
    CHECK(set.size() == 5000);
    CHECK_FALSE(set.uses_bitmap());
}

TEST_CASE("GroupList gives back every group in the order pushed, from memory or from its spill file") {
    for (size_t budget : {ce::store::GroupList::kDefaultMemoryBytes, size_t{512}, size_t{4096}}) {
        CAPTURE(budget);
        ce::store::GroupList list(budget, temp_dir());
        std::vector<ce::scim::Group> pushed;
        for (int i = 0; i < 3000; ++i) {
            ce::scim::Group g;
            g.id = "00000000-0000-4000-8000-" + std::to_string(100000000000 + i);
            g.display_name = i % 7 == 0 ? std::string() : "Team \xc3\xa9 " + std::to_string(i);  // some without a name
            if (i == 1234) g.display_name = std::string(70000, 'x');  // larger than a read buffer and the budget
            g.external_id = i % 3 == 0 ? "ext-" + std::to_string(i) : std::string();
            list.push(g);
            pushed.push_back(g);
        }
        REQUIRE(list.size() == pushed.size());
        CHECK(list.spilled() == (budget < ce::store::GroupList::kDefaultMemoryBytes));
        for (size_t i = 0; i < pushed.size(); ++i) {
            const ce::scim::Group g = list.next();
            REQUIRE(g.id == pushed[i].id);
            REQUIRE(g.display_name == pushed[i].display_name);
            REQUIRE(g.external_id == pushed[i].external_id);
        }
        CHECK_THROWS_AS(list.next(), std::out_of_range);
        CHECK_THROWS_AS(list.push(pushed[0]), std::logic_error);
    }
    CHECK(ce::store::GroupList().size() == 0);
}

TEST_CASE("MemberBuffer keeps members in order until cleared") {
    using Kind = ce::store::MemberBuffer::Kind;
    ce::store::MemberBuffer buf;
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
