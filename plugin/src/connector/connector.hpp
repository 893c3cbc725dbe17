// The connector: Claude Enterprise SCIM mapped to resources (user, group), entitlements (group member) and
// grants (memberships), plus provisioning. Uses the SCIM client; knows nothing of the ABI's types.
// All work happens on the calling thread (libcurl multi); no thread is started.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/log.hpp"
#include "connector/config.hpp"
#include "connector/records.hpp"
#include "http/http_engine.hpp"
#include "scim/scim_client.hpp"

namespace ce::connector {

struct Progress {
    std::string_view phase;  // "users", "groups", "memberships"
    uint64_t requests = 0, pages = 0, resources = 0, entitlements = 0, grants = 0, total_hint = 0;
};

struct CallContext {
    std::function<bool()> cancelled;                 // may be empty
    std::function<void(const Progress &)> progress;  // may be empty
};

struct SyncStats {
    uint64_t resources = 0, entitlements = 0, grants = 0, requests = 0, retries = 0, pages = 0, warnings = 0,
             unresolved = 0;
};

struct CheckResult {
    int64_t user_count = -1;
    std::string message;
};

enum class Outcome { created, already_exists, deleted, already_deleted, granted, already_granted, revoked, already_revoked };

class Connector {
public:
    Connector(Config config, LogFn log);

    CheckResult check(const CallContext &ctx);
    // Streams every user, group, entitlement and grant exactly once. `stats` is filled as the sync goes
    // (also when it throws).
    void sync(const CallContext &ctx, RecordSink &sink, SyncStats &stats);
    // Fields: "email" and "display_name" (both required). The account is delivered to sink (may be null).
    Outcome create_account(const CallContext &ctx, const std::vector<std::pair<std::string, std::string>> &fields,
                           RecordSink *sink);
    Outcome delete_resource(const CallContext &ctx, std::string_view type, std::string_view id);
    Outcome grant(const CallContext &ctx, std::string_view entitlement_id, std::string_view principal_type,
                  std::string_view principal_id, RecordSink *sink);
    Outcome revoke(const CallContext &ctx, std::string_view entitlement_id, std::string_view principal_type,
                   std::string_view principal_id);

    const Config &config() const { return config_; }

private:
    void begin(const CallContext &ctx);
    void log(LogLevel level, const std::string &msg) const;
    std::string validate_membership_args(std::string_view entitlement_id, std::string_view principal_type,
                                         std::string_view principal_id) const;
    // Whether uid is in the group's member list (read as it arrives; `why` is logged); throws not_found when the
    // group does not exist.
    bool listed_membership(const std::string &gid, const std::string &uid, std::string_view why);
    void patch_membership(const std::string &gid, const std::string &body, std::string_view what);
    // The user id a user argument names: an id (refused when it cannot be one, e.g. holds '@'), or
    // "email=<address>" resolved by a checked userName lookup (nullopt: provably no such user).
    std::optional<std::string> user_id_of(std::string_view arg, const char *field);
    // The user a 2xx answer to POST /Users created (looked up by userName when the answer cannot be read).
    scim::User created_user(http::Response &r, const std::string &email);
    // The account a 409 for this userName refers to, reactivated when inactive.
    scim::User existing_user(const std::string &email);

    Config config_;
    LogFn log_;
    std::unique_ptr<http::Engine> engine_;
    std::unique_ptr<scim::Client> client_;
};

}  // namespace ce::connector
