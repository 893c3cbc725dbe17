// A compact set of resource ids for a whole sync: 64-bit fingerprints in an open-addressing table (linear
// probing, at most 3/4 full), 8 to 16 bytes per id instead of the ~120 of an unordered_set<std::string> (node,
// bucket, string). A sync keeps one entry per user and per group (exactly-once delivery across pages and passes,
// and telling resolved from unresolved members), so this is most of what grows with the organisation.
//
// The table may have any size (a fingerprint picks its home slot by multiply-shift, not by a power-of-two mask),
// so reserve(n) makes it just big enough for n ids; its memory comes from calloc, so the pages of a large table
// reserved on a server's word (totalResults) cost nothing until ids actually land in them.
//
// Two different ids collide only if their 64-bit fingerprints are equal: with n ids the chance is about
// n^2 / 2^65 (3e-8 for a million users); a collision would make the second id look already seen.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>

namespace ce::store {

class IdSet {
public:
    IdSet() = default;
    IdSet(IdSet &&other) noexcept
        : slots_(std::move(other.slots_)), capacity_(other.capacity_), size_(other.size_) {
        other.capacity_ = other.size_ = 0;
    }
    IdSet &operator=(IdSet &&other) noexcept {
        slots_ = std::move(other.slots_);
        capacity_ = other.capacity_;
        size_ = other.size_;
        other.capacity_ = other.size_ = 0;
        return *this;
    }

    static constexpr size_t npos = static_cast<size_t>(-1);
    // The size of a first table; past it a table doubles.
    static constexpr size_t kFirstSlots = 64;

    // Whether one more id would fill a table of `capacity` slots past 3/4 (linear probing slows down past that).
    static constexpr bool over_load(size_t size, size_t capacity) { return (size + 1) * 4 > capacity * 3; }
    // The capacity a table grows to: a first table, or twice the size.
    static constexpr size_t grown(size_t capacity) { return capacity < kFirstSlots * 3 / 4 ? kFirstSlots : capacity * 2; }

    // Inserts id; true when it was not there before.
    bool insert(std::string_view id) { return insert_fingerprint(fingerprint(id)); }
    bool contains(std::string_view id) const { return slot_of(fingerprint(id)) != npos; }

    bool insert_fingerprint(uint64_t fp) {
        if (over_load(size_, capacity_)) rehash(grown(capacity_));
        if (!place(slots_.get(), capacity_, fp)) return false;
        ++size_;
        return true;
    }
    // The slot that holds fp (0 <= slot < capacity(), stable until the set grows), or npos.
    size_t slot_of(uint64_t fp) const {
        if (capacity_ == 0) return npos;
        for (size_t i = home(fp, capacity_);; i = i + 1 == capacity_ ? 0 : i + 1) {
            if (slots_[i] == fp) return i;
            if (slots_[i] == 0) return npos;
        }
    }
    template <typename F>
    void for_each_fingerprint(F &&f) const {
        for (size_t i = 0; i < capacity_; ++i)
            if (slots_[i] != 0) f(slots_[i]);
    }
    // Room for n ids in all without growing again.
    void reserve(size_t n) {
        const size_t wanted = n + n / 3 + 1;  // n at most 3/4 of the slots
        if (wanted > capacity_) rehash(wanted);
    }
    // Exactly `capacity` slots from now on (must hold every id with room to spare: capacity > size * 4/3).
    void resize(size_t capacity) { rehash(capacity); }
    // Moves the fingerprints to the front of the table in ascending order and returns them; the set is then
    // unusable until clear().
    const uint64_t *drain_sorted() {
        size_t n = 0;
        for (size_t i = 0; i < capacity_; ++i)
            if (slots_[i] != 0) slots_[n++] = slots_[i];
        std::sort(slots_.get(), slots_.get() + n);
        return slots_.get();
    }
    // Empties the set, keeping its table.
    void clear() {
        if (capacity_) std::memset(slots_.get(), 0, capacity_ * sizeof(uint64_t));
        size_ = 0;
    }
    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    size_t capacity() const { return capacity_; }
    size_t bytes() const { return capacity_ * sizeof(uint64_t); }

    // FNV-1a over the bytes, then a 64-bit finaliser (splitmix64) to spread it; 0 marks an empty slot.
    static uint64_t fingerprint(std::string_view id) {
        uint64_t h = 0xcbf29ce484222325ull;
        for (unsigned char c : id) {
            h ^= c;
            h *= 0x100000001b3ull;
        }
        h ^= h >> 30;
        h *= 0xbf58476d1ce4e5b9ull;
        h ^= h >> 27;
        h *= 0x94d049bb133111ebull;
        h ^= h >> 31;
        return h == 0 ? 1 : h;
    }

private:
    struct Free {
        void operator()(uint64_t *p) const { std::free(p); }
    };

    // The slot a fingerprint starts from: its high 32 bits scaled to the table (uniform for any capacity up to
    // 2^32 slots, which rehash() enforces).
    static size_t home(uint64_t fp, size_t capacity) {
        return static_cast<size_t>(((fp >> 32) * static_cast<uint64_t>(capacity)) >> 32);
    }
    // Places fp; false if it was already present. The table is never full (load <= 3/4).
    static bool place(uint64_t *slots, size_t capacity, uint64_t fp) {
        for (size_t i = home(fp, capacity);; i = i + 1 == capacity ? 0 : i + 1) {
            if (slots[i] == fp) return false;
            if (slots[i] == 0) {
                slots[i] = fp;
                return true;
            }
        }
    }
    void rehash(size_t capacity) {
        if (capacity > (uint64_t{1} << 32)) throw std::bad_alloc();
        std::unique_ptr<uint64_t[], Free> bigger(static_cast<uint64_t *>(std::calloc(capacity, sizeof(uint64_t))));
        if (!bigger) throw std::bad_alloc();
        for (size_t i = 0; i < capacity_; ++i)
            if (slots_[i] != 0) place(bigger.get(), capacity, slots_[i]);
        slots_ = std::move(bigger);
        capacity_ = capacity;
    }

    std::unique_ptr<uint64_t[], Free> slots_;
    size_t capacity_ = 0;
    size_t size_ = 0;
};

}  // namespace ce::store
