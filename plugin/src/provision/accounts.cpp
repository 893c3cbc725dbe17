// Accounts: create (POST /Users, a 409 resolved to the existing account) and delete (a user by id or e-mail).
#include "provision/provisioner.hpp"

#include "common/errors.hpp"
#include "common/text.hpp"
#include "scim/scim_records.hpp"

namespace ce::provision {

void Provisioner::log(LogLevel level, const std::string &msg) const {
    if (log_) log_(level, msg);
}

std::optional<std::string> Provisioner::user_id_of(std::string_view arg, const char *field) {
    if (!names_by_email(arg)) {
        require_service_id(arg, "user", field);
        return std::string(arg);
    }
    const std::string email(arg.substr(kEmailPrefix.size()));
    if (!text::looks_like_email(email) || text::has_control(email))
        throw Error::invalid_argument(field, "email= must be followed by an e-mail address");
    scim::UserLookup found = client_.find_user_by_user_name(email);
    if (found.user) return std::move(found.user->id);
    if (found.proven_absent) return std::nullopt;
    throw Error::failed_precondition(field, "the service ignored the userName filter, so the user with this e-mail "
                                            "cannot be identified; give the user's id instead");
}

Outcome Provisioner::create_account(const AccountRequest &req, RecordSink *sink) {
    scim::NewUser nu;
    nu.user_name = req.email;
    nu.email = req.email;
    nu.display_name = req.name.full;
    nu.given_name = req.name.given;
    nu.family_name = req.name.family;
    http::Response r = client_.post_user(nu);

    Outcome outcome = Outcome::created;
    scim::User user;
    if (r.is(200) || r.is(201)) {
        user = created_user(r, req.email);
    } else if (r.is(409)) {
        bool reactivated = false;
        user = existing_user(req.email, reactivated);
        outcome = reactivated ? Outcome::reactivated : Outcome::already_exists;
    } else {
        throw client_.error_for(r, "creating a user");
    }
    if (sink && !sink->resource(scim::user_resource(user))) throw Error::stopped();
    return outcome;
}

scim::User Provisioner::created_user(http::Response &r, const std::string &email) {
    std::optional<scim::User> user;
    try {
        user = scim::parse_user(r.body);
        if (!text::iequals(user->user_name, email) || user->id.empty()) user.reset();  // not what was created
    } catch (const scim::ParseError &) {
    }
    if (!user) {
        // Created, but the answer cannot be read or names another account: find the one with this userName.
        scim::UserLookup found = client_.find_user_by_user_name(email);
        if (!found.user)
            throw client_.malformed("creating a user", "the answer names no user with this userName", r.status);
        user = std::move(found.user);
    }
    log(LogLevel::info, "create_account: created user " + user->id);
    return std::move(*user);
}

scim::User Provisioner::existing_user(const std::string &email, bool &reactivated) {
    // The userName exists (also after a retried POST whose first attempt did land): find exactly that account.
    scim::UserLookup found = client_.find_user_by_user_name(email);
    if (!found.user)
        throw Error::already_exists(
            "email", found.proven_absent
                         ? "the service reports a conflict (HTTP 409) for this userName but no user with it can be "
                           "found"
                         : "the service reports a conflict (HTTP 409) for this userName and ignored the userName "
                           "filter of the lookup, so the existing account cannot be identified; nothing was changed")
            .with_http(409);
    if (!found.user->active) {
        client_.set_user_active(found.user->id, true);
        found.user->active = true;
        reactivated = true;
        log(LogLevel::info, "create_account: reactivated existing user " + found.user->id);
    }
    return std::move(*found.user);
}

Outcome Provisioner::delete_user(std::string_view id) {
    const auto uid = user_id_of(id, "resource_id");
    if (!uid) return Outcome::already_deleted;  // no user has this e-mail
    const auto user = client_.get_user(*uid);
    if (!user || !user->active) return Outcome::already_deleted;
    return client_.delete_user(*uid) ? Outcome::deleted : Outcome::already_deleted;
}

}  // namespace ce::provision
