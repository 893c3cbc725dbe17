// The arguments of the provisioning operations, checked before any request is made: the fields of a new account,
// the resource a delete names, the entitlement and principal of a grant or revoke. Every refusal is
// Error::invalid_argument (or unsupported) naming the argument.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "provision/account_fields.hpp"

namespace ce::provision {

// The prefix of a user argument that names the user by e-mail instead of by id: "email=jane@example.com".
inline constexpr std::string_view kEmailPrefix = "email=";

inline bool names_by_email(std::string_view arg) { return arg.substr(0, kEmailPrefix.size()) == kEmailPrefix; }

struct AccountRequest {
    std::string email;
    SplitName name;
    std::string role = "user";        // invites only: user or managed
    std::vector<std::string> groups;  // invites only: rbac group ids
};

// How an account is made: a SCIM user (SCIM configured), or an Admin API invite (an Admin-only config).
enum class AccountRoute { scim, invite };

// SCIM: fields "email" and "display_name", both required. Invite: "email" required, "display_name" optional (an
// invite carries none), "role" (user or managed, default user) and "groups" (comma-separated rbac group ids).
// Unknown or repeated fields, and the invite fields on the SCIM route, are refused.
AccountRequest read_account_request(const std::vector<std::pair<std::string, std::string>> &fields,
                                    AccountRoute route = AccountRoute::scim);

// SCIM ids of this service never hold '@': such a value is an e-mail given where an id belongs. Refused, since a
// 404 for it would otherwise read as "already deleted" / "already revoked" while the account stays as it is.
void require_service_id(std::string_view id, const char *what, const char *field);

// delete_resource: only users can be deleted, named by id or by e-mail.
void check_delete_args(std::string_view type, std::string_view id);

// grant / revoke: the group the entitlement names (group:<gid>:member); the principal must be a user.
std::string membership_group_id(std::string_view entitlement_id, std::string_view principal_type,
                                std::string_view principal_id);

}  // namespace ce::provision
