// The store: users, groups, memberships, indexes; SCIM resource semantics; JSON in (RapidJSON DOM for request
// bodies) and out (RapidJSON Writer, no DOM, for responses).
#include "store.hpp"

#include "admin_store.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <mutex>
#include <sstream>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace scim_sim::detail {

namespace rj = rapidjson;
using Writer = rj::Writer<rj::StringBuffer>;

namespace {

constexpr const char *kUserSchema = "urn:ietf:params:scim:schemas:core:2.0:User";
constexpr const char *kGroupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group";
constexpr const char *kListSchema = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

void wstr(Writer &w, const std::string &s) { w.String(s.data(), static_cast<rj::SizeType>(s.size())); }

bool ieq(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

// Case-insensitive member lookup (SCIM attribute names are case-insensitive).
const rj::Value *ci_get(const rj::Value &obj, std::string_view key) {
    if (!obj.IsObject()) return nullptr;
    for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
        if (ieq(std::string_view(it->name.GetString(), it->name.GetStringLength()), key)) return &it->value;
    }
    return nullptr;
}

[[noreturn]] void invalid(const std::string &detail, const char *type = "invalidValue") {
    throw ScimError(400, type, detail);
}

void reject_nulls(const rj::Value &v, const std::string &where, int depth = 0) {
    if (depth > 32) invalid("request body is nested too deeply", "invalidSyntax");
    if (v.IsNull()) invalid("null is not accepted for '" + where + "': omit the attribute instead");
    if (v.IsObject()) {
        for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
            reject_nulls(it->value, it->name.GetString(), depth + 1);
        }
    } else if (v.IsArray()) {
        for (auto &e : v.GetArray()) reject_nulls(e, where, depth + 1);
    }
}

rj::Document parse_body(const std::string &body) {
    rj::Document d;
    // iterative: deep nesting cannot blow the stack; invalid UTF-8 is refused like a strict server would
    d.Parse<rj::kParseIterativeFlag | rj::kParseValidateEncodingFlag>(body.data(), body.size());
    if (d.HasParseError()) {
        throw ScimError(400, "invalidSyntax",
                        std::string("request body is not valid JSON: ") + rj::GetParseError_En(d.GetParseError()) +
                            " at offset " + std::to_string(d.GetErrorOffset()));
    }
    if (!d.IsObject()) throw ScimError(400, "invalidSyntax", "request body must be a JSON object");
    reject_nulls(d, "body");
    return d;
}

std::string get_string(const rj::Value &v, const std::string &what) {
    if (!v.IsString()) invalid("'" + what + "' must be a JSON string");
    return {v.GetString(), v.GetStringLength()};
}

bool get_bool(const rj::Value &v, const std::string &what) {
    if (!v.IsBool()) invalid("'" + what + "' must be a JSON boolean (true or false), not a string or number");
    return v.GetBool();
}

std::string email_from(const rj::Value &emails) {
    if (!emails.IsArray()) invalid("'emails' must be an array");
    std::string first;
    for (auto &e : emails.GetArray()) {
        if (!e.IsObject()) invalid("'emails' entries must be objects");
        const rj::Value *val = ci_get(e, "value");
        if (!val) continue;
        std::string s = get_string(*val, "emails.value");
        const rj::Value *prim = ci_get(e, "primary");
        if (prim && get_bool(*prim, "emails.primary")) return s;
        if (first.empty()) first = s;
    }
    return first;
}

std::string strip_core_urn(std::string path_lc) {
    for (const char *urn : {"urn:ietf:params:scim:schemas:core:2.0:user:", "urn:ietf:params:scim:schemas:core:2.0:group:"}) {
        std::string u(urn);
        if (path_lc.rfind(u, 0) == 0) return path_lc.substr(u.size());
    }
    return path_lc;
}

std::string default_display(const User &u) {
    std::string d = u.given_name;
    if (!u.family_name.empty()) d += (d.empty() ? "" : " ") + u.family_name;
    return d.empty() ? u.user_name : d;
}

// Full-resource user body (POST/PUT) onto u (keeps id/meta/groups).
void apply_user_resource(User &u, const rj::Value &obj) {
    const rj::Value *un = ci_get(obj, "userName");
    if (!un) invalid("'userName' is required");
    std::string name = get_string(*un, "userName");
    if (name.empty()) invalid("'userName' must not be empty");
    u.user_name = name;
    u.user_name_lc = to_lower(name);
    u.given_name.clear();
    u.family_name.clear();
    if (const rj::Value *n = ci_get(obj, "name")) {
        if (!n->IsObject()) invalid("'name' must be an object");
        if (const rj::Value *g = ci_get(*n, "givenName")) u.given_name = get_string(*g, "name.givenName");
        if (const rj::Value *f = ci_get(*n, "familyName")) u.family_name = get_string(*f, "name.familyName");
    }
    u.display_name.clear();
    if (const rj::Value *d = ci_get(obj, "displayName")) u.display_name = get_string(*d, "displayName");
    if (u.display_name.empty()) u.display_name = default_display(u);
    u.email.clear();
    if (const rj::Value *e = ci_get(obj, "emails")) u.email = email_from(*e);
    if (u.email.empty()) u.email = u.user_name;
    u.active = true;
    if (const rj::Value *a = ci_get(obj, "active")) u.active = get_bool(*a, "active");
    u.has_external_id = false;
    u.external_id.clear();
    if (const rj::Value *x = ci_get(obj, "externalId")) {
        u.external_id = get_string(*x, "externalId");
        u.has_external_id = true;
    }
}

