// A spool that gives its lines back sorted, with bounded memory: lines go into a private temporary SQLite
// database (deleted when closed) and come back through SQLite's external sorter, which spills to temporary
// files instead of growing. Used by the sync writers to order a file's records (host/CLI.md, "Stable order").
#pragma once

#include "connector_host/store/sqlite_handle.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

namespace connector_host::store {

class SortSpool {
public:
    // `sections`: independent lists, each sorted on its own (0 .. sections-1).
    explicit SortSpool(unsigned sections);
    ~SortSpool();
    SortSpool(const SortSpool &) = delete;
    SortSpool &operator=(const SortSpool &) = delete;

    // One line of a section, ordered by (key1, key2, line) compared as bytes.
    void add(unsigned section, std::string_view key1, std::string_view key2, std::string_view line);
    uint64_t lines(unsigned section) const;
    // Calls fn(line) for every line of the section, in order. Throws StoreError.
    void for_each(unsigned section, const std::function<void(std::string_view)> &fn);

private:
    std::unique_ptr<Database> db_;
    std::unique_ptr<Statement> insert_;
    std::vector<uint64_t> counts_;
    bool open_transaction_ = false;
};

}  // namespace connector_host::store
