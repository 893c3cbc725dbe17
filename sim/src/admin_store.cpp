// The Admin API view of the store: members, invites, rbac groups and roles, both paging styles, the documented
// refusals, and the hooks that keep it in step with the SCIM resources.
#include "admin_store.hpp"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <shared_mutex>

#include <rapidjson/document.h>

namespace scim_sim::detail {

namespace rj = rapidjson;

namespace {

constexpr const char *kBase58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
constexpr int64_t kInviteLifetime = 21 * 86400;  // the examples' 21 days (not a documented rule)
constexpr size_t kMaxName = 255;

void wstr(JsonWriter &w, const std::string &s) { w.String(s.data(), static_cast<rj::SizeType>(s.size())); }
void key_str(JsonWriter &w, const char *k, const std::string &v) {
    w.Key(k);
    wstr(w, v);
}
void key_time(JsonWriter &w, const char *k, int64_t t) { key_str(w, k, iso8601(t)); }

void append_base58(std::string &out, uint64_t v, int width) {
    std::string digits(static_cast<size_t>(width), '1');
    for (int i = width - 1; i >= 0; --i) {
        digits[static_cast<size_t>(i)] = kBase58[v % 58];
        v /= 58;
    }
    out += digits;
}

const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64(const std::string &in) {
    std::string out;
    for (size_t i = 0; i < in.size(); i += 3) {
        uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << 16;
        if (i + 1 < in.size()) n |= static_cast<uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
        if (i + 2 < in.size()) n |= static_cast<unsigned char>(in[i + 2]);
        out += kB64[(n >> 18) & 63];
        out += kB64[(n >> 12) & 63];
        out += i + 1 < in.size() ? kB64[(n >> 6) & 63] : '=';
        out += i + 2 < in.size() ? kB64[n & 63] : '=';
    }
    return out;
}

[[noreturn]] void bad_request(const std::string &message) { throw AdminError(400, "invalid_request_error", message); }
[[noreturn]] void not_found(const std::string &message) { throw AdminError(404, "not_found_error", message); }

std::string unbase64(const std::string &in) {
    if (in.size() % 4 != 0) bad_request("invalid page cursor");
    std::string out;
    uint32_t acc = 0;
    int bits = 0;
    for (char c : in) {
        if (c == '=') break;
        const char *p = std::strchr(kB64, c);
        if (!p || c == '\0') bad_request("invalid page cursor");
        acc = (acc << 6) | static_cast<uint32_t>(p - kB64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xFF);
        }
    }
    return out;
}

// Cursors are base64 JSON (as in the docs' example); clients must pass them back verbatim. A cursor carries the
// generation of the cursors it was made in (Server::rotate_admin_cursors: a deploy that invalidates cursors); one
// of an older generation is refused with 400.
std::string encode_cursor(const std::string &key, uint64_t generation) {
    rj::StringBuffer sb;
    JsonWriter w(sb);
    w.StartObject();
    key_str(w, "after", key);
    w.Key("v");
    w.Int(1);
    if (generation > 0) {
        w.Key("g");
        w.Uint64(generation);
    }
    w.EndObject();
    return base64(std::string(sb.GetString(), sb.GetSize()));
}

std::string decode_cursor(const std::string &page, uint64_t generation) {
    std::string text = unbase64(page);
    rj::Document d;
    d.Parse(text.data(), text.size());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("after") || !d["after"].IsString()) {
        bad_request("invalid page cursor");
    }
    const uint64_t made_in = d.HasMember("g") && d["g"].IsUint64() ? d["g"].GetUint64() : 0;
    if (made_in != generation) bad_request("page cursor expired");
    return d["after"].GetString();
}

void parse_key(const std::string &s, std::string &out) { out = s; }
void parse_key(const std::string &s, uint64_t &out) {
    out = 0;
    for (char c : s) {
        if (c < '0' || c > '9') bad_request("invalid page cursor");
        out = out * 10 + static_cast<uint64_t>(c - '0');
    }
}
std::string key_text(const std::string &k) { return k; }
std::string key_text(uint64_t k) { return std::to_string(k); }

