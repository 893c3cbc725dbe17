#include "connector/connector.hpp"

#include "common/errors.hpp"
#include "common/units.hpp"
#include "config/fields.hpp"

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

}  // namespace

Connector::Connector(config::Config config, LogFn log) : config_(std::move(config)), log_(std::move(log)) {
    engine_ = std::make_unique<http::Engine>(engine_options(config_), log_);
    client_ = std::make_unique<scim::Client>(*engine_, config_.scim_url, config_.scim_token,
                                             member_list_limits(config_));
    provisioner_ = std::make_unique<provision::Provisioner>(*client_, log_);
    if (config_.plain_http)
        this->log(LogLevel::warn, "scim-url uses plain http to a loopback address (" + client_->host() +
                                      "): the token is not encrypted in transit; use https outside tests");
}

void Connector::log(LogLevel level, const std::string &msg) const {
    if (log_) log_(level, msg);
}

void Connector::begin(const CallContext &ctx) {
    engine_->set_cancel(ctx.cancelled);
    engine_->reset_stats();
    if (ctx.cancelled && ctx.cancelled()) throw Error::cancelled();
}

CheckResult Connector::check(const CallContext &ctx) {
    begin(ctx);
    const auto summary = client_->count_users();
    CheckResult r;
    r.user_count = summary.total_results;
    r.message = "connected to " + client_->host() + "; the token can list users (" +
                (summary.total_results >= 0 ? std::to_string(summary.total_results) + " visible"
                                            : std::string("count unknown")) +
                ")";
    log(LogLevel::info, "check: " + r.message);
    return r;
}

void Connector::sync(const CallContext &ctx, RecordSink &sink, SyncStats &stats) {
    begin(ctx);
    sync::SyncRun run(*client_, config_, ctx, sink, stats, log_);
    run.run();
}

Outcome Connector::create_account(const CallContext &ctx,
                                  const std::vector<std::pair<std::string, std::string>> &fields, RecordSink *sink) {
    const provision::AccountRequest req = provision::read_account_request(fields);
    begin(ctx);
    return provisioner_->create_account(req, sink);
}

Outcome Connector::delete_resource(const CallContext &ctx, std::string_view type, std::string_view id) {
    provision::check_delete_args(type, id);
    begin(ctx);
    return provisioner_->delete_user(id);
}

Outcome Connector::grant(const CallContext &ctx, std::string_view entitlement_id, std::string_view principal_type,
                         std::string_view principal_id, RecordSink *sink) {
    const std::string gid = provision::membership_group_id(entitlement_id, principal_type, principal_id);
    begin(ctx);
    return provisioner_->grant(gid, principal_id, sink);
}

Outcome Connector::revoke(const CallContext &ctx, std::string_view entitlement_id, std::string_view principal_type,
                          std::string_view principal_id) {
    const std::string gid = provision::membership_group_id(entitlement_id, principal_type, principal_id);
    begin(ctx);
    return provisioner_->revoke(gid, principal_id);
}

}  // namespace ce::connector
