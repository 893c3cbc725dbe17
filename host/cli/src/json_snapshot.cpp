#include "connector_host/cli/json_snapshot.hpp"

#include "connector_host/cli/snapshot_sync_writer.hpp"
#include "connector_host/cli/sync_writers.hpp"

#include <connector/connector_abi.hpp>
#include <connector_host/store/sqlite_handle.hpp>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/filereadstream.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>

namespace connector_host::cli {

namespace {

using Capture = std::function<void(const std::string &key, const rapidjson::Document &value)>;

// SAX events of the whole document; each object that is the value of a top-level key ("plugin", "run",
// "summary") or an element of a top-level array ("resources": [...]) is captured as text, parsed alone and
// handed over with its key. Memory: one record at a time.
class CaptureHandler : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, CaptureHandler> {
public:
    explicit CaptureHandler(Capture deliver) : deliver_(std::move(deliver)) {}
    bool Null() { return scalar([](auto &w) { return w.Null(); }); }
    bool Bool(bool b) { return scalar([&](auto &w) { return w.Bool(b); }); }
    bool Int(int i) { return scalar([&](auto &w) { return w.Int(i); }); }
    bool Uint(unsigned u) { return scalar([&](auto &w) { return w.Uint(u); }); }
    bool Int64(int64_t i) { return scalar([&](auto &w) { return w.Int64(i); }); }
    bool Uint64(uint64_t u) { return scalar([&](auto &w) { return w.Uint64(u); }); }
    bool Double(double d) { return scalar([&](auto &w) { return w.Double(d); }); }
    bool String(const char *s, rapidjson::SizeType n, bool) { return scalar([&](auto &w) { return w.String(s, n); }); }
    bool Key(const char *s, rapidjson::SizeType n, bool) {
        if (captured_depth_ > 0) return writer_->Key(s, n);
        if (depth_ == 1) key_.assign(s, n);
        return true;
    }
    bool StartObject() {
        if (captured_depth_ > 0 || depth_ == 1 || depth_ == 2) return open_captured([](auto &w) { return w.StartObject(); });
        if (depth_ != 0) throw JsonSnapshotError("unexpected nesting");
        depth_ = 1;
        return true;
    }
    bool EndObject(rapidjson::SizeType n) {
        if (captured_depth_ > 0) return close_captured([&](auto &w) { return w.EndObject(n); });
        depth_ = 0;
        return true;
    }
    bool StartArray() {
        if (captured_depth_ > 0) return open_captured([](auto &w) { return w.StartArray(); });
        if (depth_ != 1) throw JsonSnapshotError("an array where a record belongs");
        depth_ = 2;
        return true;
    }
    bool EndArray(rapidjson::SizeType n) {
        if (captured_depth_ > 0) return close_captured([&](auto &w) { return w.EndArray(n); });
        depth_ = 1;
        return true;
    }

private:
    using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
    template <typename Fn>
    bool scalar(Fn &&fn) {
        return captured_depth_ > 0 ? fn(*writer_) : true; // a top-level scalar is not used
    }
    template <typename Fn>
    bool open_captured(Fn &&fn) {
        if (captured_depth_++ == 0) {
            buffer_.Clear();
            writer_ = std::make_unique<Writer>(buffer_);
        }
        return fn(*writer_);
    }
    template <typename Fn>
    bool close_captured(Fn &&fn) {
        const bool ok = fn(*writer_);
        if (--captured_depth_ > 0) return ok;
        rapidjson::Document d;
        d.Parse(buffer_.GetString(), buffer_.GetSize());
        deliver_(key_, d);
        return ok;
    }

