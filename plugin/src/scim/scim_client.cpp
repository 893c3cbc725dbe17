#include "scim/scim_client.hpp"

#include <cctype>

#include "common/text.hpp"
#include "scim/scim_url.hpp"

namespace ce::scim {
namespace {

// How much of a server's error detail a message quotes.
constexpr size_t kMaxDetailChars = 200;
constexpr int64_t kMsPerSecond = 1000;

std::string host_of(std::string_view url) { return text::url_host(url); }

// A detail from the server, made safe for a one-line message.
std::string clean_detail(std::string_view s) { return text::one_line(s, kMaxDetailChars); }

std::string attempts_text(unsigned attempts) {
    return attempts > 1 ? " after " + std::to_string(attempts) + " attempts" : std::string();
}

}  // namespace

Client::Client(http::Engine &engine, std::string base_url, std::string token, MemberListLimits member_limits)
    : engine_(engine),
      base_(std::move(base_url)),
      auth_header_("Authorization: Bearer " + token),
      host_(host_of(base_)),
      member_limits_(std::move(member_limits)) {}

http::Request Client::make(http::Method method, std::string url, std::string body) const {
    http::Request r;
    r.method = method;
    r.url = std::move(url);
    r.headers = {auth_header_, "Accept: application/scim+json, application/json"};
    if (method == http::Method::post || method == http::Method::put || method == http::Method::patch)
        r.headers.emplace_back("Content-Type: application/scim+json; charset=utf-8");
    r.body = std::move(body);
    return r;
}

http::Request Client::member_list_request(std::string_view group_id, std::shared_ptr<MembersStream> stream) const {
    http::Request req = make(http::Method::get, with_query(group_url(group_id), {{"attributes", "members"}}));
    stream->expect_id(std::string(group_id));  // the answer must be about this group
    req.stream = std::move(stream);
    req.max_body_bytes = member_limits_.list_bytes;
    req.limit_name = member_limits_.list_field;
    return req;
}

std::string Client::users_url() const { return join_path(base_, "Users"); }
std::string Client::groups_url() const { return join_path(base_, "Groups"); }
std::string Client::user_url(std::string_view id) const { return resource_url(base_, "Users", id); }
std::string Client::group_url(std::string_view id) const { return resource_url(base_, "Groups", id); }

Error Client::malformed(std::string_view what, const std::string &why, long status) const {
    return Error::transient("the service sent a malformed response while " + std::string(what) + ": " + why)
        .with_http(status);
}

Error Client::error_for(const http::Response &r, std::string_view what_view) const {
    const std::string what(what_view);
    using http::Failure;
    switch (r.failure) {
    case Failure::none: return status_error(r, what);
    case Failure::connect:
        return Error::transient("could not reach " + host_ + " while " + what + ": " + r.error +
                                attempts_text(r.attempts) + "; check scim-url and the network");
    case Failure::timeout:
        return Error::transient("the request to " + host_ + " timed out while " + what + attempts_text(r.attempts));
    case Failure::network:
        return Error::transient("the connection to " + host_ + " failed while " + what + ": " + r.error +
                                attempts_text(r.attempts));
    case Failure::tls:
        return Error::invalid_config("ca-file", "TLS verification of " + host_ + " failed (" + r.error +
                                                    "); if the service uses a private certificate authority, give its "
                                                    "certificate with ca-file");
    case Failure::too_large:
        return Error::invalid_config(r.limit_name, "while " + what + ": " + r.error).with_http(r.status);
    case Failure::other: break;
    }
    return Error::transient("the request to " + host_ + " failed while " + what + ": " + r.error);
}

Error Client::status_error(const http::Response &r, const std::string &what) const {
    const long s = r.status;
    const ErrorBody body = parse_error_body(r.body);
    std::string detail;
    if (body.is_scim && !body.detail.empty()) detail = ": " + clean_detail(body.detail);
    else if (body.is_scim && !body.scim_type.empty()) detail = ": " + clean_detail(body.scim_type);
    const std::string code = " (HTTP " + std::to_string(s) + ")";
    const std::string during = code + " while " + what;
    if (s >= 300 && s <= 399)
        return Error::invalid_config("scim-url", "the service answered with a redirect" + during +
                                                     "; redirects are not followed, so that the token never goes to "
                                                     "another origin: check scim-url")
            .with_http(s);
    const ErrorKind kind = error_kind_for_http_status(s);
    switch (kind) {
    case ErrorKind::unauthenticated:
        return Error(kind, "the SCIM token was refused" + code + " by " + host_ +
                               ": check scim-token (it may be wrong, expired or revoked)" + detail,
                     "scim-token", s);
    case ErrorKind::permission_denied:
        return Error(kind, "the SCIM token is not allowed to do this" + during + detail, {}, s);
    case ErrorKind::not_found: return Error(kind, "not found" + during + detail, {}, s);
    case ErrorKind::already_exists: return Error(kind, "conflict" + during + detail, {}, s);
    case ErrorKind::failed_precondition:
        return Error(kind, "the service refused a precondition" + during + detail, {}, s);
    case ErrorKind::rate_limited: {
        const int64_t after = r.retry_after_ms.value_or(0);
        return Error(kind,
                     "the service is rate limiting" + during + attempts_text(r.attempts) +
                         (after > 0 ? "; retry after " + std::to_string((after + kMsPerSecond - 1) / kMsPerSecond) + " s"
                                     : std::string()),
                     {}, s, after);
    }
    case ErrorKind::transient:
        return Error(kind, "the service failed" + during + attempts_text(r.attempts) + detail, {}, s,
                     r.retry_after_ms.value_or(0));
    case ErrorKind::invalid_argument:
        return Error(kind,
                     (s == 413 ? "the request was too large for the service" : "the service refused the request") +
                         during + detail,
                     {}, s);
    default: return Error(ErrorKind::internal, "unexpected answer" + during + detail, {}, s);
    }
}

ListSummary Client::count_users() const {
    return get_parsed<ListSummary>(with_query(users_url(), {{"startIndex", "1"}, {"count", "1"}}), "counting users",
                                   [](std::string &b) { return parse_list_summary(b); });
}

std::optional<User> Client::get_user(std::string_view id) const {
    return get<User>(make(http::Method::get, user_url(id)), "reading a user", [id](http::Response &r) {
        User u = parse_user(r.body);
        if (u.id != id) throw ParseError("the answer holds another user (asked for one id, got another)");
        return u;
    }, {404});
}

UserLookup Client::find_user_by_user_name(std::string_view user_name) const {
    const std::string url = with_query(users_url(), {{"filter", filter_eq("userName", user_name)}});
    auto page = get_parsed<ListPage<User>>(url, "looking up a user by userName",
                                           [](std::string &b) { return parse_user_page(b); });
    UserLookup out;
    size_t matches = 0;
    for (auto &u : page.resources) {
        if (!text::iequals(u.user_name, user_name)) continue;  // userName is case-insensitive in SCIM
        if (++matches == 1) out.user = std::move(u);
    }
    if (matches > 1)
        throw Error::failed_precondition("email", "the service lists " + std::to_string(matches) +
                                                      " users with the same userName: cannot tell which one is meant; "
                                                      "resolve the duplicate in the identity provider");
    if (matches == 0) {
        // Only users of other names listed: the filter was ignored. That proves absence only when the page held
        // every user there is.
        const bool ignored = !page.resources.empty();
        const int64_t total = page.total_results;
        out.proven_absent = !ignored || (total >= 0 && static_cast<size_t>(total) <= page.resources.size());
    }
    return out;
}

std::optional<std::string> Client::find_group_by_display_name(std::string_view name) const {
    const std::string url =
        with_query(groups_url(), {{"filter", filter_eq("displayName", name)}, {"excludedAttributes", "members"}});
    auto page = get_parsed<ListPage<Group>>(url, "looking up a group by displayName",
                                            [](std::string &b) { return parse_group_page(b); });
    std::optional<std::string> id;
    size_t matches = 0;
    for (auto &g : page.resources) {
        if (g.display_name != name) continue;
        if (++matches == 1) id = std::move(g.id);
    }
    if (matches > 1)
        throw Error::failed_precondition("entitlement_id", "SCIM lists " + std::to_string(matches) +
                                                               " groups with this name: cannot tell which one is meant");
    const bool whole_page = page.total_results >= 0 && static_cast<size_t>(page.total_results) <= page.resources.size();
    if (matches == 0 && !page.resources.empty() && !whole_page)
        throw Error::failed_precondition("entitlement_id", "the SCIM service ignored the displayName filter, so the "
                                                           "group cannot be identified");
    return id;
}

http::Response Client::post_user(const NewUser &user) const {
    return engine_.perform(make(http::Method::post, users_url(), build_create_user(user)));
}

void Client::set_user_active(std::string_view id, bool active) const {
    auto r = engine_.perform(make(http::Method::patch, user_url(id), build_patch_active(active)));
    if (!r.ok()) throw error_for(r, active ? "reactivating a user" : "deactivating a user");
}

bool Client::delete_user(std::string_view id) const {
    auto r = engine_.perform(make(http::Method::del, user_url(id)));
    if (r.is(404)) return false;
    if (!r.ok()) throw error_for(r, "deleting a user");
    return true;
}

bool Client::group_exists(std::string_view id) const {
    auto r = engine_.perform(make(http::Method::get, with_query(group_url(id), {{"excludedAttributes", "members"}})));
    if (r.is(404)) return false;
    if (!r.ok()) throw error_for(r, "reading a group");
    return true;
}

FilterAnswer Client::group_has_member(std::string_view group_id, std::string_view user_id) const {
    const std::string filter = filter_eq("id", group_id) + " and " + filter_eq("members.value", user_id);
    const std::string url = with_query(groups_url(), {{"filter", filter}, {"excludedAttributes", "members"}});
    // 400/501: the server refuses the filter.
    const auto answer = get<FilterAnswer>(make(http::Method::get, url), "checking a group membership", [group_id](http::Response &r) {
        const ListPage<Group> page = parse_group_page(r.body);
        if (page.resources.empty()) return FilterAnswer::absent;
        if (page.resources.size() == 1 && page.resources.front().id == group_id) return FilterAnswer::listed;
        return FilterAnswer::unusable;  // other groups listed: the server ignored the filter
    }, {400, 501});
    return answer.value_or(FilterAnswer::unusable);
}

std::optional<bool> Client::group_lists_member(std::string_view group_id, std::string_view user_id) const {
    bool found = false;  // in this attempt; trusted only once the whole answer has been read and is valid
    auto stream = std::make_shared<MembersStream>(
        [&found, user_id](std::string_view value, std::string_view) {
            if (value == user_id) found = true;
        },
        [&found] { found = false; }, member_limits_.reader);
    http::Request req = member_list_request(group_id, stream);
    return get<bool>(std::move(req), "reading the members of a group", [&](http::Response &r) {
        stream->finish(r);
        return found;
    }, {404});
}

void Client::patch_group(std::string_view group_id, const std::string &body, std::string_view what) const {
    auto r = engine_.perform(make(http::Method::patch, group_url(group_id), body));
    if (!r.ok()) throw error_for(r, what);
}

}  // namespace ce::scim