// Paging B: rows after the cursor's key, `limit` at most; `cut` (when set) makes the page short while more follow.
template <class Map, class Keep, class Write>
std::string page_b(const Map &m, const PageQuery &q, const uint64_t *cut, Keep keep, Write write, uint64_t generation) {
    typename Map::key_type start{};
    if (!q.page.empty()) parse_key(decode_cursor(q.page, generation), start);
    std::vector<typename Map::const_iterator> rows;
    bool more = false;
    for (auto it = q.page.empty() ? m.begin() : m.upper_bound(start); it != m.end(); ++it) {
        if (!keep(it->second)) continue;
        if (rows.size() == static_cast<size_t>(q.limit)) {
            more = true;
            break;
        }
        rows.push_back(it);
    }
    if (cut && !rows.empty() && (more || rows.size() > 1)) {
        rows.resize(static_cast<size_t>(*cut % rows.size()));
        more = true;
    }
    rj::StringBuffer sb(nullptr, 512 + rows.size() * 256);
    JsonWriter w(sb);
    w.StartObject();
    w.Key("data");
    w.StartArray();
    for (size_t i = 0; i < rows.size(); ++i) write(w, rows[i]->second, i);
    w.EndArray();
    w.Key("has_more");
    w.Bool(more);
    w.Key("next_page");
    if (more)
        wstr(w, encode_cursor(rows.empty() ? (q.page.empty() ? "" : key_text(start)) : key_text(rows.back()->first),
                              generation));
    else w.Null();
    w.EndObject();
    return {sb.GetString(), sb.GetSize()};
}

// Paging A: most recent (highest id) first; after_id pages on towards older rows, before_id back towards newer.
template <class Map, class Keep, class Write>
std::string page_a(const Map &m, const PageQuery &q, Keep keep, Write write) {
    std::vector<typename Map::const_iterator> rows;
    size_t limit = static_cast<size_t>(q.limit);
    bool more = false;
    if (!q.before_id.empty()) {
        for (auto it = m.upper_bound(q.before_id); it != m.end(); ++it) {
            if (!keep(*it->second)) continue;
            if (rows.size() == limit) {
                more = true;
                break;
            }
            rows.push_back(it);
        }
        std::reverse(rows.begin(), rows.end());
    } else {
        auto it = q.after_id.empty() ? m.end() : m.lower_bound(q.after_id);
        while (it != m.begin()) {
            --it;
            if (!keep(*it->second)) continue;
            if (rows.size() == limit) {
                more = true;
                break;
            }
            rows.push_back(it);
        }
    }
    rj::StringBuffer sb(nullptr, 512 + rows.size() * 256);
    JsonWriter w(sb);
    w.StartObject();
    w.Key("data");
    w.StartArray();
    for (auto &it : rows) write(w, *it->second);
    w.EndArray();
    w.Key("has_more");
    w.Bool(more);
    w.Key("first_id");
    rows.empty() ? w.Null() : (wstr(w, rows.front()->first), true);
    w.Key("last_id");
    rows.empty() ? w.Null() : (wstr(w, rows.back()->first), true);
    w.EndObject();
    return {sb.GetString(), sb.GetSize()};
}

rj::Document parse_body(const std::string &body) {
    rj::Document d;
    d.Parse<rj::kParseValidateEncodingFlag>(body.data(), body.size());
    if (d.HasParseError() || !d.IsObject()) bad_request("the request body must be a JSON object");
    return d;
}

std::string body_string(const rj::Document &d, const char *key, bool required) {
    auto it = d.FindMember(key);
    if (it == d.MemberEnd()) {
        if (required) bad_request(std::string(key) + ": Field required");
        return {};
    }
    if (!it->value.IsString()) bad_request(std::string(key) + ": Input should be a valid string");
    return {it->value.GetString(), it->value.GetStringLength()};
}

size_t utf8_length(const std::string &s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
}

std::string checked_name(const rj::Document &d) {
    std::string name = body_string(d, "name", true);
    size_t n = utf8_length(name);
    if (n < 1 || n > kMaxName) bad_request("name: String should have between 1 and 255 characters");
    return name;
}

bool is_admin_role(const std::string &role) {
    return role == "owner" || role == "primary_owner" || role == "membership_admin";
}

Reply ok(std::string body) { return {200, std::move(body), {}}; }

template <class Fn>
std::string json(Fn &&fn) {
    rj::StringBuffer sb;
    JsonWriter w(sb);
    fn(w);
    return {sb.GetString(), sb.GetSize()};
}

}  // namespace

std::string base58_id(const char *prefix, uint64_t counter, uint64_t salt) {
    std::string out(prefix);
    out += "01";
    append_base58(out, counter, 10);
    uint64_t s = salt ^ (counter * 0x9E3779B97F4A7C15ULL);
    append_base58(out, splitmix64(s), 12);
    return out;
}

std::string normalise_email(const std::string &email) {
    std::string lc = to_lower(email);
    auto at = lc.rfind('@');
    if (at == std::string::npos) return lc;
    auto plus = lc.find('+');
    if (plus != std::string::npos && plus < at) lc.erase(plus, at - plus);
    return lc;
}

AdminView::AdminView(Store &store, AdminConfig cfg) : store_(store), cfg_(std::move(cfg)), started_(now_seconds()) {}

// ---- internals ---------------------------------------------------------------------------------------------------

