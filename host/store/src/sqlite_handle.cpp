#include "connector_host/store/sqlite_handle.hpp"

#include <sqlite3.h>

#include <cassert>

namespace connector_host::store {

namespace {

[[noreturn]] void fail(sqlite3 *db, const std::string &what) {
    throw StoreError(what + ": " + (db != nullptr ? sqlite3_errmsg(db) : "out of memory"));
}

}  // namespace

Statement::Statement(sqlite3 *db, std::string_view sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr) != SQLITE_OK)
        fail(db, "the snapshot query cannot be prepared");
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement::Statement(Statement &&other) noexcept : db_(other.db_), stmt_(other.stmt_) { other.stmt_ = nullptr; }

Statement &Statement::bind(int index, std::string_view text) {
    if (sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT) != SQLITE_OK)
        fail(db_, "binding a snapshot value failed");
    return *this;
}

Statement &Statement::bind_borrowed(int index, std::string_view text) {
    if (sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC) != SQLITE_OK)
        fail(db_, "binding a snapshot value failed");
    return *this;
}

Statement &Statement::bind(int index, int64_t number) {
    if (sqlite3_bind_int64(stmt_, index, number) != SQLITE_OK) fail(db_, "binding a snapshot value failed");
    return *this;
}

Statement &Statement::bind(int index, double number) {
    if (sqlite3_bind_double(stmt_, index, number) != SQLITE_OK) fail(db_, "binding a snapshot value failed");
    return *this;
}

Statement &Statement::bind_null(int index) {
    if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) fail(db_, "binding a snapshot value failed");
    return *this;
}

bool Statement::step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(db_, "the snapshot database refused a statement");
}

void Statement::run() {
    while (step()) {
    }
    reset();
}

void Statement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

std::string Statement::text(int column) const {
    const auto *p = reinterpret_cast<const char *>(sqlite3_column_text(stmt_, column));
    return p == nullptr ? std::string{} : std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::string_view Statement::view(int column) const {
    const auto *p = reinterpret_cast<const char *>(sqlite3_column_text(stmt_, column));
    return p == nullptr ? std::string_view{} : std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::optional<std::string> Statement::optional_text(int column) const {
    if (is_null(column)) return std::nullopt;
    return text(column);
}

int64_t Statement::integer(int column) const { return sqlite3_column_int64(stmt_, column); }
double Statement::real(int column) const { return sqlite3_column_double(stmt_, column); }
bool Statement::is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
bool Statement::column_is_integer(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_INTEGER; }

Database::Database(const std::filesystem::path &path, Mode mode) {
    const int flags = mode == Mode::read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOFOLLOW, nullptr) != SQLITE_OK) {
        std::string why = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        throw StoreError("cannot open the snapshot " + path.string() + ": " + why);
    }
    sqlite3_busy_timeout(db_, 5000);
    sqlite3_extended_result_codes(db_, 1);
}

Database::~Database() {
    [[maybe_unused]] const int closed = sqlite3_close(db_);
    // SQLITE_BUSY here means a Statement outlives its Database: the connection leaks. Owners must
    // destroy their statements first (a debug build stops here rather than leak quietly).
    assert(closed == SQLITE_OK);
}

void Database::execute(std::string_view sql) {
    char *message = nullptr;
    const std::string text(sql);
    if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
        std::string why = message != nullptr ? message : sqlite3_errmsg(db_);
        sqlite3_free(message);
        throw StoreError("the snapshot database refused a statement: " + why);
    }
}

}  // namespace connector_host::store
