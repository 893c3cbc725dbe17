#include "admin/admin_client.hpp"

#include "admin/admin_paging.hpp"
#include "common/text.hpp"

namespace ce::admin {
namespace {

constexpr size_t kMaxDetailChars = 300;
constexpr int64_t kMsPerSecond = 1000;
constexpr std::string_view kBeta = "anthropic-beta: ce-user-management-2026-07-13";

std::string attempts_text(unsigned attempts) {
    return attempts > 1 ? " after " + std::to_string(attempts) + " attempts" : std::string();
}

// What the API said, for a message: its error type and message, cleaned; or nothing when the body is not the API's.
std::string api_detail(const ApiError &e) {
    if (!e.is_api) return {};
    std::string out;
    if (!e.type.empty()) out = text::one_line(e.type, kMaxDetailChars);
    if (!e.message.empty()) out += (out.empty() ? "" : ": ") + text::one_line(e.message, kMaxDetailChars);
    return out.empty() ? out : " (" + out + ")";
}

}  // namespace

std::string path_segment(std::string_view id) { return text::percent_encode(id, text::Dot::encode); }

Client::Client(http::Engine &engine, std::string base_url, std::string key)
    : engine_(engine), base_(std::move(base_url)), host_(text::url_host(base_)) {
    while (!base_.empty() && base_.back() == '/') base_.pop_back();
    headers_ = {"x-api-key: " + key, "anthropic-version: 2023-06-01", std::string(kBeta),
                "Accept: application/json"};
}

std::string Client::url(std::string_view path, const Query &query) const {
    std::string u = base_ + "/v1/organizations/" + std::string(path);
    char sep = '?';
    for (const auto &[k, v] : query) {
        u += sep;
        u += text::percent_encode(k, text::Dot::keep);
        u += '=';
        u += text::percent_encode(v, text::Dot::keep);
        sep = '&';
    }
    return u;
}

http::Request Client::make(http::Method method, std::string url, std::string body) const {
    http::Request r;
    r.method = method;
    r.url = std::move(url);
    r.headers = headers_;
    if (method == http::Method::post) r.headers.emplace_back("Content-Type: application/json");
    r.body = std::move(body);
    return r;
}

Error Client::malformed(std::string_view what, const std::string &why, long status) const {
    return Error::transient("the Admin API sent a malformed response while " + std::string(what) + ": " + why)
        .with_http(status);
}

Error Client::error_for(const http::Response &r, std::string_view what_view) const {
    const std::string what(what_view);
    using http::Failure;
    switch (r.failure) {
    case Failure::none: break;
    case Failure::connect:
        return Error::transient("could not reach the Admin API at " + host_ + " while " + what + ": " + r.error +
                                attempts_text(r.attempts) + "; check admin-api-url and the network");
    case Failure::timeout:
        return Error::transient("the Admin API request to " + host_ + " timed out while " + what +
                                attempts_text(r.attempts));
    case Failure::tls:
        return Error::invalid_config("ca-file", "TLS verification of " + host_ + " failed (" + r.error + ")");
    case Failure::too_large:
        return Error::invalid_config(r.limit_name, "while " + what + ": " + r.error).with_http(r.status);
    case Failure::network:
    case Failure::other:
        return Error::transient("the Admin API request to " + host_ + " failed while " + what + ": " + r.error +
                                attempts_text(r.attempts));
    }
    const long s = r.status;
    const std::string detail = api_detail(parse_api_error(r.body));
    const std::string during = " (HTTP " + std::to_string(s) + ") while " + what + detail;
    if (s >= 300 && s <= 399)
        return Error::invalid_config("admin-api-url", "the Admin API answered with a redirect" + during +
                                                          "; redirects are not followed, so that the key never goes "
                                                          "to another origin: check admin-api-url")
            .with_http(s);
    const ErrorKind kind = error_kind_for_http_status(s);
    switch (kind) {
    case ErrorKind::unauthenticated:
        return Error(kind, "the Admin API key was refused" + during + ": check admin-api-key", "admin-api-key", s);
    case ErrorKind::permission_denied:
        return Error(kind, "the Admin API key lacks a scope needed" + during +
                               "; make a key with the scopes named (claude.ai > Organization settings > API)",
                     "admin-api-key", s);
    case ErrorKind::rate_limited: {
        const int64_t after = r.retry_after_ms.value_or(0);
        return Error(kind,
                     "the Admin API is rate limiting" + during + attempts_text(r.attempts) +
                         "; another client may share the organisation's budget (lower admin-api-rate-limit)",
                     "admin-api-rate-limit", s, after > 0 ? after : kMsPerSecond);
    }
    case ErrorKind::transient: return Error(kind, "the Admin API failed" + during + attempts_text(r.attempts), {}, s);
    default: return Error(kind, "the Admin API refused" + during, {}, s);
    }
}

void Client::probe_reads() const {
    get<CursorPage<Member>>(url("users", {{"limit", "1"}}), "listing members", &parse_member_page);
    get<TokenPage<Group>>(url("rbac_groups", {{"limit", "1"}}), "listing groups", &parse_group_page);
    get<TokenPage<Role>>(url("rbac_roles", {{"limit", "1"}}), "listing roles", &parse_role_page);
}

std::optional<Group> Client::get_group(std::string_view id) const {
    auto g = get<Group>(url("rbac_groups/" + path_segment(id)), "reading a group", &parse_group, true);
    if (g && g->id != id) throw malformed("reading a group", "the answer describes another group", 200);
    return g;
}

std::optional<Member> Client::get_member(std::string_view id) const {
    auto m = get<Member>(url("users/" + path_segment(id)), "reading a member", &parse_member, true);
    if (m && m->id != id) throw malformed("reading a member", "the answer describes another member", 200);
    return m;
}

std::optional<Invite> Client::get_invite(std::string_view id) const {
    auto i = get<Invite>(url("invites/" + path_segment(id)), "reading an invite", &parse_invite, true);
    if (i && i->id != id) throw malformed("reading an invite", "the answer describes another invite", 200);
    return i;
}

std::optional<Member> Client::find_member_by_email(std::string_view email) const {
    std::vector<Member> matches;
    walk_cursor_pages<Member>(*this, "users", &parse_member_page, "looking a member up by e-mail",
                              [&](std::vector<Member> &page) {
                                  for (auto &m : page)
                                      if (text::iequals(m.email, email)) matches.push_back(std::move(m));
                              },
                              {{"email", std::string(email)}});
    if (matches.size() > 1)
        throw Error::failed_precondition("principal_id", "several members have the e-mail " + std::string(email) +
                                                             ": name the member by id");
    if (matches.empty()) return std::nullopt;
    return std::move(matches.front());
}

bool Client::group_lists_member(std::string_view group_id, std::string_view user_id) const {
    bool listed = false;
    walk_token_pages<GroupMember>(*this, "rbac_groups/" + path_segment(group_id) + "/members",
                                  &parse_group_member_page, "reading the members of a group",
                                  [&](std::vector<GroupMember> &page) {
                                      for (const auto &m : page)
                                          listed = listed || (m.user_id == user_id &&
                                                              (m.group_id.empty() || m.group_id == group_id));
                                  });
    return listed;
}

http::Response Client::send(http::Method method, const std::string &u, std::string body) const {
    return engine_.perform(make(method, u, std::move(body)));
}

}  // namespace ce::admin
