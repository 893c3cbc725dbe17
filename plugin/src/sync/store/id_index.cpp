#include "sync/store/id_index.hpp"

#include <algorithm>
#include <utility>

namespace ce::store {

IdIndex::IdIndex(size_t memory_bytes, std::string spill_dir)
    : memory_limit_(std::max(memory_bytes, kMinMemoryBytes)), spill_dir_(std::move(spill_dir)) {}
// A moved-from index is empty and usable (no run, no table).
IdIndex::IdIndex(IdIndex &&other) noexcept : memory_limit_(other.memory_limit_) { *this = std::move(other); }
IdIndex &IdIndex::operator=(IdIndex &&other) noexcept {
    if (this == &other) return *this;
    memory_limit_ = other.memory_limit_;
    spill_dir_ = std::move(other.spill_dir_);
    table_ = std::move(other.table_);
    run_ = std::move(other.run_);
    spare_ = std::move(other.spare_);
    run_size_ = std::exchange(other.run_size_, 0);
    sparse_ = std::move(other.sparse_);
    other.sparse_.clear();
    cache_ = other.cache_;
    other.cache_.fill(CacheEntry{});
    disk_reads_ = std::exchange(other.disk_reads_, 0);
    spills_ = std::exchange(other.spills_, 0);
    return *this;
}
IdIndex::~IdIndex() = default;

size_t IdIndex::max_slots() const { return memory_limit_ / sizeof(uint64_t); }

void IdIndex::reserve(size_t n) {
    // More than the budget holds: the whole budget at once (never a smaller table first, then a copy beside it).
    const size_t most = max_slots() / 4 * 3 - 1;  // what the whole budget holds at 3/4 load
    if (n >= most) {
        if (table_.capacity() < max_slots()) table_.resize(max_slots());
    } else if (n > table_.size()) {
        table_.reserve(n);
    }
}

bool IdIndex::insert_fingerprint(uint64_t fp) {
    if (table_.slot_of(fp) != npos || (run_size_ > 0 && run_find(fp) != npos)) return false;
    const auto full = [this] { return IdSet::over_load(table_.size(), table_.capacity()); };
    if (full()) {
        // Grow by doubling while the old and the new table fit in the budget together; past that, spill (which
        // empties the table). So the table never passes the budget, not even while it is copied.
        const size_t cap = max_slots();
        const size_t bigger = IdSet::grown(table_.capacity());
        if (table_.capacity() + bigger <= cap) table_.resize(bigger);
        if (full()) spill();
    }
    table_.insert_fingerprint(fp);
    return true;
}

size_t IdIndex::slot_of(uint64_t fp) const {
    const size_t s = table_.slot_of(fp);
    if (s != npos) return static_cast<size_t>(run_size_) + s;
    if (run_size_ == 0) return npos;
    return run_find(fp);
}

size_t IdIndex::run_find(uint64_t fp) const {
    CacheEntry &c = cache_[(fp ^ (fp >> 29)) % kCache];
    if (c.fp == fp) return c.rank;
    size_t rank = npos;
    // The block whose first fingerprint is the last one <= fp.
    auto it = std::upper_bound(sparse_.begin(), sparse_.end(), fp);
    if (it != sparse_.begin()) {
        const size_t b = static_cast<size_t>(it - sparse_.begin()) - 1;
        const uint64_t first = uint64_t{b} * kBlock;
        const size_t n = static_cast<size_t>(std::min<uint64_t>(kBlock, run_size_ - first));
        run_->read_at(first * sizeof(uint64_t), block_.data(), n * sizeof(uint64_t));
        ++disk_reads_;
        const uint64_t *begin = block_.data();
        const uint64_t *end = begin + n;
        const uint64_t *at = std::lower_bound(begin, end, fp);
        if (at != end && *at == fp) rank = static_cast<size_t>(first) + static_cast<size_t>(at - begin);
    }
    c.fp = fp;
    c.rank = rank;
    return rank;
}

void IdIndex::spill() {
    const size_t m = table_.size();
    if (m == 0) return;
    const uint64_t *fresh = table_.drain_sorted();
    if (!spare_) spare_ = std::make_unique<SpillFile>(spill_dir_);
    if (!run_) run_ = std::make_unique<SpillFile>(spill_dir_);
    spare_->clear();

    // Merge the old run (read in chunks) with the table's sorted fingerprints into the spare file.
    constexpr size_t kChunk = 8192;
    std::vector<uint64_t> in, out;
    in.reserve(kChunk);
    out.reserve(kChunk);
    std::vector<uint64_t> sparse;
    sparse.reserve(static_cast<size_t>((run_size_ + m) / kBlock + 1));
    uint64_t read = 0, written = 0;
    size_t in_pos = 0, f = 0;
    const auto flush = [&] {
        spare_->write_at(written * sizeof(uint64_t) - out.size() * sizeof(uint64_t), out.data(), out.size() * sizeof(uint64_t));
        out.clear();
    };
    const auto emit = [&](uint64_t v) {
        if (written % kBlock == 0) sparse.push_back(v);
        out.push_back(v);
        ++written;
        if (out.size() == kChunk) flush();
    };
    for (;;) {
        if (in_pos == in.size() && read < run_size_) {
            const size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, run_size_ - read));
            in.resize(n);
            run_->read_at(read * sizeof(uint64_t), in.data(), n * sizeof(uint64_t));
            read += n;
            in_pos = 0;
        }
        const bool have_old = in_pos < in.size();
        const bool have_new = f < m;
        if (!have_old && !have_new) break;
        if (have_old && (!have_new || in[in_pos] < fresh[f])) emit(in[in_pos++]);
        else emit(fresh[f++]);  // never equal: an id is inserted in the table only when the run lacks it
    }
    if (!out.empty()) flush();
    std::swap(run_, spare_);
    spare_->clear();
    run_size_ = written;
    sparse_ = std::move(sparse);
    cache_.fill(CacheEntry{});
    table_.clear();
    ++spills_;
}

void IdIndex::freeze() {
    if (run_size_ == 0) return;
    spill();
    table_ = IdSet();
    spare_.reset();
}

}  // namespace ce::store
