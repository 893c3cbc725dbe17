// /ServiceProviderConfig, /ResourceTypes and /Schemas (RFC 7643 sections 5-7), written with RapidJSON's Writer.
#include "store.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace scim_sim::detail {

namespace {
namespace rj = rapidjson;
using Writer = rj::Writer<rj::StringBuffer>;

struct Attr {
    const char *name;
    const char *type;
    bool multi;
    bool required;
    bool case_exact;
    const char *mutability;
    const char *returned;
    const char *uniqueness;
    std::vector<Attr> sub;
};

void write_attr(Writer &w, const Attr &a) {
    w.StartObject();
    w.Key("name");
    w.String(a.name);
    w.Key("type");
    w.String(a.type);
    w.Key("multiValued");
    w.Bool(a.multi);
    w.Key("description");
    w.String(a.name);
    w.Key("required");
    w.Bool(a.required);
    w.Key("caseExact");
    w.Bool(a.case_exact);
    w.Key("mutability");
    w.String(a.mutability);
    w.Key("returned");
    w.String(a.returned);
    w.Key("uniqueness");
    w.String(a.uniqueness);
    if (!a.sub.empty()) {
        w.Key("subAttributes");
        w.StartArray();
        for (auto &s : a.sub) write_attr(w, s);
        w.EndArray();
    }
    w.EndObject();
}

const std::vector<Attr> &user_attrs() {
    static const std::vector<Attr> attrs{
        {"userName", "string", false, true, false, "readWrite", "default", "server", {}},
        {"name", "complex", false, false, false, "readWrite", "default", "none",
         {{"givenName", "string", false, false, false, "readWrite", "default", "none", {}},
          {"familyName", "string", false, false, false, "readWrite", "default", "none", {}}}},
        {"displayName", "string", false, false, false, "readWrite", "default", "none", {}},
        {"emails", "complex", true, false, false, "readWrite", "default", "none",
         {{"value", "string", false, false, false, "readWrite", "default", "none", {}},
          {"type", "string", false, false, false, "readWrite", "default", "none", {}},
          {"primary", "boolean", false, false, false, "readWrite", "default", "none", {}}}},
        {"active", "boolean", false, false, false, "readWrite", "default", "none", {}},
        {"externalId", "string", false, false, true, "readWrite", "default", "none", {}},
        {"groups", "complex", true, false, false, "readOnly", "default", "none",
         {{"value", "string", false, false, false, "readOnly", "default", "none", {}},
          {"display", "string", false, false, false, "readOnly", "default", "none", {}},
          {"type", "string", false, false, false, "readOnly", "default", "none", {}}}},
    };
    return attrs;
}

const std::vector<Attr> &group_attrs() {
    static const std::vector<Attr> attrs{
        {"displayName", "string", false, true, false, "readWrite", "default", "none", {}},
        {"externalId", "string", false, false, true, "readWrite", "default", "none", {}},
        {"members", "complex", true, false, false, "readWrite", "default", "none",
         {{"value", "string", false, false, false, "immutable", "default", "none", {}},
          {"display", "string", false, false, false, "readOnly", "default", "none", {}},
          {"type", "string", false, false, false, "immutable", "default", "none", {}}}},
    };
    return attrs;
}

void write_schema(Writer &w, const std::string &base, bool user) {
    const char *id = user ? "urn:ietf:params:scim:schemas:core:2.0:User" : "urn:ietf:params:scim:schemas:core:2.0:Group";
    w.StartObject();
    w.Key("schemas");
    w.StartArray();
    w.String("urn:ietf:params:scim:schemas:core:2.0:Schema");
    w.EndArray();
    w.Key("id");
    w.String(id);
    w.Key("name");
    w.String(user ? "User" : "Group");
    w.Key("description");
    w.String(user ? "User Account" : "Group");
    w.Key("attributes");
    w.StartArray();
    for (auto &a : user ? user_attrs() : group_attrs()) write_attr(w, a);
    w.EndArray();
    w.Key("meta");
    w.StartObject();
    w.Key("resourceType");
    w.String("Schema");
    w.Key("location");
    w.String(base + "/Schemas/" + id);
    w.EndObject();
    w.EndObject();
}

void write_resource_type(Writer &w, const std::string &base, bool user) {
    w.StartObject();
    w.Key("schemas");
    w.StartArray();
    w.String("urn:ietf:params:scim:schemas:core:2.0:ResourceType");
    w.EndArray();
    w.Key("id");
    w.String(user ? "User" : "Group");
    w.Key("name");
    w.String(user ? "User" : "Group");
    w.Key("endpoint");
    w.String(user ? "/Users" : "/Groups");
    w.Key("schema");
    w.String(user ? "urn:ietf:params:scim:schemas:core:2.0:User" : "urn:ietf:params:scim:schemas:core:2.0:Group");
    w.Key("meta");
    w.StartObject();
    w.Key("resourceType");
    w.String("ResourceType");
    w.Key("location");
    w.String(base + "/ResourceTypes/" + (user ? "User" : "Group"));
    w.EndObject();
    w.EndObject();
}

template <class Fn>
std::string list_of_two(Fn &&one) {
    rj::StringBuffer sb;
    Writer w(sb);
    w.StartObject();
    w.Key("schemas");
    w.StartArray();
    w.String("urn:ietf:params:scim:api:messages:2.0:ListResponse");
    w.EndArray();
    w.Key("totalResults");
    w.Int(2);
    w.Key("startIndex");
    w.Int(1);
    w.Key("itemsPerPage");
    w.Int(2);
    w.Key("Resources");
    w.StartArray();
    one(w, true);
    one(w, false);
    w.EndArray();
    w.EndObject();
    return {sb.GetString(), sb.GetSize()};
}
}  // namespace

