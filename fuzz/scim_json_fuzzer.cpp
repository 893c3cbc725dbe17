// Fuzz target: the plugin's SCIM response parsers (plugin/src/scim/scim_json.cpp) on arbitrary bodies.
//
// The input is one HTTP response body. Every parser is run on its own copy (they parse in place). Invariants:
//  - only ParseError ever escapes a list/user/members parser; parse_error_body never throws;
//  - a body that an independent strict parse (RapidJSON, length-aware, UTF-8 validated, no in-situ) rejects,
//    or whose root is not an object, is rejected by every parser. The parsers read the body in place, so the
//    body ends at its first NUL byte: the reference parses the same prefix;
//  - everything a parser returns is valid UTF-8 (it goes into ABI strings, which must be UTF-8); ids are
//    never empty; a user's e-mail values are never empty;
//  - the answers agree with the reference document: the number of Resources, their ids in order, the
//    totalResults when it is a non-negative integer, a user's id, the members' values;
//  - the parsers agree with each other: parse_list_summary accepts every page that parse_user_page or
//    parse_group_page accepts and reports the same total and count;
//  - an error body that is not a JSON object is not "SCIM"; a non-SCIM answer carries no fields; a numeric
//    status is rendered as a decimal integer.
#include <rapidjson/document.h>
#include <strings.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "scim/group_page_reader.hpp"
#include "scim/members_reader.hpp"
#include "scim/scim_json.hpp"

namespace {

using namespace ce::scim;
using rapidjson::Value;

// Case-insensitive first match; a null value is absent (the documented rule of the parsers).
const Value *ref_find(const Value &obj, const char *name) {
    if (!obj.IsObject()) return nullptr;
    const size_t n = std::strlen(name);
    for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
        if (it->name.GetStringLength() == n && strncasecmp(it->name.GetString(), name, n) == 0)
            return it->value.IsNull() ? nullptr : &it->value;
    }
    return nullptr;
}

std::string_view sv(const Value &v) { return {v.GetString(), v.GetStringLength()}; }

// FUZZ_SCIM_JSON_KNOWN=1 (exploring only) masks the two known bugs so that fuzzing can look past them:
// every copy handed to an in-situ parser gets 8 spare bytes of capacity past its end (the over-read of a
// UTF-8 sequence cut short by the end of the body stays inside the allocation:
// regressions/scim_json/asan_truncated_utf8_at_end_of_body), and encoded surrogates (from a lone \uDC00..
// \uDFFF escape: regressions/scim_json/lone_low_surrogate_escape_gives_invalid_utf8) pass the UTF-8
// check. CI and the regression replay run without it.
const bool kMaskKnown = std::getenv("FUZZ_SCIM_JSON_KNOWN") != nullptr;

std::string in_situ_copy(const std::string &body) {
    if (!kMaskKnown) return std::string(body);  // a copy the size of the body, as an HTTP body would be
    std::string b;
    b.reserve(body.size() + 8);
    b = body;
    return b;
}

void check_text(std::string_view s, const char *what) { FUZZ_CHECK(fuzz::valid_utf8(s, kMaskKnown), what); }

void check_user(const User &u) {
    FUZZ_CHECK(!u.id.empty(), "a parsed user has an empty id");
    check_text(u.id, "user id is not valid UTF-8");
    check_text(u.user_name, "userName is not valid UTF-8");
    check_text(u.display_name, "displayName is not valid UTF-8");
    check_text(u.given_name, "givenName is not valid UTF-8");
    check_text(u.family_name, "familyName is not valid UTF-8");
    check_text(u.external_id, "externalId is not valid UTF-8");
    for (const auto &e : u.emails) {
        FUZZ_CHECK(!e.value.empty(), "an e-mail with an empty value was kept");
        check_text(e.value, "email value is not valid UTF-8");
        check_text(e.type, "email type is not valid UTF-8");
    }
}

void check_group(const Group &g) {
    FUZZ_CHECK(!g.id.empty(), "a parsed group has an empty id");
    check_text(g.id, "group id is not valid UTF-8");
    check_text(g.display_name, "group displayName is not valid UTF-8");
    check_text(g.external_id, "group externalId is not valid UTF-8");
}

// The reference's view of a list page's total: -2 when it is not a plain non-negative integer (the parsers
// may then accept a digit string or clamp a huge number; those rules are checked separately).
int64_t ref_total(const Value &doc) {
    const Value *t = ref_find(doc, "totalResults");
    if (!t) return -1;
    if (t->IsInt64() && t->GetInt64() >= 0) return t->GetInt64();
    return -2;
}

void check_total(int64_t got, const Value &doc) {
    FUZZ_CHECK(got >= -1, "totalResults below -1");
    const int64_t want = ref_total(doc);
    if (want != -2) FUZZ_CHECK(got == want, "totalResults differs from the document");
    if (const Value *t = ref_find(doc, "totalResults"); t && t->IsUint64() && !t->IsInt64())
        FUZZ_CHECK(got == INT64_MAX, "a totalResults above INT64_MAX is not clamped");
}