std::string AdminView::new_id(const char *prefix) { return base58_id(prefix, ++counter_, cfg_.seed * 0xA24BAED4963EE407ULL); }

bool AdminView::draw(uint64_t seq, uint64_t kind, double p) const {
    if (p <= 0) return false;
    uint64_t s = cfg_.seed ^ (kind * 0xD1B54A32D192ED03ULL) ^ (seq * 0x9FB21C651E98DF25ULL);
    return unit_double(splitmix64(s)) < p;
}

Member *AdminView::member_ptr(const std::string &id) const {
    auto it = members_.find(id);
    return it == members_.end() ? nullptr : it->second.get();
}

RbacGroup *AdminView::group_ptr(const std::string &id) const {
    auto it = groups_.find(id);
    return it == groups_.end() ? nullptr : it->second.get();
}

RbacGroup &AdminView::group_or_404(const std::string &id) const {
    RbacGroup *g = group_ptr(id);
    if (!g) not_found("rbac_group " + id + " not found");
    return *g;
}

Member &AdminView::add_member(const std::string &email, const std::string &name, const std::string &role, User *scim,
                              int64_t at) {
    auto m = std::make_unique<Member>();
    m->id = new_id("user_");
    m->email = email;
    m->email_norm = normalise_email(email);
    m->name = name;
    m->role = role;
    m->added_at = at;
    m->scim = scim;
    Member *p = m.get();
    by_email_.emplace(p->email_norm, p);
    members_.emplace(p->id, std::move(m));
    return *p;
}

void AdminView::unindex_email(Member &m) {
    auto range = by_email_.equal_range(m.email_norm);
    for (auto it = range.first; it != range.second; ++it) {
        if (it->second == &m) {
            by_email_.erase(it);
            return;
        }
    }
}

void AdminView::set_email(Member &m, const std::string &email) {
    unindex_email(m);
    m.email = email;
    m.email_norm = normalise_email(email);
    by_email_.emplace(m.email_norm, &m);
}

void AdminView::drop_member(Member &m) {
    for (const auto &gid : std::vector<std::string>(m.groups.begin(), m.groups.end())) {
        if (RbacGroup *g = group_ptr(gid)) unlink(*g, m.id);
    }
    unindex_email(m);
    if (m.scim) m.scim->member_id.clear();
    members_.erase(std::string(m.id));
}

void AdminView::link(RbacGroup &g, Member &m, int64_t at) {
    if (g.seq_of.count(m.id)) return;
    uint64_t seq = g.next_seq++;
    g.links.emplace_hint(g.links.end(), seq, GroupLink{m.id, at});
    g.seq_of.emplace(m.id, seq);
    m.groups.insert(g.id);
}

bool AdminView::unlink(RbacGroup &g, const std::string &user_id) {
    auto it = g.seq_of.find(user_id);
    if (it == g.seq_of.end()) return false;
    g.links.erase(it->second);
    g.seq_of.erase(it);
    if (Member *m = member_ptr(user_id)) m->groups.erase(g.id);
    return true;
}

RbacGroup &AdminView::add_group(const std::string &name, Group *scim, int64_t at) {
    auto g = std::make_unique<RbacGroup>();
    g->id = new_id("rbac_group_");
    g->name = name;
    g->scim = scim;
    g->created_at = g->updated_at = at;
    RbacGroup *p = g.get();
    groups_.emplace(p->id, std::move(g));
    if (scim) by_scim_group_[scim] = p;
    return *p;
}

const Member *AdminView::member_by_email(const std::string &email) const {
    std::string lc = to_lower(email);
    auto range = by_email_.equal_range(normalise_email(email));
    for (auto it = range.first; it != range.second; ++it) {
        if (to_lower(it->second->email) == lc) return it->second;
    }
    return nullptr;
}

std::string AdminView::invite_status(const Invite &inv) const {
    if (inv.status == "pending" && now_seconds() >= inv.expires_at) return "expired";
    return inv.status;
}

const Invite *AdminView::pending_invite(const std::string &email) const {
    std::string lc = to_lower(email);
    for (auto &[id, inv] : invites_) {
        if (to_lower(inv->email) == lc && invite_status(*inv) == "pending") return inv.get();
    }
    return nullptr;
}

size_t AdminView::member_count() const {
    std::shared_lock lock(store_.mu_);
    return members_.size();
}

// ---- hooks (store lock held exclusively) -----------------------------------------------------------------------