std::string Store::service_provider_config() const {
    rj::StringBuffer sb;
    Writer w(sb);
    auto flag = [&](const char *k, bool v) {
        w.Key(k);
        w.StartObject();
        w.Key("supported");
        w.Bool(v);
        w.EndObject();
    };
    w.StartObject();
    w.Key("schemas");
    w.StartArray();
    w.String("urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig");
    w.EndArray();
    w.Key("documentationUri");
    w.String("https://example.invalid/scim-sim");
    flag("patch", true);
    w.Key("bulk");
    w.StartObject();
    w.Key("supported");
    w.Bool(false);
    w.Key("maxOperations");
    w.Int(0);
    w.Key("maxPayloadSize");
    w.Int(0);
    w.EndObject();
    w.Key("filter");
    w.StartObject();
    w.Key("supported");
    w.Bool(true);
    w.Key("maxResults");
    w.Uint64(max_page_size_);
    w.EndObject();
    flag("changePassword", false);
    flag("sort", false);
    flag("etag", false);
    w.Key("authenticationSchemes");
    w.StartArray();
    w.StartObject();
    w.Key("type");
    w.String("oauthbearertoken");
    w.Key("name");
    w.String("OAuth Bearer Token");
    w.Key("description");
    w.String("Authentication with a bearer token in the Authorization header");
    w.Key("primary");
    w.Bool(true);
    w.EndObject();
    w.EndArray();
    w.Key("meta");
    w.StartObject();
    w.Key("resourceType");
    w.String("ServiceProviderConfig");
    w.Key("location");
    w.String(base_url_ + "/ServiceProviderConfig");
    w.EndObject();
    w.EndObject();
    return {sb.GetString(), sb.GetSize()};
}

std::string Store::resource_types(const std::string &which) const {
    if (which.empty()) return list_of_two([&](Writer &w, bool user) { write_resource_type(w, base_url_, user); });
    if (which != "User" && which != "Group") throw ScimError(404, "", "ResourceType " + which + " not found");
    rj::StringBuffer sb;
    Writer w(sb);
    write_resource_type(w, base_url_, which == "User");
    return {sb.GetString(), sb.GetSize()};
}

std::string Store::schemas(const std::string &which) const {
    if (which.empty()) return list_of_two([&](Writer &w, bool user) { write_schema(w, base_url_, user); });
    bool user = which == "urn:ietf:params:scim:schemas:core:2.0:User";
    if (!user && which != "urn:ietf:params:scim:schemas:core:2.0:Group") {
        throw ScimError(404, "", "Schema " + which + " not found");
    }
    rj::StringBuffer sb;
    Writer w(sb);
    write_schema(w, base_url_, user);
    return {sb.GetString(), sb.GetSize()};
}

}  // namespace scim_sim::detail
