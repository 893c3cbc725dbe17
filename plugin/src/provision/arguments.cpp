#include "provision/arguments.hpp"

#include <optional>

#include "common/errors.hpp"
#include "common/text.hpp"
#include "scim/scim_records.hpp"

namespace ce::provision {
namespace {

// How much of an unknown field name an error message quotes.
constexpr size_t kShownChars = 40;

std::string shown_field_name(const std::string &key) {
    std::string shown = key.substr(0, kShownChars);
    for (auto &ch : shown)
        if (static_cast<unsigned char>(ch) < 0x20) ch = '?';
    return shown;
}

void take_once(std::optional<std::string> &slot, const std::string &value, const char *field) {
    if (slot) throw Error::invalid_argument(field, std::string(field) + " is given more than once");
    slot = value;
}

}  // namespace

namespace {

std::vector<std::string> group_ids_of(const std::string &list) {
    std::vector<std::string> ids;
    size_t at = 0;
    while (at <= list.size()) {
        size_t comma = list.find(',', at);
        if (comma == std::string::npos) comma = list.size();
        std::string id = list.substr(at, comma - at);
        while (!id.empty() && id.front() == ' ') id.erase(0, 1);
        while (!id.empty() && id.back() == ' ') id.pop_back();
        if (id.empty()) throw Error::invalid_argument("groups", "groups must be comma-separated rbac group ids");
        require_service_id(id, "group", "groups");
        ids.push_back(std::move(id));
        at = comma + 1;
    }
    return ids;
}

AccountRequest invite_fields(AccountRequest req, const std::optional<std::string> &role,
                             const std::optional<std::string> &groups) {
    if (role) {
        if (*role != "user" && *role != "managed")
            throw Error::invalid_argument("role", "role must be user or managed (owner and admin roles are given in "
                                                  "claude.ai's Organization settings)");
        req.role = *role;
    }
    if (groups) req.groups = group_ids_of(*groups);
    return req;
}

}  // namespace

AccountRequest read_account_request(const std::vector<std::pair<std::string, std::string>> &fields,
                                    AccountRoute route) {
    std::optional<std::string> email, display, role, groups;
    for (const auto &[k, v] : fields) {
        if (k == "email") take_once(email, v, "email");
        else if (k == "display_name") take_once(display, v, "display_name");
        else if ((k == "role" || k == "groups") && route == AccountRoute::scim)
            throw Error::invalid_argument(k, k + " applies to invites, made when only admin-api-key is configured; "
                                                 "a SCIM account is created as a user with no groups");
        else if (k == "role") take_once(role, v, "role");
        else if (k == "groups") take_once(groups, v, "groups");
        else {
            const std::string shown = shown_field_name(k);
            throw Error::invalid_argument(shown, "unknown account field \"" + shown + "\"");
        }
    }
    if (!email || email->empty()) throw Error::invalid_argument("email", "email is required");
    if (!text::looks_like_email(*email)) throw Error::invalid_argument("email", "email is not a valid e-mail address");
    if (!display && route == AccountRoute::scim) throw Error::invalid_argument("display_name", "display_name is required");
    AccountRequest req{*email, split_display_name(display.value_or(route == AccountRoute::invite ? "-" : "")), {}, {}};
    if (req.name.full.empty()) throw Error::invalid_argument("display_name", "display_name is empty");
    if (text::has_control(req.name.full))
        throw Error::invalid_argument("display_name", "display_name contains control characters");
    return route == AccountRoute::invite ? invite_fields(std::move(req), role, groups) : req;
}

void require_service_id(std::string_view id, const char *what, const char *field) {
    if (id.empty() || text::has_control(id))
        throw Error::invalid_argument(field, std::string(what) + " id is empty or holds control characters");
    if (id.find('@') != std::string_view::npos)
        throw Error::invalid_argument(
            field, std::string(what) + " id \"" + std::string(id) +
                       "\" looks like an e-mail address, not an id of this service" +
                       (std::string_view(what) == "user" ? "; name the user by e-mail as email=<address>" : ""));
}

void check_delete_args(std::string_view type, std::string_view id) {
    if (type == "group") throw Error::unsupported("", "groups cannot be deleted through SCIM by the connector");
    if (type != "user")
        throw Error::invalid_argument("resource_type", "unknown resource type (expected \"user\")");
    if (!names_by_email(id)) require_service_id(id, "user", "resource_id");
}

std::string membership_group_id(std::string_view entitlement_id, std::string_view principal_type,
                                std::string_view principal_id) {
    std::string gid = scim::group_id_from_entitlement(entitlement_id);
    if (gid.empty() || text::has_control(gid))
        throw Error::invalid_argument("entitlement_id", "entitlement id must be group:<group id>:member");
    require_service_id(gid, "group", "entitlement_id");
    if (principal_type == "group")
        throw Error::unsupported("principal_type", "only users can be granted group membership");
    if (principal_type != "user") throw Error::invalid_argument("principal_type", "principal type must be \"user\"");
    if (!names_by_email(principal_id)) require_service_id(principal_id, "user", "principal_id");
    return gid;
}

}  // namespace ce::provision
