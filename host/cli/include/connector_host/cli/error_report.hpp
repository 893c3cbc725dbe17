// A failed command, machine-readable (host/CLI.md, "Failures, machine-readable"): with --json, and always for
// the provisioning commands, a failure prints {"error":{"status","message","field","http_status","exit_code"}}
// on stdout; a failed NDJSON stream ends with {"kind":"error", the same fields}.
#pragma once

#include "connector_host/cli/exit_codes.hpp"
#include "connector_host/cli/text_safety.hpp"

#include <string>

namespace connector_host::cli {

struct ErrorReport {
    // The plugin's status name when the plugin (or its service) refused ("not_found", "unauthenticated",
    // ...), else the exit code's name ("usage", "config_error", "plugin_failure", ...).
    std::string status;
    std::string message; // the line printed on stderr, without the "connector-host: error: " prefix
    std::string field;   // the config field or argument at fault; empty: none (JSON null)
    int http_status = 0; // the service's HTTP status behind the error; 0: none (JSON null)
    ExitCode exit_code = ExitCode::failure;
};

// The report as {"error":{...}}, or (ndjson) as the record {"kind":"error",...}. Strings are scrubbed of
// secrets and escaped like every output of the host.
std::string error_json(const ErrorReport &report, const SecretScrubber &scrubber);
std::string error_record(const ErrorReport &report, const SecretScrubber &scrubber);

}  // namespace connector_host::cli
