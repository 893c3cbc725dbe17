// The connector's configuration as the rest of the plugin reads it, and its parsing from the key/value entries a
// host passes to instance_create. Local only (no network). Every refusal is an Error(invalid_config) naming the
// field; no message ever repeats the token.
//
// The fields, their defaults, ranges and descriptions are the rows of config/fields.hpp: this struct only holds
// the values (zero until parse_config() or defaults() fills them from the table).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ce::config {

struct Config {
    std::string scim_url;
    std::string scim_token;
    int64_t page_size = 0;
    unsigned concurrency = 0;
    long connect_timeout_ms = 0;
    long request_timeout_ms = 0;
    int64_t retry_budget_ms = 0;
    std::string ca_file;
    size_t max_response_mb = 0;
    size_t max_member_list_mb = 0;
    size_t max_member_kb = 0;
    size_t index_memory_kb = 0;
    std::string spill_dir;
    int64_t checkpoint_interval_ms = 0;
    std::string admin_api_key;
    std::string admin_api_url;
    unsigned admin_api_rate_limit = 0;
    std::string membership_reads;        // auto | group-pages | per-group
    unsigned max_requests_per_second = 0;  // SCIM; 0: learnt
    bool plain_http = false;        // derived: scim-url is http:// to a loopback address (a warning is logged)
    bool admin_plain_http = false;  // derived: admin-api-url is http:// to a loopback address

    // The sources configured: SCIM (scim-url with scim-token), the Admin API (admin-api-key). At least one.
    bool has_scim() const { return !scim_url.empty(); }
    bool has_admin_api() const { return !admin_api_key.empty(); }
    // Members read from the group list pages (auto and group-pages), else one request a group.
    bool members_from_group_pages() const { return membership_reads != "per-group"; }
    // Every secret of the config (for the scrubber).
    std::vector<std::string> secrets() const { return {scim_token, admin_api_key}; }
};

// Every field at its default (the table's).
Config defaults();

// Parses and validates. Unknown or repeated keys are refused; a config names SCIM (scim-url and scim-token,
// together), the Admin API (admin-api-key), or both.
Config parse_config(const std::vector<std::pair<std::string, std::string>> &entries);

// Whether a URL host (as written in the URL, IPv6 in brackets) is a loopback address.
bool is_loopback_host(std::string_view host);

}  // namespace ce::config
