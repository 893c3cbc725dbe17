#include "admin/admin_records.hpp"

namespace ce::admin {
namespace {

void add_string(Resource &r, const char *key, const std::string &value) {
    if (value.empty()) return;
    Attr a;
    a.key = key;
    a.str = value;
    r.attrs.push_back(std::move(a));
}

void add_integer(Resource &r, const char *key, int64_t value) {
    Attr a;
    a.key = key;
    a.kind = Attr::Kind::integer;
    a.num = value;
    r.attrs.push_back(std::move(a));
}

Resource resource(const char *type, std::string id, std::string display_name) {
    Resource r;
    r.type = type;
    r.display_name = display_name.empty() ? id : std::move(display_name);
    r.id = std::move(id);
    return r;
}

Entitlement entitlement(std::string id, const char *resource_type, std::string resource_id, const char *slug,
                        std::string display_name) {
    return Entitlement{std::move(id), resource_type, std::move(resource_id), slug, std::move(display_name)};
}

std::string entitlement_id(const char *type, std::string_view id, const char *slug) {
    std::string out = type;
    out += ':';
    out += id;
    out += ':';
    out += slug;
    return out;
}

}  // namespace

bool is_org_role(std::string_view id) {
    for (const auto &r : kOrgRoles)
        if (id == r.id) return true;
    return false;
}

Resource user_resource(const Member &m, std::string_view scim_id) {
    Resource r = resource("user", m.id, m.name.empty() ? m.email : m.name);
    add_string(r, "email", m.email);
    add_string(r, "login", m.email);
    add_string(r, "org_role", m.role);
    add_string(r, "added_at", m.added_at);
    add_string(r, "status", "active");  // a member is active; a removed one is no longer listed
    add_string(r, "scim_id", std::string(scim_id));
    return r;
}

Resource group_resource(const Group &g, int64_t member_count) {
    Resource r = resource("group", g.id, g.name);
    add_string(r, "source", g.source_type);
    add_integer(r, "member_count", member_count);
    return r;
}

Resource role_resource(const Role &role) {
    Resource r = resource("role", role.id, role.display_name);
    add_string(r, "source", role.source);
    return r;
}

Resource org_role_resource(const OrgRole &role) { return resource("org_role", role.id, role.display_name); }

Resource invite_resource(const Invite &i) {
    Resource r = resource("invite", i.id, i.email);
    add_string(r, "email", i.email);
    add_string(r, "role", i.role);
    add_string(r, "status", i.status);
    add_string(r, "expires_at", i.expires_at);
    return r;
}

std::string group_entitlement_id(std::string_view group_id) { return entitlement_id("group", group_id, "member"); }
std::string role_entitlement_id(std::string_view role_id) { return entitlement_id("role", role_id, "assigned"); }
std::string org_role_entitlement_id(std::string_view org_role) {
    return entitlement_id("org_role", org_role, "assigned");
}

Entitlement group_entitlement(const Group &g) {
    return entitlement(group_entitlement_id(g.id), "group", g.id, "member", (g.name.empty() ? g.id : g.name) + " member");
}

Entitlement role_entitlement(const Role &r) {
    return entitlement(role_entitlement_id(r.id), "role", r.id, "assigned",
                       (r.display_name.empty() ? r.id : r.display_name) + " assigned");
}

Entitlement org_role_entitlement(const OrgRole &r) {
    return entitlement(org_role_entitlement_id(r.id), "org_role", r.id, "assigned",
                       std::string(r.display_name) + " assigned");
}

Grant make_grant(std::string entitlement_id, std::string principal_type, std::string principal_id, bool unresolved) {
    Grant g;
    g.id = entitlement_id + ":" + principal_type + ":" + principal_id;
    g.entitlement_id = std::move(entitlement_id);
    g.principal_type = std::move(principal_type);
    g.principal_id = std::move(principal_id);
    g.unresolved = unresolved;
    return g;
}

}  // namespace ce::admin
