#include "connector_host/cli/sync_writers.hpp"

#include <connector_host/plugin_loader.hpp>
#include <connector_host/store/snapshot_writer.hpp>
#include <connector_host/store/sort_spool.hpp>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace connector_host::cli {

SyncFormat parse_sync_format(std::string_view name) {
    if (name == "json") return SyncFormat::json;
    if (name == "ndjson") return SyncFormat::ndjson;
    if (name == "table") return SyncFormat::table;
    if (name == "sqlite") return SyncFormat::sqlite;
    throw std::invalid_argument("unknown format '" + std::string(name) + "' (json, ndjson, table or sqlite)");
}

std::string_view to_string(SyncFormat format) noexcept {
    switch (format) {
    case SyncFormat::json: return "json";
    case SyncFormat::ndjson: return "ndjson";
    case SyncFormat::table: return "table";
    case SyncFormat::sqlite: return "sqlite";
    case SyncFormat::table_sample: return "table";
    }
    return "json";
}

SyncFormat default_sync_format(std::string_view out_path, bool stdout_is_terminal) {
    auto ends_with = [&](std::string_view suffix) {
        return out_path.size() >= suffix.size() && out_path.substr(out_path.size() - suffix.size()) == suffix;
    };
    if (ends_with(".json")) return SyncFormat::json;
    if (ends_with(".ndjson") || ends_with(".jsonl")) return SyncFormat::ndjson;
    if (ends_with(".db") || ends_with(".sqlite")) return SyncFormat::sqlite;
    if (!out_path.empty()) return SyncFormat::json;
    return stdout_is_terminal ? SyncFormat::table_sample : SyncFormat::json;
}

namespace {

using StringWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// A FILE* output stream for RapidJSON's Writer. The Writer puts one character at a time; each goes into
// our own buffer, handed to stdio in large blocks (a locked fputc per character cost a third of a
// 100,000-user sync's CPU time).
class FileStream {
public:
    using Ch = char;
    explicit FileStream(std::FILE *f) : f_(f) { buf_.reserve(kBlock); }
    FileStream(const FileStream &) = delete;
    FileStream &operator=(const FileStream &) = delete;
    void Put(char c) {
        buf_.push_back(c);
        if (buf_.size() >= kBlock) drain();
    }
    void Flush() {
        drain();
        if (std::fflush(f_) != 0) fail(errno);
    }
    void write(const char *data, size_t n) {
        buf_.append(data, n);
        if (buf_.size() >= kBlock) drain();
    }
    bool failed() const { return error_ != 0 || std::ferror(f_) != 0; }
    // Throws OutputWriteError when any write so far failed.
    void check(const char *what) const {
        if (failed()) throw OutputWriteError(what, error_ != 0 ? error_ : EIO);
    }
    // Unused by Writer but required by the concept.
    char Peek() const { return 0; }
    char Take() { return 0; }
    size_t Tell() const { return 0; }
    char *PutBegin() { return nullptr; }
    size_t PutEnd(char *) { return 0; }

private:
    static constexpr size_t kBlock = 64 * 1024;
    void drain() {
        if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size()) fail(errno);
        buf_.clear();
    }
    void fail(int err) {
        if (error_ == 0) error_ = err != 0 ? err : EIO;
    }
    std::FILE *f_;
    std::string buf_;
    int error_ = 0;
};

// A string (value or key). RapidJSON escapes '"', '\\' and C0 controls only; DEL, C1 and bidi controls and
// U+2028/U+2029 go through json_quoted, so no raw terminal control reaches the output.
template <typename W>
void put_text(W &w, std::string_view s) {
    if (needs_extra_json_escape(s)) {
        const std::string quoted = json_quoted(s);
        w.RawValue(quoted.data(), quoted.size(), rapidjson::kStringType);
    } else {
        w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    }
}