// One PATCH operation on a user attribute path. Returns false if the attribute is unknown.
bool patch_user_attr(User &u, const std::string &path_in, const std::string &op, const rj::Value *value) {
    std::string path = strip_core_urn(to_lower(path_in));
    bool remove = op == "remove";
    auto need = [&]() -> const rj::Value & {
        if (!value) invalid("operation '" + op + "' on '" + path_in + "' needs a value");
        return *value;
    };
    if (path == "active") {
        if (remove) invalid("'active' cannot be removed", "mutability");
        u.active = get_bool(need(), "active");
    } else if (path == "username") {
        if (remove) invalid("'userName' cannot be removed", "mutability");
        std::string s = get_string(need(), "userName");
        if (s.empty()) invalid("'userName' must not be empty");
        u.user_name = s;
        u.user_name_lc = to_lower(s);
    } else if (path == "displayname") {
        u.display_name = remove ? std::string() : get_string(need(), "displayName");
    } else if (path == "externalid") {
        if (remove) {
            u.external_id.clear();
            u.has_external_id = false;
        } else {
            u.external_id = get_string(need(), "externalId");
            u.has_external_id = true;
        }
    } else if (path == "name") {
        if (remove) {
            u.given_name.clear();
            u.family_name.clear();
        } else {
            const rj::Value &n = need();
            if (!n.IsObject()) invalid("'name' must be an object");
            if (op == "replace") {
                u.given_name.clear();
                u.family_name.clear();
            }
            if (const rj::Value *g = ci_get(n, "givenName")) u.given_name = get_string(*g, "name.givenName");
            if (const rj::Value *f = ci_get(n, "familyName")) u.family_name = get_string(*f, "name.familyName");
        }
    } else if (path == "name.givenname") {
        u.given_name = remove ? std::string() : get_string(need(), "name.givenName");
    } else if (path == "name.familyname") {
        u.family_name = remove ? std::string() : get_string(need(), "name.familyName");
    } else if (path == "name.formatted") {
        // derived from givenName/familyName; accepted and ignored
    } else if (path == "emails") {
        u.email = remove ? std::string() : email_from(need());
    } else if (path.rfind("emails[", 0) == 0 && path.size() > 13 && path.compare(path.size() - 7, 7, "].value") == 0) {
        u.email = remove ? std::string() : get_string(need(), "emails.value");
    } else {
        return false;
    }
    return true;
}

uint64_t mix(uint64_t a, uint64_t b) {
    uint64_t s = a ^ (b * 0xD1B54A32D192ED03ULL);
    return splitmix64(s);
}

std::string format_uuid(uint64_t hi, uint64_t lo) {
    hi = (hi & ~0xF000ULL) | 0x4000ULL;                        // version 4
    lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // RFC 4122 variant
    char buf[40];
    std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                  static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                  static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
    return buf;
}

// Ids are opaque: percent-encode everything but unreserved characters when an id goes into a URL (uuid-like ids,
// the usual case, pass through unchanged).
void append_path_segment(std::string &out, const std::string &id) {
    static const char *hex = "0123456789ABCDEF";
    for (unsigned char c : id) {
        bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                          c == '.' || c == '_' || c == '~';
        if (unreserved) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
}

std::string segment(const char *prefix, const std::string &id) {
    std::string out(prefix);
    append_path_segment(out, id);
    return out;
}

struct Slice {
    size_t from = 0, n = 0;
    long long start = 1;
};

}  // namespace

// ---- store basics --------------------------------------------------------------------------------------------

Store::Store(uint64_t seed, size_t max_page_size, bool soft_delete, int patch_response)
    : id_state_(mix(seed, 0x1D)), drift_state_(mix(seed, 0xD1F7)), max_page_size_(max_page_size ? max_page_size : 1),
      soft_delete_(soft_delete), patch_response_(patch_response) {}

Store::~Store() = default;

void Store::enable_admin(const AdminConfig &cfg) {
    std::unique_lock lock(mu_);
    admin_ = std::make_unique<AdminView>(*this, cfg);
}

User *Store::user_ptr(const std::string &id) const {
    auto it = users_.find(id);
    return it == users_.end() ? nullptr : it->second.get();
}
Group *Store::group_ptr(const std::string &id) const {
    auto it = groups_.find(id);
    return it == groups_.end() ? nullptr : it->second.get();
}

std::string Store::new_id() {
    while (true) {
        uint64_t hi = splitmix64(id_state_), lo = splitmix64(id_state_);
        std::string id = format_uuid(hi, lo);
        if (!users_.count(id) && !groups_.count(id)) return id;
    }
}

User &Store::insert_user(std::unique_ptr<User> u) {
    User *p = u.get();
    auto pos = std::lower_bound(user_order_.begin(), user_order_.end(), p->id,
                                [](const User *a, const std::string &id) { return a->id < id; });
    user_order_.insert(pos, p);
    by_name_[p->user_name_lc] = p;
    users_.emplace(p->id, std::move(u));
    if (admin_) admin_->on_user_changed(*p);
    return *p;
}

Group &Store::insert_group(std::unique_ptr<Group> g) {
    Group *p = g.get();
    auto pos = std::lower_bound(group_order_.begin(), group_order_.end(), p->id,
                                [](const Group *a, const std::string &id) { return a->id < id; });
    group_order_.insert(pos, p);
    groups_.emplace(p->id, std::move(g));
    if (admin_) admin_->on_group_added(*p);
    return *p;
}

void Store::add_member(Group &g, const std::string &member_id, MemberKind kind) {
    if (!g.members.emplace(member_id, kind).second) return;  // already a member: no-op
    ++memberships_;
    if (kind == MemberKind::User) {
        if (User *u = user_ptr(member_id)) {
            u->groups.insert(g.id);
            u->touch();
            if (admin_) admin_->on_link(g, member_id, true);
        }
    } else if (Group *c = group_ptr(member_id)) {
        c->parents.insert(g.id);
    }
}

