#include "scim/scim_records.hpp"

#include "common/text.hpp"

namespace ce::scim {
namespace {

Attr str_attr(const char *key, std::string value) {
    Attr a;
    a.key = key;
    a.kind = Attr::Kind::string;
    a.str = std::move(value);
    return a;
}

}  // namespace

Resource user_resource(const User &u) {
    Resource r;
    r.type = "user";
    r.id = u.id;
    if (!u.display_name.empty()) {
        r.display_name = u.display_name;
    } else if (!u.given_name.empty() || !u.family_name.empty()) {
        r.display_name = u.given_name;
        if (!u.given_name.empty() && !u.family_name.empty()) r.display_name += ' ';
        r.display_name += u.family_name;
    } else {
        r.display_name = u.user_name;
    }
    r.attrs.push_back(str_attr("login", u.user_name));
    std::string email;
    for (const auto &e : u.emails)
        if (e.primary) {
            email = e.value;
            break;
        }
    if (email.empty() && !u.emails.empty()) email = u.emails.front().value;
    if (email.empty() && text::looks_like_email(u.user_name)) email = u.user_name;
    if (!email.empty()) r.attrs.push_back(str_attr("email", email));
    if (!u.given_name.empty()) r.attrs.push_back(str_attr("given_name", u.given_name));
    if (!u.family_name.empty()) r.attrs.push_back(str_attr("family_name", u.family_name));
    r.attrs.push_back(str_attr("status", u.active ? "active" : "disabled"));
    if (!u.external_id.empty()) r.attrs.push_back(str_attr("external_id", u.external_id));
    return r;
}

Resource group_resource(const Group &g, int64_t member_count) {
    Resource r;
    r.type = "group";
    r.id = g.id;
    r.display_name = g.display_name.empty() ? g.id : g.display_name;
    Attr count;
    count.key = "member_count";
    count.kind = Attr::Kind::integer;
    count.num = member_count;
    r.attrs.push_back(std::move(count));
    if (!g.external_id.empty()) r.attrs.push_back(str_attr("external_id", g.external_id));
    return r;
}

std::string entitlement_id_for_group(std::string_view group_id) {
    std::string id = "group:";
    id += group_id;
    id += ":member";
    return id;
}

Entitlement member_entitlement(const std::string &group_id, const std::string &group_display_name) {
    Entitlement e;
    e.id = entitlement_id_for_group(group_id);
    e.resource_type = "group";
    e.resource_id = group_id;
    e.slug = "member";
    e.display_name = (group_display_name.empty() ? group_id : group_display_name) + " member";
    return e;
}

Grant member_grant(const std::string &group_id, const std::string &principal_type, const std::string &principal_id,
                   bool unresolved) {
    Grant g;
    g.entitlement_id = entitlement_id_for_group(group_id);
    g.id = g.entitlement_id + ":" + principal_type + ":" + principal_id;
    g.principal_type = principal_type;
    g.principal_id = principal_id;
    g.unresolved = unresolved;
    return g;
}

std::string group_id_from_entitlement(std::string_view id) {
    constexpr std::string_view prefix = "group:", suffix = ":member";
    if (id.size() <= prefix.size() + suffix.size()) return {};
    if (id.substr(0, prefix.size()) != prefix || id.substr(id.size() - suffix.size()) != suffix) return {};
    return std::string(id.substr(prefix.size(), id.size() - prefix.size() - suffix.size()));
}

}  // namespace ce::scim
