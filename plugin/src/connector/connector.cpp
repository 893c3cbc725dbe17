#include "connector/connector.hpp"

#include <algorithm>

#include "common/errors.hpp"
#include "common/units.hpp"
#include "config/fields.hpp"
#include "sync/admin_sync_run.hpp"

namespace ce::connector {
namespace {

http::EngineOptions engine_options(const config::Config &c) {
    http::EngineOptions o;
    o.concurrency = c.concurrency;
    o.connect_timeout_ms = c.connect_timeout_ms;
    o.request_timeout_ms = c.request_timeout_ms;
    o.max_response_bytes = c.max_response_mb * kMiB;
    o.limit_name = config::name_of<&config::Config::max_response_mb>();
    o.ca_file = c.ca_file;
    o.user_agent = std::string("claude-enterprise-connector/") + CE_PLUGIN_VERSION;
    o.backoff.budget_ms = c.retry_budget_ms;
    return o;
}

scim::MemberListLimits member_list_limits(const config::Config &c) {
    scim::MemberListLimits l;
    l.list_bytes = c.max_member_list_mb * kMiB;
    l.list_field = config::name_of<&config::Config::max_member_list_mb>();
    l.reader.member_bytes = c.max_member_kb * kKiB;
    l.reader.member_field = config::name_of<&config::Config::max_member_kb>();
    l.reader.envelope_bytes = c.max_response_mb * kMiB;
    l.reader.envelope_field = config::name_of<&config::Config::max_response_mb>();
    return l;
}

// Who may use a checkpoint token: this plugin version and a config that syncs the same tenant the same way
// (sources, tenant URL, page-size, membership-reads). Secrets are not in it.
sync::checkpoint::TokenScope token_scope(const config::Config &c) {
    std::string url = c.scim_url;
    while (!url.empty() && url.back() == '/') url.pop_back();
    const std::string identity = "scim=" + url + "\nadmin=" + (c.has_admin_api() ? c.admin_api_url : std::string()) +
                                 "\npage-size=" + std::to_string(c.page_size) +
                                 "\nmembership-reads=" + c.membership_reads;
    return {CE_PLUGIN_VERSION, sync::checkpoint::fnv1a64(identity)};
}

// The SCIM engine: paced at the rate the service's 429s teach, under max-requests-per-second when set.
http::EngineOptions scim_engine_options(const config::Config &c) {
    http::EngineOptions o = engine_options(c);
    o.learn_rate = true;
    o.max_requests_per_second = c.max_requests_per_second;
    return o;
}

// The Admin API's engine: one request at a time, paced under admin-api-rate-limit (the request count, not
// concurrency, sets the speed under the API's per-minute limit).
http::EngineOptions admin_engine_options(const config::Config &c) {
    http::EngineOptions o = engine_options(c);
    o.concurrency = 1;
    o.requests_per_minute = c.admin_api_rate_limit;
    return o;
}

}  // namespace

Connector::Connector(config::Config config, LogFn log) : config_(std::move(config)), log_(std::move(log)) {
    if (config_.has_scim()) {
        engine_ = std::make_unique<http::Engine>(scim_engine_options(config_), log_);
        client_ = std::make_unique<scim::Client>(*engine_, config_.scim_url, config_.scim_token,
                                                 member_list_limits(config_));
        provisioner_ = std::make_unique<provision::Provisioner>(*client_, log_);
        if (config_.plain_http)
            this->log(LogLevel::warn, "scim-url uses plain http to a loopback address (" + client_->host() +
                                          "): the token is not encrypted in transit; use https outside tests");
    }
    if (config_.has_admin_api()) {
        admin_engine_ = std::make_unique<http::Engine>(admin_engine_options(config_), log_);
        admin_client_ = std::make_unique<admin::Client>(*admin_engine_, config_.admin_api_url, config_.admin_api_key);
        admin_provisioner_ =
            std::make_unique<provision::AdminProvisioner>(*admin_client_, provisioner_.get(), client_.get(), log_);
        if (config_.admin_plain_http)
            this->log(LogLevel::warn, "admin-api-url uses plain http to a loopback address (" +
                                          admin_client_->host() +
                                          "): the key is not encrypted in transit; use https outside tests");
    }
}

void Connector::log(LogLevel level, const std::string &msg) const {
    if (log_) log_(level, msg);
}

void Connector::begin(const CallContext &ctx, int64_t retry_budget_ms) {
    for (http::Engine *e : {engine_.get(), admin_engine_.get()}) {
        if (!e) continue;
        e->set_cancel(ctx.cancelled);
        e->reset_stats();
        e->set_retry_budget_ms(retry_budget_ms);
    }
    if (ctx.cancelled && ctx.cancelled()) throw Error::cancelled();
}

std::string Connector::check_scim(int64_t &user_count) {
    const auto summary = client_->count_users();
    user_count = summary.total_results;
    return "connected to " + client_->host() + "; the token can list users (" +
           (summary.total_results >= 0 ? std::to_string(summary.total_results) + " visible"
                                       : std::string("count unknown")) +
           ")";
}

std::string Connector::check_admin_api() {
    admin_client_->probe_reads();
    return "the Admin API at " + admin_client_->host() + " accepts the key: it can list members, groups and roles";
}

CheckResult Connector::check(const CallContext &ctx) {
    // A check answers "can I reach and use the service now?" for a person or a health probe waiting on it: a
    // service that does not answer fails it in seconds (kCheckRetryBudgetMs), not after a sync's patience.
    begin(ctx, std::min<int64_t>(config_.retry_budget_ms, kCheckRetryBudgetMs));
    CheckResult r;
    if (client_) {
        r.message = check_scim(r.user_count);
    }
    if (admin_client_) r.message += (r.message.empty() ? "" : "; ") + check_admin_api();
    log(LogLevel::info, "check: " + r.message);
    return r;
}

void Connector::sync(const CallContext &ctx, RecordSink &sink, SyncStats &stats, std::string_view resume_from) {
    begin(ctx);
    if (admin_client_) {
        sync::AdminSyncRun run(*admin_client_, client_.get(), config_, ctx, sink, stats, log_, resume_from,
                               token_scope(config_));
        run.run();
        return;
    }
    sync::SyncRun run(*client_, config_, ctx, sink, stats, log_, resume_from, token_scope(config_));
    run.run();
}

namespace {

// Keeps the account a SCIM creation delivers, so that the Admin API's view of it can be delivered instead.
class AccountCapture final : public RecordSink {
public:
    bool resource(const Resource &r) override {
        if (!account) account = r;
        return true;
    }
    bool entitlement(const Entitlement &) override { return true; }
    bool grant(const Grant &) override { return true; }
    bool warning(std::string_view, std::string_view) override { return true; }
    std::optional<Resource> account;
};

}  // namespace

Outcome Connector::create_account(const CallContext &ctx,
                                  const std::vector<std::pair<std::string, std::string>> &fields, RecordSink *sink) {
    const bool invite = admin_provisioner_ && !provisioner_;
    const provision::AccountRequest req = provision::read_account_request(
        fields, invite ? provision::AccountRoute::invite : provision::AccountRoute::scim);
    begin(ctx);
    if (invite) return admin_provisioner_->invite(req.email, req.role, req.groups, sink);
    if (!admin_provisioner_) return provisioner_->create_account(req, sink);
    // Both sources: SCIM creates the account; the sync's id for it is the Admin API member's.
    AccountCapture scim_account;
    const Outcome out = provisioner_->create_account(req, &scim_account);
    std::optional<Resource> account;
    if (scim_account.account) account = admin_provisioner_->member_resource(req.email, scim_account.account->id);
    if (!account) {
        log(LogLevel::warn, "create-account: the Admin API does not show a member with this e-mail yet; the SCIM "
                            "user is returned (a sync will show the member)");
        account = scim_account.account;
    }
    if (sink && account && !sink->resource(*account)) throw Error::stopped();
    return out;
}

Outcome Connector::delete_resource(const CallContext &ctx, std::string_view type, std::string_view id) {
    if (admin_provisioner_) {
        begin(ctx);
        return admin_provisioner_->delete_resource(type, id);
    }
    provision::check_delete_args(type, id);
    begin(ctx);
    return provisioner_->delete_user(id);
}

Outcome Connector::grant(const CallContext &ctx, std::string_view entitlement_id, std::string_view principal_type,
                         std::string_view principal_id, RecordSink *sink) {
    if (admin_provisioner_) {
        begin(ctx);
        return admin_provisioner_->grant(entitlement_id, principal_type, principal_id, sink);
    }
    const std::string gid = provision::membership_group_id(entitlement_id, principal_type, principal_id);
    begin(ctx);
    return provisioner_->grant(gid, principal_id, sink);
}

Outcome Connector::revoke(const CallContext &ctx, std::string_view entitlement_id, std::string_view principal_type,
                          std::string_view principal_id) {
    if (admin_provisioner_) {
        begin(ctx);
        return admin_provisioner_->revoke(entitlement_id, principal_type, principal_id);
    }
    const std::string gid = provision::membership_group_id(entitlement_id, principal_type, principal_id);
    begin(ctx);
    return provisioner_->revoke(gid, principal_id);
}

}  // namespace ce::connector
