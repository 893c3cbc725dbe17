// The distinct members of one group, as they are delivered during a sync (a member listed twice is one grant,
// and a retried member list delivers its first members again).
//
// A small group keeps fingerprints in an IdSet (8 to 16 bytes a member). Once that would cost more than one bit
// per slot of the organisation's user index, the members that are users become bits in a bitmap over its slots
// (the user index is complete and frozen by then: users are listed before groups), and only members that are no
// user (groups, unresolved ids) stay in the IdSet. So an "everyone" group of a million users costs about 170 KB,
// not 16 MB.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <string_view>

#include "sync/store/id_index.hpp"
#include "sync/store/id_set.hpp"

namespace ce::store {

class MemberSet {
public:
    explicit MemberSet(const IdIndex &users) : users_(&users) {}

    // True when id was not delivered before in this group.
    bool insert(std::string_view id) {
        const uint64_t fp = IdSet::fingerprint(id);
        bool fresh = false;
        if (bits_) {
            const size_t slot = users_->slot_of(fp);
            if (slot != IdIndex::npos) {
                uint64_t &word = bits_[slot / kWordBits];
                const uint64_t bit = uint64_t{1} << (slot % kWordBits);
                fresh = (word & bit) == 0;
                word |= bit;
            } else {
                fresh = others_.insert_fingerprint(fp);
            }
        } else {
            fresh = others_.insert_fingerprint(fp);
            if (fresh && others_.bytes() > bitmap_bytes()) to_bitmap();
        }
        if (fresh) ++size_;
        return fresh;
    }
    size_t size() const { return size_; }
    bool uses_bitmap() const { return bits_ != nullptr; }
    size_t bytes() const { return others_.bytes() + (bits_ ? bitmap_bytes() : 0); }

private:
    static constexpr size_t kWordBits = 64;
    static size_t words(size_t bits) { return (bits + kWordBits - 1) / kWordBits; }

    struct Free {
        void operator()(uint64_t *p) const { std::free(p); }
    };
    size_t bitmap_bytes() const { return words(users_->slot_count()) * sizeof(uint64_t); }

    void to_bitmap() {
        const size_t n = words(users_->slot_count());
        if (n == 0) return;  // no users at all: everything stays in the IdSet
        bits_.reset(static_cast<uint64_t *>(std::calloc(n, sizeof(uint64_t))));
        if (!bits_) throw std::bad_alloc();
        IdSet rest;
        others_.for_each_fingerprint([&](uint64_t fp) {
            const size_t slot = users_->slot_of(fp);
            if (slot != IdIndex::npos) bits_[slot / kWordBits] |= uint64_t{1} << (slot % kWordBits);
            else rest.insert_fingerprint(fp);
        });
        others_ = std::move(rest);
    }

    const IdIndex *users_;
    IdSet others_;
    std::unique_ptr<uint64_t[], Free> bits_;
    size_t size_ = 0;
};

}  // namespace ce::store