void Store::remove_member(Group &g, const std::string &member_id) {
    auto it = g.members.find(member_id);
    if (it == g.members.end()) return;  // not a member: no-op
    if (it->second == MemberKind::User) {
        if (User *u = user_ptr(member_id)) {
            u->groups.erase(g.id);
            u->touch();
            if (admin_) admin_->on_link(g, member_id, false);
        }
    } else if (Group *c = group_ptr(member_id)) {
        c->parents.erase(g.id);
    }
    g.members.erase(it);
    --memberships_;
}

void Store::erase_user(const std::string &id) {
    User *u = user_ptr(id);
    if (!u) return;
    for (const auto &gid : std::vector<std::string>(u->groups.begin(), u->groups.end())) {
        if (Group *g = group_ptr(gid)) remove_member(*g, id);
    }
    if (admin_) admin_->on_user_erased(*u);
    by_name_.erase(u->user_name_lc);
    auto pos = std::lower_bound(user_order_.begin(), user_order_.end(), id,
                                [](const User *a, const std::string &k) { return a->id < k; });
    if (pos != user_order_.end() && (*pos)->id == id) user_order_.erase(pos);
    users_.erase(id);
}

void Store::erase_group(const std::string &id) {
    Group *g = group_ptr(id);
    if (!g) return;
    std::vector<std::string> members;
    members.reserve(g->members.size());
    for (auto &m : g->members) members.push_back(m.first);
    for (auto &m : members) remove_member(*g, m);
    for (const auto &pid : std::vector<std::string>(g->parents.begin(), g->parents.end())) {
        if (Group *p = group_ptr(pid)) remove_member(*p, id);
    }
    if (admin_) admin_->on_group_erased(*g);
    auto pos = std::lower_bound(group_order_.begin(), group_order_.end(), id,
                                [](const Group *a, const std::string &k) { return a->id < k; });
    if (pos != group_order_.end() && (*pos)->id == id) group_order_.erase(pos);
    groups_.erase(id);
}

// ---- serialisation -------------------------------------------------------------------------------------------

template <class W>
void Store::write_meta(W &w, const char *type, const std::string &path, int64_t created, int64_t modified) const {
    w.Key("meta");
    w.StartObject();
    w.Key("resourceType");
    w.String(type);
    w.Key("created");
    wstr(w, iso8601(created));
    w.Key("lastModified");
    wstr(w, iso8601(modified));
    w.Key("location");
    wstr(w, base_url_ + path);
    w.EndObject();
}

template <class W>
void Store::write_user(W &w, const User &u, const AttrSel &sel) const {
    w.StartObject();
    w.Key("schemas");
    w.StartArray();
    w.String(kUserSchema);
    w.EndArray();
    w.Key("id");
    wstr(w, u.id);
    if (u.has_external_id && sel.want("externalid")) {
        w.Key("externalId");
        wstr(w, u.external_id);
    }
    if (sel.want("username")) {
        w.Key("userName");
        wstr(w, u.user_name);
    }
    if ((!u.given_name.empty() || !u.family_name.empty()) && sel.want("name")) {
        w.Key("name");
        w.StartObject();
        if (!u.given_name.empty()) {
            w.Key("givenName");
            wstr(w, u.given_name);
        }
        if (!u.family_name.empty()) {
            w.Key("familyName");
            wstr(w, u.family_name);
        }
        w.EndObject();
    }
    if (!u.display_name.empty() && sel.want("displayname")) {
        w.Key("displayName");
        wstr(w, u.display_name);
    }
    if (!u.email.empty() && sel.want("emails")) {
        w.Key("emails");
        w.StartArray();
        w.StartObject();
        w.Key("value");
        wstr(w, u.email);
        w.Key("primary");
        w.Bool(true);
        w.Key("type");
        w.String("work");
        w.EndObject();
        w.EndArray();
    }
    if (sel.want("active")) {
        w.Key("active");
        w.Bool(u.active);
    }
    if (sel.want("groups")) {
        w.Key("groups");
        w.StartArray();
        std::string ref;
        ref.reserve(base_url_.size() + 48);
        for (const auto &gid : u.groups) {
            w.StartObject();
            w.Key("value");
            wstr(w, gid);
            if (const Group *g = group_ptr(gid)) {
                w.Key("display");
                wstr(w, g->display_name);
            }
            ref.assign(base_url_);
            ref += "/Groups/";
            append_path_segment(ref, gid);
            w.Key("$ref");
            wstr(w, ref);
            w.Key("type");
            w.String("direct");
            w.EndObject();
        }
        w.EndArray();
    }
    if (sel.want("meta")) write_meta(w, "User", segment("/Users/", u.id), u.created, u.modified);
    w.EndObject();
}

template <class W>
void Store::write_group(W &w, const Group &g, const AttrSel &sel, size_t member_cap) const {
    w.StartObject();
    w.Key("schemas");
    w.StartArray();
    w.String(kGroupSchema);
    w.EndArray();
    w.Key("id");
    wstr(w, g.id);
    if (g.has_external_id && sel.want("externalid")) {
        w.Key("externalId");
        wstr(w, g.external_id);
    }
    if (sel.want("displayname")) {
        w.Key("displayName");
        wstr(w, g.display_name);
    }
    if (sel.want("members")) {
        w.Key("members");
        w.StartArray();
        std::string ref;
        size_t written = 0;
        for (const auto &[mid, kind] : g.members) {
            if (member_cap && written++ == member_cap) break;
            w.StartObject();
            w.Key("value");
            wstr(w, mid);
            const std::string *display = nullptr;
            if (kind == MemberKind::User) {
                if (const User *u = user_ptr(mid)) display = &u->display_name;
            } else if (const Group *c = group_ptr(mid)) {
                display = &c->display_name;
            }
            if (display) {
                w.Key("display");
                wstr(w, *display);
            }
            w.Key("type");
            w.String(kind == MemberKind::User ? "User" : "Group");
            ref.assign(base_url_);
            ref += kind == MemberKind::User ? "/Users/" : "/Groups/";
            append_path_segment(ref, mid);
            w.Key("$ref");
            wstr(w, ref);
            w.EndObject();
        }
        w.EndArray();
    }
    if (sel.want("meta")) write_meta(w, "Group", segment("/Groups/", g.id), g.created, g.modified);
    w.EndObject();
}

