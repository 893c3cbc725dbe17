// Provisioning through SCIM: create and delete accounts (provision/accounts.cpp), add and remove group members
// (provision/memberships.cpp). Every answer a decision rests on is checked against what was asked (a lookup by
// userName takes only a user of that userName, a read by id only that id; "already granted" / "already revoked"
// only from a member list actually read), so that a server that ignores filters cannot make the connector act on,
// or report, someone else's account. Arguments are checked first (provision/arguments.hpp), before any request.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/log.hpp"
#include "common/records.hpp"
#include "http/http_engine.hpp"
#include "provision/arguments.hpp"
#include "scim/scim_client.hpp"

namespace ce::provision {

// reactivated: the account existed deactivated (soft-deleted) and was enabled again (the ABI glue tells a host of
// ABI 1.0, which does not know the outcome, already_exists).
enum class Outcome {
    created,
    already_exists,
    reactivated,
    deleted,
    already_deleted,
    granted,
    already_granted,
    revoked,
    already_revoked
};

class Provisioner {
public:
    Provisioner(const scim::Client &client, LogFn log) : client_(client), log_(std::move(log)) {}

    // The account is delivered to sink (may be null).
    Outcome create_account(const AccountRequest &req, RecordSink *sink);
    // A user, by id or email=<address> (check_delete_args first).
    Outcome delete_user(std::string_view id);
    // gid from membership_group_id(); the user by id or email=<address>. The grant is delivered to sink (may be
    // null).
    Outcome grant(const std::string &gid, std::string_view principal_id, RecordSink *sink);
    Outcome revoke(const std::string &gid, std::string_view principal_id);

private:
    void log(LogLevel level, const std::string &msg) const;
    // The user id a user argument names: an id (refused when it cannot be one, e.g. holds '@'), or
    // "email=<address>" resolved by a checked userName lookup (nullopt: provably no such user).
    std::optional<std::string> user_id_of(std::string_view arg, const char *field);
    // The user a 2xx answer to POST /Users created (looked up by userName when the answer cannot be read).
    scim::User created_user(http::Response &r, const std::string &email);
    // The account a 409 for this userName refers to, reactivated when inactive (`reactivated` says so).
    scim::User existing_user(const std::string &email, bool &reactivated);
    // Whether uid is in the group's member list (read as it arrives; `why` is logged); throws not_found when the
    // group does not exist.
    bool listed_membership(const std::string &gid, const std::string &uid, std::string_view why);
    void patch_membership(const std::string &gid, const std::string &body, std::string_view what);

    const scim::Client &client_;
    LogFn log_;
};

}  // namespace ce::provision
