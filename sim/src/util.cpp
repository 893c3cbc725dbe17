// Helpers shared by the store and the server: case folding, time, SCIM error bodies, attribute selection and
// the filter parser.
#include "store.hpp"

#include <chrono>
#include <ctime>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace scim_sim::detail {

std::string to_lower(std::string_view s) {
    std::string out(s);
    for (char &c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

std::string iso8601(int64_t t) {
    // civil-from-days (proleptic Gregorian), no locale or libc formatting: this runs twice per serialised resource
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    int64_t secs = t - days * 86400;
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2) ++y;
    char buf[24];
    auto put = [&](int pos, int64_t v, int width) {
        for (int i = width - 1; i >= 0; --i) {
            buf[pos + i] = static_cast<char>('0' + v % 10);
            v /= 10;
        }
    };
    put(0, y, 4);
    buf[4] = '-';
    put(5, m, 2);
    buf[7] = '-';
    put(8, d, 2);
    buf[10] = 'T';
    put(11, secs / 3600, 2);
    buf[13] = ':';
    put(14, (secs / 60) % 60, 2);
    buf[16] = ':';
    put(17, secs % 60, 2);
    buf[19] = 'Z';
    return std::string(buf, 20);
}

int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string error_json(int status, const std::string &scim_type, const std::string &detail) {
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    w.StartObject();
    w.Key("schemas");
    w.StartArray();
    w.String("urn:ietf:params:scim:api:messages:2.0:Error");
    w.EndArray();
    w.Key("status");
    w.String(std::to_string(status));
    if (!scim_type.empty()) {
        w.Key("scimType");
        w.String(scim_type);
    }
    w.Key("detail");
    w.String(detail);
    w.EndObject();
    return {sb.GetString(), sb.GetSize()};
}

namespace {
std::string top_level(std::string_view a) {
    // Strip a schema URN prefix ("urn:...:User:name.givenName" -> "name.givenName"), then keep the part before '.'.
    std::string s = to_lower(a);
    auto trim = [](std::string &x) {
        while (!x.empty() && (x.front() == ' ' || x.front() == '\t')) x.erase(x.begin());
        while (!x.empty() && (x.back() == ' ' || x.back() == '\t')) x.pop_back();
    };
    trim(s);
    if (s.rfind("urn:", 0) == 0) {
        auto colon = s.rfind(':');
        s = s.substr(colon + 1);
    }
    auto dot = s.find('.');
    if (dot != std::string::npos) s.resize(dot);
    return s;
}
std::set<std::string> split_attrs(const std::string &list) {
    std::set<std::string> out;
    size_t pos = 0;
    while (pos <= list.size()) {
        auto comma = list.find(',', pos);
        if (comma == std::string::npos) comma = list.size();
        auto name = top_level(std::string_view(list).substr(pos, comma - pos));
        if (!name.empty()) out.insert(name);
        pos = comma + 1;
    }
    return out;
}
}  // namespace

AttrSel AttrSel::parse(const std::string &attributes, const std::string &excluded) {
    AttrSel s;
    s.include = split_attrs(attributes);
    s.exclude = split_attrs(excluded);
    return s;
}

bool AttrSel::want(std::string_view attr_lc) const {
    if (attr_lc == "id" || attr_lc == "schemas") return true;  // returned: always
    if (!include.empty()) return include.count(std::string(attr_lc)) != 0;
    return exclude.count(std::string(attr_lc)) == 0;
}

// ---- filter parser -------------------------------------------------------------------------------------------

namespace {
[[noreturn]] void bad_filter(const std::string &why) { throw ScimError(400, "invalidFilter", why); }

void append_utf8(std::string &out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

struct FilterLexer {
    std::string_view s;
    size_t i = 0;
    void ws() {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
    }
    bool at_end() {
        ws();
        return i >= s.size();
    }
    std::string word() {
        ws();
        size_t b = i;
        while (i < s.size()) {
            char c = s[i];
            bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                      c == '_' || c == '-' || c == ':' || c == '$';
            if (!ok) break;
            ++i;
        }
        return std::string(s.substr(b, i - b));
    }
    uint32_t hex4() {
        if (i + 4 > s.size()) bad_filter("truncated \\u escape in filter value");
        uint32_t v = 0;
        for (int k = 0; k < 4; ++k) {
            char c = s[i++];
            v <<= 4;
            if (c >= '0' && c <= '9') v |= static_cast<uint32_t>(c - '0');
            else if (c >= 'a' && c <= 'f') v |= static_cast<uint32_t>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') v |= static_cast<uint32_t>(c - 'A' + 10);
            else bad_filter("bad \\u escape in filter value");
        }
        return v;
    }
    std::string json_string() {
        // s[i] == '"'
        ++i;
        std::string out;
        while (true) {
            if (i >= s.size()) bad_filter("unterminated string in filter");
            char c = s[i++];
            if (c == '"') return out;
            if (c != '\\') {
                out += c;
                continue;
            }
            if (i >= s.size()) bad_filter("unterminated escape in filter");
            char e = s[i++];
            switch (e) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    uint32_t cp = hex4();
                    if (cp >= 0xD800 && cp < 0xDC00) {
                        if (i + 2 > s.size() || s[i] != '\\' || s[i + 1] != 'u') bad_filter("lone surrogate");
                        i += 2;
                        uint32_t lo = hex4();
                        if (lo < 0xDC00 || lo > 0xDFFF) bad_filter("bad surrogate pair");
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    }
                    append_utf8(out, cp);
                    break;
                }
                default: bad_filter("bad escape in filter value");
            }
        }
    }
};
}  // namespace

std::vector<Clause> parse_filter(std::string_view text) {
    FilterLexer lx{text};
    std::vector<Clause> out;
    if (lx.at_end()) bad_filter("empty filter");
    while (true) {
        Clause c;
        std::string attr = lx.word();
        if (attr.empty()) bad_filter("expected an attribute path in filter");
        c.attr = to_lower(attr);
        if (c.attr.rfind("urn:", 0) == 0) c.attr = c.attr.substr(c.attr.rfind(':') + 1);
        std::string op = to_lower(lx.word());
        if (op != "eq") bad_filter("unsupported filter operator '" + op + "' (only eq and and are supported)");
        lx.ws();
        if (lx.i < text.size() && text[lx.i] == '"') {
            c.value = lx.json_string();
        } else {
            std::string lit = to_lower(lx.word());
            if (lit == "true" || lit == "false") {
                c.is_bool = true;
                c.bool_value = lit == "true";
            } else {
                bad_filter("filter values must be JSON strings or booleans");
            }
        }
        out.push_back(std::move(c));
        if (lx.at_end()) break;
        std::string conj = to_lower(lx.word());
        if (conj != "and") bad_filter("unsupported filter syntax (only eq clauses joined by and)");
    }
    return out;
}

}  // namespace scim_sim::detail
