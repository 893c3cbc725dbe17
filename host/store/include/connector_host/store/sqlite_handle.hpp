// A thin RAII layer over SQLite's C API for the snapshot store: one open database, prepared statements with
// typed binds and column reads. Every failure throws StoreError with SQLite's message.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace connector_host::store {

class StoreError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// What was asked for (a run, a principal named by e-mail) is not in the snapshot.
class StoreNotFound : public StoreError {
public:
    using StoreError::StoreError;
};

class Statement {
public:
    Statement(sqlite3 *db, std::string_view sql);
    ~Statement();
    Statement(const Statement &) = delete;
    Statement &operator=(const Statement &) = delete;
    Statement(Statement &&other) noexcept;

    Statement &bind(int index, std::string_view text); // copied
    // Not copied: the text must stay alive until the statement is run or reset (the writer's hot path).
    Statement &bind_borrowed(int index, std::string_view text);
    Statement &bind(int index, int64_t number);
    Statement &bind(int index, double number);
    Statement &bind_null(int index);
    // Steps once: true when a row is ready to read, false when the statement is done.
    bool step();
    // Steps until done (for statements that return no rows), then resets for the next binds.
    void run();
    void reset();

    std::string text(int column) const;
    // The column's text without a copy: valid until the next step(), reset() or destruction.
    std::string_view view(int column) const;
    std::optional<std::string> optional_text(int column) const;
    int64_t integer(int column) const;
    double real(int column) const;
    bool is_null(int column) const;
    bool column_is_integer(int column) const;

private:
    sqlite3 *db_;
    sqlite3_stmt *stmt_ = nullptr;
};

class Database {
public:
    enum class Mode { read_only, read_write_create };
    Database(const std::filesystem::path &path, Mode mode);
    ~Database();
    Database(const Database &) = delete;
    Database &operator=(const Database &) = delete;

    void execute(std::string_view sql); // one or more statements, no rows read
    Statement prepare(std::string_view sql) { return Statement(db_, sql); }
    sqlite3 *handle() const noexcept { return db_; }

private:
    sqlite3 *db_ = nullptr;
};

}  // namespace connector_host::store