void AdminView::on_user_changed(User &u) {
    Member *m = u.member_id.empty() ? nullptr : member_ptr(u.member_id);
    if (u.active && !m) {
        int64_t at = now_seconds();
        Member &nm = add_member(u.email, u.display_name, "user", &u, at);
        u.member_id = nm.id;
        for (const auto &gid : u.groups) {
            Group *sg = store_.group_ptr(gid);
            auto it = sg ? by_scim_group_.find(sg) : by_scim_group_.end();
            if (it != by_scim_group_.end()) link(*it->second, nm, at);
        }
    } else if (!u.active && m) {
        drop_member(*m);
    } else if (m) {
        if (m->email != u.email) set_email(*m, u.email);
        m->name = u.display_name;
    }
}

void AdminView::on_user_erased(User &u) {
    if (Member *m = u.member_id.empty() ? nullptr : member_ptr(u.member_id)) drop_member(*m);
}

void AdminView::on_group_added(Group &g) {
    RbacGroup &r = add_group(g.display_name, &g, now_seconds());
    for (auto &[mid, kind] : g.members) {
        User *u = kind == MemberKind::User ? store_.user_ptr(mid) : nullptr;
        if (u && !u->member_id.empty()) link(r, *member_ptr(u->member_id), r.created_at);
    }
}

void AdminView::on_group_changed(Group &g) {
    auto it = by_scim_group_.find(&g);
    if (it == by_scim_group_.end() || it->second->name == g.display_name) return;
    it->second->name = g.display_name;
    it->second->updated_at = now_seconds();
}

void AdminView::on_group_erased(Group &g) {
    auto it = by_scim_group_.find(&g);
    if (it == by_scim_group_.end()) return;
    RbacGroup *r = it->second;
    by_scim_group_.erase(it);
    while (!r->links.empty()) unlink(*r, r->links.begin()->second.user_id);
    groups_.erase(std::string(r->id));
}

void AdminView::on_link(Group &g, const std::string &user_id, bool added) {
    auto it = by_scim_group_.find(&g);
    User *u = store_.user_ptr(user_id);
    if (it == by_scim_group_.end() || !u || u->member_id.empty()) return;
    if (added) link(*it->second, *member_ptr(u->member_id), now_seconds());
    else unlink(*it->second, u->member_id);
}

void AdminView::adopt_seeded(const std::vector<User *> &users, const std::vector<Group *> &groups) {
    for (User *u : users) {
        if (u->active) u->member_id = add_member(u->email, u->display_name, "user", u, u->created).id;
    }
    for (Group *g : groups) {
        RbacGroup &r = add_group(g->display_name, g, g->created);
        r.updated_at = g->modified;
        for (auto &[mid, kind] : g->members) {
            User *u = kind == MemberKind::User ? store_.user_ptr(mid) : nullptr;
            if (!u || u->member_id.empty()) continue;
            Member &m = *member_ptr(u->member_id);
            link(r, m, std::max(g->created, m.added_at));
        }
    }
}

// ---- serialisation -----------------------------------------------------------------------------------------------

void AdminView::write_member(JsonWriter &w, const Member &m) const {
    w.StartObject();
    key_str(w, "type", "user");
    key_str(w, "id", m.id);
    key_str(w, "email", m.email);
    key_str(w, "name", m.name);
    key_str(w, "role", m.role);
    key_time(w, "added_at", m.added_at);
    w.EndObject();
}

void AdminView::write_invite(JsonWriter &w, const Invite &inv) const {
    w.StartObject();
    key_str(w, "type", "invite");
    key_str(w, "id", inv.id);
    key_str(w, "email", inv.email);
    key_str(w, "role", inv.role);
    key_time(w, "invited_at", inv.invited_at);
    key_time(w, "expires_at", inv.expires_at);
    w.Key("accepted_at");
    inv.accepted_at ? wstr(w, iso8601(inv.accepted_at)) : (void)w.Null();
    key_str(w, "status", invite_status(inv));
    w.Key("rbac_group_ids");
    w.StartArray();
    for (auto &g : inv.group_ids) wstr(w, g);
    w.EndArray();
    w.EndObject();
}

void AdminView::write_group(JsonWriter &w, const RbacGroup &g, bool null_roles) const {
    auto roles = [&](const char *key) {
        w.Key(key);
        if (null_roles) {
            w.Null();
            return;
        }
        w.StartArray();
        for (auto &r : g.role_ids) wstr(w, r);
        w.EndArray();
    };
    w.StartObject();
    key_str(w, "type", "rbac_group");
    key_str(w, "id", g.id);
    key_str(w, "name", g.name);
    key_str(w, "source_type", g.scim ? "scim" : "direct");
    if (!cfg_.legacy) roles("role_ids");
    roles("roles");
    key_time(w, "created_at", g.created_at);
    key_time(w, "updated_at", g.updated_at);
    w.EndObject();
}

