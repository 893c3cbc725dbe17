#include "admin/admin_json.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "scim/json_text.hpp"

namespace ce::admin {
namespace {

using rapidjson::Value;
constexpr unsigned kParseFlags =
    rapidjson::kParseInsituFlag | rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;

void parse_in_place(rapidjson::Document &doc, std::string &body) {
    // Spare NULs: see scim/json_text.hpp (the UTF-8 decoder may read past a sequence cut short by the end).
    body.append(scim::kSpareNuls, '\0');
    doc.ParseInsitu<kParseFlags>(body.data());
    if (doc.HasParseError())
        throw ParseError(std::string("the response is not valid JSON (") +
                         rapidjson::GetParseError_En(doc.GetParseError()) + " at byte " +
                         std::to_string(doc.GetErrorOffset()) + ")");
    if (!doc.IsObject()) throw ParseError("the response is not a JSON object");
}

// A member of an object (names are exact: the API's JSON is not case-insensitive); null counts as absent.
const Value *find(const Value &obj, const char *name) {
    const auto it = obj.FindMember(name);
    if (it == obj.MemberEnd() || it->value.IsNull()) return nullptr;
    return &it->value;
}

std::string field_name(const std::string &where, const char *name) { return where.empty() ? name : where + "." + name; }

std::string get_string(const Value &obj, const char *name, const std::string &where, bool required) {
    const Value *v = find(obj, name);
    if (!v) {
        if (required) throw ParseError("the field '" + field_name(where, name) + "' is missing");
        return {};
    }
    if (!v->IsString()) throw ParseError("the field '" + field_name(where, name) + "' is not a string");
    if (scim::holds_encoded_surrogate(v->GetString(), v->GetStringLength()))
        throw ParseError("the field '" + field_name(where, name) + "' is not valid UTF-8 (an escaped lone surrogate)");
    return {v->GetString(), v->GetStringLength()};
}

std::string get_id(const Value &obj, const std::string &where, const char *name = "id") {
    std::string id = get_string(obj, name, where, true);
    if (id.empty()) throw ParseError("the field '" + field_name(where, name) + "' is empty");
    return id;
}

// An object of the expected kind: a `type` that names another kind is refused (an answer about something else).
void require_object(const Value &v, const std::string &where, const char *type) {
    if (!v.IsObject()) throw ParseError("'" + where + "' is not an object");
    const std::string t = get_string(v, "type", where, false);
    if (!t.empty() && t != type) throw ParseError("'" + where + "' is a \"" + t + "\", not a \"" + type + "\"");
}

Member member_from(const Value &v, const std::string &where) {
    require_object(v, where, "user");
    return Member{get_id(v, where), get_string(v, "email", where, false), get_string(v, "name", where, false),
                  get_string(v, "role", where, false), get_string(v, "added_at", where, false)};
}

Invite invite_from(const Value &v, const std::string &where) {
    require_object(v, where, "invite");
    return Invite{get_id(v, where), get_string(v, "email", where, false), get_string(v, "role", where, false),
                  get_string(v, "status", where, false), get_string(v, "expires_at", where, false)};
}

// `role_ids` (newer) or `roles` (older; equal when both are sent). An array of ids, or null.
std::optional<std::vector<std::string>> role_ids_from(const Value &v, const std::string &where) {
    const char *name = find(v, "role_ids") ? "role_ids" : "roles";
    const Value *ids = find(v, name);
    if (!ids) return std::nullopt;
    if (!ids->IsArray()) throw ParseError("the field '" + field_name(where, name) + "' is not an array");
    std::vector<std::string> out;
    for (const auto &id : ids->GetArray()) {
        if (!id.IsString() || id.GetStringLength() == 0)
            throw ParseError("the field '" + field_name(where, name) + "' holds something that is not an id");
        out.emplace_back(id.GetString(), id.GetStringLength());
    }
    return out;
}

Group group_from(const Value &v, const std::string &where) {
    require_object(v, where, "rbac_group");
    Group g{get_id(v, where), get_string(v, "name", where, false), get_string(v, "source_type", where, false), {}};
    g.role_ids = role_ids_from(v, where);
    return g;
}

GroupMember group_member_from(const Value &v, const std::string &where) {
    require_object(v, where, "rbac_group_member");
    GroupMember m{get_id(v, where, "user_id"), get_string(v, "rbac_group_id", where, false),
                  get_string(v, "email", where, false)};
    const std::string older = get_string(v, "group_id", where, false);
    if (m.group_id.empty()) m.group_id = older;
    else if (!older.empty() && older != m.group_id)
        throw ParseError("'" + where + "' names two different groups (rbac_group_id and group_id)");
    return m;
}

Role role_from(const Value &v, const std::string &where) {
    require_object(v, where, "rbac_role");
    Role r{get_id(v, where), get_string(v, "display_name", where, false), {}};
    if (r.display_name.empty()) r.display_name = get_string(v, "name", where, false);
    if (const Value *src = find(v, "source")) {
        if (!src->IsObject()) throw ParseError("the field '" + field_name(where, "source") + "' is not an object");
        r.source = get_string(*src, "type", field_name(where, "source"), false);
    }
    return r;
}

template <typename T, typename From>
std::vector<T> data_of(const Value &doc, From from) {
    const Value *data = find(doc, "data");
    if (!data) throw ParseError("the page has no 'data' (not an Admin API list answer)");
    if (!data->IsArray()) throw ParseError("the field 'data' is not an array");
    std::vector<T> out;
    out.reserve(data->Size());
    size_t i = 0;
    for (const auto &item : data->GetArray()) out.push_back(from(item, "data[" + std::to_string(i++) + "]"));
    return out;
}

bool has_more_of(const Value &doc) {
    const Value *v = find(doc, "has_more");
    if (!v || !v->IsBool()) throw ParseError("the page's 'has_more' is missing or not a boolean");
    return v->GetBool();
}

template <typename T, typename From>
CursorPage<T> cursor_page(std::string &body, From from) {
    rapidjson::Document doc;
    parse_in_place(doc, body);
    CursorPage<T> page;
    page.data = data_of<T>(doc, from);
    page.has_more = has_more_of(doc);
    page.last_id = get_string(doc, "last_id", "", false);
    return page;
}

template <typename T, typename From>
TokenPage<T> token_page(std::string &body, From from) {
    rapidjson::Document doc;
    parse_in_place(doc, body);
    TokenPage<T> page;
    page.data = data_of<T>(doc, from);
    page.has_more = has_more_of(doc);
    if (find(doc, "next_page")) page.next_page = get_string(doc, "next_page", "", true);
    return page;
}

template <typename T, typename From>
T single(std::string &body, From from) {
    rapidjson::Document doc;
    parse_in_place(doc, body);
    return from(doc, "");
}

template <typename Build>
std::string json_body(Build build) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    build(w);
    w.EndObject();
    return {buf.GetString(), buf.GetSize()};
}

void put(rapidjson::Writer<rapidjson::StringBuffer> &w, const char *key, std::string_view value) {
    w.Key(key);
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

}  // namespace

CursorPage<Member> parse_member_page(std::string &body) { return cursor_page<Member>(body, member_from); }
CursorPage<Invite> parse_invite_page(std::string &body) { return cursor_page<Invite>(body, invite_from); }
TokenPage<Group> parse_group_page(std::string &body) { return token_page<Group>(body, group_from); }
TokenPage<GroupMember> parse_group_member_page(std::string &body) {
    return token_page<GroupMember>(body, group_member_from);
}
TokenPage<Role> parse_role_page(std::string &body) { return token_page<Role>(body, role_from); }
Member parse_member(std::string &body) { return single<Member>(body, member_from); }
Invite parse_invite(std::string &body) { return single<Invite>(body, invite_from); }
Group parse_group(std::string &body) { return single<Group>(body, group_from); }

ApiError parse_api_error(std::string_view body) {
    std::string copy(body);
    rapidjson::Document doc;
    try {
        parse_in_place(doc, copy);
    } catch (const ParseError &) {
        return {};
    }
    const Value *err = find(doc, "error");
    if (!err || !err->IsObject()) return {};
    ApiError out;
    out.is_api = true;
    const Value *type = find(*err, "type");
    const Value *message = find(*err, "message");
    if (type && type->IsString()) out.type.assign(type->GetString(), type->GetStringLength());
    if (message && message->IsString()) out.message.assign(message->GetString(), message->GetStringLength());
    return out;
}

std::string build_role_change(std::string_view role) {
    return json_body([&](auto &w) { put(w, "role", role); });
}

std::string build_invite(std::string_view email, std::string_view role, const std::vector<std::string> &group_ids) {
    return json_body([&](auto &w) {
        put(w, "email", email);
        put(w, "role", role);
        if (group_ids.empty()) return;
        w.Key("rbac_group_ids");
        w.StartArray();
        for (const auto &id : group_ids) w.String(id.data(), static_cast<rapidjson::SizeType>(id.size()));
        w.EndArray();
    });
}

std::string build_group_member(std::string_view user_id) {
    return json_body([&](auto &w) { put(w, "user_id", user_id); });
}

}  // namespace ce::admin
