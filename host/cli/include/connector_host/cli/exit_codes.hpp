// Exit codes of connector-host, and the mapping from ABI status codes to them. Documented in --help and
// host/CLI.md; a script may branch on them, so the numbers never change.
#pragma once

#include <connector/connector_abi.h>

#include <string_view>

namespace connector_host::cli {

enum class ExitCode : int {
    success = 0,
    failure = 1,            // an unexpected host-side failure (should not happen)
    usage = 2,              // bad command line
    config_error = 3,       // config missing, unknown or invalid (host or plugin said so)
    auth_failed = 4,        // the service refused the credentials (unauthenticated / permission denied)
    not_found = 5,          // the resource, entitlement or principal does not exist
    rate_limited = 6,       // throttled past the plugin's retry budget
    transient = 7,          // network failure, timeout, 5xx, malformed service response
    plugin_failure = 8,     // load errors, internal plugin errors, garbage from the plugin
    invalid_argument = 9,   // the plugin or service refused an argument (e.g. a malformed email)
    unsupported = 10,       // the plugin cannot do this operation
    conflict = 11,          // already exists (unresolved), failed precondition
    output_error = 12,      // the output file could not be written
    timed_out = 13,         // the operation exceeded --timeout
    incomplete = 14,        // sync --strict: the plugin warned the data may be incomplete (incomplete_*)
    interrupted = 130,      // SIGINT / SIGTERM / SIGHUP
    broken_pipe = 141,      // 128 + SIGPIPE: the reader of stdout (or of an --out pipe) went away; nothing printed
};

constexpr int to_int(ExitCode code) noexcept { return static_cast<int>(code); }

// The exit code for a non-OK status returned by a plugin operation. Unknown codes count as internal.
ExitCode exit_code_for_status(conn_status status) noexcept;

// One line per code, for --help and CLI.md: "  3  config error: ...".
std::string_view exit_code_table() noexcept;

// The short name of an exit code, e.g. "config_error".
std::string_view exit_code_name(ExitCode code) noexcept;

}  // namespace connector_host::cli
