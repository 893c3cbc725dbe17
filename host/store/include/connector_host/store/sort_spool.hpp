// A spool that gives its lines back sorted, with bounded memory: lines go into a private temporary SQLite
// database (deleted when closed) and come back through SQLite's external sorter, which spills to temporary
// files instead of growing. Used by the sync writers to order a file's records (host/CLI.md, "Stable order").
// A durable spool lives in a named file (0600) instead: commit() makes the lines so far and a few meta
// values durable in one transaction, and reopening the file continues from the last commit (lines added
// after it are gone), so that an interrupted sync into a file can resume (sync --checkpoint FILE).
#pragma once

#include "connector_host/store/sqlite_handle.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <memory>
#include <string_view>
#include <vector>

namespace connector_host::store {

class SortSpool {
public:
    // `sections`: independent lists, each sorted on its own (0 .. sections-1).
    explicit SortSpool(unsigned sections);
    // A durable spool in `file`: continue what it holds (resume), or start it empty (any old file replaced).
    SortSpool(unsigned sections, const std::filesystem::path &file, bool resume);
    ~SortSpool();
    SortSpool(const SortSpool &) = delete;
    SortSpool &operator=(const SortSpool &) = delete;

    // One line of a section, ordered by (key1, key2, line) compared as bytes.
    void add(unsigned section, std::string_view key1, std::string_view key2, std::string_view line);
    uint64_t lines(unsigned section) const;
    // Calls fn(line) for every line of the section, in order. Throws StoreError.
    void for_each(unsigned section, const std::function<void(std::string_view)> &fn);

    // Durable spools: commits the lines so far with the meta values (replacing those of the same keys).
    void commit(const std::map<std::string, std::string> &meta);
    // A meta value of the last commit; nullopt when none.
    std::optional<std::string> meta(const std::string &key);
    // Removes a durable spool's files (the database and SQLite's journal files beside it). Never throws.
    static void remove_files(const std::filesystem::path &file) noexcept;

private:
    void prepare_inserts();
    void move_shared_table();

    std::unique_ptr<Database> db_;
    std::vector<std::unique_ptr<Statement>> inserts_; // one a section
    std::vector<uint64_t> counts_;
    bool open_transaction_ = false;
    bool durable_ = false;
};

}  // namespace connector_host::store
