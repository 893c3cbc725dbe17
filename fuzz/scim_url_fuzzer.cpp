// Fuzz target: URL, query and filter building (plugin/src/scim/scim_url.cpp) and the request bodies that
// embed ids and filter literals (build_* in plugin/src/scim/scim_json.cpp), for arbitrary ids and values.
//
// Input: a selector byte for the base URL (a few realistic opaque bases, or one taken from the input), then
// NUL-separated fields: id, value, key, attribute. Invariants:
//  - percent_encode: only unreserved characters and %XX (upper-case hex) come out; no '.', '/', '?', '#';
//    decoding gives back the input exactly;
//  - resource_url(base, "Users", id) is join_path(base, "Users") + "/" + one segment; that segment holds
//    no '/', '?', '#', no '%' that is not an escape, is never "." or "..", and decodes to the id; a base
//    without '?' and '#' gives a URL without them;
//  - join_path: the base's trailing and the segment's leading slashes collapse to exactly one;
//  - with_query: the URL is kept as a prefix, then '?' (or '&' after an existing query) and k=v pairs that
//    split and decode back to the inputs;
//  - filter_string_literal: a JSON string literal, with no raw control character, that a JSON parser reads
//    back as the value (unescape(escape(x)) == x); filter_eq is `attribute eq <literal>`;
//  - the PATCH and create bodies are JSON objects that carry the id / fields back unchanged, and the remove
//    path `members[value eq <literal>]` round-trips the id.
#include <rapidjson/document.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/text.hpp"
#include "fuzz_check.hpp"
#include "scim/scim_json.hpp"
#include "scim/scim_url.hpp"

namespace {

using namespace ce::scim;

int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;  // lower case is not what percent_encode writes
}

bool unreserved(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '~';
}

// Strict decoder of percent_encode's output: fails on anything it should not have produced.
bool decode(std::string_view s, std::string &out) {
    out.clear();
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%') {
            if (i + 2 >= s.size()) return false;
            const int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0) return false;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else if (unreserved(s[i])) {
            out += s[i];
        } else {
            return false;
        }
    }
    return true;
}

std::string json_string_of(std::string_view literal, bool &ok) {
    rapidjson::Document d;
    d.Parse(literal.data(), literal.size());
    ok = !d.HasParseError() && d.IsString();
    return ok ? std::string(d.GetString(), d.GetStringLength()) : std::string();
}

const rapidjson::Value &member(const rapidjson::Value &obj, const char *name) {
    FUZZ_CHECK(obj.IsObject() && obj.HasMember(name), "a request body lacks a member");
    return obj[name];
}

std::string str_of(const rapidjson::Value &v) {
    FUZZ_CHECK(v.IsString(), "a request body member is not a string");
    return {v.GetString(), v.GetStringLength()};
}

const rapidjson::Value &only_operation(const rapidjson::Document &d) {
    const auto &ops = member(d, "Operations");
    FUZZ_CHECK(ops.IsArray() && ops.Size() == 1, "a PATCH body without exactly one operation");
    return ops[0];
}

void parse_body(rapidjson::Document &d, const std::string &body) {
    d.Parse(body.data(), body.size());
    FUZZ_CHECK(!d.HasParseError() && d.IsObject(), "a request body is not a JSON object");
}

