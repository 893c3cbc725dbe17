#include "query_commands.hpp"

#include "connector_host/cli/exit_codes.hpp"
#include "connector_host/cli/json_snapshot.hpp"
#include "connector_host/cli/output_error.hpp"
#include "connector_host/cli/query_output.hpp"

#include <connector_host/store/snapshot_reader.hpp>

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <filesystem>

namespace connector_host::cli {

namespace {

struct QueryFailure {
    ExitCode code;
    std::string message;
};

QueryFormat query_format(const QueryOptions &q) {
    if (q.format.empty()) return ::isatty(STDOUT_FILENO) == 1 ? QueryFormat::table : QueryFormat::json;
    try {
        return parse_query_format(q.format);
    } catch (const std::invalid_argument &e) {
        throw QueryFailure{ExitCode::usage, e.what()};
    }
}

// Store errors: what was asked for is missing (5), or the file is no usable snapshot (2).
template <typename Fn>
int guard_query(Console &console, Fn &&fn) {
    try {
        return fn();
    } catch (const QueryFailure &e) {
        console.error(e.message);
        return to_int(e.code);
    } catch (const store::StoreNotFound &e) {
        console.error(printable_line(e.what()));
        return to_int(ExitCode::not_found);
    } catch (const store::StoreError &e) {
        console.error(printable_line(e.what()));
        return to_int(ExitCode::usage);
    } catch (const OutputWriteError &e) {
        if (e.error() == EPIPE) return to_int(ExitCode::broken_pipe);
        console.error(e.what());
        return to_int(ExitCode::output_error);
    } catch (const std::exception &e) {
        console.error(e.what());
        return to_int(ExitCode::failure);
    }
}

std::optional<int64_t> run_option(const QueryOptions &q) {
    if (!q.run) return std::nullopt;
    return static_cast<int64_t>(*q.run);
}

store::ResourceQuery resource_query(const QueryOptions &q) {
    store::ResourceQuery rq{q.type, {}, {}, q.search};
    if (!q.filter.empty()) {
        const auto eq = q.filter.find('=');
        if (eq == std::string::npos || eq == 0)
            throw QueryFailure{ExitCode::usage, "--filter expects key=value, got '" + printable_line(q.filter) + "'"};
        rq.filter_key = q.filter.substr(0, eq);
        rq.filter_value = q.filter.substr(eq + 1);
    }
    return rq;
}

const char *question_name(Question question) {
    switch (question) {
    case Question::resources: return "resources";
    case Question::entitlements: return "entitlements";
    case Question::grants: return "grants";
    case Question::access: return "access";
    case Question::members: return "members";
    case Question::stats: return "stats";
    }
    return "rows";
}

void ask(const store::SnapshotReader &reader, Question question, int64_t run, const QueryOptions &q,
         store::RowVisitor &out) {
    switch (question) {
    case Question::resources: return reader.resources(run, resource_query(q), out);
    case Question::entitlements: return reader.entitlements(run, q.resource, out);
    case Question::grants: return reader.grants(run, store::GrantQuery{q.entitlement, q.principal}, out);
    case Question::access: return reader.access(run, q.target, out);
    case Question::members: return reader.members(run, q.target, out);
    case Question::stats: return reader.stats(run, out);
    }
}

// A private directory (0700) for the snapshots that JSON files are read into, removed with its content.
class ScratchDir {
public:
    ScratchDir() {
        const char *tmp = std::getenv("TMPDIR");
        std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/connector-host-diff-XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr)
            throw QueryFailure{ExitCode::failure, "cannot create a temporary directory in " + pattern.substr(0, pattern.rfind('/')) +
                                                      ": " + std::strerror(errno)};
        path_ = pattern;
    }
    ~ScratchDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    ScratchDir(const ScratchDir &) = delete;
    ScratchDir &operator=(const ScratchDir &) = delete;
    const std::filesystem::path &path() const { return path_; }

private:
    std::filesystem::path path_;
};

// The snapshot to read for a diff side: the file itself, or for a sync's JSON output, a snapshot it is
// read into (a JSON file is one run).
std::string diff_side(const std::string &path, ScratchDir &scratch, const char *name) {
    if (!looks_like_json(path)) return path;
    const std::filesystem::path db = scratch.path() / (std::string(name) + ".db");
    try {
        import_json_snapshot(path, db);
    } catch (const JsonSnapshotError &e) {
        throw QueryFailure{ExitCode::usage, printable_line(e.what())};
    }
    return db.string();
}

}  // namespace

int run_question(Console &console, Question question, const QueryOptions &q) {
    return guard_query(console, [&] {
        const QueryFormat format = query_format(q);
        store::SnapshotReader reader(q.snapshot);
        const store::RunSummary run = reader.run(run_option(q));
        auto out = make_query_output(format, stdout, run, question_name(question));
        ask(reader, question, run.id, q, *out);
        out->end();
        return 0;
    });
}

int run_diff(Console &console, const QueryOptions &q) {
    return guard_query(console, [&] {
        const QueryFormat format = query_format(q);
        std::string old_path, new_path = q.snapshot;
        int64_t old_run = 0, new_run = 0;
        ScratchDir scratch;
        if (q.other.empty() && looks_like_json(q.snapshot))
            throw QueryFailure{ExitCode::usage, "a JSON file holds one sync: give two files, old first (diff old.json new.json)"};
        if (q.other.empty()) {
            store::SnapshotReader reader(q.snapshot);
            new_run = reader.run(run_option(q)).id;
            auto previous = reader.previous_run(new_run);
            if (!previous) throw QueryFailure{ExitCode::not_found, "the snapshot has one complete run: nothing to diff"};
            old_run = *previous;
        } else {
            old_path = diff_side(q.snapshot, scratch, "old");
            new_path = diff_side(q.other, scratch, "new");
            old_run = store::SnapshotReader(old_path).run(std::nullopt).id;
        }
        store::SnapshotReader reader(new_path);
        const store::RunSummary run = reader.run(q.other.empty() ? std::optional<int64_t>(new_run) : run_option(q));
        auto out = make_query_output(format, stdout, run, "changes");
        const uint64_t changes = reader.diff(old_path, old_run, run.id, *out);
        out->end();
        console.line("diff: " + std::to_string(changes) + " change(s) from run " + std::to_string(old_run) +
                     (old_path.empty() ? "" : " of " + q.snapshot) + " to run " + std::to_string(run.id) +
                     (old_path.empty() ? "" : " of " + q.other));
        return changes == 0 ? 0 : 1;
    });
}

}  // namespace connector_host::cli
