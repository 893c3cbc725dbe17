// Memberships: grant (PATCH add) and revoke (PATCH remove) of a group's member entitlement to a user, "already"
// decided only from a member list actually read.
#include "provision/provisioner.hpp"

#include "common/errors.hpp"
#include "scim/scim_records.hpp"

namespace ce::provision {
namespace {

Error group_not_found(const std::string &gid) {
    return Error::not_found("entitlement_id", "group " + gid + " not found").with_http(404);
}

}  // namespace

bool Provisioner::listed_membership(const std::string &gid, const std::string &uid, std::string_view why) {
    log(LogLevel::info, std::string(why) + "; reading the member list of group " + gid);
    const auto listed = client_.group_lists_member(gid, uid);
    if (!listed) throw group_not_found(gid);
    return *listed;
}

void Provisioner::patch_membership(const std::string &gid, const std::string &body, std::string_view what) {
    try {
        client_.patch_group(gid, body, what);
    } catch (const Error &e) {
        if (e.kind() == ErrorKind::not_found) throw group_not_found(gid);
        throw;
    }
}

Outcome Provisioner::grant(const std::string &gid, std::string_view principal_id, RecordSink *sink) {
    const auto resolved = user_id_of(principal_id, "principal_id");
    if (!resolved) throw Error::not_found("principal_id", "no user has this e-mail").with_http(404);
    const std::string &uid = *resolved;
    // The filter's answer carries no members: "already granted" is decided only from the member list itself.
    // A filter answering "no such group with that member" needs no list: adding is then what is asked.
    const scim::FilterAnswer hint = client_.group_has_member(gid, uid);
    const bool member = hint != scim::FilterAnswer::absent &&
                        listed_membership(gid, uid, hint == scim::FilterAnswer::listed
                                                        ? "the membership filter lists the group"
                                                        : "the service refused or ignored the membership filter");
    Outcome outcome = Outcome::granted;
    if (member) {
        outcome = Outcome::already_granted;
    } else {
        // The service drops member values that name no live user silently: make sure the user exists first.
        if (!client_.get_user(uid))
            throw Error::not_found("principal_id", "user " + uid + " not found").with_http(404);
        patch_membership(gid, scim::build_patch_add_member(uid), "adding a group member");
    }
    if (sink && !sink->grant(scim::member_grant(gid, "user", uid, false))) throw Error::stopped();
    return outcome;
}

Outcome Provisioner::revoke(const std::string &gid, std::string_view principal_id) {
    const auto uid = user_id_of(principal_id, "principal_id");
    if (!uid) {
        // No user has this e-mail, so none is a member; the group must still exist.
        if (!client_.group_exists(gid)) throw group_not_found(gid);
        return Outcome::already_revoked;
    }
    // "Already revoked" only from the member list itself: a filter's count cannot prove absence (a server that
    // ignores the filter, or half of it, answers for other groups).
    if (!listed_membership(gid, *uid, "revoke: checking the membership")) return Outcome::already_revoked;
    patch_membership(gid, scim::build_patch_remove_member(*uid), "removing a group member");
    return Outcome::revoked;
}

}  // namespace ce::provision
