// The connector's configuration: parsing and validation of the key/value entries a host passes to
// instance_create. Local only (no network). Every refusal is an Error(invalid_config) naming the field;
// no message ever repeats the token.
//
// Fields (names are contracts): scim-url (required), scim-token (required, secret), page-size (100),
// concurrency (8), connect-timeout-ms (10000), request-timeout-ms (60000), retry-budget-ms (30000),
// ca-file (none: the system store), max-response-mb (64), max-member-list-mb (1024), max-member-kb (64),
// index-memory-kb (2048),
// spill-dir ($TMPDIR or /tmp).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ce::connector {

struct Config {
    std::string scim_url;
    std::string scim_token;
    int64_t page_size = 100;
    unsigned concurrency = 8;
    long connect_timeout_ms = 10'000;
    long request_timeout_ms = 60'000;
    int64_t retry_budget_ms = 30'000;
    std::string ca_file;
    size_t max_response_mb = 64;
    // A group's member list is read as it arrives and never held: its own, larger cap (a runaway answer).
    size_t max_member_list_mb = 1024;
    // One member object of a member list (the reader holds one at a time): a runaway member fails naming it.
    size_t max_member_kb = 64;
    // The most each of the sync's id indexes (users, groups) keeps in memory (the group list keeps at most 256 KiB,
    // or this if less); past it, the rest spills to an anonymous temporary file in spill_dir ("" = $TMPDIR, else
    // /tmp).
    size_t index_memory_kb = 2048;
    std::string spill_dir;
    bool plain_http = false;  // http:// to a loopback address (a warning is logged)
};

// Parses and validates. Unknown or repeated keys are refused.
Config parse_config(const std::vector<std::pair<std::string, std::string>> &entries);

// Whether a URL host (as written in the URL, IPv6 in brackets) is a loopback address.
bool is_loopback_host(std::string_view host);

}  // namespace ce::connector
