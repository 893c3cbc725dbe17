// The set of ids a sync has seen, in flat memory: exactly-once delivery across pages and passes, and telling
// members that name a user or group of the sync from unresolved ones, need every user's and group's id, and an
// organisation of a million users would otherwise keep ~11 MB of fingerprints (an IdSet) for the whole sync.
//
// An IdIndex keeps 64-bit fingerprints (IdSet::fingerprint) in an IdSet of at most `memory_bytes`; when that is
// full, its fingerprints are sorted and merged into one sorted run in a SpillFile (the previous run is read and
// rewritten once per spill: about n^2 / (2 x budget) bytes written in all, 32 MB for a million ids at the default
// budget), and the table starts empty again. A lookup tries the table, then the run: a binary search in a sparse
// index held in memory (the first fingerprint of every 4 KiB block: 16 KiB a million ids) picks one block, read
// with one pread and searched. A small cache of the latest lookups answers the repeats (a member is looked up a
// few times in a row; a page's ids are counted, then inserted). An index that never fills its table never
// touches the disk and costs what an IdSet does.
//
// Slots: every id of the index has its own slot in [0, slot_count()) (the run's ids by rank, then the table's
// by position), stable while nothing is inserted; store/member_set.hpp keeps bitmaps over them.
//
// Collisions are those of IdSet: two ids are confused only if their fingerprints are equal (n^2 / 2^65).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sync/store/id_set.hpp"
#include "sync/store/spill_file.hpp"

namespace ce::store {

class IdIndex {
public:
    static constexpr size_t kDefaultMemoryBytes = size_t{2} << 20;
    static constexpr size_t npos = IdSet::npos;

    // memory_bytes: the most the table may take (at least kMinMemoryBytes); spill_dir: where the run goes ("" = $TMPDIR
    // or /tmp). The file is created only when the table first fills.
    explicit IdIndex(size_t memory_bytes = kDefaultMemoryBytes, std::string spill_dir = {});
    IdIndex(IdIndex &&) noexcept;
    IdIndex &operator=(IdIndex &&) noexcept;
    ~IdIndex();

    // True when id was not there before.
    bool insert(std::string_view id) { return insert_fingerprint(IdSet::fingerprint(id)); }
    bool contains(std::string_view id) const { return slot_of(IdSet::fingerprint(id)) != npos; }
    bool insert_fingerprint(uint64_t fp);
    bool contains_fingerprint(uint64_t fp) const { return slot_of(fp) != npos; }

    // Room for n ids in the table without growing again (never more than the budget allows).
    void reserve(size_t n);
    // After the last insert: if the index spilled, its table joins the run and its memory is given back (every
    // lookup then reads the run); otherwise nothing changes.
    void freeze();

    size_t slot_of(uint64_t fp) const;
    size_t slot_count() const { return static_cast<size_t>(run_size_) + table_.capacity(); }
    size_t size() const { return static_cast<size_t>(run_size_) + table_.size(); }
    bool empty() const { return size() == 0; }

    bool spilled() const { return run_size_ > 0; }
    size_t memory_bytes() const { return table_.bytes() + sparse_.capacity() * sizeof(uint64_t) + sizeof(cache_); }
    uint64_t disk_bytes() const { return run_size_ * sizeof(uint64_t); }
    uint64_t disk_reads() const { return disk_reads_; }
    uint64_t spills() const { return spills_; }

private:
    static constexpr size_t kBlock = 512;  // fingerprints in a block of the run (4 KiB)
    static constexpr size_t kCache = 256;  // latest run lookups remembered

    size_t max_slots() const;
    void spill();
    size_t run_find(uint64_t fp) const;  // rank in the run, or npos

    size_t memory_limit_;
    std::string spill_dir_;
    IdSet table_;
    std::unique_ptr<SpillFile> run_;
    std::unique_ptr<SpillFile> spare_;
    uint64_t run_size_ = 0;
    std::vector<uint64_t> sparse_;  // sparse_[b] = first fingerprint of block b of the run
    struct CacheEntry {
        uint64_t fp = 0;  // 0: empty (no fingerprint is 0)
        size_t rank = npos;
    };
    mutable std::array<CacheEntry, kCache> cache_{};
    mutable std::array<uint64_t, kBlock> block_{};
    mutable uint64_t disk_reads_ = 0;
    uint64_t spills_ = 0;
};

}  // namespace ce::store