template <typename W>
void put_string(W &w, std::string_view s, const SecretScrubber &scrubber) {
    if (!scrubber.empty() && scrubber.contains_secret(s)) put_text(w, scrubber.scrub(s));
    else put_text(w, s);
}
template <typename W>
void put_key(W &w, std::string_view s) {
    w.Key(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

template <typename W>
void write_attribute_members(W &w, const conn_resource &r, const SecretScrubber &sc) {
    for (size_t i = 0; i < r.attr_count; ++i) {
        const conn_attr &a = r.attrs[i];
        put_string(w, view(a.key), sc); // as a key: Writer accepts String in key position
        switch (a.kind) {
        case CONN_ATTR_INT: w.Int64(a.num); break;
        case CONN_ATTR_BOOL: w.Bool(a.num != 0); break;
        default: put_string(w, view(a.str), sc); break;
        }
    }
}

template <typename W>
void write_resource(W &w, const conn_resource &r, const SecretScrubber &sc, bool with_kind) {
    w.StartObject();
    if (with_kind) { put_key(w, "kind"); w.String("resource"); }
    put_key(w, "type"); put_string(w, view(r.type), sc);
    put_key(w, "id"); put_string(w, view(r.id), sc);
    put_key(w, "display_name"); put_string(w, view(r.display_name), sc);
    write_attribute_members(w, r, sc);
    w.EndObject();
}

template <typename W>
void write_entitlement(W &w, const conn_entitlement &e, const SecretScrubber &sc, bool with_kind) {
    w.StartObject();
    if (with_kind) { put_key(w, "kind"); w.String("entitlement"); }
    put_key(w, "id"); put_string(w, view(e.id), sc);
    put_key(w, "resource");
    w.StartObject();
    put_key(w, "type"); put_string(w, view(e.resource_type), sc);
    put_key(w, "id"); put_string(w, view(e.resource_id), sc);
    w.EndObject();
    put_key(w, "slug"); put_string(w, view(e.slug), sc);
    put_key(w, "display_name"); put_string(w, view(e.display_name), sc);
    put_key(w, "purpose"); w.String(e.purpose == CONN_PURPOSE_PERMISSION ? "permission" : "assignment");
    w.EndObject();
}

template <typename W>
void write_grant(W &w, const conn_grant &g, const SecretScrubber &sc, bool with_kind) {
    w.StartObject();
    if (with_kind) { put_key(w, "kind"); w.String("grant"); }
    put_key(w, "id"); put_string(w, view(g.id), sc);
    put_key(w, "entitlement"); put_string(w, view(g.entitlement_id), sc);
    put_key(w, "principal");
    w.StartObject();
    put_key(w, "type"); put_string(w, view(g.principal_type), sc);
    put_key(w, "id"); put_string(w, view(g.principal_id), sc);
    w.EndObject();
    if (g.flags & CONN_GRANT_UNRESOLVED_PRINCIPAL) { put_key(w, "unresolved"); w.Bool(true); }
    w.EndObject();
}

template <typename W>
void write_warning(W &w, std::string_view code, std::string_view message, const SecretScrubber &sc, bool with_kind) {
    w.StartObject();
    if (with_kind) { put_key(w, "kind"); w.String("warning"); }
    put_key(w, "code"); put_string(w, code, sc);
    put_key(w, "message"); put_string(w, message, sc);
    w.EndObject();
}

template <typename W>
void write_flag_list(W &w, uint32_t bits, std::initializer_list<std::pair<uint32_t, const char *>> names) {
    w.StartArray();
    for (auto &[bit, name] : names)
        if (bits & bit) w.String(name);
    w.EndArray();
}

template <typename W>
void write_resource_type(W &w, const conn_resource_type &rt, bool with_kind) {
    w.StartObject();
    if (with_kind) { put_key(w, "kind"); w.String("resource_type"); }
    put_key(w, "id"); put_text(w, view(rt.id));
    put_key(w, "display_name"); put_text(w, view(rt.display_name));
    put_key(w, "traits");
    write_flag_list(w, rt.traits, {{CONN_TRAIT_USER, "user"}, {CONN_TRAIT_GROUP, "group"}, {CONN_TRAIT_ROLE, "role"},
                                   {CONN_TRAIT_APP, "app"}});
    put_key(w, "capabilities");
    write_flag_list(w, rt.capabilities, {{CONN_RT_SYNC, "sync"}, {CONN_RT_CREATE, "create"}, {CONN_RT_DELETE, "delete"}});
    put_key(w, "entitlements");
    w.StartArray();
    for (uint32_t i = 0; i < rt.entitlement_type_count && rt.entitlement_types != nullptr; ++i) {
        const conn_entitlement_type *et = rt.entitlement_types[i];
        if (et == nullptr) continue;
        w.StartObject();
        put_key(w, "slug"); put_text(w, view(et->slug));
        put_key(w, "display_name"); put_text(w, view(et->display_name));
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
}

template <typename W>
void write_plugin(W &w, const conn_descriptor &d, bool with_kind) {
    w.StartObject();
    if (with_kind) { put_key(w, "kind"); w.String("plugin"); }
    put_key(w, "id"); put_text(w, view(d.id));
    put_key(w, "version"); put_text(w, view(d.version));
    w.EndObject();
}

template <typename W>
void write_summary_fields(W &w, const SyncSummary &s) {
    put_key(w, "resources"); w.Uint64(s.counts.resources);
    put_key(w, "resources_by_type");
    w.StartObject();
    for (const auto &[type, n] : s.counts.resources_by_type) {
        put_text(w, type);
        w.Uint64(n);
    }
    w.EndObject();
    put_key(w, "entitlements"); w.Uint64(s.counts.entitlements);
    put_key(w, "grants"); w.Uint64(s.counts.grants);
    put_key(w, "unresolved_grants"); w.Uint64(s.counts.unresolved);
    put_key(w, "warnings"); w.Uint64(s.counts.warnings);
    put_key(w, "warnings_by_code");
    w.StartObject();
    for (const auto &[code, n] : s.counts.warnings_by_code) {
        put_text(w, code);
        w.Uint64(n);
    }
    w.EndObject();
    put_key(w, "complete"); w.Bool(s.complete);
    put_key(w, "requests"); w.Uint64(s.requests);
    put_key(w, "retries"); w.Uint64(s.retries);
    put_key(w, "pages"); w.Uint64(s.pages);
    put_key(w, "elapsed_seconds"); w.Double(s.elapsed_seconds);
}

// An anonymous temporary file holding one record per line.
class Spool {
public:
    Spool() : f_(std::tmpfile()) {
        if (f_ == nullptr) throw std::runtime_error(std::string("cannot create a spool file: ") + std::strerror(errno));
    }
    ~Spool() {
        if (f_) std::fclose(f_);
    }
    Spool(const Spool &) = delete;
    Spool &operator=(const Spool &) = delete;
    void append(std::string_view line) {
        if (std::fwrite(line.data(), 1, line.size(), f_) != line.size() || std::fputc('\n', f_) == EOF)
            throw std::runtime_error("cannot write a spool file (disk full?)");
        ++lines_;
    }
    uint64_t lines() const { return lines_; }
    // Calls fn(line) for every line, in order, with a reused buffer.
    template <typename Fn>
    void for_each(Fn &&fn) {
        if (std::fflush(f_) != 0 || std::fseek(f_, 0, SEEK_SET) != 0) throw std::runtime_error("cannot rewind a spool file");
        char *buf = nullptr;
        size_t cap = 0;
        ssize_t n;
        try {
            while ((n = ::getline(&buf, &cap, f_)) > 0) {
                size_t len = static_cast<size_t>(n);
                if (buf[len - 1] == '\n') --len;
                fn(std::string_view(buf, len));
            }
        } catch (...) {
            std::free(buf);
            throw;
        }
        std::free(buf);
        std::fseek(f_, 0, SEEK_END);
    }

private:
    std::FILE *f_;
    uint64_t lines_ = 0;
};

// The run's own facts: when it started and ended (UTC) and the tenant it read (no credentials).
struct RunFacts {
    std::string started_at, ended_at, tenant;
};

template <typename W>
void write_run(W &w, const RunFacts &run, const SecretScrubber &sc, bool with_kind) {
    w.StartObject();
    if (with_kind) { put_key(w, "kind"); w.String("run"); }
    put_key(w, "started_at"); put_text(w, run.started_at);
    put_key(w, "ended_at"); put_text(w, run.ended_at);
    put_key(w, "tenant"); put_string(w, run.tenant, sc);
    w.EndObject();
}

template <typename W>
void write_checkpoint(W &w, std::string_view token, const SecretScrubber &sc) {
    w.StartObject();
    put_key(w, "kind"); w.String("checkpoint");
    put_key(w, "token"); put_string(w, token, sc);
    w.EndObject();
}

// Serialises one record with a StringWriter into a reused buffer.
class LineBuilder {
public:
    template <typename Fn>
    std::string_view build(Fn &&fn) {
        buf_.Clear();
        StringWriter w(buf_);
        fn(w);
        return std::string_view(buf_.GetString(), buf_.GetSize());
    }

private:
    rapidjson::StringBuffer buf_;
};

// The record lists of a sync output, one line per record. Sorted (a file): each list in a stable order, by
// its keys then the line's bytes, through a SortSpool (bounded memory, temporary files). Not sorted (a
// stream): the order received, in anonymous temporary files.
enum Section : unsigned { kResources, kEntitlements, kGrants, kWarnings, kCheckpoints, kSections };

class Sections {
public:
    Sections(bool sorted, const SecretScrubber &sc, const SyncWriterOptions &o = {}) : sc_(sc) {
        if (sorted && !o.durable_spool.empty()) {
            sorted_ = std::make_unique<store::SortSpool>(kSections, o.durable_spool, o.resume);
            durable_ = true;
            if (o.resume) resumed_ = stored_resume_point();
        } else if (sorted) {
            sorted_ = std::make_unique<store::SortSpool>(kSections);
        } else {
            for (auto &s : plain_) s = std::make_unique<Spool>();
        }
    }
    bool sorted() const { return sorted_ != nullptr; }
    const std::optional<ResumePoint> &resumed() const { return resumed_; }
    void add(Section s, std::string_view key1, std::string_view key2, std::string_view line) {
        if (!sorted_) return plain_[s]->append(line);
        sorted_->add(s, key(key1, key1_), key(key2, key2_), line);
    }
    uint64_t lines(Section s) const { return sorted_ ? sorted_->lines(s) : plain_[s]->lines(); }
    template <typename Fn>
    void for_each(Section s, Fn &&fn) {
        if (sorted_) sorted_->for_each(s, fn);
        else plain_[s]->for_each(fn);
    }
    // A durable spool: the records so far become durable with the token (the run's start kept beside).
    void commit(std::string_view token, const SyncCounts &so_far, const std::string &started_at) {
        if (!durable_) return;
        sorted_->commit({{"token", std::string(token)}, {"counts", counts_to_json(so_far)},
                         {"started_at", started_at}, {"checkpointed_at", store::utc_now()}});
    }

private:
    ResumePoint stored_resume_point() {
        ResumePoint p;
        auto token = sorted_->meta("token");
        if (!token) throw std::runtime_error("the spool of the interrupted sync holds no checkpoint");
        p.token = *token;
        p.counts = counts_from_json(sorted_->meta("counts").value_or("{}"));
        p.started_at = sorted_->meta("started_at").value_or("");
        p.checkpointed_at = sorted_->meta("checkpointed_at").value_or("");
        return p;
    }
    // A key as stored: the plugin's text, scrubbed when it holds a secret.
    std::string_view key(std::string_view s, std::string &copy) const {
        if (sc_.empty() || !sc_.contains_secret(s)) return s;
        copy = sc_.scrub(s);
        return copy;
    }
    const SecretScrubber &sc_;
    std::unique_ptr<store::SortSpool> sorted_;
    std::array<std::unique_ptr<Spool>, kSections> plain_;
    std::string key1_, key2_;
    bool durable_ = false;
    std::optional<ResumePoint> resumed_;
};

// The sort keys of each kind of record: resources by type then id, entitlements by their resource's type
// then id, grants by id, warnings by code then message, checkpoints in the order received.
std::pair<std::string_view, std::string_view> keys_of(const conn_resource &r) { return {view(r.type), view(r.id)}; }
std::pair<std::string_view, std::string_view> keys_of(const conn_entitlement &e) {
    return {view(e.resource_type), view(e.id)};
}
std::pair<std::string_view, std::string_view> keys_of(const conn_grant &g) { return {view(g.id), {}}; }

std::string sequence_key(uint64_t n) {
    char text[24];
    std::snprintf(text, sizeof text, "%020llu", static_cast<unsigned long long>(n));
    return text;
}

// One document. Laid out one record per line (`diff` of two files shows the records that changed): the
// plugin, resource types, then the lists, then the run's facts and the summary, the only lines that differ
// between two sorted syncs of the same data.
class JsonWriter final : public SyncWriter {
public:
    JsonWriter(std::FILE *out, const SecretScrubber &sc, const SyncWriterOptions &o)
        : stream_(out), sc_(sc), sections_(o.sorted, sc, o), run_{{}, {}, o.tenant} {}
    void begin(const conn_descriptor &d) override {
        run_.started_at = sections_.resumed() ? sections_.resumed()->started_at : store::utc_now();
        emit("{\"plugin\":");
        emit(lines_.build([&](auto &w) { write_plugin(w, d, false); }));
        emit(",\n\"resource_types\":[");
        for (uint32_t i = 0; i < d.resource_type_count && d.resource_types; ++i)
            if (d.resource_types[i]) element(lines_.build([&](auto &w) { write_resource_type(w, *d.resource_types[i], false); }));
        close_array();
        emit(",\n\"resources\":[");
    }
    void resource(const conn_resource &r) override {
        const std::string_view line = lines_.build([&](auto &w) { write_resource(w, r, sc_, false); });
        if (sections_.sorted()) return sections_.add(kResources, keys_of(r).first, keys_of(r).second, line);
        element(line);
        stream_.check("writing the JSON output failed");
    }
    void entitlement(const conn_entitlement &e) override {
        const auto [k1, k2] = keys_of(e);
        sections_.add(kEntitlements, k1, k2, lines_.build([&](auto &w) { write_entitlement(w, e, sc_, false); }));
    }
    void grant(const conn_grant &g) override {
        const auto [k1, k2] = keys_of(g);
        sections_.add(kGrants, k1, k2, lines_.build([&](auto &w) { write_grant(w, g, sc_, false); }));
    }
    void warning(std::string_view code, std::string_view message) override {
        sections_.add(kWarnings, code, message, lines_.build([&](auto &w) { write_warning(w, code, message, sc_, false); }));
    }
    void checkpoint(std::string_view token, const SyncCounts &so_far) override {
        sections_.commit(token, so_far, run_.started_at);
    }
    bool keeps_checkpoints() const override { return false; } // a JSON document holds no tokens
    std::optional<ResumePoint> resume_point() const override { return sections_.resumed(); }
    void finish(const SyncSummary &s) override {
        run_.ended_at = store::utc_now();
        if (sections_.sorted()) unspool(kResources);
        close_array();
        for (auto [key, section] : {std::pair{"entitlements", kEntitlements}, {"grants", kGrants}, {"warnings", kWarnings}}) {
            emit(",\n\"" + std::string(key) + "\":[");
            unspool(section);
            close_array();
        }
        emit(",\n\"run\":");
        emit(lines_.build([&](auto &w) { write_run(w, run_, sc_, false); }));
        emit(",\n\"summary\":");
        emit(lines_.build([&](auto &w) {
            w.StartObject();
            write_summary_fields(w, s);
            w.EndObject();
        }));
        emit("}\n");
        stream_.Flush();
        stream_.check("writing the JSON output failed");
    }

private:
    void emit(std::string_view text) { stream_.write(text.data(), text.size()); }
    void element(std::string_view line) {
        emit(first_ ? "\n" : ",\n");
        emit(line);
        first_ = false;
    }
    void close_array() {
        emit(first_ ? "]" : "\n]");
        first_ = true;
    }
    void unspool(Section s) {
        sections_.for_each(s, [&](std::string_view line) { element(line); });
        stream_.check("writing the JSON output failed");
    }

    FileStream stream_;
    const SecretScrubber &sc_;
    LineBuilder lines_;
    Sections sections_;
    RunFacts run_;
    bool first_ = true;
};

// One record per line. A stream gets each record as it arrives, flushed; a file (sorted) gets the plugin and
// its resource types first, then each list in its stable order, then the run's facts and the summary.
class NdjsonWriter final : public SyncWriter {
public:
    NdjsonWriter(std::FILE *out, const SecretScrubber &sc, const SyncWriterOptions &o)
        : stream_(out), sc_(sc), run_{{}, {}, o.tenant} {
        if (o.sorted) sections_ = std::make_unique<Sections>(true, sc, o);
    }
    void begin(const conn_descriptor &d) override {
        const bool resumed = sections_ && sections_->resumed();
        run_.started_at = resumed ? sections_->resumed()->started_at : store::utc_now();
        line(lines_.build([&](auto &w) { write_plugin(w, d, true); }));
        for (uint32_t i = 0; i < d.resource_type_count && d.resource_types; ++i)
            if (d.resource_types[i]) line(lines_.build([&](auto &w) { write_resource_type(w, *d.resource_types[i], true); }));
    }
    void resource(const conn_resource &r) override {
        const auto [k1, k2] = keys_of(r);
        record(kResources, k1, k2, lines_.build([&](auto &w) { write_resource(w, r, sc_, true); }));
    }
    void entitlement(const conn_entitlement &e) override {
        const auto [k1, k2] = keys_of(e);
        record(kEntitlements, k1, k2, lines_.build([&](auto &w) { write_entitlement(w, e, sc_, true); }));
    }
    void grant(const conn_grant &g) override {
        const auto [k1, k2] = keys_of(g);
        record(kGrants, k1, k2, lines_.build([&](auto &w) { write_grant(w, g, sc_, true); }));
    }
    void warning(std::string_view code, std::string_view message) override {
        record(kWarnings, code, message, lines_.build([&](auto &w) { write_warning(w, code, message, sc_, true); }));
    }
    void checkpoint(std::string_view token, const SyncCounts &so_far) override {
        // Numbered after those a resumed spool holds, so the checkpoints keep the order they came in.
        const std::string seq = sequence_key(sections_ ? sections_->lines(kCheckpoints) : checkpoints_++);
        record(kCheckpoints, seq, {}, lines_.build([&](auto &w) { write_checkpoint(w, token, sc_); }));
        if (sections_) sections_->commit(token, so_far, run_.started_at);
    }
    bool keeps_checkpoints() const override { return !sections_; } // streamed: the tokens are in the output
    std::optional<ResumePoint> resume_point() const override {
        return sections_ ? sections_->resumed() : std::nullopt;
    }
    void finish(const SyncSummary &s) override {
        run_.ended_at = store::utc_now();
        // A file gets no checkpoint lines: they differ between two syncs of the same data (they name the plugin's
        // journal), and a completed sync's tokens are spent. --checkpoint FILE keeps the latest one.
        if (sections_)
            for (Section section : {kResources, kEntitlements, kGrants, kWarnings})
                sections_->for_each(section, [&](std::string_view text) { line(text, false); });
        line(lines_.build([&](auto &w) { write_run(w, run_, sc_, true); }), false);
        line(lines_.build([&](auto &w) {
            w.StartObject();
            put_key(w, "kind"); w.String("summary");
            write_summary_fields(w, s);
            w.EndObject();
        }));
    }

private:
    void record(Section s, std::string_view key1, std::string_view key2, std::string_view text) {
        if (sections_) sections_->add(s, key1, key2, text);
        else line(text);
    }
    // flush: streamed, a reader of a pipe sees each record as it arrives.
    void line(std::string_view text, bool flush = true) {
        stream_.write(text.data(), text.size());
        stream_.Put('\n');
        if (flush) stream_.Flush();
        stream_.check("writing the NDJSON output failed");
    }
    FileStream stream_;
    const SecretScrubber &sc_;
    LineBuilder lines_;
    std::unique_ptr<Sections> sections_; // null: streamed
    RunFacts run_;
    uint64_t checkpoints_ = 0;
};

// Table cells: printable, tab-free, so a row spools as one tab-separated line.
std::string cell(std::string_view s, const SecretScrubber &sc) {
    std::string clean = printable_line(sc.empty() ? std::string(s) : sc.scrub(s));
    std::replace(clean.begin(), clean.end(), '\t', ' ');
    return clean;
}


class TableWriter final : public SyncWriter {
public:
    static constexpr size_t max_col = 60;
    // rows_shown: the rows printed of each section (the rest counted in one line); 0: every row.
    TableWriter(std::FILE *out, const SecretScrubber &sc, uint64_t rows_shown)
        : stream_(out), sc_(sc), rows_shown_(rows_shown) {}
    void begin(const conn_descriptor &d) override {
        plugin_ = std::string(view(d.id)) + " " + std::string(view(d.version));
    }
    void resource(const conn_resource &r) override {
        std::string attrs;
        for (size_t i = 0; i < r.attr_count; ++i) {
            const conn_attr &a = r.attrs[i];
            if (!attrs.empty()) attrs += ' ';
            attrs += std::string(view(a.key)) + "=";
            if (a.kind == CONN_ATTR_INT) attrs += std::to_string(a.num);
            else if (a.kind == CONN_ATTR_BOOL) attrs += a.num ? "true" : "false";
            else attrs += std::string(view(a.str));
        }
        row(resources_, res_w_, {cell(view(r.type), sc_), cell(view(r.id), sc_), cell(view(r.display_name), sc_), cell(attrs, sc_)});
    }
    void entitlement(const conn_entitlement &e) override {
        row(entitlements_, ent_w_, {cell(view(e.id), sc_), cell(view(e.slug), sc_), cell(view(e.display_name), sc_)});
    }
    void grant(const conn_grant &g) override {
        row(grants_, grant_w_,
            {cell(view(g.entitlement_id), sc_),
             cell(std::string(view(g.principal_type)) + ":" + std::string(view(g.principal_id)), sc_),
             (g.flags & CONN_GRANT_UNRESOLVED_PRINCIPAL) ? "unresolved" : ""});
    }
    void warning(std::string_view code, std::string_view message) override {
        row(warnings_, warn_w_, {cell(code, sc_), cell(message, sc_)});
    }
    void checkpoint(std::string_view, const SyncCounts &) override {}
    bool keeps_checkpoints() const override { return false; }
    void finish(const SyncSummary &s) override {
        std::string types;
        for (const auto &[t, n] : s.counts.resources_by_type)
            types += (types.empty() ? "" : ", ") + std::to_string(n) + " " + cell(t, sc_);
        auto n = [](uint64_t v) { return std::to_string(v); };
        std::string head = "Plugin:       " + cell(plugin_, sc_) + "\n";
        head += "Resources:    " + n(s.counts.resources) + (types.empty() ? "" : " (" + types + ")") + "\n";
        head += "Entitlements: " + n(s.counts.entitlements) + "\n";
        head += "Grants:       " + n(s.counts.grants) +
                (s.counts.unresolved ? " (" + n(s.counts.unresolved) + " unresolved)" : "") + "\n";
        head += "Warnings:     " + n(s.counts.warnings) + "\n";
        if (!s.complete) head += "Complete:     no (incomplete_* warnings: the data may be incomplete)\n";
        emit(head);
        table("RESOURCES", "resources", {"TYPE", "ID", "DISPLAY NAME", "ATTRIBUTES"}, resources_, res_w_);
        table("ENTITLEMENTS", "entitlements", {"ID", "SLUG", "DISPLAY NAME"}, entitlements_, ent_w_);
        table("GRANTS", "grants", {"ENTITLEMENT", "PRINCIPAL", "FLAGS"}, grants_, grant_w_);
        table("WARNINGS", "warnings", {"CODE", "MESSAGE"}, warnings_, warn_w_);
        stream_.Flush();
        stream_.check("writing the table output failed");
    }

private:
    void row(Spool &spool, std::vector<size_t> &widths, std::vector<std::string> cells) {
        std::string line;
        if (widths.size() < cells.size()) widths.resize(cells.size(), 0);
        for (size_t i = 0; i < cells.size(); ++i) {
            if (i) line += '\t';
            line += cells[i];
            widths[i] = std::max(widths[i], std::min(display_width(cells[i]), max_col));
        }
        spool.append(line);
    }
    void table(const char *title, const char *what, std::vector<std::string> header, Spool &spool,
               std::vector<size_t> widths) {
        if (spool.lines() == 0) return;
        widths.resize(header.size(), 0);
        for (size_t i = 0; i < header.size(); ++i) widths[i] = std::max(widths[i], header[i].size());
        emit("\n" + std::string(title) + "\n");
        auto print_row = [&](const std::vector<std::string> &cells) {
            std::string line;
            for (size_t i = 0; i < cells.size() && i < widths.size(); ++i) {
                std::string c = (i + 1 == cells.size()) ? cells[i] : fit(cells[i], max_col);
                line += c;
                if (i + 1 < cells.size()) line += std::string(widths[i] - std::min(widths[i], display_width(c)) + 2, ' ');
            }
            while (!line.empty() && line.back() == ' ') line.pop_back();
            line.push_back('\n');
            emit(line);
        };
        print_row(header);
        uint64_t printed = 0;
        spool.for_each([&](std::string_view line) {
            if (rows_shown_ != 0 && printed++ >= rows_shown_) return;
            std::vector<std::string> cells;
            size_t start = 0;
            while (true) {
                size_t tab = line.find('\t', start);
                cells.emplace_back(line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start));
                if (tab == std::string_view::npos) break;
                start = tab + 1;
            }
            cells.resize(header.size());
            print_row(cells);
        });
        if (rows_shown_ != 0 && spool.lines() > rows_shown_)
            emit("... and " + std::to_string(spool.lines() - rows_shown_) + " more " + what +
                 " (--format table or --out FILE for every row)\n");
    }

    void emit(const std::string &text) {
        stream_.write(text.data(), text.size());
        stream_.check("writing the table output failed");
    }

    FileStream stream_;
    const SecretScrubber &sc_;
    uint64_t rows_shown_;
    std::string plugin_;
    Spool resources_, entitlements_, grants_, warnings_;
    std::vector<size_t> res_w_, ent_w_, grant_w_, warn_w_;
};

constexpr uint64_t kSampleRows = 10;

}  // namespace

std::string resource_to_json(const conn_resource &r, const SecretScrubber &scrubber) {
    rapidjson::StringBuffer buf;
    StringWriter w(buf);
    write_resource(w, r, scrubber, false);
    return std::string(buf.GetString(), buf.GetSize());
}

std::string grant_to_json(const conn_grant &g, const SecretScrubber &scrubber) {
    rapidjson::StringBuffer buf;
    StringWriter w(buf);
    write_grant(w, g, scrubber, false);
    return std::string(buf.GetString(), buf.GetSize());
}

std::string attributes_to_json(const conn_resource &r, const SecretScrubber &scrubber) {
    rapidjson::StringBuffer buf;
    StringWriter w(buf);
    w.StartObject();
    write_attribute_members(w, r, scrubber);
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

namespace {

// The counts of a checkpoint, by name: the totals, then the counts by type and by code.
constexpr std::pair<const char *, uint64_t SyncCounts::*> kCountFields[] = {
    {"resources", &SyncCounts::resources}, {"entitlements", &SyncCounts::entitlements},
    {"grants", &SyncCounts::grants},       {"warnings", &SyncCounts::warnings},
    {"unresolved", &SyncCounts::unresolved}, {"incomplete", &SyncCounts::incomplete}};
constexpr std::pair<const char *, std::map<std::string, uint64_t> SyncCounts::*> kCountMaps[] = {
    {"resources_by_type", &SyncCounts::resources_by_type}, {"warnings_by_code", &SyncCounts::warnings_by_code}};

}  // namespace

std::string counts_to_json(const SyncCounts &n) {
    rapidjson::StringBuffer buf;
    StringWriter w(buf);
    w.StartObject();
    for (auto [name, field] : kCountFields) {
        put_key(w, name);
        w.Uint64(n.*field);
    }
    for (auto [name, map] : kCountMaps) {
        put_key(w, name);
        w.StartObject();
        for (const auto &[key, value] : n.*map) {
            put_key(w, key);
            w.Uint64(value);
        }
        w.EndObject();
    }
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

SyncCounts counts_from_json(std::string_view json) {
    rapidjson::Document d;
    d.Parse(json.data(), json.size());
    if (d.HasParseError() || !d.IsObject()) throw std::runtime_error("the stored counts of the checkpoint are malformed");
    SyncCounts n;
    for (auto [name, field] : kCountFields)
        if (d.HasMember(name) && d[name].IsUint64()) n.*field = d[name].GetUint64();
    for (auto [name, map] : kCountMaps) {
        if (!d.HasMember(name) || !d[name].IsObject()) continue;
        for (const auto &m : d[name].GetObject())
            if (m.value.IsUint64()) (n.*map)[m.name.GetString()] = m.value.GetUint64();
    }
    return n;
}

bool is_incomplete_warning(std::string_view code) noexcept { return code.substr(0, 11) == "incomplete_"; }

std::unique_ptr<SyncWriter> make_sync_writer(SyncFormat format, std::FILE *out, const SecretScrubber &scrubber,
                                             const SyncWriterOptions &options) {
    switch (format) {
    case SyncFormat::json: return std::make_unique<JsonWriter>(out, scrubber, options);
    case SyncFormat::ndjson: return std::make_unique<NdjsonWriter>(out, scrubber, options);
    case SyncFormat::table: return std::make_unique<TableWriter>(out, scrubber, 0);
    case SyncFormat::table_sample: return std::make_unique<TableWriter>(out, scrubber, kSampleRows);
    case SyncFormat::sqlite: break; // make_snapshot_writer: the store writes its own file
    }
    return std::make_unique<JsonWriter>(out, scrubber, options);
}

}  // namespace connector_host::cli
