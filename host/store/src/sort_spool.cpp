#include "connector_host/store/sort_spool.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace connector_host::store {

namespace {

// Each section in a table of its own (spool_0, spool_1, ...): reading a section back sorted reads only its rows.
// (One table with a section column had every section's read scan every line of the spool.)
std::string section_table(unsigned section) { return "spool_" + std::to_string(section); }

std::string create_tables_sql(unsigned sections) {
    std::string sql;
    for (unsigned s = 0; s < sections; ++s)
        sql += "CREATE TABLE IF NOT EXISTS " + section_table(s) + "(k1 BLOB NOT NULL, k2 BLOB NOT NULL, line BLOB NOT NULL);";
    return sql + "CREATE TABLE IF NOT EXISTS spool_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);";
}

}  // namespace

SortSpool::SortSpool(unsigned sections) : counts_(sections, 0) {
    // "": a private temporary database on disk, deleted when closed. Its page cache is bounded; the
    // sorter spills to temporary files past it.
    db_ = std::make_unique<Database>("", Database::Mode::read_write_create);
    db_->execute("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA temp_store = FILE;"
                 "PRAGMA cache_size = -8192;" + create_tables_sql(sections) + "BEGIN");
    open_transaction_ = true;
    prepare_inserts();
}

void SortSpool::prepare_inserts() {
    for (unsigned s = 0; s < counts_.size(); ++s)
        inserts_.push_back(std::make_unique<Statement>(
            db_->prepare("INSERT INTO " + section_table(s) + " VALUES (?1, ?2, ?3)")));
}

// A spool file written before the sections had tables of their own: its lines move into them.
void SortSpool::move_shared_table() {
    auto shared = db_->prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'spool'");
    const bool exists = shared.step() && shared.integer(0) > 0;
    shared.reset();
    if (!exists) return;
    db_->execute("BEGIN");
    for (unsigned s = 0; s < counts_.size(); ++s)
        db_->prepare("INSERT INTO " + section_table(s) + " SELECT k1, k2, line FROM spool WHERE section = ?1")
            .bind(1, static_cast<int64_t>(s))
            .run();
    db_->execute("DROP TABLE spool; COMMIT");
}

namespace {

// A new spool file, empty and 0600 (SQLite would create it 0644), with no journal left of an older one.
void create_private_spool(const std::filesystem::path &file) {
    SortSpool::remove_files(file);
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) throw StoreError("cannot create the spool " + file.string() + ": " + std::strerror(errno));
    ::close(fd);
}

}  // namespace

SortSpool::SortSpool(unsigned sections, const std::filesystem::path &file, bool resume)
    : counts_(sections, 0), durable_(true) {
    std::error_code ec;
    if (resume && !std::filesystem::is_regular_file(file, ec))
        throw StoreError("the spool " + file.string() + " of the interrupted sync is missing");
    if (!resume) create_private_spool(file);
    db_ = std::make_unique<Database>(file, Database::Mode::read_write_create);
    // WAL: a commit at each checkpoint costs one append; NORMAL: durable across a crash of the process.
    db_->execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA temp_store = FILE;"
                 "PRAGMA cache_size = -8192;");
    db_->execute(create_tables_sql(sections));
    move_shared_table();
    for (unsigned s = 0; s < sections; ++s) {
        auto counted = db_->prepare("SELECT count(*) FROM " + section_table(s));
        if (counted.step()) counts_[s] = static_cast<uint64_t>(counted.integer(0));
    }
    db_->execute("BEGIN");
    open_transaction_ = true;
    prepare_inserts();
}

SortSpool::~SortSpool() = default; // a durable spool's open transaction is rolled back: its last commit stays

void SortSpool::commit(const std::map<std::string, std::string> &meta) {
    if (!durable_) throw StoreError("commit() of a temporary spool");
    auto put = db_->prepare("INSERT OR REPLACE INTO spool_meta (key, value) VALUES (?1, ?2)");
    for (const auto &[key, value] : meta) put.bind(1, key).bind(2, value).run();
    db_->execute("COMMIT");
    db_->execute("BEGIN");
}

std::optional<std::string> SortSpool::meta(const std::string &key) {
    auto get = db_->prepare("SELECT value FROM spool_meta WHERE key = ?1");
    get.bind(1, key);
    if (!get.step()) return std::nullopt;
    return get.text(0);
}

void SortSpool::remove_files(const std::filesystem::path &file) noexcept {
    for (const char *suffix : {"", "-wal", "-shm", "-journal"}) {
        std::error_code ec;
        std::filesystem::remove(file.string() + suffix, ec);
    }
}

namespace {

// An empty view may have no data pointer, which SQLite would store as NULL.
std::string_view non_null(std::string_view s) { return s.data() == nullptr ? std::string_view("", 0) : s; }

}  // namespace

void SortSpool::add(unsigned section, std::string_view key1, std::string_view key2, std::string_view line) {
    Statement &insert = *inserts_.at(section);
    try {
        insert.bind_borrowed(1, non_null(key1)).bind_borrowed(2, non_null(key2)).bind_borrowed(3, non_null(line));
        insert.run();
    } catch (const StoreError &e) {
        throw StoreError(std::string("the sort spool (a temporary database) failed: ") + e.what());
    }
    ++counts_.at(section);
}

uint64_t SortSpool::lines(unsigned section) const { return counts_.at(section); }

void SortSpool::for_each(unsigned section, const std::function<void(std::string_view)> &fn) {
    // A durable spool reads inside its open transaction: only commit() makes lines durable.
    if (open_transaction_ && !durable_) {
        db_->execute("COMMIT");
        open_transaction_ = false;
    }
    if (counts_.at(section) == 0) return;
    // Text compared with BINARY collation: memcmp order, the same on every machine.
    auto s = db_->prepare("SELECT line FROM " + section_table(section) + " ORDER BY k1, k2, line");
    while (s.step()) fn(s.view(0));
}

}  // namespace connector_host::store
