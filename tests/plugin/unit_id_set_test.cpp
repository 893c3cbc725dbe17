// The compact id set behind exactly-once delivery and unresolved-member detection.
#include <doctest/doctest.h>

#include "common/id_set.hpp"

#include <string>
#include <unordered_set>

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
