#include "connector_host/cli/error_report.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace connector_host::cli {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void value(Writer &w, const std::string &text, const SecretScrubber &sc) {
    const std::string quoted = json_quoted(printable_line(sc.scrub(text)));
    w.RawValue(quoted.data(), quoted.size(), rapidjson::kStringType);
}

void put(Writer &w, const char *key, const std::string &text, const SecretScrubber &sc) {
    w.Key(key);
    value(w, text, sc);
}

void write_fields(Writer &w, const ErrorReport &r, const SecretScrubber &sc) {
    put(w, "status", r.status, sc);
    put(w, "message", r.message, sc);
    w.Key("field");
    if (r.field.empty()) w.Null();
    else value(w, r.field, sc);
    w.Key("http_status");
    if (r.http_status > 0) w.Int(r.http_status);
    else w.Null();
    w.Key("exit_code");
    w.Int(to_int(r.exit_code));
}

}  // namespace

std::string error_json(const ErrorReport &report, const SecretScrubber &scrubber) {
    rapidjson::StringBuffer buf;
    Writer w(buf);
    w.StartObject();
    w.Key("error");
    w.StartObject();
    write_fields(w, report, scrubber);
    w.EndObject();
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

std::string error_record(const ErrorReport &report, const SecretScrubber &scrubber) {
    rapidjson::StringBuffer buf;
    Writer w(buf);
    w.StartObject();
    w.Key("kind");
    w.String("error");
    write_fields(w, report, scrubber);
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace connector_host::cli