std::shared_ptr<const std::string> Store::cached_user_json(const User &u) const {
    // Caller holds mu_ shared: the user cannot change meanwhile; concurrent readers of the same user serialise on
    // its stripe (serialising twice would be harmless but racy).
    std::mutex &m = cache_mu_[(reinterpret_cast<uintptr_t>(&u) / alignof(User)) % cache_mu_.size()];
    std::lock_guard lock(m);
    if (!u.json_cache) u.json_cache = std::make_shared<const std::string>(user_json(u, AttrSel{}));
    return u.json_cache;
}

void Store::touch_members(const Group &g) {
    for (auto &[mid, kind] : g.members) {
        if (kind == MemberKind::User) {
            if (User *u = user_ptr(mid)) u->touch();
        }
    }
}

std::string Store::user_json(const User &u, const AttrSel &sel) const {
    rj::StringBuffer sb;
    Writer w(sb);
    write_user(w, u, sel);
    return {sb.GetString(), sb.GetSize()};
}

std::string Store::group_json(const Group &g, const AttrSel &sel) const {
    rj::StringBuffer sb;
    Writer w(sb);
    write_group(w, g, sel);
    return {sb.GetString(), sb.GetSize()};
}

namespace {
Slice make_slice(const ListQuery &q, size_t total, size_t cap) {
    Slice s;
    s.start = q.start_index < 1 ? 1 : q.start_index;
    long long count = q.count < 0 ? static_cast<long long>(cap) : std::min<long long>(q.count, static_cast<long long>(cap));
    size_t from = static_cast<size_t>(s.start - 1);
    if (from >= total || count <= 0) {
        s.from = std::min(from, total);
        s.n = 0;
    } else {
        s.from = from;
        s.n = std::min(static_cast<size_t>(count), total - from);
    }
    return s;
}

template <class Items, class Fn>
std::string list_response(size_t total, const Slice &s, const Items &items, Fn &&write_item) {
    rj::StringBuffer sb(nullptr, 1024 + s.n * 1200);
    Writer w(sb);
    w.StartObject();
    w.Key("schemas");
    w.StartArray();
    w.String(kListSchema);
    w.EndArray();
    w.Key("totalResults");
    w.Uint64(total);
    w.Key("startIndex");
    w.Int64(s.start);
    w.Key("itemsPerPage");
    w.Uint64(s.n);
    w.Key("Resources");
    w.StartArray();
    for (size_t i = s.from; i < s.from + s.n; ++i) write_item(w, *items[i]);
    w.EndArray();
    w.EndObject();
    return {sb.GetString(), sb.GetSize()};
}
}  // namespace

// ---- users ---------------------------------------------------------------------------------------------------

Reply Store::list_users(const ListQuery &q) {
    AttrSel sel = AttrSel::parse(q.attributes, q.excluded);
    std::shared_lock lock(mu_);
    auto write = [&](Writer &w, const User &u) {
        if (sel.is_default()) {
            auto json = cached_user_json(u);
            w.RawValue(json->data(), json->size(), rj::kObjectType);
        } else {
            write_user(w, u, sel);
        }
    };
    if (q.filter.empty()) {
        Slice s = make_slice(q, user_order_.size(), max_page_size_);
        return {200, list_response(user_order_.size(), s, user_order_, write), {}};
    }
    auto clauses = parse_filter(q.filter);
    for (auto &c : clauses) {
        static const std::set<std::string> known{"id", "username", "displayname", "externalid", "active",
                                                 "emails", "emails.value"};
        if (!known.count(c.attr)) throw ScimError(400, "invalidFilter", "filtering on '" + c.attr + "' is not supported");
        if (c.is_bool != (c.attr == "active")) throw ScimError(400, "invalidFilter", "wrong value type for '" + c.attr + "'");
    }
    auto match = [&](const User &u) {
        for (auto &c : clauses) {
            bool ok = true;
            if (c.attr == "id") ok = u.id == c.value;
            else if (c.attr == "username") ok = u.user_name_lc == to_lower(c.value);
            else if (c.attr == "displayname") ok = ieq(u.display_name, c.value);
            else if (c.attr == "externalid") ok = u.has_external_id && u.external_id == c.value;
            else if (c.attr == "active") ok = u.active == c.bool_value;
            else ok = ieq(u.email, c.value);
            if (!ok) return false;
        }
        return true;
    };
    std::vector<const User *> hits;
    const Clause *key = nullptr;
    for (auto &c : clauses) {
        if (c.attr == "id" || (c.attr == "username" && !key)) key = &c;
    }
    if (key) {
        const User *u = nullptr;
        if (key->attr == "id") u = user_ptr(key->value);
        else if (auto it = by_name_.find(to_lower(key->value)); it != by_name_.end()) u = it->second;
        if (u && match(*u)) hits.push_back(u);
    } else {
        for (const User *u : user_order_) {
            if (match(*u)) hits.push_back(u);
        }
    }
    Slice s = make_slice(q, hits.size(), max_page_size_);
    return {200, list_response(hits.size(), s, hits, write), {}};
}

