// THE table of config fields: one row a field, from which the descriptor's config fields (abi/descriptor.cpp),
// the parser and its error messages (config/config.cpp) and the defaults are all derived. Names are contracts
// (hosts derive environment variables from them: scim-url -> SCIM_URL); the descriptor lists the rows in this
// order.
//
// Adding a field: a member of Config (config/config.hpp), one row here, and its use.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include "common/units.hpp"
#include "config/config.hpp"

namespace ce::config {

enum class Kind {
    url,      // a string checked as the service URL (descriptor type CONN_FIELD_URL)
    secret,   // a string never logged or echoed (CONN_FIELD_STRING with CONN_FIELD_SECRET)
    integer,  // a whole number within [min, max] (CONN_FIELD_INT)
    path,     // a file system path checked against the file system, after every other field (CONN_FIELD_PATH)
    choice,   // one of the words of Field::choices (CONN_FIELD_STRING)
};

// Stores a field's value (text for strings, number for integers) in its Config member.
using Setter = void (*)(Config &, const std::string &text, int64_t number);
// Checks a string field's value once stored (throws Error::invalid_config naming the field).
using Check = void (*)(Config &);

template <auto Member>
void assign(Config &c, const std::string &text, int64_t number) {
    using T = std::remove_reference_t<decltype(c.*Member)>;
    if constexpr (std::is_same_v<T, std::string>) c.*Member = text;
    else c.*Member = static_cast<T>(number);
}

// The checks of the string fields (config/config.cpp).
void check_url(Config &c);
void check_token(Config &c);
void check_admin_url(Config &c);
void check_admin_key(Config &c);
void check_spill_dir(Config &c);
void check_ca_file(Config &c);
void check_membership_reads(Config &c);

struct Field {
    std::string_view name;
    const char *display_name;
    Kind kind;
    bool required = false;
    int64_t default_value = 0;  // integers
    const char *default_text = nullptr;  // strings with a default (the descriptor shows NULL for the others)
    int64_t min = 0, max = 0;   // integers
    const char *example = nullptr;
    const char *choices = nullptr;  // choice: the words allowed, separated by '|'
    // One sentence for the descriptor; "{range}" stands for "min-max", "{default}" for the default.
    const char *description;
    Setter set;
    Check check = nullptr;
};

inline constexpr int64_t kMaxIndexMemoryKb = static_cast<int64_t>(4 * kMiB);  // 4 GiB counted in KiB: 4 Mi of them

inline constexpr std::array kFields{
    Field{.name = "scim-url", .display_name = "SCIM URL", .kind = Kind::url,
          .example = "https://api.workos.com/scim/v2.0/<directory key>",
          .description = "The SCIM 2.0 base URL of the Claude Enterprise directory (https; plain http only to a "
                         "loopback address, for tests). Given with scim-token; a config needs SCIM, admin-api-key, "
                         "or both.",
          .set = &assign<&Config::scim_url>, .check = &check_url},
    Field{.name = "scim-token", .display_name = "SCIM token", .kind = Kind::secret,
          .description = "The bearer token of the SCIM directory (given with scim-url). Never logged or echoed.",
          .set = &assign<&Config::scim_token>, .check = &check_token},
    Field{.name = "admin-api-key", .display_name = "Admin API key", .kind = Kind::secret,
          .example = "sk-ant-api01-...",
          .description = "An Enterprise key of Anthropic's Admin API (claude.ai > Organization settings > API): the "
                         "sync then sees every member, invite, group and custom role. Never logged or echoed.",
          .set = &assign<&Config::admin_api_key>, .check = &check_admin_key},
    Field{.name = "admin-api-url", .display_name = "Admin API URL", .kind = Kind::url,
          .default_text = "https://api.anthropic.com",
          .description = "The Admin API's base URL (https; plain http only to a loopback address, for tests).",
          .set = &assign<&Config::admin_api_url>, .check = &check_admin_url},
    Field{.name = "admin-api-rate-limit", .display_name = "Admin API rate limit", .kind = Kind::integer,
          .default_value = 100, .min = 1, .max = 100'000,
          .description = "Admin API requests a minute the connector never exceeds ({range}; the API allows "
                         "{default} per organisation, shared by every client of it).",
          .set = &assign<&Config::admin_api_rate_limit>},
    Field{.name = "page-size", .display_name = "Page size", .kind = Kind::integer, .default_value = 1000, .min = 1,
          .max = 1000, .example = "200",
          .description = "Resources asked for per list page ({range}); the service's own cap (100 for WorkOS) is "
                         "learnt from its first answer, so a server allowing more costs fewer requests.",
          .set = &assign<&Config::page_size>},
    Field{.name = "membership-reads", .display_name = "Membership reads", .kind = Kind::choice,
          .default_text = "auto", .example = "per-group", .choices = "auto|group-pages|per-group",
          .description = "How group members are read: group-pages (the members come with the group list pages, a "
                         "group the pages cannot vouch for is read on its own), per-group (one request a group), "
                         "or auto (the default: group pages, with each fallback decided by what the pages show).",
          .set = &assign<&Config::membership_reads>, .check = &check_membership_reads},
    Field{.name = "max-requests-per-second", .display_name = "Maximum requests per second", .kind = Kind::integer,
          .default_value = 0, .min = 0, .max = 100'000,
          .description = "SCIM requests a second the connector never exceeds ({range}; {default}: learnt from the "
                         "service's 429 answers and rate-limit headers, then sent at the rate it allows).",
          .set = &assign<&Config::max_requests_per_second>},
    Field{.name = "concurrency", .display_name = "Concurrency", .kind = Kind::integer, .default_value = 16, .min = 1,
          .max = 64, .example = "4",
          .description = "Requests kept in flight at once ({range}); halved automatically while the service answers "
                         "429, and paced to the rate its 429s teach (max-requests-per-second), so a service's limit "
                         "costs a few 429s, not a slower sync.",
          .set = &assign<&Config::concurrency>},
    Field{.name = "connect-timeout-ms", .display_name = "Connect timeout", .kind = Kind::integer,
          .default_value = 10'000, .min = 100, .max = 600'000,
          .description = "Milliseconds allowed to open a connection ({range}).",
          .set = &assign<&Config::connect_timeout_ms>},
    Field{.name = "request-timeout-ms", .display_name = "Request timeout", .kind = Kind::integer,
          .default_value = 60'000, .min = 1'000, .max = 3'600'000,
          .description = "Milliseconds allowed for one whole request ({range}).",
          .set = &assign<&Config::request_timeout_ms>},
    Field{.name = "retry-budget-ms", .display_name = "Retry budget", .kind = Kind::integer, .default_value = 30'000,
          .min = 0, .max = 3'600'000,
          .description = "Milliseconds one request may spend being retried after transient failures and 429s "
                         "({range}; 0 disables retries).",
          .set = &assign<&Config::retry_budget_ms>},
    Field{.name = "ca-file", .display_name = "CA file", .kind = Kind::path, .example = "/etc/ssl/private-ca.pem",
          .description = "A PEM file of certificate authorities to trust instead of the system store. TLS "
                         "verification cannot be turned off.",
          .set = &assign<&Config::ca_file>, .check = &check_ca_file},
    Field{.name = "max-response-mb", .display_name = "Maximum response size", .kind = Kind::integer,
          .default_value = 64, .min = 1, .max = 4096,
          .description = "Largest response body held in memory, in MiB ({range}), and the most all answers in "
                         "flight may hold together; larger answers fail with a clear error (member lists have their "
                         "own cap, max-member-list-mb; error bodies are cut at 64 KiB).",
          .set = &assign<&Config::max_response_mb>},
    Field{.name = "max-member-list-mb", .display_name = "Maximum member list size", .kind = Kind::integer,
          .default_value = 1024, .min = 1, .max = 65536,
          .description = "Largest member list of one group accepted, in MiB ({range}). Member lists are read as "
                         "they arrive and never held, so this only stops a runaway answer ({default} MiB is about "
                         "six million members).",
          .set = &assign<&Config::max_member_list_mb>},
    Field{.name = "max-member-kb", .display_name = "Maximum member size", .kind = Kind::integer, .default_value = 64,
          .min = 1, .max = 65536,
          .description = "Largest single member object of a member list, in KiB ({range}); a larger one fails with "
                         "a clear error. A member is {value, display, type, $ref}: well under 1 KiB.",
          .set = &assign<&Config::max_member_kb>},
    Field{.name = "index-memory-kb", .display_name = "Index memory", .kind = Kind::integer, .default_value = 2048,
          .min = 1, .max = kMaxIndexMemoryKb,
          .description = "KiB each of the sync's id indexes (users, groups) may keep in memory ({range}); past it "
                         "the rest spills to a temporary file in spill-dir (8 bytes a user; the default holds "
                         "~196,000).",
          .set = &assign<&Config::index_memory_kb>},
    Field{.name = "spill-dir", .display_name = "Spill directory", .kind = Kind::path, .example = "/var/tmp",
          .description = "Directory for the sync's temporary index files (anonymous, removed when the sync ends), "
                         "and for the journal of a sync that gives checkpoints (0600; kept while the sync can be "
                         "resumed, removed when it completes). Default: $TMPDIR, else /tmp.",
          .set = &assign<&Config::spill_dir>, .check = &check_spill_dir},
    Field{.name = "checkpoint-interval-ms", .display_name = "Checkpoint interval", .kind = Kind::integer,
          .default_value = 5'000, .min = 0, .max = 3'600'000,
          .description = "Milliseconds between the checkpoints a SCIM sync gives a host that takes them ({range}; "
                         "0: after every page, and every group while member lists are read), besides one at every "
                         "phase boundary. A resumed sync repeats at most about this much work.",
          .set = &assign<&Config::checkpoint_interval_ms>},
};

// The row of the field stored in `Member`, for the layers whose errors name a field:
// name_of<&Config::max_response_mb>() is "max-response-mb". Looked up when first asked, not when compiled: GCC 12
// does not treat comparing two functions' addresses as a constant expression under -fsanitize=null (the
// sanitizer build), so a member without a row throws std::logic_error at its first use (every use runs in the
// unit tests).
template <auto Member>
const Field &row_of() {
    static const Field &row = [] () -> const Field & {
        for (const Field &f : kFields)
            if (f.set == &assign<Member>) return f;
        throw std::logic_error("no config field stores this member");
    }();
    return row;
}
template <auto Member>
std::string_view name_of() {
    return row_of<Member>().name;
}
template <auto Member>
size_t default_of() {
    return static_cast<size_t>(row_of<Member>().default_value);
}

}  // namespace ce::config
