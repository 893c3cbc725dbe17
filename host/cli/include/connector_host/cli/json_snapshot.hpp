// A sync's JSON or NDJSON output (host/CLI.md, "Sync output formats") read back as a snapshot run, so that
// `diff` compares such files (and one with a snapshot) with the same rules as two snapshots: the records are
// streamed (json: RapidJSON's SAX reader; ndjson: line by line; one record in memory at a time) through the
// snapshot writer a sync uses.
#pragma once

#include <filesystem>
#include <stdexcept>

namespace connector_host::cli {

// The file is not a sync's JSON output (or not a complete one).
class JsonSnapshotError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// True when the file starts like a JSON document ('{' after blanks), false for anything else (an SQLite
// file starts "SQLite format 3").
bool looks_like_json(const std::filesystem::path &path);

// Writes the JSON or NDJSON sync output at `json` as one run of a new snapshot at `snapshot` (which must not exist),
// with the run's times and tenant from the file's "run" object when it has one. Throws JsonSnapshotError.
void import_json_snapshot(const std::filesystem::path &json, const std::filesystem::path &snapshot);

}  // namespace connector_host::cli