template <typename T>
void check_ids_against(const ListPage<T> &page, const Value &doc) {
    const Value *res = ref_find(doc, "Resources");
    if (page.resources.empty()) {
        FUZZ_CHECK(!res || (res->IsArray() && res->Empty()), "resources were dropped");
        return;
    }
    FUZZ_CHECK(res && res->IsArray(), "resources parsed from a body without a Resources array");
    FUZZ_CHECK(res->Size() == page.resources.size(), "a different number of resources than the document holds");
    for (rapidjson::SizeType i = 0; i < res->Size(); ++i) {
        const Value *id = ref_find((*res)[i], "id");
        FUZZ_CHECK(id && id->IsString(), "a resource without a string id was accepted");
        FUZZ_CHECK(sv(*id) == page.resources[i].id, "a resource id differs from the document");
    }
}

// The streaming reader (members_reader.cpp) against parse_group_members on the same body, fed in pieces whose
// sizes come from the body's own bytes: it must accept exactly the same bodies (except that it refuses every NUL,
// where the in-place parser stops reading) and deliver the same members, in order, with the same types.
void check_streamed_members(const std::string &body, bool dom_ok, const std::vector<Member> &dom_members) {
    std::vector<Member> got;
    GroupMembersReader reader([&](std::string_view value, std::string_view type) {
        got.push_back(Member{std::string(value), std::string(type)});
    });
    bool ok = true;
    for (int attempt = 0; attempt < 2; ++attempt) {  // the second time after reset(): the same answer
        got.clear();
        reader.reset();
        ok = true;
        try {
            size_t pos = 0, k = 0;
            while (pos < body.size()) {
                const size_t step = 1 + static_cast<unsigned char>(body[k++ % body.size()]) % 17;
                const size_t n = std::min(step, body.size() - pos);
                reader.feed(std::string_view(body).substr(pos, n));
                pos += n;
            }
            reader.finish();
        } catch (const ParseError &) {
            ok = false;
        }
    }
    if (body.find('\0') != std::string::npos) {
        FUZZ_CHECK(!ok, "the streaming member reader accepted a body holding a NUL byte");
        return;
    }
    FUZZ_CHECK(ok == dom_ok, ok ? "the streaming member reader accepted a body parse_group_members rejects"
                                : "the streaming member reader rejected a body parse_group_members accepts");
    if (!ok) return;
    FUZZ_CHECK(got.size() == dom_members.size() && reader.members() == got.size(),
               "the streaming member reader found a different number of members");
    for (size_t i = 0; i < got.size(); ++i) {
        FUZZ_CHECK(got[i].value == dom_members[i].value, "a streamed member value differs");
        FUZZ_CHECK(got[i].type == dom_members[i].type, "a streamed member type differs");
    }
}

// The streaming group page reader (group_page_reader.cpp) against parse_group_page: a page it accepts is one
// parse_group_page accepts, with the same groups in order (it also checks each group's members, which
// parse_group_page ignores, so it may refuse a page parse_group_page takes), and never one holding a NUL.
void check_streamed_group_page(const std::string &body, bool dom_ok, const ListPage<Group> &dom) {
    std::vector<Group> got;
    uint64_t members = 0, member_calls = 0;
    GroupPageReader reader([&](std::string_view, std::string_view) { ++member_calls; },
                           [&](ListedGroup &g) {
                               members += g.members;
                               got.push_back(g.group);
                           });
    bool ok = true;
    ListSummary summary;
    try {
        size_t pos = 0, k = 0;
        while (pos < body.size()) {
            const size_t step = 1 + static_cast<unsigned char>(body[k++ % body.size()]) % 23;
            const size_t n = std::min(step, body.size() - pos);
            reader.feed(std::string_view(body).substr(pos, n));
            pos += n;
        }
        summary = reader.finish();
    } catch (const ParseError &) {
        ok = false;
    }
    if (!ok) return;
    FUZZ_CHECK(body.find('\0') == std::string::npos, "the group page reader accepted a body holding a NUL byte");
    FUZZ_CHECK(dom_ok, "the group page reader accepted a page parse_group_page rejects");
    FUZZ_CHECK(members == member_calls, "the group page reader's member counts differ from the members it handed over");
    FUZZ_CHECK(summary.returned == got.size() && got.size() == dom.resources.size(),
               "the group page reader found a different number of groups");
    FUZZ_CHECK(summary.total_results == dom.total_results, "the group page reader read another totalResults");
    for (size_t i = 0; i < got.size(); ++i) {
        FUZZ_CHECK(got[i].id == dom.resources[i].id, "a streamed group id differs");
        FUZZ_CHECK(got[i].display_name == dom.resources[i].display_name, "a streamed group name differs");
    }
}

