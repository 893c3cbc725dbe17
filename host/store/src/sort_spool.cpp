#include "connector_host/store/sort_spool.hpp"

#include <string>

namespace connector_host::store {

SortSpool::SortSpool(unsigned sections) : counts_(sections, 0) {
    // "": a private temporary database on disk, deleted when closed. Its page cache is bounded; the
    // sorter spills to temporary files past it.
    db_ = std::make_unique<Database>("", Database::Mode::read_write_create);
    db_->execute("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA temp_store = FILE;"
                 "PRAGMA cache_size = -8192;"
                 "CREATE TABLE spool(section INTEGER NOT NULL, k1 BLOB NOT NULL, k2 BLOB NOT NULL, line BLOB NOT NULL);"
                 "BEGIN");
    open_transaction_ = true;
    insert_ = std::make_unique<Statement>(db_->prepare("INSERT INTO spool VALUES (?1, ?2, ?3, ?4)"));
}

SortSpool::~SortSpool() = default;

namespace {

// An empty view may have no data pointer, which SQLite would store as NULL.
std::string_view non_null(std::string_view s) { return s.data() == nullptr ? std::string_view("", 0) : s; }

}  // namespace

void SortSpool::add(unsigned section, std::string_view key1, std::string_view key2, std::string_view line) {
    try {
        insert_->bind(1, static_cast<int64_t>(section));
        insert_->bind_borrowed(2, non_null(key1)).bind_borrowed(3, non_null(key2)).bind_borrowed(4, non_null(line));
        insert_->run();
    } catch (const StoreError &e) {
        throw StoreError(std::string("the sort spool (a temporary database) failed: ") + e.what());
    }
    ++counts_.at(section);
}

uint64_t SortSpool::lines(unsigned section) const { return counts_.at(section); }

void SortSpool::for_each(unsigned section, const std::function<void(std::string_view)> &fn) {
    if (open_transaction_) {
        db_->execute("COMMIT");
        open_transaction_ = false;
    }
    if (counts_.at(section) == 0) return;
    // Text compared with BINARY collation: memcmp order, the same on every machine.
    auto s = db_->prepare("SELECT line FROM spool WHERE section = ?1 ORDER BY k1, k2, line");
    s.bind(1, static_cast<int64_t>(section));
    while (s.step()) fn(s.view(0));
}

}  // namespace connector_host::store