void AdminView::write_link(JsonWriter &w, const RbacGroup &g, const GroupLink &l) const {
    const Member *m = member_ptr(l.user_id);
    w.StartObject();
    key_str(w, "type", "rbac_group_member");
    if (!cfg_.legacy) key_str(w, "rbac_group_id", g.id);
    key_str(w, "group_id", g.id);
    key_str(w, "user_id", l.user_id);
    key_str(w, "email", m ? m->email : std::string());
    key_time(w, "created_at", l.created_at);
    w.EndObject();
}

void AdminView::write_role(JsonWriter &w, const Role &r) const {
    w.StartObject();
    key_str(w, "type", "rbac_role");
    key_str(w, "id", r.id);
    if (cfg_.legacy) {
        key_str(w, "name", r.name);
    } else {
        key_str(w, "display_name", r.name);
        w.Key("source");
        w.StartObject();
        key_str(w, "type", r.built_in ? "built_in" : "custom");
        w.EndObject();
    }
    key_time(w, "created_at", r.created_at);
    key_time(w, "updated_at", r.created_at);
    w.EndObject();
}

void AdminView::write_permission(JsonWriter &w, const Role &r, size_t i) const {
    static const char *kResources[][2] = {
        {"feature", "claude_code"}, {"feature", "web_search"},     {"feature", "file_upload"},
        {"feature", "projects"},    {"connector", "google_drive"}, {"connector", "slack"},
        {"connector", "github"},    {"tool", "slack.post_message"}, {"tool", "github.create_issue"},
    };
    static const char *kActions[] = {"use", "manage", "view"};
    uint64_t s = r.perm_seed + i * 0x9E3779B97F4A7C15ULL;
    uint64_t x = splitmix64(s);
    const auto &res = kResources[(i + x % 3) % std::size(kResources)];
    w.StartObject();
    key_str(w, "type", "rbac_role_permission");
    w.Key("resource");
    w.StartObject();
    key_str(w, "type", res[0]);
    key_str(w, "id", res[1]);
    w.EndObject();
    key_str(w, "action", kActions[(x >> 8) % std::size(kActions)]);
    w.EndObject();
}

Reply AdminView::group_reply(const RbacGroup &g) const {
    return ok(json([&](JsonWriter &w) { write_group(w, g, false); }));
}

// ---- members -----------------------------------------------------------------------------------------------------

Reply AdminView::list_members(const PageQuery &q) {
    std::shared_lock lock(store_.mu_);
    std::set<std::string> roles(q.roles.begin(), q.roles.end());
    auto keep = [&](const Member &m) { return roles.empty() || roles.count(m.role) != 0; };
    auto write = [&](JsonWriter &w, const Member &m) { write_member(w, m); };
    if (q.email.empty()) return ok(page_a(members_, q, keep, write));
    std::map<std::string, const Member *> hits;  // case-insensitive; plus-address variants match
    auto range = by_email_.equal_range(normalise_email(q.email));
    for (auto it = range.first; it != range.second; ++it) hits.emplace(it->second->id, it->second);
    return ok(page_a(hits, q, keep, write));
}

Reply AdminView::get_member(const std::string &id) {
    std::shared_lock lock(store_.mu_);
    const Member *m = member_ptr(id);
    if (!m) not_found("user " + id + " not found");
    return ok(json([&](JsonWriter &w) { write_member(w, *m); }));
}

Reply AdminView::set_member_role(const std::string &id, const std::string &body) {
    rj::Document d = parse_body(body);
    std::string role = body_string(d, "role", true);
    std::unique_lock lock(store_.mu_);
    Member *m = member_ptr(id);
    if (!m) not_found("user " + id + " not found");
    if (is_admin_role(m->role)) {
        bad_request("the role of a member with role '" + m->role + "' cannot be changed through the API; change it in claude.ai's organization settings");
    }
    if (role != "user" && role != "managed") {
        bad_request("role: the API can set only 'user' or 'managed' (asked: '" + role + "')");
    }
    if (cfg_.idp_roles) bad_request("roles are managed by your identity provider; change the role there");
    m->role = role;
    return ok(json([&](JsonWriter &w) { write_member(w, *m); }));
}

Reply AdminView::remove_member(const std::string &id) {
    std::unique_lock lock(store_.mu_);
    Member *m = member_ptr(id);
    if (!m) not_found("user " + id + " not found");
    if (is_admin_role(m->role)) {
        bad_request("a member with role '" + m->role + "' cannot be removed through the API");
    }
    if (cfg_.scim_managed) {
        bad_request("membership of this organization is managed through SCIM by your identity provider; remove the user there");
    }
    if (User *u = m->scim) {  // the SCIM user is deprovisioned with it: the two views keep agreeing
        u->active = false;
        u->modified = std::max(now_seconds(), u->created);
        u->touch();
        on_user_changed(*u);
    } else {
        drop_member(*m);
    }
    return ok(json([&](JsonWriter &w) {
        w.StartObject();
        key_str(w, "type", "user_deleted");
        key_str(w, "id", id);
        w.EndObject();
    }));
}

