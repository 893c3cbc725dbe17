// Sync output writers: json (one document), ndjson (one record per line, streamed) and table (counts,
// then readable tables). Records arrive interleaved from the plugin; memory stays flat: streamed, the json
// writer writes resources straight to the output and spools entitlements, grants and warnings to anonymous
// temporary files that it appends at the end; sorted (a file), json and ndjson spool every list through an
// external sort on disk; the table writer spools every row. Every record is serialised by RapidJSON's
// Writer, and every string goes through the secret scrubber first.
#pragma once

#include "connector_host/cli/output_error.hpp"
#include "connector_host/cli/text_safety.hpp"

#include <connector/connector_abi.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace connector_host::cli {

// table_sample: the table's counts and the first rows of each section (the default on a terminal).
enum class SyncFormat { json, ndjson, table, sqlite, table_sample };
// "json" | "ndjson" | "table" | "sqlite"; nullopt-like: throws std::invalid_argument for anything else.
SyncFormat parse_sync_format(std::string_view name);
std::string_view to_string(SyncFormat format) noexcept;
// The format when --format is not given: json when --out ends in .json or stdout is not a terminal,
// ndjson when --out ends in .ndjson or .jsonl, sqlite when it ends in .db or .sqlite, json for other names,
// table_sample on a terminal.
SyncFormat default_sync_format(std::string_view out_path, bool stdout_is_terminal);

struct SyncCounts {
    uint64_t resources = 0, entitlements = 0, grants = 0, warnings = 0, unresolved = 0;
    uint64_t incomplete = 0; // warnings whose code begins with "incomplete_"
    std::map<std::string, uint64_t> resources_by_type;
    std::map<std::string, uint64_t> warnings_by_code; // exact, however many
};

// A warning code beginning with "incomplete_" says the sync's data may be incomplete (abi/ABI.md, Warnings).
bool is_incomplete_warning(std::string_view code) noexcept;

struct SyncSummary {
    SyncCounts counts;
    uint64_t requests = 0, retries = 0, pages = 0;
    double elapsed_seconds = 0;
    bool complete = true; // false when any incomplete_* warning was received
    // A run read back from its JSON output: its recorded times and tenant (empty for a live sync).
    std::string started_at, ended_at, tenant;
};

// The records so far as JSON (stored with a checkpoint) and back; from_json throws std::runtime_error.
std::string counts_to_json(const SyncCounts &counts);
SyncCounts counts_from_json(std::string_view json);

// Where a resumed sync continues: the interrupted part's last checkpoint and the records it kept.
struct ResumePoint {
    std::string token; // opaque: passed to the plugin as resume_from, never printed
    SyncCounts counts; // the records kept (those delivered before the checkpoint)
    std::string started_at, checkpointed_at;
    int64_t run_id = 0; // a snapshot's run
};

class SyncWriter {
public:
    virtual ~SyncWriter() = default;
    // Records passed in have been validated (see record_validation.hpp).
    virtual void begin(const conn_descriptor &descriptor) = 0;
    virtual void resource(const conn_resource &r) = 0;
    virtual void entitlement(const conn_entitlement &e) = 0;
    virtual void grant(const conn_grant &g) = 0;
    virtual void warning(std::string_view code, std::string_view message) = 0;
    // so_far: every record of the sync up to this checkpoint (a resumed sync's included). A writer that keeps
    // its records durably commits them with the token here.
    virtual void checkpoint(std::string_view token, const SyncCounts &so_far) = 0;
    // Whether this writer does anything with a checkpoint (a streamed NDJSON line, a snapshot's commit). When it
    // does not and no --checkpoint FILE keeps tokens, the host offers no on_checkpoint: the plugin then keeps no
    // journal, which costs it CPU and disk on every page.
    virtual bool keeps_checkpoints() const { return true; }
    // After begin(): set when this writer continues an interrupted sync (the sync passes its token).
    virtual std::optional<ResumePoint> resume_point() const { return std::nullopt; }
    // Every method throws OutputWriteError (with errno) when writing the output failed; finish() also when
    // writing failed at any earlier point. Spool failures throw std::runtime_error.
    virtual void finish(const SyncSummary &summary) = 0;
    // The sync failed or was interrupted before finish(): a writer that records runs marks this one so.
    virtual void abandon(std::string_view /*reason*/) noexcept {}
};

// One record as a JSON object (the same shape as in the json format), for provisioning output.
std::string resource_to_json(const conn_resource &r, const SecretScrubber &scrubber);
std::string grant_to_json(const conn_grant &g, const SecretScrubber &scrubber);
// A resource's attributes alone as one JSON object (keys in the plugin's order).
std::string attributes_to_json(const conn_resource &r, const SecretScrubber &scrubber);

struct SyncWriterOptions {
    // json and ndjson: every list in a stable order (resources by type then id, entitlements by their
    // resource's type then id, grants by id, warnings by code then message), so that two syncs of the same
    // data differ only in the run's facts and the summary. For files (host/CLI.md, "Stable order").
    bool sorted = false;
    std::string tenant; // the run's tenant URL without credentials (the "run" object); may be empty
    // json and ndjson, sorted only: the records spool durably to this file, committed at each checkpoint
    // (sync --checkpoint FILE); resume: continue the spool's last commit.
    std::filesystem::path durable_spool;
    bool resume = false;
};

// `out` stays owned by the caller. Spool files are anonymous (tmpfile(), or a private temporary SQLite
// database when sorted), deleted when closed.
std::unique_ptr<SyncWriter> make_sync_writer(SyncFormat format, std::FILE *out, const SecretScrubber &scrubber,
                                             const SyncWriterOptions &options = {});

}  // namespace connector_host::cli
