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
