// SCIM resources as the connector's records (common/records.hpp): users and groups as resources, a "member"
// entitlement per group, a grant per membership, and the ids that name them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/records.hpp"
#include "scim/scim_json.hpp"

namespace ce::scim {

Resource user_resource(const User &u);
Resource group_resource(const Group &g, int64_t member_count);
Entitlement member_entitlement(const std::string &group_id, const std::string &group_display_name);
std::string entitlement_id_for_group(std::string_view group_id);
Grant member_grant(const std::string &group_id, const std::string &principal_type, const std::string &principal_id,
                   bool unresolved);
// "group:<gid>:member" -> gid; empty when the id is not of that form.
std::string group_id_from_entitlement(std::string_view entitlement_id);

}  // namespace ce::scim
