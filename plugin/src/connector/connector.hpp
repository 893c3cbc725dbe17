// The connector: the one object the ABI glue drives, a facade over the operations. check() is here; sync goes to
// sync/ (one SyncRun a SCIM-only sync, one AdminSyncRun a sync with an Admin API key), account and membership
// provisioning to provision/. It owns what the operations share: for each configured source its HTTP engine and
// client (SCIM's engine runs `concurrency` requests at once; the Admin API's is paced under
// admin-api-rate-limit), built from the config. Knows nothing of the ABI's types.
// All work happens on the calling thread (libcurl multi); no thread is started.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "admin/admin_client.hpp"
#include "common/call_context.hpp"
#include "common/log.hpp"
#include "common/records.hpp"
#include "config/config.hpp"
#include "http/http_engine.hpp"
#include "provision/admin_provisioner.hpp"
#include "provision/provisioner.hpp"
#include "scim/scim_client.hpp"
#include "sync/sync_run.hpp"

namespace ce::connector {

using provision::Outcome;
using sync::SyncStats;

struct CheckResult {
    int64_t user_count = -1;
    std::string message;
};

class Connector {
public:
    Connector(config::Config config, LogFn log);

    CheckResult check(const CallContext &ctx);
    // Streams every user, group, entitlement and grant exactly once. `stats` is filled as the sync goes
    // (also when it throws). resume_from: a checkpoint token of an earlier sync of this config, or "".
    void sync(const CallContext &ctx, RecordSink &sink, SyncStats &stats, std::string_view resume_from = {});
    // Fields: "email" and "display_name" (both required). The account is delivered to sink (may be null).
    Outcome create_account(const CallContext &ctx, const std::vector<std::pair<std::string, std::string>> &fields,
                           RecordSink *sink);
    Outcome delete_resource(const CallContext &ctx, std::string_view type, std::string_view id);
    Outcome grant(const CallContext &ctx, std::string_view entitlement_id, std::string_view principal_type,
                  std::string_view principal_id, RecordSink *sink);
    Outcome revoke(const CallContext &ctx, std::string_view entitlement_id, std::string_view principal_type,
                   std::string_view principal_id);

private:
    // Every operation, once its arguments are checked: the host's cancel predicate, fresh engine counts, the
    // retry budget (retry-budget-ms unless the operation asks for less).
    void begin(const CallContext &ctx) { begin(ctx, config_.retry_budget_ms); }
    void begin(const CallContext &ctx, int64_t retry_budget_ms);
    // The most a check retries one request: an unreachable or failing service fails a check in seconds.
    static constexpr int64_t kCheckRetryBudgetMs = 5000;
    std::string check_scim(int64_t &user_count);
    std::string check_admin_api();
    void log(LogLevel level, const std::string &msg) const;

    config::Config config_;
    LogFn log_;
    std::unique_ptr<http::Engine> engine_;
    std::unique_ptr<scim::Client> client_;
    std::unique_ptr<http::Engine> admin_engine_;
    std::unique_ptr<admin::Client> admin_client_;
    std::unique_ptr<provision::AdminProvisioner> admin_provisioner_;
    std::unique_ptr<provision::Provisioner> provisioner_;
};

}  // namespace ce::connector
