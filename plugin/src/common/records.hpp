// The records every operation streams, whatever the service, and the sink they go into: plain C++ (the ABI glue
// converts them to conn_resource / conn_entitlement / conn_grant views). Every sink method returns false to stop
// the stream. A service maps its own resources to these (e.g. scim/scim_records.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ce {

struct Attr {
    enum class Kind { string, integer, boolean };
    std::string key;
    Kind kind = Kind::string;
    std::string str;
    int64_t num = 0;
};

struct Resource {
    std::string type;  // a resource type of the descriptor: "user", "group"
    std::string id;
    std::string display_name;
    std::vector<Attr> attrs;
};

struct Entitlement {
    std::string id;  // group:<gid>:member
    std::string resource_type;
    std::string resource_id;
    std::string slug;
    std::string display_name;
};

struct Grant {
    std::string id;  // <entitlement id>:<principal type>:<principal id>
    std::string entitlement_id;
    std::string principal_type;
    std::string principal_id;
    bool unresolved = false;  // the principal names nothing the sync delivered
};

class RecordSink {
public:
    virtual ~RecordSink() = default;
    virtual bool resource(const Resource &r) = 0;
    virtual bool entitlement(const Entitlement &e) = 0;
    virtual bool grant(const Grant &g) = 0;
    virtual bool warning(std::string_view code, std::string_view message) = 0;
    // A checkpoint token (sync/checkpoint/resume_token.hpp): everything delivered before it is done.
    virtual bool checkpoint(std::string_view /*token*/) { return true; }
    // Whether checkpoint() reaches anyone (a sync keeps a journal only then).
    virtual bool takes_checkpoints() const { return false; }
};

}  // namespace ce
