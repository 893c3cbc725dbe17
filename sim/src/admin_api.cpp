// The Admin API's HTTP surface: authentication (x-api-key, or Authorization: Bearer), anthropic-version, the beta
// header of the older generation, scopes, rate limits, query parsing and routing. Faults, stats and delivery are the
// server's (server.cpp), shared with the SCIM surface.
#include "admin_api.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace scim_sim::detail {

namespace {

constexpr const char *kPrefix = "/v1/organizations/";
constexpr const char *kBeta = "ce-user-management-2026-07-13";

// Thrown by the routes when invite creation is over its own hourly limit.
struct InviteLimited {
    long long retry_after;
};

std::string decode_segment(const std::string &s) {
    auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) && hex(s[i + 2])) {
            out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::vector<std::string> segments(const httplib::Request &req) {
    std::string raw = req.target.substr(0, req.target.find('?'));
    std::string rest = raw.substr(std::string(kPrefix).size());
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos <= rest.size()) {
        size_t slash = rest.find('/', pos);
        if (slash == std::string::npos) slash = rest.size();
        if (slash > pos) out.push_back(decode_segment(rest.substr(pos, slash - pos)));
        pos = slash + 1;
    }
    return out;
}

bool has_beta(const httplib::Request &req) {
    size_t n = req.get_header_value_count("anthropic-beta");
    for (size_t i = 0; i < n; ++i) {
        if (req.get_header_value("anthropic-beta", i).find(kBeta) != std::string::npos) return true;
    }
    return false;
}

std::vector<std::string> params(const httplib::Request &req, const char *name) {
    std::vector<std::string> out;
    std::string bracket = std::string(name) + "[]";
    for (auto &[k, v] : req.params) {
        if (k == name || k == bracket) out.push_back(v);
    }
    return out;
}

std::string param(const httplib::Request &req, const char *name) {
    auto it = req.params.find(name);
    return it == req.params.end() ? std::string() : it->second;
}

[[noreturn]] void bad(const std::string &message) { throw AdminError(400, "invalid_request_error", message); }
[[noreturn]] void no_route() { throw AdminError(404, "not_found_error", "Not found"); }

}  // namespace

AdminApi::AdminApi(AdminApiOptions options, AdminView &view) : opt_(std::move(options)), view_(view) {
    if (opt_.scopes.empty()) opt_.scopes = all_scopes();
}

bool AdminApi::is_admin_path(const std::string &path) {
    return path.rfind(kPrefix, 0) == 0 || path == "/v1/organizations";
}

const std::set<std::string> &AdminApi::all_scopes() {
    static const std::set<std::string> all{"read:members", "write:members", "read:rbac_groups", "write:rbac_groups",
                                           "read:org_audit"};
    return all;
}

std::string AdminApi::request_id() {
    std::lock_guard lock(rid_mu_);
    return base58_id("req_", ++rid_counter_, opt_.seed ^ 0x5EEDF00DULL);
}

AdminAnswer AdminApi::error(int status, const std::string &type, const std::string &message, const std::string &rid) {
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    w.StartObject();
    w.Key("type");
    w.String("error");
    w.Key("error");
    w.StartObject();
    w.Key("type");
    w.String(type.c_str());
    w.Key("message");
    w.String(message.c_str());
    w.EndObject();
    w.Key("request_id");
    w.String(rid.c_str());
    w.EndObject();
    return {status, std::string(sb.GetString(), sb.GetSize()), {}};
}

bool AdminApi::take(Window &w, uint32_t limit, std::chrono::seconds span, long long &retry_after) {
    std::lock_guard lock(w.mu);
    auto now = std::chrono::steady_clock::now();
    while (!w.hits.empty() && now - w.hits.front() >= span) w.hits.pop_front();
    if (w.hits.size() < limit) {
        w.hits.push_back(now);
        return true;
    }
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(w.hits.front() + span - now).count();
    retry_after = std::max<long long>(1, (wait + 999) / 1000);
    return false;
}

AdminAnswer AdminApi::limited(const char *what, long long retry_after, const std::string &rid) const {
    AdminAnswer a = error(429, "rate_limit_error", std::string("Number of ") + what + " has exceeded your rate limit. Please try again later.", rid);
    if (!opt_.no_retry_after) a.headers.emplace_back("retry-after", std::to_string(retry_after));
    return a;
}

std::optional<AdminAnswer> AdminApi::admit(const httplib::Request &req, const std::string &rid) {
    std::string key = req.get_header_value("x-api-key");
    if (key.empty()) {
        std::string auth = req.get_header_value("Authorization");
        if (auth.size() > 7 && (auth.rfind("Bearer ", 0) == 0 || auth.rfind("bearer ", 0) == 0)) key = auth.substr(7);
    }
    if (key.empty()) return error(401, "authentication_error", "x-api-key header is required", rid);
    bool same = key.size() == opt_.key.size();
    unsigned char diff = 0;
    for (size_t i = 0; same && i < key.size(); ++i) diff = static_cast<unsigned char>(diff | (key[i] ^ opt_.key[i]));
    if (!same || diff) return error(401, "authentication_error", "invalid x-api-key", rid);
    if (req.get_header_value("anthropic-version").empty()) {
        return error(400, "invalid_request_error", "anthropic-version: header is required", rid);
    }
    long long retry = 0;
    if (opt_.rate_limit && !take(org_, opt_.rate_limit, std::chrono::seconds(60), retry)) {
        return limited("requests", retry, rid);
    }
    return std::nullopt;
}

