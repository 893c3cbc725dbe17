// The simulator's Admin API view (GET /_admin/state: members, rbac_groups, roles, invites) as the records a sync
// through the Admin API must deliver, and the differences between a sync and it. Shared by the plugin's
// integration tests and the fault soak (tests/reliability); no test framework.
#pragma once

#include "plugin_harness_core.hpp"

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace plugin_test {

struct AdminTruth {
    std::map<std::string, Record> resources;  // "<type>:<id>"; attrs: only those the truth knows
    std::set<std::string> entitlements;
    std::set<std::string> grants;
    std::set<std::string> unresolved;  // grants whose role the sync cannot know (a role of another organisation)
};

// with_scim_ids: SCIM is configured too, so a member that SCIM provisioned carries its scim_id. Throws
// std::runtime_error when the state is not the simulator's JSON.
AdminTruth admin_truth(const std::string &state_json, bool with_scim_ids);

// What a sync delivered, in the shape both harnesses can give.
struct DeliveredSync {
    std::vector<Record> resources;
    std::vector<std::string> entitlement_ids;
    std::vector<GrantRec> grants;
    std::vector<std::pair<std::string, std::string>> warnings;  // code, message
};

// Differences between a sync and the truth (empty when equal): every resource once with the attributes the truth
// names (a user without a scim_id in the truth must have none), nothing else; every entitlement and grant exactly
// once, the unresolved flag on exactly the unresolved grants. Members for which skip_email(email) is true
// (drift-* users created or deleted during the sync) are left out, with the grants naming them. The role grants of
// a group named by an incomplete_group_roles warning may be missing (the sync said so); nothing else may.
std::vector<std::string> admin_differences(const DeliveredSync &sync, const AdminTruth &truth,
                                           const std::function<bool(const std::string &)> &skip_email = {});

}  // namespace plugin_test