Reply Store::get_user(const std::string &id, const AttrSel &sel) {
    std::shared_lock lock(mu_);
    const User *u = user_ptr(id);
    if (!u) throw ScimError(404, "", "User " + id + " not found");
    if (sel.is_default()) return {200, *cached_user_json(*u), {}};
    return {200, user_json(*u, sel), {}};
}

void Store::rename_user(User &u, const std::string &new_name) {
    by_name_.erase(u.user_name_lc);
    u.user_name = new_name;
    u.user_name_lc = to_lower(new_name);
    by_name_[u.user_name_lc] = &u;
}

Reply Store::create_user(const std::string &body) {
    rj::Document d = parse_body(body);
    auto u = std::make_unique<User>();
    apply_user_resource(*u, d);
    std::unique_lock lock(mu_);
    if (by_name_.count(u->user_name_lc)) {
        throw ScimError(409, "uniqueness", "userName '" + u->user_name + "' is already in use");
    }
    u->id = new_id();
    u->created = u->modified = now_seconds();
    User &ref = insert_user(std::move(u));
    return {201, user_json(ref, AttrSel{}), base_url_ + segment("/Users/", ref.id)};
}

Reply Store::replace_user(const std::string &id, const std::string &body) {
    rj::Document d = parse_body(body);
    User incoming;
    apply_user_resource(incoming, d);
    std::unique_lock lock(mu_);
    User *u = user_ptr(id);
    if (!u) throw ScimError(404, "", "User " + id + " not found");
    if (incoming.user_name_lc != u->user_name_lc) {
        if (by_name_.count(incoming.user_name_lc)) {
            throw ScimError(409, "uniqueness", "userName '" + incoming.user_name + "' is already in use");
        }
        rename_user(*u, incoming.user_name);
    }
    u->user_name = incoming.user_name;
    u->given_name = incoming.given_name;
    u->family_name = incoming.family_name;
    u->display_name = incoming.display_name;
    u->email = incoming.email;
    u->active = incoming.active;
    u->external_id = incoming.external_id;
    u->has_external_id = incoming.has_external_id;
    u->modified = std::max(now_seconds(), u->created);
    u->touch();
    if (admin_) admin_->on_user_changed(*u);
    return {200, user_json(*u, AttrSel{}), {}};
}

namespace {
struct PatchOp {
    std::string op;  // add | remove | replace
    std::string path;
    const rj::Value *value = nullptr;
};
std::vector<PatchOp> patch_ops(const rj::Document &d) {
    const rj::Value *ops = ci_get(d, "Operations");
    if (!ops || !ops->IsArray() || ops->Empty()) {
        throw ScimError(400, "invalidSyntax", "a PatchOp needs a non-empty 'Operations' array");
    }
    std::vector<PatchOp> out;
    for (auto &o : ops->GetArray()) {
        if (!o.IsObject()) throw ScimError(400, "invalidSyntax", "each operation must be an object");
        PatchOp p;
        const rj::Value *op = ci_get(o, "op");
        if (!op || !op->IsString()) throw ScimError(400, "invalidSyntax", "each operation needs an 'op'");
        p.op = to_lower(op->GetString());
        if (p.op != "add" && p.op != "remove" && p.op != "replace") {
            throw ScimError(400, "invalidSyntax", "unsupported op '" + std::string(op->GetString()) + "'");
        }
        if (const rj::Value *path = ci_get(o, "path")) p.path = get_string(*path, "path");
        p.value = ci_get(o, "value");
        out.push_back(p);
    }
    return out;
}
}  // namespace

Reply Store::patch_user(const std::string &id, const std::string &body) {
    rj::Document d = parse_body(body);
    auto ops = patch_ops(d);
    std::unique_lock lock(mu_);
    User *u = user_ptr(id);
    if (!u) throw ScimError(404, "", "User " + id + " not found");
    User nu;  // scalar copy: applied atomically after every operation validated
    nu.user_name = u->user_name;
    nu.user_name_lc = u->user_name_lc;
    nu.given_name = u->given_name;
    nu.family_name = u->family_name;
    nu.display_name = u->display_name;
    nu.email = u->email;
    nu.external_id = u->external_id;
    nu.has_external_id = u->has_external_id;
    nu.active = u->active;
    for (auto &op : ops) {
        if (op.path.empty()) {
            if (op.op == "remove") throw ScimError(400, "noTarget", "remove needs a path");
            if (!op.value || !op.value->IsObject()) invalid("an operation without a path needs an object value");
            for (auto it = op.value->MemberBegin(); it != op.value->MemberEnd(); ++it) {
                std::string key = to_lower(it->name.GetString());
                if (key == "schemas" || key == "id" || key == "meta" || key == "groups") continue;
                if (key.rfind("urn:", 0) == 0 && it->value.IsObject()) continue;  // extension: ignored
                patch_user_attr(nu, key, op.op, &it->value);  // unknown attributes are ignored
            }
        } else if (!patch_user_attr(nu, op.path, op.op, op.value)) {
            throw ScimError(400, "invalidPath", "unsupported PATCH path '" + op.path + "'");
        }
    }
    if (nu.user_name_lc != u->user_name_lc) {
        if (by_name_.count(nu.user_name_lc)) {
            throw ScimError(409, "uniqueness", "userName '" + nu.user_name + "' is already in use");
        }
        rename_user(*u, nu.user_name);
    }
    u->user_name = nu.user_name;
    u->given_name = nu.given_name;
    u->family_name = nu.family_name;
    u->display_name = nu.display_name.empty() ? default_display(nu) : nu.display_name;
    u->email = nu.email;
    u->external_id = nu.external_id;
    u->has_external_id = nu.has_external_id;
    u->active = nu.active;
    u->modified = std::max(now_seconds(), u->created);
    u->touch();
    if (admin_) admin_->on_user_changed(*u);
    if (patch_response_ == 204) return {204, {}, {}};
    return {200, user_json(*u, AttrSel{}), {}};
}