// ---- invites -----------------------------------------------------------------------------------------------------

bool AdminView::invite_has_groups(const std::string &body) const {
    rj::Document d;
    d.Parse(body.data(), body.size());
    return !d.HasParseError() && d.IsObject() && d.HasMember("rbac_group_ids") && d["rbac_group_ids"].IsArray() &&
           !d["rbac_group_ids"].Empty();
}

Reply AdminView::create_invite(const std::string &body) {
    rj::Document d = parse_body(body);
    std::string email = body_string(d, "email", true);
    if (email.find('@') == std::string::npos || email.front() == '@' || email.back() == '@') {
        bad_request("email: value is not a valid email address");
    }
    std::string role = d.HasMember("role") ? body_string(d, "role", true) : "user";
    if (role != "user" && role != "managed") bad_request("role: invites can give only 'user' or 'managed'");
    std::vector<std::string> group_ids;
    if (auto it = d.FindMember("rbac_group_ids"); it != d.MemberEnd()) {
        if (!it->value.IsArray()) bad_request("rbac_group_ids: Input should be a valid list");
        for (auto &v : it->value.GetArray()) {
            if (!v.IsString()) bad_request("rbac_group_ids: Input should be a list of strings");
            group_ids.emplace_back(v.GetString(), v.GetStringLength());
        }
    }
    std::unique_lock lock(store_.mu_);
    if (cfg_.scim_managed) bad_request("this organization provisions users through its identity provider (SCIM); invites are disabled");
    if (const Member *m = member_by_email(email)) bad_request("a member with email " + m->email + " already exists (" + m->id + ")");
    if (const Invite *p = pending_invite(email)) bad_request("a pending invite for " + p->email + " already exists (" + p->id + ")");
    for (auto &gid : group_ids) {
        const RbacGroup *g = group_ptr(gid);
        if (!g) bad_request("rbac_group_ids: no rbac group " + gid);
        if (g->scim) bad_request("rbac_group_ids: " + gid + " is managed by SCIM; its members cannot be changed here");
    }
    auto inv = std::make_unique<Invite>();
    inv->id = new_id("invite_");
    inv->email = email;
    inv->role = role;
    inv->status = "pending";
    inv->invited_at = now_seconds();
    inv->expires_at = inv->invited_at + kInviteLifetime;
    inv->group_ids = std::move(group_ids);
    Invite &ref = *inv;
    invites_.emplace(ref.id, std::move(inv));
    return ok(json([&](JsonWriter &w) { write_invite(w, ref); }));
}

Reply AdminView::list_invites(const PageQuery &q) {
    std::shared_lock lock(store_.mu_);
    std::set<std::string> roles(q.roles.begin(), q.roles.end()), statuses(q.statuses.begin(), q.statuses.end());
    std::string email = q.email.empty() ? std::string() : normalise_email(q.email);
    auto keep = [&](const Invite &inv) {
        if (!email.empty() && normalise_email(inv.email) != email) return false;
        if (!roles.empty() && !roles.count(inv.role)) return false;
        return statuses.empty() || statuses.count(invite_status(inv)) != 0;
    };
    return ok(page_a(invites_, q, keep, [&](JsonWriter &w, const Invite &inv) { write_invite(w, inv); }));
}

Reply AdminView::get_invite(const std::string &id) {
    std::shared_lock lock(store_.mu_);
    auto it = invites_.find(id);
    if (it == invites_.end()) not_found("invite " + id + " not found");
    return ok(json([&](JsonWriter &w) { write_invite(w, *it->second); }));
}

Reply AdminView::delete_invite(const std::string &id) {
    std::unique_lock lock(store_.mu_);
    auto it = invites_.find(id);
    if (it == invites_.end()) not_found("invite " + id + " not found");
    std::string status = invite_status(*it->second);
    if (status != "pending") bad_request("invite " + id + " is " + status + "; only pending invites can be withdrawn");
    if (cfg_.withdrawn_404) invites_.erase(it);
    else it->second->status = "deleted";
    return ok(json([&](JsonWriter &w) {
        w.StartObject();
        key_str(w, "type", "invite_deleted");
        key_str(w, "id", id);
        w.EndObject();
    }));
}

