// Provisioning through the Admin API (with admin-api-key configured): remove members, withdraw invites, add and
// remove members of `direct` groups, set a member's organisation role between `user` and `managed`. Each outcome
// is idempotent and decided from what was read and checked: a member, group or invite read by id must be that
// one; a member named by e-mail is taken only on an exact, unique match; "already granted" after a 400 only when
// the group's member list shows the member; "already revoked" after a 404 only once the group and the member are
// known to exist. What the API cannot change (owners and admins, `scim` groups, members while SCIM manages
// membership, custom roles) is refused with FAILED_PRECONDITION or UNSUPPORTED naming where to change it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "admin/admin_client.hpp"
#include "common/log.hpp"
#include "common/records.hpp"
#include "provision/provisioner.hpp"

namespace ce::provision {

class AdminProvisioner {
public:
    // `scim` (may be null): SCIM's provisioner and client, for what the Admin API refuses because SCIM manages it
    // (members of `scim` groups, removals while SCIM manages membership).
    AdminProvisioner(const admin::Client &client, Provisioner *scim, const scim::Client *scim_client, LogFn log)
        : client_(client), scim_(scim), scim_client_(scim_client), log_(std::move(log)) {}

    // An invite (Admin-only configs): role user or managed, optional rbac group ids. A member with that e-mail is
    // already_exists with the user; a pending invite for it already_exists with the invite.
    Outcome invite(const std::string &email, const std::string &role, const std::vector<std::string> &group_ids,
                   RecordSink *sink);
    // After SCIM created (or found) the account: the member the Admin API shows for that e-mail, as a sync would
    // give it (nullopt when the API does not show it yet).
    std::optional<Resource> member_resource(const std::string &email, const std::string &scim_id) const;
    // `user:<id>` (or email=<address>) removes the member; `invite:<id>` withdraws the invite.
    Outcome delete_resource(std::string_view type, std::string_view id);
    // `group:<gid>:member` or `org_role:<role>:assigned` to a user; the grant is delivered to sink (may be null).
    Outcome grant(std::string_view entitlement_id, std::string_view principal_type, std::string_view principal_id,
                  RecordSink *sink);
    Outcome revoke(std::string_view entitlement_id, std::string_view principal_type, std::string_view principal_id);

private:
    // The pending invite for this e-mail, if any (exact e-mail match only).
    std::optional<admin::Invite> pending_invite(const std::string &email) const;
    admin::Member member_of(std::string_view arg, const char *field) const;
    Outcome delete_member(std::string_view id);
    Outcome withdraw_invite(std::string_view id);
    // The group, read; a scim one without SCIM configured is refused (naming the identity provider).
    admin::Group writable_group(const std::string &gid, const char *verb) const;
    Outcome add_to_group(const std::string &gid, const admin::Member &m);
    Outcome remove_from_group(const std::string &gid, const admin::Member &m);
    Outcome set_org_role(const admin::Member &m, const std::string &role, bool revoking);
    [[noreturn]] void refused(const http::Response &r, std::string_view what) const;
    void log(LogLevel level, const std::string &msg) const;

    // The SCIM group an rbac group of source scim is (matched by its name, exactly and uniquely).
    std::string scim_group_of(const admin::Group &g) const;

    const admin::Client &client_;
    Provisioner *scim_;
    const scim::Client *scim_client_;
    LogFn log_;
};

}  // namespace ce::provision
