// sync --checkpoint FILE: the latest checkpoint of a sync into a JSON or NDJSON file, with what it is for (the
// plugin, its version, the config fingerprint, the output format) and where the records delivered before it
// are spooled. Written atomically (a temporary file in the same directory, 0600, renamed over FILE) at each
// checkpoint; read by sync --resume. The token is kept as given: opaque, never parsed or printed.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>

namespace connector_host::cli {

struct CheckpointRecord {
    std::string plugin_id, plugin_version, config_fingerprint, format;
    std::filesystem::path spool;
    std::string token;
};

// FILE is missing, unreadable or not a checkpoint file.
class CheckpointFileError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The spool beside a checkpoint file: FILE.spool.
std::filesystem::path spool_path_for(const std::filesystem::path &checkpoint_file);

// Throws CheckpointFileError when it cannot be written (or a value holds a line break).
void write_checkpoint_file(const std::filesystem::path &path, const CheckpointRecord &record);
// Throws CheckpointFileError.
CheckpointRecord read_checkpoint_file(const std::filesystem::path &path);
// Removes the checkpoint file and its spool; never throws.
void remove_checkpoint(const std::filesystem::path &path, const std::filesystem::path &spool) noexcept;

}  // namespace connector_host::cli