    Capture deliver_;
    int depth_ = 0;          // 0 outside, 1 in the top-level object, 2 in one of its arrays
    int captured_depth_ = 0; // open containers of the captured value
    std::string key_;
    rapidjson::StringBuffer buffer_;
    std::unique_ptr<Writer> writer_;
};

std::string_view text(const rapidjson::Value &o, const char *key) {
    if (!o.IsObject()) return {};
    auto it = o.FindMember(key);
    if (it == o.MemberEnd() || !it->value.IsString()) return {};
    return {it->value.GetString(), it->value.GetStringLength()};
}

const rapidjson::Value &member(const rapidjson::Value &o, const char *key) {
    static const rapidjson::Value null_value;
    if (!o.IsObject()) return null_value;
    auto it = o.FindMember(key);
    return it == o.MemberEnd() ? null_value : it->value;
}

uint64_t number(const rapidjson::Value &o, const char *key) {
    const auto &v = member(o, key);
    return v.IsUint64() ? v.GetUint64() : 0;
}

uint32_t flag_bits(const rapidjson::Value &names, std::initializer_list<std::pair<const char *, uint32_t>> known) {
    uint32_t bits = 0;
    if (names.IsArray())
        for (const auto &n : names.GetArray())
            for (auto [name, bit] : known)
                if (n.IsString() && std::strcmp(n.GetString(), name) == 0) bits |= bit;
    return bits;
}

// The descriptor the writer needs: the plugin's id and version and its resource types, owned here.
struct Descriptor {
    std::string id, version;
    std::vector<std::pair<std::string, std::string>> type_names; // id, display name
    std::vector<conn_resource_type> types;
    std::vector<const conn_resource_type *> type_pointers;
    conn_descriptor descriptor = conn::make<conn_descriptor>();