PageQuery AdminApi::page_query(const httplib::Request &req) const {
    PageQuery q;
    if (req.has_param("limit")) {
        std::string v = param(req, "limit");
        long long n = 0;
        bool digits = !v.empty() && v.size() < 10 && std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (!digits) bad("limit: Input should be a valid integer");
        n = std::stoll(v);
        if ((n < 1 || n > 1000) && !opt_.clamp_limit) bad("limit: Input should be between 1 and 1000");
        q.limit = std::clamp<long long>(n, 1, 1000);
    }
    if (opt_.page_cap > 0) q.limit = std::min<long long>(q.limit, opt_.page_cap);
    q.after_id = param(req, "after_id");
    q.before_id = param(req, "before_id");
    if (!q.after_id.empty() && !q.before_id.empty()) bad("Only one of after_id and before_id may be given");
    q.page = param(req, "page");
    q.email = param(req, "email");
    if (!opt_.legacy) {  // the older generation knows no role or status filters: it ignores them
        q.roles = params(req, "roles");
        q.statuses = params(req, "statuses");
    }
    return q;
}

void AdminApi::check_scope(const std::string &resource, const std::string &method, bool invite_groups) const {
    bool read = method == "GET";
    std::string family = resource == "rbac_groups" ? "rbac_groups" : "members";
    std::vector<std::string> needed{(read ? "read:" : "write:") + family};
    if (invite_groups) needed.push_back("write:rbac_groups");
    std::vector<std::string> missing;
    for (auto &s : needed) {
        if (!opt_.scopes.count(s) && !(read && opt_.scopes.count("read:org_audit"))) missing.push_back(s);
    }
    if (missing.empty()) return;
    std::string held, need;
    for (auto &s : opt_.scopes) held += (held.empty() ? "" : ", ") + s;
    for (auto &s : missing) need += (need.empty() ? "" : ", ") + s;
    throw AdminError(403, "permission_error",
                     "This API key does not have the required scopes. Held: [" + held + "]; needed: [" + need + "]");
}

AdminAnswer AdminApi::serve(const httplib::Request &req, uint64_t seq, const std::string &rid) {
    try {
        Reply r = route(req, segments(req), seq);
        return {r.status, std::move(r.body), {}};
    } catch (const AdminError &e) {
        return error(e.status, e.type, e.what(), rid);
    } catch (const InviteLimited &l) {
        return limited("invites created", l.retry_after, rid);
    }
}

Reply AdminApi::route(const httplib::Request &req, const std::vector<std::string> &seg, uint64_t seq) {
    if (seg.empty()) no_route();
    const std::string &resource = seg[0];
    if (resource != "users" && resource != "invites" && resource != "rbac_groups" && resource != "rbac_roles") no_route();
    bool rbac = resource == "rbac_groups" || resource == "rbac_roles";
    if (rbac && opt_.legacy && !has_beta(req)) no_route();  // beta generation: 404 without the header
    bool invite_groups = resource == "invites" && req.method == "POST" && view_.invite_has_groups(req.body);
    check_scope(resource, req.method, invite_groups);
    if (resource == "rbac_groups") return route_groups(req, seg, seq);
    if (resource == "rbac_roles") return route_roles(req, seg, seq);
    return route_members_invites(req, seg);
}

Reply AdminApi::route_members_invites(const httplib::Request &req, const std::vector<std::string> &seg) {
    const std::string &m = req.method;
    bool users = seg[0] == "users";
    if (seg.size() == 1) {
        if (m == "GET") return users ? view_.list_members(page_query(req)) : view_.list_invites(page_query(req));
        if (m == "POST" && !users) {
            long long retry = 0;
            if (opt_.invite_rate_limit && !take(invites_, opt_.invite_rate_limit, std::chrono::seconds(3600), retry)) {
                throw InviteLimited{retry};
            }
            return view_.create_invite(req.body);
        }
        no_route();
    }
    if (seg.size() != 2) no_route();
    const std::string &id = seg[1];
    if (m == "GET") return users ? view_.get_member(id) : view_.get_invite(id);
    if (m == "DELETE") return users ? view_.remove_member(id) : view_.delete_invite(id);
    if (m == "POST" && users) return view_.set_member_role(id, req.body);
    no_route();
}

Reply AdminApi::route_groups(const httplib::Request &req, const std::vector<std::string> &seg, uint64_t seq) {
    const std::string &m = req.method;
    if (seg.size() == 1) {
        if (m == "GET") return view_.list_groups(page_query(req), seq);
        if (m == "POST") return view_.create_group(req.body);
        no_route();
    }
    const std::string &id = seg[1];
    if (seg.size() == 2) {
        if (m == "GET") return view_.get_group(id, seq);
        if (m == "POST") return view_.rename_group(id, req.body);
        if (m == "DELETE") return view_.delete_group(id);
        no_route();
    }
    if (seg[2] != "members") no_route();
    if (seg.size() == 3) {
        if (m == "GET") return view_.list_group_members(id, page_query(req), seq);
        if (m == "POST") return view_.add_group_member(id, req.body);
        no_route();
    }
    if (seg.size() == 4 && m == "DELETE") return view_.remove_group_member(id, seg[3]);
    no_route();
}

Reply AdminApi::route_roles(const httplib::Request &req, const std::vector<std::string> &seg, uint64_t seq) {
    if (req.method != "GET") no_route();
    if (seg.size() == 1) return view_.list_roles(page_query(req), seq);
    if (seg.size() == 2) return view_.get_role(seg[1]);
    if (seg.size() == 3 && seg[2] == "permissions") return view_.list_permissions(seg[1], page_query(req), seq);
    no_route();
}

}  // namespace scim_sim::detail
