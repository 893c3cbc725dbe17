// A compact set of resource ids for a whole sync: 64-bit fingerprints in an open-addressing table,
// 8 to 16 bytes per id instead of the ~120 of an unordered_set<std::string> (node, bucket, string).
// A sync keeps one entry per user and per group (exactly-once delivery across pages and passes, and
// telling resolved from unresolved members), so this is most of what grows with the organisation.
// Two different ids collide only if their 64-bit fingerprints are equal: with n ids the chance is about
// n^2 / 2^65 (3e-8 for a million users); a collision would make the second id look already seen.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace ce {

class IdSet {
public:
    // Inserts id; true when it was not there before.
    bool insert(std::string_view id) {
        if ((size_ + 1) * 2 > slots_.size()) grow();
        if (!place(slots_, fingerprint(id))) return false;
        ++size_;
        return true;
    }
    bool contains(std::string_view id) const {
        if (slots_.empty()) return false;
        const uint64_t fp = fingerprint(id);
        const size_t mask = slots_.size() - 1;
        for (size_t i = fp & mask;; i = (i + 1) & mask) {
            if (slots_[i] == fp) return true;
            if (slots_[i] == 0) return false;
        }
    }
    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }

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
    // Places fp; false if it was already present. The table is never full (load <= 1/2).
    static bool place(std::vector<uint64_t> &slots, uint64_t fp) {
        const size_t mask = slots.size() - 1;
        for (size_t i = fp & mask;; i = (i + 1) & mask) {
            if (slots[i] == fp) return false;
            if (slots[i] == 0) {
                slots[i] = fp;
                return true;
            }
        }
    }
    void grow() {
        std::vector<uint64_t> bigger(slots_.empty() ? 64 : slots_.size() * 2, 0);
        for (uint64_t fp : slots_)
            if (fp != 0) place(bigger, fp);
        slots_.swap(bigger);
    }

    std::vector<uint64_t> slots_;
    size_t size_ = 0;
};

}  // namespace ce