Reply Store::delete_user(const std::string &id) {
    std::unique_lock lock(mu_);
    User *u = user_ptr(id);
    if (!u) throw ScimError(404, "", "User " + id + " not found");
    if (soft_delete_) {
        // WorkOS-like: the user stays listed (active=false) and stays in its groups. DELETE again: 204 again.
        u->active = false;
        u->modified = std::max(now_seconds(), u->created);
        u->touch();
        if (admin_) admin_->on_user_changed(*u);
    } else {
        erase_user(id);
        drift_ids_.erase(std::remove(drift_ids_.begin(), drift_ids_.end(), id), drift_ids_.end());
    }
    return {204, {}, {}};
}

// ---- groups --------------------------------------------------------------------------------------------------

Reply Store::list_groups(const ListQuery &q) {
    AttrSel sel = AttrSel::parse(q.attributes, q.excluded);
    if (list_omits_members_) sel.exclude.insert("members");
    std::shared_lock lock(mu_);
    auto write = [&](Writer &w, const Group &g) { write_group(w, g, sel, list_members_cap_); };
    if (q.filter.empty()) {
        Slice s = make_slice(q, group_order_.size(), max_page_size_);
        return {200, list_response(group_order_.size(), s, group_order_, write), {}};
    }
    auto clauses = parse_filter(q.filter);
    for (auto &c : clauses) {
        static const std::set<std::string> known{"id", "displayname", "externalid", "members.value", "members"};
        if (!known.count(c.attr)) throw ScimError(400, "invalidFilter", "filtering on '" + c.attr + "' is not supported");
        if (c.is_bool) throw ScimError(400, "invalidFilter", "wrong value type for '" + c.attr + "'");
    }
    auto match = [&](const Group &g) {
        for (auto &c : clauses) {
            bool ok = true;
            if (c.attr == "id") ok = g.id == c.value;
            else if (c.attr == "displayname") ok = ieq(g.display_name, c.value);
            else if (c.attr == "externalid") ok = g.has_external_id && g.external_id == c.value;
            else ok = g.members.count(c.value) != 0;
            if (!ok) return false;
        }
        return true;
    };
    std::vector<const Group *> hits;
    const Clause *key = nullptr;
    for (auto &c : clauses) {
        if (c.attr == "id") key = &c;
    }
    const Clause *member = nullptr;
    for (auto &c : clauses) {
        if (c.attr == "members.value" || c.attr == "members") member = &c;
    }
    if (key) {
        if (const Group *g = group_ptr(key->value); g && match(*g)) hits.push_back(g);
    } else if (member) {
        // The member's own index says which groups hold it: no scan of all groups.
        std::vector<std::string> gids;
        if (const User *u = user_ptr(member->value)) gids.assign(u->groups.begin(), u->groups.end());
        else if (const Group *c = group_ptr(member->value)) gids.assign(c->parents.begin(), c->parents.end());
        for (auto &gid : gids) {
            if (const Group *g = group_ptr(gid); g && match(*g)) hits.push_back(g);
        }
    } else {
        for (const Group *g : group_order_) {
            if (match(*g)) hits.push_back(g);
        }
    }
    Slice s = make_slice(q, hits.size(), max_page_size_);
    return {200, list_response(hits.size(), s, hits, write), {}};
}

Reply Store::get_group(const std::string &id, const AttrSel &sel) {
    std::shared_lock lock(mu_);
    const Group *g = group_ptr(id);
    if (!g) throw ScimError(404, "", "Group " + id + " not found");
    return {200, group_json(*g, sel), {}};
}

namespace {
// Member ids of a members value (array of {value} objects, or one object).
std::vector<std::string> member_values(const rj::Value &v) {
    std::vector<std::string> out;
    auto one = [&](const rj::Value &m) {
        if (!m.IsObject()) invalid("members must be objects with a 'value'");
        const rj::Value *val = ci_get(m, "value");
        if (!val) invalid("a member needs a 'value'");
        out.push_back(get_string(*val, "members.value"));
    };
    if (v.IsArray()) {
        for (auto &m : v.GetArray()) one(m);
    } else {
        one(v);
    }
    return out;
}
}  // namespace

Reply Store::create_group(const std::string &body) {
    rj::Document d = parse_body(body);
    const rj::Value *dn = ci_get(d, "displayName");
    if (!dn) invalid("'displayName' is required");
    auto g = std::make_unique<Group>();
    g->display_name = get_string(*dn, "displayName");
    if (g->display_name.empty()) invalid("'displayName' must not be empty");
    if (const rj::Value *x = ci_get(d, "externalId")) {
        g->external_id = get_string(*x, "externalId");
        g->has_external_id = true;
    }
    std::vector<std::string> members;
    if (const rj::Value *m = ci_get(d, "members")) members = member_values(*m);
    std::unique_lock lock(mu_);
    g->id = new_id();
    g->created = g->modified = now_seconds();
    Group &ref = insert_group(std::move(g));
    for (auto &mid : members) {
        if (user_ptr(mid)) add_member(ref, mid, MemberKind::User);
        else if (mid != ref.id && group_ptr(mid)) add_member(ref, mid, MemberKind::Group);
    }
    return {201, group_json(ref, AttrSel{}), base_url_ + segment("/Groups/", ref.id)};
}

