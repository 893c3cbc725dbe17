#include "scim/scim_json.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstring>

#include "common/text.hpp"
#include "scim/json_text.hpp"
#include "scim/scim_url.hpp"

namespace ce::scim {
namespace {

using rapidjson::Value;
constexpr unsigned kParseFlags =
    rapidjson::kParseInsituFlag | rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;

std::string parse_failure(const rapidjson::Document &doc) {
    return std::string("the response is not valid JSON (") + rapidjson::GetParseError_En(doc.GetParseError()) +
           " at byte " + std::to_string(doc.GetErrorOffset()) + ")";
}

void parse_in_place(rapidjson::Document &doc, std::string &body) {
    // The in-situ parse reads up to the first NUL. With UTF-8 validation, a multi-byte sequence cut short by the
    // end of the body makes the decoder take up to 3 more bytes past that NUL: spare NULs keep those reads inside
    // the buffer (and fail the sequence, since NUL is no continuation byte).
    body.append(kSpareNuls, '\0');
    doc.ParseInsitu<kParseFlags>(body.data());
    if (doc.HasParseError()) throw ParseError(parse_failure(doc));
    if (!doc.IsObject()) throw ParseError("the response is not a JSON object");
}

// Case-insensitive member lookup; a null value counts as absent.
const Value *find(const Value &obj, const char *name) {
    for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
        if (text::iequals(std::string_view(it->name.GetString(), it->name.GetStringLength()), name))
            return it->value.IsNull() ? nullptr : &it->value;
    }
    return nullptr;
}

// Where a field sits in the document, e.g. Resources[3].emails[0]. Built as a chain on the stack and turned
// into text only when an error names the field (no allocation per parsed field).
struct Path {
    const Path *parent = nullptr;
    const char *name = nullptr;
    size_t index = static_cast<size_t>(-1);
    std::string str() const {
        std::string out = parent ? parent->str() : std::string();
        if (name) {
            if (!out.empty()) out += '.';
            out += name;
        }
        if (index != static_cast<size_t>(-1)) out += "[" + std::to_string(index) + "]";
        return out;
    }
    std::string field(const char *f) const {
        std::string out = str();
        if (!out.empty()) out += '.';
        return out + f;
    }
};

[[noreturn]] void wrong_type(const std::string &field, const char *expected) {
    throw ParseError("the field '" + field + "' is not " + expected);
}

std::string get_string(const Value &obj, const char *name, const Path &where, bool required) {
    const Value *v = find(obj, name);
    if (!v) {
        if (required) throw ParseError("the field '" + where.field(name) + "' is missing");
        return {};
    }
    if (!v->IsString()) wrong_type(where.field(name), "a string");
    if (holds_encoded_surrogate(v->GetString(), v->GetStringLength()))
        throw ParseError("the field '" + where.field(name) + "' is not valid UTF-8 (an escaped lone surrogate)");
    return std::string(v->GetString(), v->GetStringLength());
}

bool get_bool(const Value &obj, const char *name, const Path &where, bool fallback) {
    const Value *v = find(obj, name);
    if (!v) return fallback;
    if (v->IsBool()) return v->GetBool();
    if (v->IsString()) {  // some servers send "True"/"false"
        // Up to the first NUL, as strcasecmp read it ("true\u0000x" is true).
        const std::string_view s(v->GetString());
        if (text::iequals(s, "true")) return true;
        if (text::iequals(s, "false")) return false;
    }
    wrong_type(where.field(name), "a boolean");
}

int64_t get_count(const Value &obj, const char *name) {
    const Value *v = find(obj, name);
    if (!v) return -1;
    if (v->IsInt64() && v->GetInt64() >= 0) return v->GetInt64();
    if (v->IsUint64()) return INT64_MAX;
    if (v->IsString()) {
        std::string_view s(v->GetString(), v->GetStringLength());
        int64_t n = 0;
        if (s.empty() || s.size() > 18) wrong_type(name, "a non-negative integer");
        for (char c : s) {
            if (c < '0' || c > '9') wrong_type(name, "a non-negative integer");
            n = n * 10 + (c - '0');
        }
        return n;
    }
    wrong_type(name, "a non-negative integer");
}

const Value *resources_of(const Value &doc) {
    const Value *res = find(doc, "Resources");
    if (!res) return nullptr;
    if (!res->IsArray()) wrong_type("Resources", "an array");
    return res;
}

// A list answer names at least totalResults or Resources: `{}` or an unrelated document is not "no resources"
// (reading it as an empty organisation would report every account gone).
void require_list(const Value &doc) {
    if (!find(doc, "totalResults") && !find(doc, "Resources"))
        throw ParseError("the list answer has neither totalResults nor Resources (not a SCIM ListResponse)");
}

User user_from(const Value &v, const Path &where) {
    if (!v.IsObject()) throw ParseError("the field '" + where.str() + "' is not an object");
    User u;
    u.id = get_string(v, "id", where, true);
    if (u.id.empty()) throw ParseError("the field '" + where.field("id") + "' is empty");
    u.user_name = get_string(v, "userName", where, false);
    u.display_name = get_string(v, "displayName", where, false);
    u.external_id = get_string(v, "externalId", where, false);
    u.active = get_bool(v, "active", where, true);
    if (const Value *name = find(v, "name")) {
        const Path np{&where, "name"};
        if (!name->IsObject()) wrong_type(np.str(), "an object");
        u.given_name = get_string(*name, "givenName", np, false);
        u.family_name = get_string(*name, "familyName", np, false);
    }
    if (const Value *emails = find(v, "emails")) {
        if (!emails->IsArray()) wrong_type(where.field("emails"), "an array");
        size_t i = 0;
        for (const auto &e : emails->GetArray()) {
            const Path ep{&where, "emails", i++};
            if (!e.IsObject()) wrong_type(ep.str(), "an object");
            Email em;
            em.value = get_string(e, "value", ep, false);
            em.type = get_string(e, "type", ep, false);
            em.primary = get_bool(e, "primary", ep, false);
            if (!em.value.empty()) u.emails.push_back(std::move(em));
        }
    }
    return u;
}

Group group_from(const Value &v, const Path &where) {
    if (!v.IsObject()) throw ParseError("the field '" + where.str() + "' is not an object");
    Group g;
    g.id = get_string(v, "id", where, true);
    if (g.id.empty()) throw ParseError("the field '" + where.field("id") + "' is empty");
    g.display_name = get_string(v, "displayName", where, false);
    g.external_id = get_string(v, "externalId", where, false);
    return g;
}

template <typename T, typename F>
ListPage<T> parse_page(std::string &body, F &&convert) {
    rapidjson::Document doc;
    parse_in_place(doc, body);
    require_list(doc);
    ListPage<T> page;
    page.total_results = get_count(doc, "totalResults");
    if (const Value *res = resources_of(doc)) {
        page.resources.reserve(res->Size());
        size_t i = 0;
        for (const auto &item : res->GetArray()) page.resources.push_back(convert(item, Path{nullptr, "Resources", i++}));
    }
    return page;
}

void write_schema(rapidjson::Writer<rapidjson::StringBuffer> &w, const char *schema) {
    w.Key("schemas");
    w.StartArray();
    w.String(schema);
    w.EndArray();
}

constexpr const char *kPatchOp = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

std::string finish(rapidjson::StringBuffer &buf) { return std::string(buf.GetString(), buf.GetSize()); }

void str(rapidjson::Writer<rapidjson::StringBuffer> &w, std::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

}  // namespace

ListPage<User> parse_user_page(std::string &body) {
    return parse_page<User>(body, [](const Value &v, const Path &w) { return user_from(v, w); });
}

ListPage<Group> parse_group_page(std::string &body) {
    return parse_page<Group>(body, [](const Value &v, const Path &w) { return group_from(v, w); });
}

ListSummary parse_list_summary(std::string &body) {
    rapidjson::Document doc;
    parse_in_place(doc, body);
    require_list(doc);
    ListSummary s;
    s.total_results = get_count(doc, "totalResults");
    if (const Value *res = resources_of(doc)) s.returned = res->Size();
    return s;
}

Group parse_listed_group(std::string &body, size_t index) {
    body.append(kSpareNuls, '\0');
    rapidjson::Document doc;
    doc.ParseInsitu<kParseFlags>(body.data());
    const Path where{nullptr, "Resources", index};
    if (doc.HasParseError()) throw ParseError("the field '" + where.str() + "' is not valid JSON (" + parse_failure(doc) + ")");
    return group_from(doc, where);
}

User parse_user(std::string &body) {
    rapidjson::Document doc;
    parse_in_place(doc, body);
    return user_from(doc, Path{});
}

std::vector<Member> parse_group_members(std::string &body) {
    rapidjson::Document doc;
    parse_in_place(doc, body);
    std::vector<Member> out;
    const Value *members = find(doc, "members");
    if (!members) return out;
    if (!members->IsArray()) wrong_type("members", "an array");
    out.reserve(members->Size());
    size_t i = 0;
    for (const auto &m : members->GetArray()) {
        const Path mp{nullptr, "members", i++};
        if (!m.IsObject()) wrong_type(mp.str(), "an object");
        Member mem;
        mem.value = get_string(m, "value", mp, true);
        mem.type = get_string(m, "type", mp, false);
        out.push_back(std::move(mem));
    }
    return out;
}

ErrorBody parse_error_body(std::string_view body) {
    ErrorBody e;
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
    if (doc.HasParseError() || !doc.IsObject()) return e;
    if (const Value *s = find(doc, "status")) {
        if (s->IsString()) e.status.assign(s->GetString(), s->GetStringLength());
        else if (s->IsInt64()) e.status = std::to_string(s->GetInt64());
        e.is_scim = true;
    }
    if (const Value *t = find(doc, "scimType"); t && t->IsString()) {
        e.scim_type.assign(t->GetString(), t->GetStringLength());
        e.is_scim = true;
    }
    if (const Value *d = find(doc, "detail"); d && d->IsString()) {
        e.detail.assign(d->GetString(), d->GetStringLength());
        e.is_scim = true;
    }
    return e;
}

std::string build_create_user(const NewUser &user) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    write_schema(w, "urn:ietf:params:scim:schemas:core:2.0:User");
    w.Key("userName");
    str(w, user.user_name);
    w.Key("name");
    w.StartObject();
    w.Key("givenName");
    str(w, user.given_name);
    if (!user.family_name.empty()) {
        w.Key("familyName");
        str(w, user.family_name);
    }
    w.EndObject();
    w.Key("displayName");
    str(w, user.display_name);
    w.Key("emails");
    w.StartArray();
    w.StartObject();
    w.Key("value");
    str(w, user.email);
    w.Key("primary");
    w.Bool(true);
    w.Key("type");
    w.String("work");
    w.EndObject();
    w.EndArray();
    w.Key("active");
    w.Bool(true);
    w.EndObject();
    return finish(buf);
}

// A PatchOp request with one operation; write_value adds the operation's "value" member, or nothing.
template <typename WriteValue>
std::string build_single_patch(std::string_view op, std::string_view path, WriteValue &&write_value) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    write_schema(w, kPatchOp);
    w.Key("Operations");
    w.StartArray();
    w.StartObject();
    w.Key("op");
    str(w, op);
    w.Key("path");
    str(w, path);
    write_value(w);
    w.EndObject();
    w.EndArray();
    w.EndObject();
    return finish(buf);
}

std::string build_patch_active(bool active) {
    return build_single_patch("replace", "active", [&](auto &w) {
        w.Key("value");
        w.Bool(active);
    });
}

std::string build_patch_add_member(std::string_view user_id) {
    return build_single_patch("add", "members", [&](auto &w) {
        w.Key("value");
        w.StartArray();
        w.StartObject();
        w.Key("value");
        str(w, user_id);
        w.EndObject();
        w.EndArray();
    });
}

std::string build_patch_remove_member(std::string_view user_id) {
    return build_single_patch("remove", "members[value eq " + filter_string_literal(user_id) + "]", [](auto &) {});
}

}  // namespace ce::scim
