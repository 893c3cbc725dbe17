#include "abi/descriptor.hpp"

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "config/fields.hpp"

namespace ce::abi {
namespace {

constexpr uint32_t kField = sizeof(conn_field);

template <typename T, size_t N>
constexpr uint32_t count(const T (&)[N]) {
    return static_cast<uint32_t>(N);
}

// The config fields, built once from the table (config/fields.hpp): the text of their defaults and descriptions
// stays alive with the library.
struct ConfigFields {
    static constexpr size_t kCount = config::kFields.size();
    std::array<std::string, kCount> defaults;
    std::array<std::string, kCount> descriptions;
    std::array<conn_field, kCount> fields{};
    std::array<const conn_field *, kCount> pointers{};

    ConfigFields() {
        for (size_t i = 0; i < kCount; ++i) {
            const config::Field &f = config::kFields[i];
            const bool integer = f.kind == config::Kind::integer;
            defaults[i] = integer ? std::to_string(f.default_value) : std::string();
            descriptions[i] = described(f);
            fields[i] = conn_field{kField,
                                   flags_of(f),
                                   type_of(f.kind),
                                   0,
                                   f.name.data(),
                                   f.display_name,
                                   descriptions[i].c_str(),
                                   integer ? defaults[i].c_str() : f.default_text,
                                   f.example};
            pointers[i] = &fields[i];
        }
    }

