#include "connector_host/cli/record_validation.hpp"

#include <connector_host/plugin_loader.hpp>

#include <algorithm>
#include <cstring>

namespace connector_host::cli {

namespace {

template <typename T>
std::optional<std::string> copy_record(const T *in, T &out, std::string_view what) {
    out = T{};
    if (in == nullptr) return std::string(what) + " pointer is NULL";
    uint32_t size = 0;
    std::memcpy(&size, in, sizeof size);
    // Every field of these records exists since ABI 1.0: a smaller struct is malformed.
    if (size < sizeof(T))
        return std::string(what) + " struct_size " + std::to_string(size) + " is smaller than the ABI 1.0 size " +
               std::to_string(sizeof(T));
    std::memcpy(&out, in, sizeof(T));
    return std::nullopt;
}

}  // namespace

std::optional<std::string> check_text(conn_str s, std::string_view what, size_t max_bytes, bool allow_empty) {
    if (s.data == nullptr && s.size != 0) return std::string(what) + " has a NULL pointer with a non-zero size";
    if (s.size == 0 && !allow_empty) return std::string(what) + " is empty";
    if (s.size > max_bytes)
        return std::string(what) + " is " + std::to_string(s.size) + " bytes (limit " + std::to_string(max_bytes) + ")";
    if (!is_valid_utf8(view(s))) return std::string(what) + " is not valid UTF-8";
    return std::nullopt;
}

bool is_reserved_attr_key(std::string_view key) noexcept {
    return key == "type" || key == "id" || key == "display_name" || key == "kind";
}

std::optional<std::string> check_resource(const conn_resource *in, conn_resource &r,
                                          const std::vector<std::string> &declared_types, const RecordLimits &lim) {
    if (auto e = copy_record(in, r, "resource")) return e;
    if (auto e = check_text(r.type, "resource type", lim.max_id_bytes, false)) return e;
    if (std::find(declared_types.begin(), declared_types.end(), view(r.type)) == declared_types.end())
        return "resource type '" + std::string(view(r.type)) + "' is not one the plugin declares";
    if (auto e = check_text(r.id, "resource id", lim.max_id_bytes, false)) return e;
    if (auto e = check_text(r.display_name, "resource display_name", lim.max_name_bytes, true)) return e;
    if (r.attr_count > 0 && r.attrs == nullptr) return std::string("resource attrs is NULL with a non-zero count");
    if (r.attr_count > lim.max_attrs)
        return "resource has " + std::to_string(r.attr_count) + " attributes (limit " + std::to_string(lim.max_attrs) + ")";
    for (size_t i = 0; i < r.attr_count; ++i) {
        const conn_attr &a = r.attrs[i];
        if (auto e = check_text(a.key, "attribute key", lim.max_attr_key_bytes, false)) return e;
        std::string key(view(a.key));
        if (is_reserved_attr_key(key)) return "attribute key '" + key + "' collides with a record field";
        for (size_t j = 0; j < i; ++j)
            if (view(r.attrs[j].key) == key) return "attribute '" + key + "' appears twice";
        switch (a.kind) {
        case CONN_ATTR_STRING:
            if (auto e = check_text(a.str, "attribute '" + key + "'", lim.max_attr_value_bytes, true)) return e;
            break;
        case CONN_ATTR_INT: break;
        case CONN_ATTR_BOOL:
            if (a.num != 0 && a.num != 1) return "boolean attribute '" + key + "' is neither 0 nor 1";
            break;
        default: return "attribute '" + key + "' has unknown kind " + std::to_string(a.kind);
        }
    }
    return std::nullopt;
}

std::optional<std::string> check_entitlement(const conn_entitlement *in, conn_entitlement &e,
                                             const std::vector<std::string> &declared_types,
                                             const RecordLimits &lim) {
    if (auto err = copy_record(in, e, "entitlement")) return err;
    if (e.purpose != CONN_PURPOSE_ASSIGNMENT && e.purpose != CONN_PURPOSE_PERMISSION)
        return "entitlement has unknown purpose " + std::to_string(e.purpose);
    if (auto err = check_text(e.id, "entitlement id", lim.max_id_bytes, false)) return err;
    if (auto err = check_text(e.resource_type, "entitlement resource type", lim.max_id_bytes, false)) return err;
    if (std::find(declared_types.begin(), declared_types.end(), view(e.resource_type)) == declared_types.end())
        return "entitlement resource type '" + std::string(view(e.resource_type)) + "' is not one the plugin declares";
    if (auto err = check_text(e.resource_id, "entitlement resource id", lim.max_id_bytes, false)) return err;
    if (auto err = check_text(e.slug, "entitlement slug", lim.max_id_bytes, false)) return err;
    if (auto err = check_text(e.display_name, "entitlement display_name", lim.max_name_bytes, true)) return err;
    return std::nullopt;
}

std::optional<std::string> check_grant(const conn_grant *in, conn_grant &g, const RecordLimits &lim,
                                       const std::vector<std::string> &declared_types) {
    if (auto err = copy_record(in, g, "grant")) return err;
    if ((g.flags & ~uint32_t{CONN_GRANT_UNRESOLVED_PRINCIPAL}) != 0)
        return "grant has unknown flags " + std::to_string(g.flags);
    if (auto err = check_text(g.id, "grant id", lim.max_id_bytes * 3, false)) return err;
    if (auto err = check_text(g.entitlement_id, "grant entitlement id", lim.max_id_bytes, false)) return err;
    if (auto err = check_text(g.principal_type, "grant principal type", lim.max_id_bytes, false)) return err;
    if (auto err = check_text(g.principal_id, "grant principal id", lim.max_id_bytes, false)) return err;
    if (!declared_types.empty() &&
        std::find(declared_types.begin(), declared_types.end(), view(g.principal_type)) == declared_types.end())
        return "grant principal type '" + std::string(view(g.principal_type)) + "' is not one the plugin declares";
    return std::nullopt;
}

}  // namespace connector_host::cli
