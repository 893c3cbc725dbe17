// The host's conn_sink behind the plugin's RecordSink: records converted to borrowed conn_* views for the length
// of one callback; after a STOP answer, none. Callbacks only while open (never after the operation returns: SinkScope closes it).
#pragma once

#include <connector/connector_abi.h>

#include <string_view>
#include <vector>

#include "common/records.hpp"

namespace ce::abi {

class SinkAdapter final : public RecordSink {
public:
    explicit SinkAdapter(const conn_sink *sink) : sink_(sink) {}
    void close() { open_ = false; }

    bool resource(const Resource &r) override;
    bool entitlement(const Entitlement &e) override;
    bool grant(const Grant &g) override;
    bool warning(std::string_view code, std::string_view message) override;
    bool checkpoint(std::string_view token) override;
    bool takes_checkpoints() const override { return sink_ && sink_->on_checkpoint; }

private:
    // Latches a STOP: once the host answered one, no further record reaches it, whichever part of the sync
    // (a concurrent member listing, say) delivers next.
    bool answer(int32_t reply);
    const conn_sink *sink_;
    std::vector<conn_attr> attrs_;
    bool open_ = true;
    bool stopped_ = false;
};

struct SinkScope {
    SinkAdapter &s;
    ~SinkScope() { s.close(); }
};

}  // namespace ce::abi