Reply AdminView::accept_invite(const std::string &id) {
    std::unique_lock lock(store_.mu_);
    auto it = invites_.find(id);
    if (it == invites_.end()) not_found("invite " + id + " not found");
    Invite &inv = *it->second;
    if (invite_status(inv) != "pending") bad_request("invite " + id + " is " + invite_status(inv) + ", not pending");
    if (member_by_email(inv.email)) bad_request("a member with email " + inv.email + " already exists");
    int64_t at = now_seconds();
    std::string name = inv.email.substr(0, inv.email.find('@'));
    Member &m = add_member(inv.email, name, inv.role, nullptr, at);
    for (auto &gid : inv.group_ids) {
        RbacGroup *g = group_ptr(gid);
        if (g && !g->scim) link(*g, m, at);
    }
    inv.status = "accepted";
    inv.accepted_at = at;
    return ok(json([&](JsonWriter &w) { write_member(w, m); }));
}

Reply AdminView::expire_invite(const std::string &id) {
    std::unique_lock lock(store_.mu_);
    auto it = invites_.find(id);
    if (it == invites_.end()) not_found("invite " + id + " not found");
    Invite &inv = *it->second;
    if (invite_status(inv) != "pending") bad_request("invite " + id + " is " + invite_status(inv) + ", not pending");
    inv.expires_at = std::min(inv.expires_at, now_seconds() - 1);
    inv.invited_at = std::min(inv.invited_at, inv.expires_at - kInviteLifetime);
    return ok(json([&](JsonWriter &w) { write_invite(w, inv); }));
}

// ---- groups ------------------------------------------------------------------------------------------------------

Reply AdminView::list_groups(const PageQuery &q, uint64_t seq) {
    std::shared_lock lock(store_.mu_);
    uint64_t cut = seq * 0x2545F4914F6CDD1DULL ^ cfg_.seed;
    bool short_page = draw(seq, 1, cfg_.short_pages);
    auto write = [&](JsonWriter &w, const std::unique_ptr<RbacGroup> &g, size_t i) {
        write_group(w, *g, draw(seq, 100 + i, cfg_.role_ids_null));
    };
    return ok(page_b(groups_, q, short_page ? &cut : nullptr, [](const auto &) { return true; }, write, cursor_generation_.load()));
}

Reply AdminView::get_group(const std::string &id, uint64_t seq) {
    std::shared_lock lock(store_.mu_);
    const RbacGroup &g = group_or_404(id);
    return ok(json([&](JsonWriter &w) { write_group(w, g, draw(seq, 100, cfg_.role_ids_null)); }));
}

Reply AdminView::create_group(const std::string &body) {
    rj::Document d = parse_body(body);
    std::string name = checked_name(d);
    std::unique_lock lock(store_.mu_);
    return group_reply(add_group(name, nullptr, now_seconds()));
}

Reply AdminView::rename_group(const std::string &id, const std::string &body) {
    rj::Document d = parse_body(body);
    std::string name = checked_name(d);
    std::unique_lock lock(store_.mu_);
    RbacGroup &g = group_or_404(id);
    if (g.scim) bad_request("rbac group " + id + " is managed by SCIM; rename it in your identity provider");
    g.name = name;
    g.updated_at = now_seconds();
    return group_reply(g);
}

Reply AdminView::delete_group(const std::string &id) {
    std::unique_lock lock(store_.mu_);
    RbacGroup &g = group_or_404(id);
    if (g.scim) bad_request("rbac group " + id + " is managed by SCIM; delete it in your identity provider");
    while (!g.links.empty()) unlink(g, g.links.begin()->second.user_id);
    groups_.erase(id);
    return ok(json([&](JsonWriter &w) {
        w.StartObject();
        key_str(w, "type", "rbac_group_deleted");
        key_str(w, "id", id);
        w.EndObject();
    }));
}

Reply AdminView::list_group_members(const std::string &id, const PageQuery &q, uint64_t seq) {
    std::shared_lock lock(store_.mu_);
    const RbacGroup &g = group_or_404(id);
    uint64_t cut = seq * 0x2545F4914F6CDD1DULL ^ cfg_.seed;
    bool short_page = draw(seq, 2, cfg_.short_pages);
    auto write = [&](JsonWriter &w, const GroupLink &l, size_t) { write_link(w, g, l); };
    return ok(page_b(g.links, q, short_page ? &cut : nullptr, [](const auto &) { return true; }, write, cursor_generation_.load()));
}

Reply AdminView::add_group_member(const std::string &id, const std::string &body) {
    rj::Document d = parse_body(body);
    std::string user_id = body_string(d, "user_id", true);
    std::unique_lock lock(store_.mu_);
    RbacGroup &g = group_or_404(id);
    if (g.scim) bad_request("rbac group " + id + " is managed by SCIM; change its members in your identity provider");
    Member *m = member_ptr(user_id);
    if (!m) not_found("user " + user_id + " is not a member of the organization");
    if (g.seq_of.count(user_id)) bad_request("user " + user_id + " is already in group " + id);
    link(g, *m, now_seconds());
    const GroupLink &l = g.links.rbegin()->second;
    return ok(json([&](JsonWriter &w) { write_link(w, g, l); }));
}

