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
    // For a server that refuses the membership filter: whether uid is in the group's member list (read as it
    // arrives); throws not_found when the group does not exist.
    bool listed_membership(const std::string &gid, const std::string &uid);

    Config config_;
    LogFn log_;
    std::unique_ptr<http::Engine> engine_;
    std::unique_ptr<scim::Client> client_;
};

}  // namespace ce::connector
