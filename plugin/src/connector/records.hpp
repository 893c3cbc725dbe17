// The connector's records and the sink it streams them into: plain C++ (the ABI glue converts them to
// conn_resource / conn_entitlement / conn_grant views). Every sink method returns false to stop the stream.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "scim/scim_json.hpp"

namespace ce::connector {

struct Attr {
    enum class Kind { string, integer, boolean };
    std::string key;
    Kind kind = Kind::string;
    std::string str;
    int64_t num = 0;
};

struct Resource {
    std::string type;  // "user" or "group"
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
};

// Mapping from SCIM.
Resource user_resource(const scim::User &u);
Resource group_resource(const scim::Group &g, int64_t member_count);
Entitlement member_entitlement(const std::string &group_id, const std::string &group_display_name);
std::string entitlement_id_for_group(std::string_view group_id);
Grant member_grant(const std::string &group_id, const std::string &principal_type, const std::string &principal_id,
                   bool unresolved);
// "group:<gid>:member" -> gid; empty when the id is not of that form.
std::string group_id_from_entitlement(std::string_view entitlement_id);

}  // namespace ce::connector
