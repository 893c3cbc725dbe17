#include "provision/admin_provisioner.hpp"

#include "admin/admin_paging.hpp"
#include "admin/admin_records.hpp"
#include "common/errors.hpp"
#include "common/text.hpp"
#include "provision/arguments.hpp"

namespace ce::provision {
namespace {

struct EntitlementParts {
    std::string type, id, slug;
};

// <type>:<id>:<slug>; the id may itself hold ':'.
EntitlementParts split_entitlement(std::string_view e) {
    const auto first = e.find(':'), last = e.rfind(':');
    if (first == std::string_view::npos || last == first || text::has_control(e))
        throw Error::invalid_argument("entitlement_id",
                                      "entitlement id must be group:<id>:member or org_role:<role>:assigned");
    return {std::string(e.substr(0, first)), std::string(e.substr(first + 1, last - first - 1)),
            std::string(e.substr(last + 1))};
}

bool holds_admin_role(const admin::Member &m) {
    return m.role == "primary_owner" || m.role == "owner" || m.role == "membership_admin";
}

Error admin_role_refusal(const admin::Member &m, const char *what) {
    return Error::failed_precondition("principal_id", "member " + m.id + " holds the " + m.role + " role, which " +
                                                          what +
                                                          ": owner and admin roles are managed in claude.ai's "
                                                          "Organization settings");
}

void require_user_principal(std::string_view principal_type) {
    if (principal_type != "user")
        throw Error::invalid_argument("principal_type", "principal type must be \"user\" for this entitlement");
}

}  // namespace

void AdminProvisioner::log(LogLevel level, const std::string &msg) const {
    if (log_) log_(level, msg);
}

// The API refused: its message says why (cleaned by the client), with what to do where the API says it.
void AdminProvisioner::refused(const http::Response &r, std::string_view what) const {
    Error e = client_.error_for(r, what);
    if (r.is(400))
        throw Error(ErrorKind::failed_precondition, e.what(), e.field(), r.status);
    throw e;
}

std::optional<admin::Invite> AdminProvisioner::pending_invite(const std::string &email) const {
    std::optional<admin::Invite> found;
    admin::walk_cursor_pages<admin::Invite>(
        client_, "invites", &admin::parse_invite_page, "looking an invite up by e-mail",
        [&](std::vector<admin::Invite> &page) {
            for (auto &i : page)
                if (!found && i.status == "pending" && text::iequals(i.email, email)) found = std::move(i);
        },
        {{"email", email}});
    return found;
}

Outcome AdminProvisioner::invite(const std::string &email, const std::string &role,
                                 const std::vector<std::string> &group_ids, RecordSink *sink) {
    const auto deliver = [sink](const Resource &r) {
        if (sink && !sink->resource(r)) throw Error::stopped();
    };
    const auto existing = [&]() -> bool {
        if (const auto m = client_.find_member_by_email(email)) {
            deliver(admin::user_resource(*m));
            return true;
        }
        if (const auto i = pending_invite(email)) {
            deliver(admin::invite_resource(*i));
            return true;
        }
        return false;
    };
    if (existing()) return Outcome::already_exists;
    http::Response r = client_.send(http::Method::post, client_.url("invites"), admin::build_invite(email, role, group_ids));
    if (r.ok()) {
        admin::Invite created;
        try {
            created = admin::parse_invite(r.body);
        } catch (const admin::ParseError &e) {
            throw client_.malformed("creating an invite", e.what(), r.status);
        }
        if (!text::iequals(created.email, email))
            throw client_.malformed("creating an invite", "the answer describes an invite for another e-mail", r.status);
        deliver(admin::invite_resource(created));
        return Outcome::created;
    }
    if (!r.is(400)) throw client_.error_for(r, "creating an invite");
    if (existing()) return Outcome::already_exists;  // made meanwhile by someone else
    throw Error::failed_precondition("email", std::string(client_.error_for(r, "creating an invite").what()) +
                                                  "; if the organisation provisions users through its identity "
                                                  "provider (SCIM or JIT), create accounts through SCIM: configure "
                                                  "scim-url and scim-token")
        .with_http(400);
}

std::optional<Resource> AdminProvisioner::member_resource(const std::string &email, const std::string &scim_id) const {
    const auto m = client_.find_member_by_email(email);
    if (!m) return std::nullopt;
    return admin::user_resource(*m, scim_id);
}

admin::Member AdminProvisioner::member_of(std::string_view arg, const char *field) const {
    if (names_by_email(arg)) {
        const std::string email(arg.substr(kEmailPrefix.size()));
        auto m = client_.find_member_by_email(email);
        if (!m) throw Error::not_found(field, "no member has the e-mail " + email).with_http(404);
        return *m;
    }
    require_service_id(arg, "user", field);
    auto m = client_.get_member(arg);
    if (!m) throw Error::not_found(field, "member " + std::string(arg) + " not found").with_http(404);
    return *m;
}

Outcome AdminProvisioner::delete_resource(std::string_view type, std::string_view id) {
    if (type == "invite") {
        require_service_id(id, "invite", "resource_id");
        return withdraw_invite(id);
    }
    if (type != "user")
        throw Error::unsupported("resource_type", "only users and invites can be deleted through the Admin API");
    if (!names_by_email(id)) require_service_id(id, "user", "resource_id");
    return delete_member(id);
}

Outcome AdminProvisioner::delete_member(std::string_view arg) {
    std::optional<admin::Member> m;
    if (names_by_email(arg)) {
        m = client_.find_member_by_email(arg.substr(kEmailPrefix.size()));
    } else {
        m = client_.get_member(arg);
    }
    if (!m) return Outcome::already_deleted;
    if (holds_admin_role(*m)) throw admin_role_refusal(*m, "the Admin API cannot remove");
    const http::Response r = client_.send(http::Method::del, client_.url("users/" + admin::path_segment(m->id)));
    if (r.is(404)) return Outcome::already_deleted;
    if (r.is(400) && scim_) {
        log(LogLevel::info, "the Admin API refused to remove member " + m->id + "; removing the SCIM user instead");
        return scim_->delete_user(std::string(kEmailPrefix) + m->email);
    }
    if (r.is(400))
        throw Error::failed_precondition("resource_id",
                                         "the Admin API refused to remove member " + m->id + " (" + m->email +
                                             "): the organisation's identity provider manages membership (SCIM); "
                                             "remove the user in the identity provider (or through SCIM with a "
                                             "SCIM-only config)")
            .with_http(400);
    if (!r.ok()) throw client_.error_for(r, "removing a member");
    log(LogLevel::info, "removed member " + m->id);
    return Outcome::deleted;
}

Outcome AdminProvisioner::withdraw_invite(std::string_view id) {
    const auto invite = client_.get_invite(id);
    if (!invite || invite->status == "deleted" || invite->status == "expired") return Outcome::already_deleted;
    if (invite->status == "accepted")
        throw Error::failed_precondition("resource_id", "invite " + std::string(id) +
                                                            " was accepted: its person is a member now; delete the "
                                                            "user instead");
    const http::Response r = client_.send(http::Method::del, client_.url("invites/" + admin::path_segment(id)));
    if (r.is(404)) return Outcome::already_deleted;
    if (r.is(400)) {  // it stopped being pending meanwhile
        const auto again = client_.get_invite(id);
        if (!again || again->status != "pending") return Outcome::already_deleted;
        refused(r, "withdrawing an invite");
    }
    if (!r.ok()) throw client_.error_for(r, "withdrawing an invite");
    return Outcome::deleted;
}

Outcome AdminProvisioner::grant(std::string_view entitlement_id, std::string_view principal_type,
                                std::string_view principal_id, RecordSink *sink) {
    const EntitlementParts e = split_entitlement(entitlement_id);
    Outcome out{};
    if (e.type == "role")
        throw Error::unsupported("entitlement_id", "custom roles are attached to groups in claude.ai; the Admin API "
                                                   "cannot change them");
    require_user_principal(principal_type);
    const admin::Member m = member_of(principal_id, "principal_id");
    if (e.type == "group" && e.slug == "member") {
        out = add_to_group(e.id, m);
    } else if (e.type == "org_role" && e.slug == "assigned") {
        out = set_org_role(m, e.id, false);
    } else {
        throw Error::invalid_argument("entitlement_id",
                                      "entitlement id must be group:<id>:member or org_role:<role>:assigned");
    }
    if (sink && !sink->grant(admin::make_grant(std::string(entitlement_id), "user", m.id, false)))
        throw Error::stopped();
    return out;
}

Outcome AdminProvisioner::revoke(std::string_view entitlement_id, std::string_view principal_type,
                                 std::string_view principal_id) {
    const EntitlementParts e = split_entitlement(entitlement_id);
    if (e.type == "role")
        throw Error::unsupported("entitlement_id", "custom roles are attached to groups in claude.ai; the Admin API "
                                                   "cannot change them");
    require_user_principal(principal_type);
    const admin::Member m = member_of(principal_id, "principal_id");
    if (e.type == "group" && e.slug == "member") return remove_from_group(e.id, m);
    if (e.type == "org_role" && e.slug == "assigned") return set_org_role(m, e.id, true);
    throw Error::invalid_argument("entitlement_id",
                                  "entitlement id must be group:<id>:member or org_role:<role>:assigned");
}

admin::Group AdminProvisioner::writable_group(const std::string &gid, const char *verb) const {
    require_service_id(gid, "group", "entitlement_id");
    const auto g = client_.get_group(gid);
    if (!g) throw Error::not_found("entitlement_id", "group " + gid + " not found").with_http(404);
    if (g->source_type == "scim" && !scim_)
        throw Error::failed_precondition("entitlement_id",
                                         "group " + gid + " (" + text::one_line(g->name, 80) +
                                             ") is provisioned by the identity provider (SCIM): " + verb +
                                             " its members in the identity provider");
    return *g;
}

std::string AdminProvisioner::scim_group_of(const admin::Group &g) const {
    const auto id = scim_client_->find_group_by_display_name(g.name);
    if (!id)
        throw Error::failed_precondition("entitlement_id", "group " + g.id + " comes from SCIM, but SCIM has no group "
                                                           "named \"" + text::one_line(g.name, 80) + "\"");
    return *id;
}

Outcome AdminProvisioner::add_to_group(const std::string &gid, const admin::Member &m) {
    const admin::Group g = writable_group(gid, "add");
    if (g.source_type == "scim") return scim_->grant(scim_group_of(g), std::string(kEmailPrefix) + m.email, nullptr);
    const http::Response r =
        client_.send(http::Method::post, client_.url("rbac_groups/" + admin::path_segment(gid) + "/members"),
                     admin::build_group_member(m.id));
    if (r.ok()) return Outcome::granted;
    if (r.is(400) && client_.group_lists_member(gid, m.id)) return Outcome::already_granted;
    if (r.is(404)) throw Error::not_found("principal_id", "member " + m.id + " is not in the organisation").with_http(404);
    refused(r, "adding a group member");
}

Outcome AdminProvisioner::remove_from_group(const std::string &gid, const admin::Member &m) {
    const admin::Group g = writable_group(gid, "remove");
    if (g.source_type == "scim") return scim_->revoke(scim_group_of(g), std::string(kEmailPrefix) + m.email);
    const http::Response r = client_.send(
        http::Method::del, client_.url("rbac_groups/" + admin::path_segment(gid) + "/members/" +
                                       admin::path_segment(m.id)));
    if (r.ok()) return Outcome::revoked;
    if (r.is(404)) return Outcome::already_revoked;  // the group and the member were just read: not in the group
    refused(r, "removing a group member");
}

Outcome AdminProvisioner::set_org_role(const admin::Member &m, const std::string &role, bool revoking) {
    const bool settable = role == "user" || role == "managed";
    if (!settable || (revoking && role != "managed"))
        throw Error::failed_precondition("entitlement_id",
                                         "only the user and managed roles can be set through the Admin API (revoke "
                                         "managed to make a member a user): owner and admin roles are managed in "
                                         "claude.ai's Organization settings");
    if (revoking && m.role != "managed") return Outcome::already_revoked;
    if (!revoking && m.role == role) return Outcome::already_granted;
    if (holds_admin_role(m)) throw admin_role_refusal(m, "the Admin API cannot change");
    const std::string target = revoking ? "user" : role;
    const http::Response r = client_.send(http::Method::post, client_.url("users/" + admin::path_segment(m.id)),
                                          admin::build_role_change(target));
    if (!r.ok()) refused(r, "changing a member's role");
    log(LogLevel::info, "member " + m.id + " now holds the " + target + " role");
    return revoking ? Outcome::revoked : Outcome::granted;
}

}  // namespace ce::provision