    void add_type(const rapidjson::Value &rt) {
        type_names.emplace_back(std::string(text(rt, "id")), std::string(text(rt, "display_name")));
        auto t = conn::make<conn_resource_type>();
        t.traits = flag_bits(member(rt, "traits"), {{"user", CONN_TRAIT_USER}, {"group", CONN_TRAIT_GROUP},
                                                    {"role", CONN_TRAIT_ROLE}, {"app", CONN_TRAIT_APP}});
        types.push_back(t);
    }
    const conn_descriptor &finish() {
        type_pointers.clear();
        for (size_t i = 0; i < types.size(); ++i) {
            types[i].id = type_names[i].first.c_str();
            types[i].display_name = type_names[i].second.c_str();
            type_pointers.push_back(&types[i]);
        }
        descriptor.id = id.c_str();
        descriptor.version = version.c_str();
        descriptor.resource_types = type_pointers.data();
        descriptor.resource_type_count = static_cast<uint32_t>(types.size());
        return descriptor;
    }
};

conn_str str_of(const rapidjson::Value &v) { return conn_str{v.GetString(), v.GetStringLength()}; }

// Turns each captured record back into the ABI record a plugin would have sent and hands it to the snapshot
// writer a sync uses: the rows are exactly those of a sync into a snapshot.
class Importer {
public:
    Importer(const std::filesystem::path &snapshot, const SecretScrubber &none)
        : writer_(make_snapshot_writer(snapshot, RunIdentity{}, 1, store::StartMode::new_run, none)) {}
    void record(const std::string &key, const rapidjson::Document &v) {
        if (!v.IsObject()) throw JsonSnapshotError("an element of \"" + key + "\" is not an object");
        if (key == "plugin") {
            descriptor_.id = text(v, "id");
            descriptor_.version = text(v, "version");
        } else if (key == "resource_types") {
            descriptor_.add_type(v);
        } else if (key == "run") {
            summary_.started_at = text(v, "started_at");
            summary_.ended_at = text(v, "ended_at");
            summary_.tenant = text(v, "tenant");
        } else if (key == "summary") {
            read_summary(v);
        } else if (key == "resources" || key == "entitlements" || key == "grants" || key == "warnings") {
            begin_once();
            if (key == "resources") resource(v);
            else if (key == "entitlements") entitlement(v);
            else if (key == "grants") grant(v);
            else warning(v);
        }
    }
    void finish() {
        if (!has_summary_) throw JsonSnapshotError("it has no \"summary\": not the complete output of a sync");
        begin_once();
        writer_->finish(summary_);
    }
    void abandon(const std::string &why) noexcept { writer_->abandon(why); }

private:
    void begin_once() {
        if (begun_) return;
        if (descriptor_.id.empty()) throw JsonSnapshotError("no \"plugin\" before the first record");
        writer_->begin(descriptor_.finish());
        begun_ = true;
    }
    static void require(const rapidjson::Value &v, std::initializer_list<const char *> keys, const char *what) {
        for (const char *k : keys)
            if (!member(v, k).IsString()) throw JsonSnapshotError(std::string("a ") + what + " without \"" + k + "\"");
    }
    void resource(const rapidjson::Value &v) {
        require(v, {"type", "id"}, "resource");
        std::vector<conn_attr> attrs;
        for (const auto &m : v.GetObject()) {
            const std::string_view k(m.name.GetString(), m.name.GetStringLength());
            if (k == "kind" || k == "type" || k == "id" || k == "display_name") continue;
            conn_attr a{str_of(m.name), CONN_ATTR_STRING, 0, conn_str{"", 0}, 0};
            if (m.value.IsString()) a.str = str_of(m.value);
            else if (m.value.IsBool()) a = conn_attr{str_of(m.name), CONN_ATTR_BOOL, 0, conn_str{"", 0}, m.value.GetBool() ? 1 : 0};
            else if (m.value.IsInt64()) a = conn_attr{str_of(m.name), CONN_ATTR_INT, 0, conn_str{"", 0}, m.value.GetInt64()};
            else continue; // the sync output holds no other kind of attribute
            attrs.push_back(a);
        }
        auto r = conn::make<conn_resource>();
        r.type = str_of(v["type"]);
        r.id = str_of(v["id"]);
        r.display_name = conn::str(text(v, "display_name"));
        r.attrs = attrs.data();
        r.attr_count = attrs.size();
        ++summary_.counts.resources;
        writer_->resource(r);
    }
    void entitlement(const rapidjson::Value &v) {
        require(v, {"id"}, "entitlement");
        const auto &res = member(v, "resource");
        auto e = conn::make<conn_entitlement>();
        e.id = str_of(v["id"]);
        e.resource_type = conn::str(text(res, "type"));
        e.resource_id = conn::str(text(res, "id"));
        e.slug = conn::str(text(v, "slug"));
        e.display_name = conn::str(text(v, "display_name"));
        e.purpose = text(v, "purpose") == "permission" ? CONN_PURPOSE_PERMISSION : CONN_PURPOSE_ASSIGNMENT;
        ++summary_.counts.entitlements;
        writer_->entitlement(e);
    }
    void grant(const rapidjson::Value &v) {
        require(v, {"id", "entitlement"}, "grant");
        const auto &principal = member(v, "principal");
        auto g = conn::make<conn_grant>();
        g.id = str_of(v["id"]);
        g.entitlement_id = str_of(v["entitlement"]);
        g.principal_type = conn::str(text(principal, "type"));
        g.principal_id = conn::str(text(principal, "id"));
        const auto &unresolved = member(v, "unresolved");
        if (unresolved.IsBool() && unresolved.GetBool()) {
            g.flags |= CONN_GRANT_UNRESOLVED_PRINCIPAL;
            ++summary_.counts.unresolved;
        }
        ++summary_.counts.grants;
        writer_->grant(g);
    }
    void warning(const rapidjson::Value &v) {
        ++summary_.counts.warnings;
        writer_->warning(text(v, "code"), text(v, "message"));
    }
    void read_summary(const rapidjson::Value &v) {
        has_summary_ = true;
        summary_.requests = number(v, "requests");
        summary_.retries = number(v, "retries");
        summary_.pages = number(v, "pages");
        const auto &elapsed = member(v, "elapsed_seconds");
        summary_.elapsed_seconds = elapsed.IsNumber() ? elapsed.GetDouble() : 0;
        const auto &complete = member(v, "complete");
        summary_.complete = !complete.IsBool() || complete.GetBool();
    }

