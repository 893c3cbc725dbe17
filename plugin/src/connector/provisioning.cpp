// Provisioning through SCIM: create and delete accounts, add and remove group members. Every answer a decision
// rests on is checked against what was asked (a lookup by userName takes only a user of that userName, a read by
// id only that id; "already granted" / "already revoked" only from a member list actually read), so that a server
// that ignores filters cannot make the connector act on, or report, someone else's account.
#include "connector/connector.hpp"

#include "common/text.hpp"
#include "connector/account_fields.hpp"
#include "connector/records.hpp"

namespace ce::connector {
namespace {

[[noreturn]] void stopped() { throw Error(ErrorKind::stopped, "the host's sink asked to stop"); }

// The prefix of a user argument that names the user by e-mail instead of by id: "email=jane@example.com".
constexpr std::string_view kEmailPrefix = "email=";

struct AccountRequest {
    std::string email;
    SplitName name;
};

std::string shown_field_name(const std::string &key) {
    std::string shown = key.substr(0, 40);
    for (auto &ch : shown)
        if (static_cast<unsigned char>(ch) < 0x20) ch = '?';
    return shown;
}

void take_once(std::optional<std::string> &slot, const std::string &value, const char *field) {
    if (slot) throw Error(ErrorKind::invalid_argument, std::string(field) + " is given more than once", 0, 0, field);
    slot = value;
}

AccountRequest read_account_fields(const std::vector<std::pair<std::string, std::string>> &fields) {
    std::optional<std::string> email, display;
    for (const auto &[k, v] : fields) {
        if (k == "email") take_once(email, v, "email");
        else if (k == "display_name") take_once(display, v, "display_name");
        else {
            const std::string shown = shown_field_name(k);
            throw Error(ErrorKind::invalid_argument, "unknown account field \"" + shown + "\"", 0, 0, shown);
        }
    }
    if (!email || email->empty()) throw Error(ErrorKind::invalid_argument, "email is required", 0, 0, "email");
    if (!looks_like_email(*email))
        throw Error(ErrorKind::invalid_argument, "email is not a valid e-mail address", 0, 0, "email");
    if (!display) throw Error(ErrorKind::invalid_argument, "display_name is required", 0, 0, "display_name");
    AccountRequest req{*email, split_display_name(*display)};
    if (req.name.full.empty()) throw Error(ErrorKind::invalid_argument, "display_name is empty", 0, 0, "display_name");
    if (text::has_control(req.name.full))
        throw Error(ErrorKind::invalid_argument, "display_name contains control characters", 0, 0, "display_name");
    return req;
}

// SCIM ids of this service never hold '@': such a value is an e-mail given where an id belongs. Refused, since a
// 404 for it would otherwise read as "already deleted" / "already revoked" while the account stays as it is.
void require_service_id(std::string_view id, const char *what, const char *field) {
    if (id.empty() || text::has_control(id))
        throw Error(ErrorKind::invalid_argument, std::string(what) + " id is empty or holds control characters", 0, 0,
                    field);
    if (id.find('@') != std::string_view::npos)
        throw Error(ErrorKind::invalid_argument,
                    std::string(what) + " id \"" + std::string(id) +
                        "\" looks like an e-mail address, not an id of this service" +
                        (std::string_view(what) == "user" ? "; name the user by e-mail as email=<address>" : ""),
                    0, 0, field);
}

}  // namespace

std::optional<std::string> Connector::user_id_of(std::string_view arg, const char *field) {
    if (arg.substr(0, kEmailPrefix.size()) != kEmailPrefix) {
        require_service_id(arg, "user", field);
        return std::string(arg);
    }
    const std::string email(arg.substr(kEmailPrefix.size()));
    if (!looks_like_email(email) || text::has_control(email))
        throw Error(ErrorKind::invalid_argument, "email= must be followed by an e-mail address", 0, 0, field);
    scim::UserLookup found = client_->find_user_by_user_name(email);
    if (found.user) return std::move(found.user->id);
    if (found.proven_absent) return std::nullopt;
    throw Error(ErrorKind::failed_precondition,
                "the service ignored the userName filter, so the user with this e-mail cannot be identified; give "
                "the user's id instead",
                0, 0, field);
}

Outcome Connector::create_account(const CallContext &ctx,
                                   const std::vector<std::pair<std::string, std::string>> &fields, RecordSink *sink) {
    const AccountRequest req = read_account_fields(fields);
    begin(ctx);
    scim::NewUser nu;
    nu.user_name = req.email;
    nu.email = req.email;
    nu.display_name = req.name.full;
    nu.given_name = req.name.given;
    nu.family_name = req.name.family;
    http::Response r = client_->post_user(nu);

    Outcome outcome = Outcome::created;
    scim::User user;
    if (r.failure == http::Failure::none && (r.status == 200 || r.status == 201)) {
        user = created_user(r, req.email);
    } else if (r.failure == http::Failure::none && r.status == 409) {
        user = existing_user(req.email);
        outcome = Outcome::already_exists;
    } else {
        throw client_->error_for(r, "creating a user");
    }
    if (sink && !sink->resource(user_resource(user))) stopped();
    return outcome;
}

scim::User Connector::created_user(http::Response &r, const std::string &email) {
    std::optional<scim::User> user;
    try {
        user = scim::parse_user(r.body);
        if (!text::iequals(user->user_name, email) || user->id.empty()) user.reset();  // not what was created
    } catch (const scim::ParseError &) {
    }
    if (!user) {
        // Created, but the answer cannot be read or names another account: find the one with this userName.
        scim::UserLookup found = client_->find_user_by_user_name(email);
        if (!found.user)
            throw client_->malformed("creating a user", "the answer names no user with this userName", r.status);
        user = std::move(found.user);
    }
    log(LogLevel::info, "create_account: created user " + user->id);
    return std::move(*user);
}

scim::User Connector::existing_user(const std::string &email) {
    // The userName exists (also after a retried POST whose first attempt did land): find exactly that account.
    scim::UserLookup found = client_->find_user_by_user_name(email);
    if (!found.user)
        throw Error(ErrorKind::already_exists,
                    found.proven_absent
                        ? "the service reports a conflict (HTTP 409) for this userName but no user with it can be found"
                        : "the service reports a conflict (HTTP 409) for this userName and ignored the userName filter "
                          "of the lookup, so the existing account cannot be identified; nothing was changed",
                    409, 0, "email");
    if (!found.user->active) {
        client_->set_user_active(found.user->id, true);
        found.user->active = true;
        log(LogLevel::info, "create_account: reactivated existing user " + found.user->id);
    }
    return std::move(*found.user);
}

Outcome Connector::delete_resource(const CallContext &ctx, std::string_view type, std::string_view id) {
    if (type == "group") throw Error(ErrorKind::unsupported, "groups cannot be deleted through SCIM by the connector");
    if (type != "user")
        throw Error(ErrorKind::invalid_argument, "unknown resource type (expected \"user\")", 0, 0, "resource_type");
    if (id.substr(0, kEmailPrefix.size()) != kEmailPrefix) require_service_id(id, "user", "resource_id");
    begin(ctx);
    const auto uid = user_id_of(id, "resource_id");
    if (!uid) return Outcome::already_deleted;  // no user has this e-mail
    const auto user = client_->get_user(*uid);
    if (!user || !user->active) return Outcome::already_deleted;
    return client_->delete_user(*uid) ? Outcome::deleted : Outcome::already_deleted;
}

std::string Connector::validate_membership_args(std::string_view entitlement_id, std::string_view principal_type,
                                                std::string_view principal_id) const {
    std::string gid = group_id_from_entitlement(entitlement_id);
    if (gid.empty() || text::has_control(gid))
        throw Error(ErrorKind::invalid_argument, "entitlement id must be group:<group id>:member", 0, 0,
                    "entitlement_id");
    require_service_id(gid, "group", "entitlement_id");
    if (principal_type == "group")
        throw Error(ErrorKind::unsupported, "only users can be granted group membership", 0, 0, "principal_type");
    if (principal_type != "user")
        throw Error(ErrorKind::invalid_argument, "principal type must be \"user\"", 0, 0, "principal_type");
    if (principal_id.substr(0, kEmailPrefix.size()) != kEmailPrefix)
        require_service_id(principal_id, "user", "principal_id");
    return gid;
}

bool Connector::listed_membership(const std::string &gid, const std::string &uid, std::string_view why) {
    log(LogLevel::info, std::string(why) + "; reading the member list of group " + gid);
    const auto listed = client_->group_lists_member(gid, uid);
    if (!listed) throw Error(ErrorKind::not_found, "group " + gid + " not found", 404, 0, "entitlement_id");
    return *listed;
}

void Connector::patch_membership(const std::string &gid, const std::string &body, std::string_view what) {
    try {
        client_->patch_group(gid, body, what);
    } catch (const Error &e) {
        if (e.kind() == ErrorKind::not_found)
            throw Error(ErrorKind::not_found, "group " + gid + " not found", 404, 0, "entitlement_id");
        throw;
    }
}

Outcome Connector::grant(const CallContext &ctx, std::string_view entitlement_id, std::string_view principal_type,
                         std::string_view principal_id, RecordSink *sink) {
    const std::string gid = validate_membership_args(entitlement_id, principal_type, principal_id);
    begin(ctx);
    const auto resolved = user_id_of(principal_id, "principal_id");
    if (!resolved) throw Error(ErrorKind::not_found, "no user has this e-mail", 404, 0, "principal_id");
    const std::string &uid = *resolved;
    // The filter's answer carries no members: "already granted" is decided only from the member list itself.
    // A filter answering "no such group with that member" needs no list: adding is then what is asked.
    const scim::FilterAnswer hint = client_->group_has_member(gid, uid);
    const bool member = hint != scim::FilterAnswer::absent &&
                        listed_membership(gid, uid, hint == scim::FilterAnswer::listed
                                                        ? "the membership filter lists the group"
                                                        : "the service refused or ignored the membership filter");
    Outcome outcome = Outcome::granted;
    if (member) {
        outcome = Outcome::already_granted;
    } else {
        // The service drops member values that name no live user silently: make sure the user exists first.
        if (!client_->get_user(uid)) throw Error(ErrorKind::not_found, "user " + uid + " not found", 404, 0, "principal_id");
        patch_membership(gid, scim::build_patch_add_member(uid), "adding a group member");
    }
    if (sink && !sink->grant(member_grant(gid, "user", uid, false))) stopped();
    return outcome;
}

Outcome Connector::revoke(const CallContext &ctx, std::string_view entitlement_id, std::string_view principal_type,
                          std::string_view principal_id) {
    const std::string gid = validate_membership_args(entitlement_id, principal_type, principal_id);
    begin(ctx);
    const auto uid = user_id_of(principal_id, "principal_id");
    if (!uid) {
        // No user has this e-mail, so none is a member; the group must still exist.
        if (!client_->group_exists(gid)) throw Error(ErrorKind::not_found, "group " + gid + " not found", 404, 0, "entitlement_id");
        return Outcome::already_revoked;
    }
    // "Already revoked" only from the member list itself: a filter's count cannot prove absence (a server that
    // ignores the filter, or half of it, answers for other groups).
    if (!listed_membership(gid, *uid, "revoke: checking the membership")) return Outcome::already_revoked;
    patch_membership(gid, scim::build_patch_remove_member(*uid), "removing a group member");
    return Outcome::revoked;
}

}  // namespace ce::connector
