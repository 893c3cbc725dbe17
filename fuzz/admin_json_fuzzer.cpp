// Fuzz target: the plugin's Admin API response parsers (plugin/src/admin/admin_json.cpp) on arbitrary bodies.
//
// The input is one HTTP response body; every parser runs on its own copy (they parse in place). Invariants:
//  - only admin::ParseError escapes a parser; parse_api_error never throws;
//  - everything returned is valid UTF-8 (it goes into ABI strings); every id is non-empty; a group's role ids
//    are non-empty; a next_page, when present, is what the body said (possibly empty: the walk refuses that);
//  - a page's rows are as many as the body's `data` array holds (checked with an independent parse).
#include <rapidjson/document.h>

#include <exception>
#include <string>
#include <string_view>

#include "admin/admin_json.hpp"
#include "fuzz_check.hpp"

namespace {

using namespace ce::admin;

void check_text(std::string_view s, const char *what) { FUZZ_CHECK(fuzz::valid_utf8(s), what); }
void check_id(const std::string &id, const char *what) {
    FUZZ_CHECK(!id.empty(), what);
    check_text(id, what);
}

// The number of rows of `data` by an independent parse of the same prefix (up to the first NUL), or -1.
long reference_rows(const std::string &body) {
    const std::string prefix = body.substr(0, body.find('\0'));
    rapidjson::Document d;
    d.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(prefix.c_str(), prefix.size());
    if (d.HasParseError() || !d.IsObject()) return -1;
    const auto it = d.FindMember("data");
    if (it == d.MemberEnd() || !it->value.IsArray()) return -1;
    return static_cast<long>(it->value.Size());
}

template <typename Page, typename Check>
void run(const std::string &input, Page (*parse)(std::string &), Check check) {
    std::string body = input;
    try {
        const Page page = parse(body);
        FUZZ_CHECK(static_cast<long>(page.data.size()) == reference_rows(input), "rows differ from the body's data");
        for (const auto &row : page.data) check(row);
    } catch (const ParseError &) {
    } catch (const std::exception &e) {
        fuzz::fail(__FILE__, __LINE__, e.what());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string input(reinterpret_cast<const char *>(data), size);
    run(input, &parse_member_page, [](const Member &m) {
        check_id(m.id, "member id");
        check_text(m.email, "member email");
        check_text(m.role, "member role");
    });
    run(input, &parse_invite_page, [](const Invite &i) { check_id(i.id, "invite id"); });
    run(input, &parse_group_page, [](const Group &g) {
        check_id(g.id, "group id");
        check_text(g.name, "group name");
        if (g.role_ids)
            for (const auto &r : *g.role_ids) check_id(r, "role id");
    });
    run(input, &parse_group_member_page, [](const GroupMember &m) { check_id(m.user_id, "group member id"); });
    run(input, &parse_role_page, [](const Role &r) { check_id(r.id, "role id"); });
    const ApiError e = parse_api_error(input);
    if (e.is_api) {
        check_text(e.type, "error type");
        check_text(e.message, "error message");
    }
    return 0;
}