std::string trim_right_slashes(std::string_view s) {
    while (!s.empty() && s.back() == '/') s.remove_suffix(1);
    return std::string(s);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    const std::string_view all(reinterpret_cast<const char *>(data) + 1, size - 1);
    std::vector<std::string> parts;
    size_t from = 0;
    for (;;) {
        const size_t nul = all.find('\0', from);
        parts.emplace_back(all.substr(from, nul == std::string_view::npos ? std::string_view::npos : nul - from));
        if (nul == std::string_view::npos || parts.size() == 5) break;
        from = nul + 1;
    }
    while (parts.size() < 5) parts.emplace_back();
    const std::string &id = parts[0], &value = parts[1], &key = parts[2], &attribute = parts[3];
    static const char *const bases[] = {"https://api.workos.com/scim/v2.0/abc123XYZ", "https://scim.example.com/v2/",
                                        "http://127.0.0.1:8080/scim/v2//", "https://h/scim?tenant=a%2Fb"};
    const std::string base = data[0] < 4 * 60 ? bases[data[0] % 4] : parts[4];

    // percent_encode round-trips and writes only unreserved bytes and escapes.
    const std::string enc = ce::text::percent_encode(id, ce::text::Dot::encode);  // as scim_url encodes ids
    std::string dec;
    FUZZ_CHECK(decode(enc, dec), "percent_encode wrote a byte that is neither unreserved nor an escape");
    FUZZ_CHECK(dec == id, "percent_decode(percent_encode(x)) != x");
    FUZZ_CHECK(enc.find_first_of("./?#") == std::string::npos, "an encoded id holds '.', '/', '?' or '#'");

    // join_path.
    const std::string joined = join_path(base, "/Users");
    FUZZ_CHECK(joined == trim_right_slashes(base) + "/Users", "join_path did not collapse slashes to one");

    // resource_url: one encoded segment appended.
    const std::string url = resource_url(base, "Users", id);
    const std::string prefix = joined + "/";
    FUZZ_CHECK(url.compare(0, prefix.size(), prefix) == 0, "resource_url does not start with base/Users/");
    const std::string segment = url.substr(prefix.size());
    FUZZ_CHECK(segment.find_first_of("/?#") == std::string::npos, "an id segment holds '/', '?' or '#'");
    FUZZ_CHECK(segment != "." && segment != "..", "an id became a dot segment");
    FUZZ_CHECK(decode(segment, dec) && dec == id, "the id segment does not decode to the id");
    if (base.find_first_of("?#") == std::string::npos)
        FUZZ_CHECK(url.find_first_of("?#") == std::string::npos, "an id introduced a query or fragment");
    if (!id.empty()) FUZZ_CHECK(url.back() != '/', "a non-empty id left a trailing slash");

    // with_query round-trips its pairs.
    const std::string filter = filter_eq(attribute, value);
    const std::vector<std::pair<std::string, std::string>> q = {{"filter", filter}, {key, value}, {"count", "100"}};
    const std::string collection = join_path(base, "Users");
    const std::string full = with_query(collection, q);
    FUZZ_CHECK(full.compare(0, collection.size(), collection) == 0, "with_query changed the URL before the query");
    const std::string query = full.substr(collection.size());
    const bool had_query = collection.find('?') != std::string::npos;
    FUZZ_CHECK(!query.empty() && query[0] == (had_query ? '&' : '?'), "with_query used the wrong separator");
    FUZZ_CHECK(query.find('#') == std::string::npos, "a query value introduced a fragment");
    {
        std::vector<std::pair<std::string, std::string>> got;
        size_t p = 1;
        while (p <= query.size()) {
            size_t amp = query.find('&', p);
            if (amp == std::string::npos) amp = query.size();
            const std::string pair = query.substr(p, amp - p);
            const size_t eq = pair.find('=');
            FUZZ_CHECK(eq != std::string::npos, "a query pair without '='");
            std::string k, v;
            FUZZ_CHECK(decode(pair.substr(0, eq), k) && decode(pair.substr(eq + 1), v), "a query pair does not decode");
            got.emplace_back(k, v);
            p = amp + 1;
        }
        FUZZ_CHECK(got == q, "the query does not decode back to its pairs");
    }

    // Filter literals round-trip through a JSON parser.
    const std::string lit = filter_string_literal(value);
    FUZZ_CHECK(lit.size() >= 2 && lit.front() == '"' && lit.back() == '"', "a filter literal is not quoted");
    for (unsigned char c : lit) FUZZ_CHECK(c >= 0x20, "a raw control character in a filter literal");
    bool ok = false;
    FUZZ_CHECK(json_string_of(lit, ok) == value && ok, "unescape(filter_string_literal(x)) != x");
    FUZZ_CHECK(filter == attribute + " eq " + lit, "filter_eq is not `attribute eq literal`");

    // Request bodies carry the ids unchanged.
    {
        rapidjson::Document d;
        parse_body(d, build_patch_add_member(id));
        const auto &op = only_operation(d);
        FUZZ_CHECK(str_of(member(op, "op")) == "add", "add-member op is not add");
        const auto &vals = member(op, "value");
        FUZZ_CHECK(vals.IsArray() && vals.Size() == 1, "add-member value is not one member");
        FUZZ_CHECK(str_of(member(vals[0], "value")) == id, "add-member body does not carry the id");
    }
    {
        rapidjson::Document d;
        parse_body(d, build_patch_remove_member(id));
        const auto &op = only_operation(d);
        FUZZ_CHECK(str_of(member(op, "op")) == "remove", "remove-member op is not remove");
        const std::string path = str_of(member(op, "path"));
        const std::string head = "members[value eq ";
        FUZZ_CHECK(path.compare(0, head.size(), head) == 0 && path.back() == ']', "remove path is not members[value eq ...]");
        const std::string inner = path.substr(head.size(), path.size() - head.size() - 1);
        FUZZ_CHECK(json_string_of(inner, ok) == id && ok, "the remove path's literal does not round-trip the id");
    }
    {
        rapidjson::Document d;
        parse_body(d, build_patch_active(!id.empty()));
        const auto &op = only_operation(d);
        FUZZ_CHECK(member(op, "value").IsBool() && member(op, "value").GetBool() == !id.empty(), "active flag lost");
    }
    {
        NewUser u{value, value, id, key, attribute};
        rapidjson::Document d;
        parse_body(d, build_create_user(u));
        FUZZ_CHECK(str_of(member(d, "userName")) == value, "create body: userName differs");
        FUZZ_CHECK(str_of(member(d, "displayName")) == id, "create body: displayName differs");
        const auto &name = member(d, "name");
        FUZZ_CHECK(str_of(member(name, "givenName")) == key, "create body: givenName differs");
        if (attribute.empty()) FUZZ_CHECK(!name.HasMember("familyName"), "create body: an empty familyName was sent");
        else FUZZ_CHECK(str_of(member(name, "familyName")) == attribute, "create body: familyName differs");
        for (auto it = d.MemberBegin(); it != d.MemberEnd(); ++it)
            FUZZ_CHECK(!it->value.IsNull(), "create body sends a null");
        const auto &emails = member(d, "emails");
        FUZZ_CHECK(emails.IsArray() && emails.Size() == 1 && str_of(member(emails[0], "value")) == value,
                   "create body: email differs");
        FUZZ_CHECK(member(d, "active").IsBool(), "create body: active is not a JSON boolean");
    }
    return 0;
}