Reply AdminView::remove_group_member(const std::string &id, const std::string &user_id) {
    std::unique_lock lock(store_.mu_);
    RbacGroup &g = group_or_404(id);
    if (g.scim) bad_request("rbac group " + id + " is managed by SCIM; change its members in your identity provider");
    if (!unlink(g, user_id)) not_found("user " + user_id + " is not in group " + id);
    return ok(json([&](JsonWriter &w) {
        w.StartObject();
        key_str(w, "type", "rbac_group_member_deleted");
        if (!cfg_.legacy) key_str(w, "rbac_group_id", id);
        key_str(w, "group_id", id);
        key_str(w, "user_id", user_id);
        w.EndObject();
    }));
}

// ---- roles -------------------------------------------------------------------------------------------------------

Reply AdminView::list_roles(const PageQuery &q, uint64_t seq) {
    std::shared_lock lock(store_.mu_);
    uint64_t cut = seq * 0x2545F4914F6CDD1DULL ^ cfg_.seed;
    bool short_page = draw(seq, 3, cfg_.short_pages);
    auto keep = [](const Role &r) { return !r.foreign; };
    auto write = [&](JsonWriter &w, const Role &r, size_t) { write_role(w, r); };
    return ok(page_b(roles_, q, short_page ? &cut : nullptr, keep, write, cursor_generation_.load()));
}

Reply AdminView::get_role(const std::string &id) {
    std::shared_lock lock(store_.mu_);
    auto it = roles_.find(id);
    if (it == roles_.end() || it->second.foreign) not_found("rbac_role " + id + " not found");
    return ok(json([&](JsonWriter &w) { write_role(w, it->second); }));
}

Reply AdminView::list_permissions(const std::string &id, const PageQuery &q, uint64_t seq) {
    std::shared_lock lock(store_.mu_);
    auto it = roles_.find(id);
    if (it == roles_.end() || it->second.foreign) not_found("rbac_role " + id + " not found");
    const Role &r = it->second;
    std::map<uint64_t, size_t> rows;  // 1-based keys: a cursor of 0 is the start
    for (size_t i = 0; i < r.n_perms; ++i) rows.emplace(i + 1, i);
    uint64_t cut = seq * 0x2545F4914F6CDD1DULL ^ cfg_.seed;
    bool short_page = draw(seq, 4, cfg_.short_pages);
    auto write = [&](JsonWriter &w, size_t i, size_t) { write_permission(w, r, i); };
    return ok(page_b(rows, q, short_page ? &cut : nullptr, [](const auto &) { return true; }, write, cursor_generation_.load()));
}

// ---- truth -------------------------------------------------------------------------------------------------------

void AdminView::write_state(JsonWriter &w) const {
    w.Key("members");
    w.StartArray();
    for (auto &[id, m] : members_) {
        w.StartObject();
        key_str(w, "id", id);
        key_str(w, "email", m->email);
        key_str(w, "name", m->name);
        key_str(w, "role", m->role);
        w.Key("scim_id");
        m->scim ? wstr(w, m->scim->id) : (void)w.Null();
        w.EndObject();
    }
    w.EndArray();
    w.Key("rbac_groups");
    w.StartArray();
    for (auto &[id, g] : groups_) {
        w.StartObject();
        key_str(w, "id", id);
        key_str(w, "name", g->name);
        key_str(w, "source_type", g->scim ? "scim" : "direct");
        w.Key("role_ids");
        w.StartArray();
        for (auto &r : g->role_ids) wstr(w, r);
        w.EndArray();
        w.Key("members");
        w.StartArray();
        for (auto &[seq, l] : g->links) wstr(w, l.user_id);
        w.EndArray();
        w.EndObject();
    }
    w.EndArray();
    w.Key("roles");
    w.StartArray();
    for (auto &[id, r] : roles_) {
        if (r.foreign) continue;
        w.StartObject();
        key_str(w, "id", id);
        key_str(w, "display_name", r.name);
        w.EndObject();
    }
    w.EndArray();
    w.Key("invites");
    w.StartArray();
    for (auto &[id, inv] : invites_) {
        w.StartObject();
        key_str(w, "id", id);
        key_str(w, "email", inv->email);
        key_str(w, "role", inv->role);
        key_str(w, "status", invite_status(*inv));
        w.Key("rbac_group_ids");
        w.StartArray();
        for (auto &g : inv->group_ids) wstr(w, g);
        w.EndArray();
        w.EndObject();
    }
    w.EndArray();
}

}  // namespace scim_sim::detail
