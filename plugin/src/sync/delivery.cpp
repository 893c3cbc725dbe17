#include "sync/delivery.hpp"

#include "common/errors.hpp"

namespace ce::sync {

Delivery::Delivery(RecordSink &sink, SyncCounts &counts, const CallContext &ctx, const LogFn &log,
                   std::initializer_list<const http::Engine *> engines)
    : sink_(sink), counts_(counts), ctx_(ctx), log_(log) {
    for (const http::Engine *e : engines)
        if (e) engines_.push_back(e);
}

void Delivery::resource(const Resource &r) {
    if (!sink_.resource(r)) throw Error::stopped();
    ++counts_.resources;
}

void Delivery::entitlement(const Entitlement &e) {
    if (!sink_.entitlement(e)) throw Error::stopped();
    ++counts_.entitlements;
}

void Delivery::grant(const Grant &g) {
    if (!sink_.grant(g)) throw Error::stopped();
    ++counts_.grants;
}

void Delivery::warn(std::string_view code, const std::string &message) {
    ++counts_.warnings;
    log(LogLevel::warn, message);
    if (!sink_.warning(code, message)) throw Error::stopped();
}

void Delivery::count_requests() {
    counts_.requests = 0;
    counts_.retries = 0;
    for (const http::Engine *e : engines_) {
        counts_.requests += e->stats().requests;
        counts_.retries += e->stats().retries;
    }
}

void Delivery::report(std::string_view phase, uint64_t total_hint) {
    count_requests();
    if (ctx_.progress) ctx_.progress(Progress{.phase = phase, .counts = counts_, .total_hint = total_hint});
}

void Delivery::log(LogLevel level, const std::string &message) const {
    if (log_) log_(level, message);
}

}  // namespace ce::sync