template <typename F>
bool rejects(F &&parse) {
    try {
        parse();
        return false;
    } catch (const ParseError &) {
        return true;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string body(reinterpret_cast<const char *>(data), size);

    // The reference: strict, length-aware, on the prefix before the first NUL.
    const size_t nul = body.find('\0');
    const std::string prefix = body.substr(0, nul);
    rapidjson::Document ref;
    ref.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(prefix.data(), prefix.size());
    const bool ref_ok = !ref.HasParseError() && ref.IsObject();

    // Lists of users.
    bool user_page_ok = false, group_page_ok = false;
    ListPage<User> users;
    ListPage<Group> groups;
    {
        std::string b = in_situ_copy(body);
        user_page_ok = !rejects([&] { users = parse_user_page(b); });
    }
    {
        std::string b = in_situ_copy(body);
        group_page_ok = !rejects([&] { groups = parse_group_page(b); });
    }
    ListSummary summary;
    bool summary_ok = false;
    {
        std::string b = in_situ_copy(body);
        summary_ok = !rejects([&] { summary = parse_list_summary(b); });
    }
    if (!ref_ok) {
        FUZZ_CHECK(!user_page_ok, "parse_user_page accepted a body the strict reference rejects");
        FUZZ_CHECK(!group_page_ok, "parse_group_page accepted a body the strict reference rejects");
        FUZZ_CHECK(!summary_ok, "parse_list_summary accepted a body the strict reference rejects");
    }
    if (user_page_ok) {
        FUZZ_CHECK(summary_ok, "parse_list_summary rejected a page parse_user_page accepted");
        FUZZ_CHECK(summary.total_results == users.total_results, "summary and user page disagree on the total");
        FUZZ_CHECK(summary.returned == users.resources.size(), "summary and user page disagree on the count");
        check_total(users.total_results, ref);
        check_ids_against(users, ref);
        for (const auto &u : users.resources) check_user(u);
    }
    if (group_page_ok) {
        FUZZ_CHECK(summary_ok, "parse_list_summary rejected a page parse_group_page accepted");
        FUZZ_CHECK(summary.total_results == groups.total_results, "summary and group page disagree on the total");
        FUZZ_CHECK(summary.returned == groups.resources.size(), "summary and group page disagree on the count");
        check_total(groups.total_results, ref);
        check_ids_against(groups, ref);
        for (const auto &g : groups.resources) check_group(g);
    }
    if (summary_ok) check_total(summary.total_results, ref);
    check_streamed_group_page(body, group_page_ok, groups);

    // One user.
    {
        std::string b = in_situ_copy(body);
        User u;
        if (!rejects([&] { u = parse_user(b); })) {
            FUZZ_CHECK(ref_ok, "parse_user accepted a body the strict reference rejects");
            check_user(u);
            const Value *id = ref_find(ref, "id");
            FUZZ_CHECK(id && id->IsString() && sv(*id) == u.id, "parse_user returned an id not in the document");
        }
    }

    // A group's members.
    {
        std::string b = in_situ_copy(body);
        std::vector<Member> members;
        const bool members_ok = !rejects([&] { members = parse_group_members(b); });
        if (members_ok) {
            FUZZ_CHECK(ref_ok, "parse_group_members accepted a body the strict reference rejects");
            const Value *m = ref_find(ref, "members");
            const size_t want = m && m->IsArray() ? m->Size() : 0;
            FUZZ_CHECK(members.size() == want, "a different number of members than the document holds");
            for (size_t i = 0; i < members.size(); ++i) {
                check_text(members[i].value, "member value is not valid UTF-8");
                check_text(members[i].type, "member type is not valid UTF-8");
                const Value *v = ref_find((*m)[static_cast<rapidjson::SizeType>(i)], "value");
                FUZZ_CHECK(v && v->IsString() && sv(*v) == members[i].value, "a member value differs from the document");
            }
        }
        check_streamed_members(body, members_ok, members);
    }

    // Error bodies (any status): never throws.
    ErrorBody e;
    try {
        e = parse_error_body(body);
    } catch (...) {
        FUZZ_CHECK(false, "parse_error_body threw");
    }
    if (!e.is_scim) {
        FUZZ_CHECK(e.status.empty() && e.detail.empty() && e.scim_type.empty(), "a non-SCIM error body carries fields");
    } else {
        rapidjson::Document any;
        any.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
        FUZZ_CHECK(!any.HasParseError() && any.IsObject(), "an error body that is not a JSON object counted as SCIM");
        if (const Value *st = ref_find(any, "status"); st && st->IsInt64()) {
            const std::string want = std::to_string(st->GetInt64());
            FUZZ_CHECK(e.status == want, "a numeric status was not rendered as its decimal value");
        }
    }
    return 0;
}
