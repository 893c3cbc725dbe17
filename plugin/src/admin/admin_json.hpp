// Admin API JSON (../shared/docs/claude-admin-api.md): the objects the connector reads (members, invites, groups,
// group members, roles), the two page envelopes, the error body, and the request bodies (built with RapidJSON's
// Writer, never by concatenation). Both documented field generations are read: groups with `role_ids` and/or
// `roles`, group members with `rbac_group_id` and/or `group_id`, roles with `display_name` and/or `name`.
// Parsers are strict where a decision rests on a field (ids, `has_more`, the cursors, an object's `type` when
// present) and tolerant elsewhere (unknown fields ignored, optional ones missing or null). Parsing is in place,
// iterative, and validates UTF-8.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/errors.hpp"

namespace ce::admin {

// A body that cannot be understood: transient (a GET is retried within the budget). The client turns it into a
// malformed-answer error before it leaves this layer.
class ParseError : public Error {
public:
    explicit ParseError(std::string why) : Error(ErrorKind::transient, std::move(why)) {}
};

struct Member {
    std::string id;  // user_…
    std::string email;
    std::string name;
    std::string role;  // user, managed, owner, membership_admin, primary_owner (or a Console role)
    std::string added_at;
};

struct Invite {
    std::string id;  // invite_…
    std::string email;
    std::string role;
    std::string status;  // pending, accepted, expired, deleted
    std::string expires_at;
};

struct Group {
    std::string id;  // rbac_group_…
    std::string name;
    std::string source_type;                      // direct or scim
    std::optional<std::vector<std::string>> role_ids;  // nullopt: null ("temporarily unavailable"), never "none"
};

struct GroupMember {
    std::string user_id;
    std::string group_id;  // rbac_group_id (or the older group_id); empty when the answer names neither
    std::string email;
};

struct Role {
    std::string id;  // rbac_role_…
    std::string display_name;
    std::string source;  // built_in, custom, or "" when not given
};

// Paging A (members, invites): `after_id=<last_id>` until has_more is false.
template <typename T>
struct CursorPage {
    std::vector<T> data;
    bool has_more = false;
    std::string last_id;  // "" for null
};

// Paging B (groups, group members, roles): `page=<next_page>` verbatim until next_page is null.
template <typename T>
struct TokenPage {
    std::vector<T> data;
    bool has_more = false;
    std::optional<std::string> next_page;  // nullopt for null or absent
};

CursorPage<Member> parse_member_page(std::string &body);
CursorPage<Invite> parse_invite_page(std::string &body);
TokenPage<Group> parse_group_page(std::string &body);
TokenPage<GroupMember> parse_group_member_page(std::string &body);
TokenPage<Role> parse_role_page(std::string &body);
Member parse_member(std::string &body);
Invite parse_invite(std::string &body);
Group parse_group(std::string &body);

// `{"type":"error","error":{"type","message"}}`, or whatever the server sent instead (is_api false).
struct ApiError {
    bool is_api = false;
    std::string type;     // invalid_request_error, permission_error, ...
    std::string message;  // as sent: hostile text, cleaned before it is shown
};
ApiError parse_api_error(std::string_view body);

std::string build_role_change(std::string_view role);
std::string build_invite(std::string_view email, std::string_view role, const std::vector<std::string> &group_ids);
std::string build_group_member(std::string_view user_id);

}  // namespace ce::admin
