// Validation of the records a plugin streams. A plugin is trusted to follow the ABI but checked anyway:
// a struct that is too small, a string that is not UTF-8, an absurd size, an unknown resource type or an
// out-of-range enum is refused, and the host ends the operation with the plugin-failure exit code.
#pragma once

#include <connector/connector_abi.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace connector_host::cli {

struct RecordLimits {
    size_t max_id_bytes = 4096;
    size_t max_name_bytes = 64 * 1024;
    size_t max_attrs = 256;
    size_t max_attr_key_bytes = 128;
    size_t max_attr_value_bytes = 1024 * 1024;
};

// Each check copies the plugin's struct (min(its size, ours), zero-extended) into `out` and returns the
// reason it is refused, or nullopt when it is fine. `declared_types` are the descriptor's resource types.
std::optional<std::string> check_resource(const conn_resource *in, conn_resource &out,
                                          const std::vector<std::string> &declared_types,
                                          const RecordLimits &limits = {});
std::optional<std::string> check_entitlement(const conn_entitlement *in, conn_entitlement &out,
                                             const std::vector<std::string> &declared_types,
                                             const RecordLimits &limits = {});
// With declared_types non-empty, the principal's type must be one of them.
std::optional<std::string> check_grant(const conn_grant *in, conn_grant &out, const RecordLimits &limits = {},
                                       const std::vector<std::string> &declared_types = {});
// For short strings such as warning codes and messages.
std::optional<std::string> check_text(conn_str s, std::string_view what, size_t max_bytes, bool allow_empty);

// Attribute keys a resource may not use (the host's own JSON fields).
bool is_reserved_attr_key(std::string_view key) noexcept;

}  // namespace connector_host::cli