    static uint32_t flags_of(const config::Field &f) {
        return (f.required ? CONN_FIELD_REQUIRED : 0u) | (f.kind == config::Kind::secret ? CONN_FIELD_SECRET : 0u);
    }
    static int32_t type_of(config::Kind kind) {
        switch (kind) {
        case config::Kind::url: return CONN_FIELD_URL;
        case config::Kind::integer: return CONN_FIELD_INT;
        case config::Kind::path: return CONN_FIELD_PATH;
        case config::Kind::secret:
        case config::Kind::choice: break;
        }
        return CONN_FIELD_STRING;
    }
    // The description with "{range}" and "{default}" filled in.
    static std::string described(const config::Field &f) {
        std::string out = f.description;
        replace(out, "{range}", std::to_string(f.min) + "-" + std::to_string(f.max));
        replace(out, "{default}", std::to_string(f.default_value));
        return out;
    }
    static void replace(std::string &s, std::string_view token, const std::string &with) {
        for (size_t at = s.find(token); at != std::string::npos; at = s.find(token, at + with.size()))
            s.replace(at, token.size(), with);
    }
};

const ConfigFields &config_fields() {
    static const ConfigFields fields;
    return fields;
}

const conn_field a_email{kField, CONN_FIELD_REQUIRED, CONN_FIELD_EMAIL, 0, "email", "E-mail",
                         "The user's e-mail: it becomes the SCIM userName and the primary work e-mail.", nullptr,
                         "jane@example.com"};
const conn_field a_name{kField, CONN_FIELD_REQUIRED, CONN_FIELD_STRING, 0, "display_name", "Display name",
                        "The full name; the first word becomes the given name, the rest the family name (an "
                        "invite carries no name: ignored then).", nullptr,
                        "Jane Smith"};
const conn_field a_role{kField, 0, CONN_FIELD_STRING, 0, "role", "Role",
                        "Invites only (an Admin-only config): user or managed; default user.", "user", "managed"};
const conn_field a_groups{kField, 0, CONN_FIELD_STRING, 0, "groups", "Groups",
                          "Invites only (an Admin-only config): comma-separated rbac group ids the person joins.",
                          nullptr, "rbac_group_01..."};
const conn_field *const account_fields[] = {&a_email, &a_name, &a_role, &a_groups};

const char *const grantable_to[] = {"user"};
const conn_entitlement_type member_type{sizeof(conn_entitlement_type),
                                        CONN_PURPOSE_ASSIGNMENT,
                                        CONN_ENT_GRANTABLE | CONN_ENT_REVOCABLE,
                                        count(grantable_to),
                                        "member",
                                        "Member",
                                        "Membership of the group.",
                                        grantable_to};
const conn_entitlement_type *const group_entitlements[] = {&member_type};

const conn_resource_type user_type{sizeof(conn_resource_type),
                                   CONN_TRAIT_USER,
                                   CONN_RT_SYNC | CONN_RT_CREATE | CONN_RT_DELETE,
                                   0,
                                   "user",
                                   "User",
                                   "A Claude Enterprise member: a SCIM user (SCIM-only config), or with admin-api-key "
                                   "an Admin API member (id user_..., with org_role and scim_id).",
                                   nullptr};
const conn_resource_type group_type{sizeof(conn_resource_type),
                                    CONN_TRAIT_GROUP,
                                    CONN_RT_SYNC,
                                    count(group_entitlements),
                                    "group",
                                    "Group",
                                    "A group: a SCIM group, or with admin-api-key an rbac group (source direct or "
                                    "scim); its members are grants of its member entitlement.",
                                    group_entitlements};

// Read with admin-api-key only. A custom role is held by groups (role_ids); the organisation roles by members.
const char *const held_by_groups[] = {"group"};
const conn_entitlement_type role_assigned{sizeof(conn_entitlement_type),
                                          CONN_PURPOSE_PERMISSION,
                                          0,
                                          count(held_by_groups),
                                          "assigned",
                                          "Assigned",
                                          "The role is attached to the group (read-only here: attach roles in "
                                          "claude.ai).",
                                          held_by_groups};
const conn_entitlement_type *const role_entitlements[] = {&role_assigned};
const conn_resource_type role_type{sizeof(conn_resource_type),
                                   CONN_TRAIT_ROLE,
                                   CONN_RT_SYNC,
                                   count(role_entitlements),
                                   "role",
                                   "Role",
                                   "A custom or built-in role of the organisation (Admin API), held by groups.",
                                   role_entitlements};
const conn_entitlement_type org_role_assigned{sizeof(conn_entitlement_type),
                                              CONN_PURPOSE_PERMISSION,
                                              CONN_ENT_GRANTABLE | CONN_ENT_REVOCABLE,
                                              count(grantable_to),
                                              "assigned",
                                              "Assigned",
                                              "The member holds this organisation role (only user and managed can "
                                              "be set; revoking managed makes the member a user).",
                                              grantable_to};
const conn_entitlement_type *const org_role_entitlements[] = {&org_role_assigned};
const conn_resource_type org_role_type{sizeof(conn_resource_type),
                                       CONN_TRAIT_ROLE,
                                       CONN_RT_SYNC,
                                       count(org_role_entitlements),
                                       "org_role",
                                       "Organisation role",
                                       "One of the fixed organisation roles (primary_owner, owner, membership_admin, "
                                       "managed, user), read with admin-api-key.",
                                       org_role_entitlements};
const conn_resource_type invite_type{sizeof(conn_resource_type),
                                     0,
                                     CONN_RT_SYNC | CONN_RT_DELETE,
                                     0,
                                     "invite",
                                     "Invite",
                                     "An invitation to the organisation (pending, accepted, expired or withdrawn), "
                                     "read with admin-api-key; deleting a pending one withdraws it.",
                                     nullptr};
const conn_resource_type *const resource_types[] = {&user_type, &group_type, &role_type, &org_role_type,
                                                    &invite_type};

conn_descriptor make_descriptor() {
    return conn_descriptor{sizeof(conn_descriptor),
                           CONN_ABI_VERSION_MAJOR,
                           CONN_ABI_VERSION_MINOR,
                           CONN_CAP_CHECK | CONN_CAP_SYNC | CONN_CAP_CREATE_ACCOUNT | CONN_CAP_DELETE | CONN_CAP_GRANT |
                               CONN_CAP_REVOKE | CONN_CAP_CHECKPOINT,
                           "claude-enterprise",
                           "Claude Enterprise",
                           CE_PLUGIN_VERSION,
                           "Users, groups and group memberships of a Claude Enterprise organisation over SCIM 2.0, "
                           "with account and membership provisioning; with an Admin API key also every member's "
                           "organisation role, invites, direct groups and custom roles.",
                           "Anthropic",
                           "https://www.anthropic.com/enterprise",
                           count(resource_types),
                           static_cast<uint32_t>(ConfigFields::kCount),
                           count(account_fields),
                           0,
                           resource_types,
                           config_fields().pointers.data(),
                           account_fields};
}

}  // namespace

const conn_descriptor *descriptor() {
    static const conn_descriptor desc = make_descriptor();
    return &desc;
}

}  // namespace ce::abi