Reply Store::replace_group(const std::string &id, const std::string &body) {
    rj::Document d = parse_body(body);
    const rj::Value *dn = ci_get(d, "displayName");
    if (!dn) invalid("'displayName' is required");
    std::string name = get_string(*dn, "displayName");
    if (name.empty()) invalid("'displayName' must not be empty");
    std::string ext;
    bool has_ext = false;
    if (const rj::Value *x = ci_get(d, "externalId")) {
        ext = get_string(*x, "externalId");
        has_ext = true;
    }
    std::vector<std::string> members;
    if (const rj::Value *m = ci_get(d, "members")) members = member_values(*m);
    std::unique_lock lock(mu_);
    Group *g = group_ptr(id);
    if (!g) throw ScimError(404, "", "Group " + id + " not found");
    g->display_name = name;
    touch_members(*g);
    g->external_id = ext;
    g->has_external_id = has_ext;
    std::vector<std::string> old;
    for (auto &m : g->members) old.push_back(m.first);
    for (auto &m : old) remove_member(*g, m);
    for (auto &mid : members) {
        if (user_ptr(mid)) add_member(*g, mid, MemberKind::User);
        else if (mid != g->id && group_ptr(mid)) add_member(*g, mid, MemberKind::Group);
    }
    g->modified = std::max(now_seconds(), g->created);
    if (admin_) admin_->on_group_changed(*g);
    return {200, group_json(*g, AttrSel{}), {}};
}

Reply Store::patch_group(const std::string &id, const std::string &body) {
    rj::Document d = parse_body(body);
    auto ops = patch_ops(d);
    std::unique_lock lock(mu_);
    Group *g = group_ptr(id);
    if (!g) throw ScimError(404, "", "Group " + id + " not found");

    // Validate every operation first (no partial application), then apply.
    struct Step {
        enum Kind { AddMembers, RemoveMembers, RemoveAllMembers, ReplaceMembers, SetName, SetExt, ClearExt } kind;
        std::vector<std::string> ids;
        std::string text;
    };
    std::vector<Step> steps;
    auto member_step = [&](const std::string &op, const rj::Value *value) {
        if (op == "remove") {
            if (value) steps.push_back({Step::RemoveMembers, member_values(*value), {}});
            else steps.push_back({Step::RemoveAllMembers, {}, {}});
        } else {
            if (!value) invalid("'" + op + "' of members needs a value");
            steps.push_back({op == "add" ? Step::AddMembers : Step::ReplaceMembers, member_values(*value), {}});
        }
    };
    auto attr_step = [&](const std::string &attr, const std::string &op, const rj::Value *value) -> bool {
        if (attr == "members") {
            member_step(op, value);
        } else if (attr == "displayname") {
            if (op == "remove") invalid("'displayName' cannot be removed", "mutability");
            if (!value) invalid("'displayName' needs a value");
            std::string name = get_string(*value, "displayName");
            if (name.empty()) invalid("'displayName' must not be empty");
            steps.push_back({Step::SetName, {}, name});
        } else if (attr == "externalid") {
            if (op == "remove") steps.push_back({Step::ClearExt, {}, {}});
            else if (!value) invalid("'externalId' needs a value");
            else steps.push_back({Step::SetExt, {}, get_string(*value, "externalId")});
        } else {
            return false;
        }
        return true;
    };
    for (auto &op : ops) {
        if (op.path.empty()) {
            if (op.op == "remove") throw ScimError(400, "noTarget", "remove needs a path");
            if (!op.value || !op.value->IsObject()) invalid("an operation without a path needs an object value");
            for (auto it = op.value->MemberBegin(); it != op.value->MemberEnd(); ++it) {
                attr_step(to_lower(it->name.GetString()), op.op, &it->value);  // unknown attributes ignored
            }
            continue;
        }
        std::string path = strip_core_urn(to_lower(op.path));
        auto bracket = path.find('[');
        if (bracket != std::string::npos) {
            // members[value eq "<id>"] (optionally followed by ".value" or similar sub-attribute: same target)
            if (path.substr(0, bracket) != "members") {
                throw ScimError(400, "invalidPath", "unsupported PATCH path '" + op.path + "'");
            }
            auto close = op.path.rfind(']');
            if (close == std::string::npos || close < bracket) {
                throw ScimError(400, "invalidPath", "unbalanced '[' in PATCH path");
            }
            auto clauses = parse_filter(std::string_view(op.path).substr(bracket + 1, close - bracket - 1));
            if (clauses.size() != 1 || clauses[0].attr != "value" || clauses[0].is_bool) {
                throw ScimError(400, "invalidFilter", "member filters support only value eq \"<id>\"");
            }
            if (op.op != "remove") {
                throw ScimError(400, "invalidPath", "only remove is supported on a filtered members path");
            }
            steps.push_back({Step::RemoveMembers, {clauses[0].value}, {}});
            continue;
        }
        if (!attr_step(path, op.op, op.value)) {
            throw ScimError(400, "invalidPath", "unsupported PATCH path '" + op.path + "'");
        }
    }
    for (auto &s : steps) {
        switch (s.kind) {
            case Step::ReplaceMembers:
            case Step::RemoveAllMembers: {
                std::vector<std::string> old;
                for (auto &m : g->members) old.push_back(m.first);
                for (auto &m : old) remove_member(*g, m);
                if (s.kind == Step::RemoveAllMembers) break;
                [[fallthrough]];
            }
            case Step::AddMembers:
                for (auto &mid : s.ids) {
                    // WorkOS-like: values that resolve to no user (or group) are dropped silently.
                    if (user_ptr(mid)) add_member(*g, mid, MemberKind::User);
                    else if (mid != g->id && group_ptr(mid)) add_member(*g, mid, MemberKind::Group);
                }
                break;
            case Step::RemoveMembers:
                for (auto &mid : s.ids) remove_member(*g, mid);
                break;
            case Step::SetName:
                g->display_name = s.text;
                touch_members(*g);
                break;
            case Step::SetExt:
                g->external_id = s.text;
                g->has_external_id = true;
                break;
            case Step::ClearExt:
                g->external_id.clear();
                g->has_external_id = false;
                break;
        }
    }
    g->modified = std::max(now_seconds(), g->created);
    if (admin_) admin_->on_group_changed(*g);
    if (patch_response_ == 204) return {204, {}, {}};
    return {200, group_json(*g, AttrSel{}), {}};
}

