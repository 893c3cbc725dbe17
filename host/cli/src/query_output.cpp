#include "connector_host/cli/query_output.hpp"

#include "connector_host/cli/output_error.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <vector>

namespace connector_host::cli {

QueryFormat parse_query_format(std::string_view name) {
    if (name == "table") return QueryFormat::table;
    if (name == "json") return QueryFormat::json;
    if (name == "ndjson") return QueryFormat::ndjson;
    if (name == "csv") return QueryFormat::csv;
    throw std::invalid_argument("unknown format '" + std::string(name) + "' (table, json, ndjson or csv)");
}

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_out(std::FILE *out, std::string_view text) {
    errno = 0;
    if (std::fwrite(text.data(), 1, text.size(), out) != text.size())
        throw OutputWriteError("cannot write the answer", errno != 0 ? errno : EIO);
}

void flush_out(std::FILE *out) {
    errno = 0;
    if (std::fflush(out) != 0) throw OutputWriteError("cannot write the answer", errno != 0 ? errno : EIO);
}

void put_json_text(Writer &w, std::string_view s) {
    if (needs_extra_json_escape(s)) {
        const std::string quoted = json_quoted(s);
        w.RawValue(quoted.data(), quoted.size(), rapidjson::kStringType);
    } else {
        w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    }
}

// A row as one JSON object; an "attributes" column holds a JSON object already and is written as one.
void put_json_row(Writer &w, const std::vector<std::string> &names, const std::vector<store::Cell> &cells) {
    w.StartObject();
    for (size_t i = 0; i < names.size() && i < cells.size(); ++i) {
        w.Key(names[i].data(), static_cast<rapidjson::SizeType>(names[i].size()));
        const store::Cell &c = cells[i];
        if (c.kind == store::Cell::Kind::null) w.Null();
        else if (c.kind == store::Cell::Kind::integer) w.Int64(c.integer);
        else if (names[i] == "attributes") w.RawValue(c.text.data(), c.text.size(), rapidjson::kObjectType);
        else put_json_text(w, c.text);
    }
    w.EndObject();
}

std::string cell_text(const store::Cell &c) {
    if (c.kind == store::Cell::Kind::integer) return std::to_string(c.integer);
    return c.text;
}

class JsonQueryOutput final : public QueryOutput {
public:
    JsonQueryOutput(std::FILE *out, const store::RunSummary &run, std::string_view what) : out_(out), w_(buf_) {
        w_.StartObject();
        w_.Key("run");
        w_.StartObject();
        w_.Key("id"); w_.Int64(run.id);
        w_.Key("plugin"); put_json_text(w_, run.plugin_id);
        w_.Key("plugin_version"); put_json_text(w_, run.plugin_version);
        w_.Key("tenant"); put_json_text(w_, run.tenant);
        w_.Key("started_at"); put_json_text(w_, run.started_at);
        w_.Key("ended_at"); put_json_text(w_, run.ended_at);
        w_.Key("status"); put_json_text(w_, run.status);
        w_.EndObject();
        w_.Key(what.data(), static_cast<rapidjson::SizeType>(what.size()));
        w_.StartArray();
    }
    void columns(const std::vector<std::string> &names) override { names_ = names; }
    void row(const std::vector<store::Cell> &cells) override {
        put_json_row(w_, names_, cells);
        if (buf_.GetSize() > 64 * 1024) drain();
    }
    void end() override {
        w_.EndArray();
        w_.EndObject();
        drain();
        write_out(out_, "\n");
        flush_out(out_);
    }

private:
    void drain() {
        write_out(out_, std::string_view(buf_.GetString(), buf_.GetSize()));
        buf_.Clear();
    }
    std::FILE *out_;
    rapidjson::StringBuffer buf_;
    Writer w_;
    std::vector<std::string> names_;
};

class NdjsonQueryOutput final : public QueryOutput {
public:
    explicit NdjsonQueryOutput(std::FILE *out) : out_(out) {}
    void columns(const std::vector<std::string> &names) override { names_ = names; }
    void row(const std::vector<store::Cell> &cells) override {
        buf_.Clear();
        Writer w(buf_);
        put_json_row(w, names_, cells);
        write_out(out_, std::string_view(buf_.GetString(), buf_.GetSize()));
        write_out(out_, "\n");
    }
    void end() override { flush_out(out_); }

private:
    std::FILE *out_;
    rapidjson::StringBuffer buf_;
    std::vector<std::string> names_;
};

// RFC 4180: a field holding a comma, quote, CR or LF is quoted, its quotes doubled. A field that a
// spreadsheet would run as a formula (=, +, -, @ first) is left as is: the data is the service's.
std::string csv_field(const std::string &s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

class CsvQueryOutput final : public QueryOutput {
public:
    explicit CsvQueryOutput(std::FILE *out) : out_(out) {}
    void columns(const std::vector<std::string> &names) override { line(names); }
    void row(const std::vector<store::Cell> &cells) override {
        std::vector<std::string> texts;
        for (const auto &c : cells) texts.push_back(cell_text(c));
        line(texts);
    }
    void end() override { flush_out(out_); }

private:
    void line(const std::vector<std::string> &fields) {
        std::string text;
        for (size_t i = 0; i < fields.size(); ++i) text += (i ? "," : "") + csv_field(fields[i]);
        write_out(out_, text + "\r\n");
    }
    std::FILE *out_;
};


// Columns sized from the first rows; later rows are cut to those widths.
class TableQueryOutput final : public QueryOutput {
public:
    static constexpr size_t kMaxColumn = 60, kSizingRows = 1000;
    explicit TableQueryOutput(std::FILE *out) : out_(out) {}
    void columns(const std::vector<std::string> &names) override {
        header_.clear();
        for (const auto &n : names) {
            std::string upper = n;
            std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return static_cast<char>(c == '_' ? ' ' : std::toupper(c)); });
            header_.push_back(upper);
        }
        widths_.assign(names.size(), 0);
        for (size_t i = 0; i < names.size(); ++i) widths_[i] = display_width(header_[i]);
    }
    void row(const std::vector<store::Cell> &cells) override {
        std::vector<std::string> texts;
        for (const auto &c : cells) texts.push_back(printable_line(cell_text(c)));
        if (sized_) return print(texts);
        for (size_t i = 0; i < texts.size() && i < widths_.size(); ++i)
            widths_[i] = std::max(widths_[i], std::min(display_width(texts[i]), kMaxColumn));
        pending_.push_back(std::move(texts));
        if (pending_.size() >= kSizingRows) release();
    }
    void end() override {
        release();
        if (rows_ == 0) write_out(out_, "(no rows)\n");
        flush_out(out_);
    }

private:
    void release() {
        if (sized_) return;
        sized_ = true;
        if (pending_.empty()) return;
        print(header_);
        for (const auto &r : pending_) print(r);
        pending_.clear();
    }
    void print(const std::vector<std::string> &texts) {
        std::string line;
        for (size_t i = 0; i < texts.size() && i < widths_.size(); ++i) {
            const bool last = i + 1 == texts.size();
            const std::string c = last ? texts[i] : fit(texts[i], widths_[i]);
            line += c;
            if (!last) line += std::string(widths_[i] - std::min(widths_[i], display_width(c)) + 2, ' ');
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        write_out(out_, line + "\n");
        if (&texts != &header_) ++rows_;
    }
    std::FILE *out_;
    std::vector<std::string> header_;
    std::vector<size_t> widths_;
    std::vector<std::vector<std::string>> pending_;
    bool sized_ = false;
    uint64_t rows_ = 0;
};

}  // namespace

std::unique_ptr<QueryOutput> make_query_output(QueryFormat format, std::FILE *out, const store::RunSummary &run,
                                               std::string_view what) {
    switch (format) {
    case QueryFormat::table: return std::make_unique<TableQueryOutput>(out);
    case QueryFormat::json: return std::make_unique<JsonQueryOutput>(out, run, what);
    case QueryFormat::ndjson: return std::make_unique<NdjsonQueryOutput>(out);
    case QueryFormat::csv: return std::make_unique<CsvQueryOutput>(out);
    }
    return std::make_unique<JsonQueryOutput>(out, run, what);
}

}  // namespace connector_host::cli
