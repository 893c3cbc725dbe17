// What a sync hands to the host, shared by the SCIM sync (sync/sync_run.hpp) and the Admin API sync
// (sync/admin_sync_run.hpp): each record to the sink, counted (a STOP from the sink ends the sync:
// Error::stopped()); each warning logged and counted too; progress with the counts so far, which include the
// requests and retries of every HTTP engine the sync uses; and log lines.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "common/call_context.hpp"
#include "common/log.hpp"
#include "common/records.hpp"
#include "http/http_engine.hpp"

namespace ce::sync {

class Delivery {
public:
    Delivery(RecordSink &sink, SyncCounts &counts, const CallContext &ctx, const LogFn &log,
             std::initializer_list<const http::Engine *> engines);

    void resource(const Resource &r);
    void entitlement(const Entitlement &e);
    void grant(const Grant &g);
    void warn(std::string_view code, const std::string &message);
    // The engines' requests and retries (every attempt) into the counts.
    void count_requests();
    // Progress of `phase`: the counts so far (requests counted first), and the phase's total when known (0: not).
    void report(std::string_view phase, uint64_t total_hint = 0);
    void log(LogLevel level, const std::string &message) const;

    SyncCounts &counts() { return counts_; }

private:
    RecordSink &sink_;
    SyncCounts &counts_;
    const CallContext &ctx_;
    const LogFn &log_;
    std::vector<const http::Engine *> engines_;
};

}  // namespace ce::sync