Reply Store::delete_group(const std::string &id) {
    std::unique_lock lock(mu_);
    if (!group_ptr(id)) throw ScimError(404, "", "Group " + id + " not found");
    erase_group(id);
    return {204, {}, {}};
}

// ---- drift ---------------------------------------------------------------------------------------------------

// At most this many drift users live at once, so that a pager always reaches the end.
constexpr size_t kMaxDrift = 12;

Store::DriftResult Store::drift_step(long long start_index) {
    std::unique_lock lock(mu_);
    DriftResult r;
    size_t consumed = static_cast<size_t>(start_index < 1 ? 0 : start_index - 1);
    // Delete one drift user among those this pager has not reached yet (position >= consumed): it disappears
    // without shifting an already-seen seeded user out of the pager's view.
    if (!drift_ids_.empty() && splitmix64(drift_state_) % 2 == 0) {
        std::vector<size_t> candidates;
        for (size_t i = 0; i < drift_ids_.size(); ++i) {
            auto pos = std::lower_bound(user_order_.begin(), user_order_.end(), drift_ids_[i],
                                        [](const User *a, const std::string &k) { return a->id < k; });
            if (static_cast<size_t>(pos - user_order_.begin()) >= consumed) candidates.push_back(i);
        }
        if (!candidates.empty()) {
            size_t pick = candidates[splitmix64(drift_state_) % candidates.size()];
            std::string id = drift_ids_[pick];
            drift_ids_.erase(drift_ids_.begin() + static_cast<std::ptrdiff_t>(pick));
            erase_user(id);
            ++r.deleted;
        }
    }
    // Create one or two drift users anywhere (they shift later pages: a pager sees some users twice).
    int create = 1 + static_cast<int>(splitmix64(drift_state_) % 2);
    for (int k = 0; k < create && drift_ids_.size() < kMaxDrift; ++k) {
        auto u = std::make_unique<User>();
        uint64_t n = ++drift_serial_;
        u->id = new_id();
        u->user_name = "drift-" + std::to_string(n) + "@example.com";
        u->user_name_lc = u->user_name;
        if (by_name_.count(u->user_name_lc)) continue;
        u->given_name = "Drift";
        u->family_name = "User " + std::to_string(n);
        u->display_name = "Drift User " + std::to_string(n);
        u->email = u->user_name;
        u->drift = true;
        u->created = u->modified = now_seconds();
        drift_ids_.push_back(u->id);
        insert_user(std::move(u));
        ++r.created;
    }
    return r;
}

// ---- truth and accessors -------------------------------------------------------------------------------------

std::string Store::state_json() const {
    std::shared_lock lock(mu_);
    rj::StringBuffer sb;
    Writer w(sb);
    w.StartObject();
    w.Key("users");
    w.StartArray();
    for (const User *u : user_order_) {
        w.StartObject();
        w.Key("id");
        wstr(w, u->id);
        w.Key("userName");
        wstr(w, u->user_name);
        w.Key("displayName");
        wstr(w, u->display_name);
        w.Key("active");
        w.Bool(u->active);
        if (u->has_external_id) {
            w.Key("externalId");
            wstr(w, u->external_id);
        }
        w.EndObject();
    }
    w.EndArray();
    w.Key("groups");
    w.StartArray();
    for (const Group *g : group_order_) {
        w.StartObject();
        w.Key("id");
        wstr(w, g->id);
        w.Key("displayName");
        wstr(w, g->display_name);
        w.Key("members");
        w.StartArray();
        for (auto &m : g->members) wstr(w, m.first);
        w.EndArray();
        w.EndObject();
    }
    w.EndArray();
    if (admin_) admin_->write_state(w);
    w.EndObject();
    return {sb.GetString(), sb.GetSize()};
}

size_t Store::user_count() const {
    std::shared_lock lock(mu_);
    return users_.size();
}
size_t Store::group_count() const {
    std::shared_lock lock(mu_);
    return groups_.size();
}
size_t Store::membership_count() const {
    std::shared_lock lock(mu_);
    return memberships_;
}
std::vector<std::string> Store::user_ids() const {
    std::shared_lock lock(mu_);
    std::vector<std::string> out;
    for (auto *u : user_order_) out.push_back(u->id);
    return out;
}
std::vector<std::string> Store::group_ids() const {
    std::shared_lock lock(mu_);
    std::vector<std::string> out;
    for (auto *g : group_order_) out.push_back(g->id);
    return out;
}
std::string Store::find_user(const std::string &user_name) const {
    std::shared_lock lock(mu_);
    auto it = by_name_.find(to_lower(user_name));
    return it == by_name_.end() ? std::string() : it->second->id;
}
std::vector<std::string> Store::group_members(const std::string &group_id) const {
    std::shared_lock lock(mu_);
    std::vector<std::string> out;
    if (const Group *g = group_ptr(group_id)) {
        for (auto &m : g->members) out.push_back(m.first);
    }
    return out;
}

}  // namespace scim_sim::detail
