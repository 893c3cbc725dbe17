// How the Admin API's objects become the connector's records (README "What each source sees"):
//   user     <- a member         id user_…, attributes email, login, org_role, added_at, status (+ scim_id)
//   group    <- an rbac group    attributes source (direct/scim), member_count; entitlement group:<id>:member
//   role     <- an rbac role     attribute source (built_in/custom) when given; entitlement role:<id>:assigned
//   org_role <- fixed            entitlement org_role:<id>:assigned, one grant per member from its role
//   invite   <- an invite        attributes email, role, status, expires_at
// Grant ids are <entitlement id>:<principal type>:<principal id>, as for SCIM.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "admin/admin_json.hpp"
#include "common/records.hpp"

namespace ce::admin {

struct OrgRole {
    const char *id;
    const char *display_name;
};
// The organisation roles of an Enterprise member (the fact sheet), in order of power.
inline constexpr std::array<OrgRole, 5> kOrgRoles{{{"primary_owner", "Primary owner"},
                                                   {"owner", "Owner"},
                                                   {"membership_admin", "Membership admin"},
                                                   {"managed", "Managed"},
                                                   {"user", "User"}}};
bool is_org_role(std::string_view id);

// `scim_id`: the SCIM user with the member's e-mail, "" when none is known.
Resource user_resource(const Member &m, std::string_view scim_id = {});
Resource group_resource(const Group &g, int64_t member_count);
Resource role_resource(const Role &r);
Resource org_role_resource(const OrgRole &r);
Resource invite_resource(const Invite &i);

std::string group_entitlement_id(std::string_view group_id);
std::string role_entitlement_id(std::string_view role_id);
std::string org_role_entitlement_id(std::string_view org_role);
Entitlement group_entitlement(const Group &g);
Entitlement role_entitlement(const Role &r);
Entitlement org_role_entitlement(const OrgRole &r);

Grant make_grant(std::string entitlement_id, std::string principal_type, std::string principal_id, bool unresolved);

}  // namespace ce::admin