    std::unique_ptr<SyncWriter> writer_;
    Descriptor descriptor_;
    SyncSummary summary_;
    bool begun_ = false, has_summary_ = false;
};

struct ClosedFile {
    void operator()(std::FILE *f) const { std::fclose(f); }
};

std::unique_ptr<std::FILE, ClosedFile> open_json(const std::filesystem::path &path) {
    std::FILE *f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) throw JsonSnapshotError(path.string() + ": " + std::strerror(errno));
    return std::unique_ptr<std::FILE, ClosedFile>(f);
}

// The json format: one document, read by SAX events.
void read_document(std::FILE *f, Importer &importer) {
    CaptureHandler handler([&](const std::string &key, const rapidjson::Document &v) { importer.record(key, v); });
    char buffer[64 * 1024];
    rapidjson::FileReadStream in(f, buffer, sizeof buffer);
    rapidjson::Reader reader;
    if (!reader.Parse(in, handler))
        throw JsonSnapshotError("not valid JSON at byte " + std::to_string(reader.GetErrorOffset()) + ": " +
                                rapidjson::GetParseError_En(reader.GetParseErrorCode()));
}

// Calls fn(line) for every line of the file, with a reused buffer.
struct LineBuffer {
    char *data = nullptr; // getline's, freed here
    size_t capacity = 0;
    LineBuffer() = default;
    LineBuffer(const LineBuffer &) = delete;
    LineBuffer &operator=(const LineBuffer &) = delete;
    ~LineBuffer() { std::free(data); }
};

template <typename Fn>
void for_each_line(std::FILE *f, Fn &&fn) {
    LineBuffer b;
    for (ssize_t n; (n = ::getline(&b.data, &b.capacity, f)) > 0;)
        if (!fn(std::string_view(b.data, static_cast<size_t>(n)))) break;
}

// The ndjson format: its first line is a record with a "kind" (the json format's first line is not a whole
// document). Rewinds the file.
bool first_line_is_record(std::FILE *f) {
    bool record = false;
    for_each_line(f, [&](std::string_view line) {
        rapidjson::Document d;
        d.Parse(line.data(), line.size());
        record = !d.HasParseError() && d.IsObject() && member(d, "kind").IsString();
        return false;
    });
    std::rewind(f);
    return record;
}

// The document's key that a record of the ndjson format belongs to; nullptr for records not kept.
const char *ndjson_key(std::string_view kind) {
    for (auto [k, key] : {std::pair{"plugin", "plugin"}, {"resource_type", "resource_types"}, {"resource", "resources"},
                          {"entitlement", "entitlements"}, {"grant", "grants"}, {"warning", "warnings"},
                          {"run", "run"}, {"summary", "summary"}})
        if (kind == k) return key;
    return nullptr;
}

void read_ndjson(std::FILE *f, Importer &importer) {
    uint64_t number = 0;
    for_each_line(f, [&](std::string_view line) {
        ++number;
        if (line.find_first_not_of(" \t\r\n") == std::string_view::npos) return true;
        rapidjson::Document d;
        d.Parse(line.data(), line.size());
        if (d.HasParseError() || !d.IsObject()) throw JsonSnapshotError("line " + std::to_string(number) + " is not a JSON object");
        const std::string_view kind = text(d, "kind");
        if (kind == "error") throw JsonSnapshotError("the sync failed: its stream ends with an error record");
        if (const char *key = ndjson_key(kind)) importer.record(key, d);
        return true;
    });
}

}  // namespace

bool looks_like_json(const std::filesystem::path &path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return false;
    std::unique_ptr<std::FILE, ClosedFile> f(std::fopen(path.c_str(), "rb"));
    if (!f) return false; // the snapshot reader says why
    int c;
    while ((c = std::fgetc(f.get())) == ' ' || c == '\n' || c == '\r' || c == '\t') {
    }
    return c == '{';
}

void import_json_snapshot(const std::filesystem::path &json, const std::filesystem::path &snapshot) {
    auto f = open_json(json);
    const bool ndjson = first_line_is_record(f.get());
    const SecretScrubber none;
    Importer importer(snapshot, none);
    try {
        if (ndjson) read_ndjson(f.get(), importer);
        else read_document(f.get(), importer);
        importer.finish();
    } catch (const JsonSnapshotError &e) {
        importer.abandon(e.what());
        throw JsonSnapshotError(json.string() + " is not a sync's JSON output: " + e.what());
    } catch (const store::StoreError &e) {
        importer.abandon(e.what());
        throw JsonSnapshotError(json.string() + ": " + e.what());
    }
}

}  // namespace connector_host::cli
