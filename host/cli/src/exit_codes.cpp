#include "connector_host/cli/exit_codes.hpp"

namespace connector_host::cli {

ExitCode exit_code_for_status(conn_status status) noexcept {
    switch (status) {
    case CONN_OK: return ExitCode::success;
    case CONN_ERR_INVALID_ARGUMENT: return ExitCode::invalid_argument;
    case CONN_ERR_INVALID_CONFIG: return ExitCode::config_error;
    case CONN_ERR_UNSUPPORTED: return ExitCode::unsupported;
    case CONN_ERR_NOT_FOUND: return ExitCode::not_found;
    case CONN_ERR_ALREADY_EXISTS: return ExitCode::conflict;
    case CONN_ERR_UNAUTHENTICATED: return ExitCode::auth_failed;
    case CONN_ERR_PERMISSION_DENIED: return ExitCode::auth_failed;
    case CONN_ERR_RATE_LIMITED: return ExitCode::rate_limited;
    case CONN_ERR_TRANSIENT: return ExitCode::transient;
    case CONN_ERR_CANCELLED: return ExitCode::interrupted;
    case CONN_ERR_STOPPED: return ExitCode::plugin_failure; // callers that stopped the sink override this
    case CONN_ERR_INVALID_STATE: return ExitCode::plugin_failure;
    case CONN_ERR_FAILED_PRECONDITION: return ExitCode::conflict;
    case CONN_ERR_INTERNAL: return ExitCode::plugin_failure;
    default: return ExitCode::plugin_failure;
    }
}

std::string_view exit_code_table() noexcept {
    return "Exit codes:\n"
           "    0  success (every provisioning outcome, including already_* ones)\n"
           "    1  unexpected host failure\n"
           "    2  usage error (bad command line)\n"
           "    3  config error (missing, unknown or invalid config field)\n"
           "    4  authentication failure (credentials refused: unauthenticated or permission denied)\n"
           "    5  not found (resource, entitlement or principal does not exist)\n"
           "    6  rate limited (throttled past the plugin's retry budget)\n"
           "    7  transient failure (network, timeout, service error, malformed response)\n"
           "    8  plugin failure (cannot load, duplicate plugin id, internal error, garbage from the plugin)\n"
           "    9  invalid argument (the plugin or service refused an argument)\n"
           "   10  unsupported (the plugin cannot do this)\n"
           "   11  conflict (already exists and not resolvable, failed precondition)\n"
           "   12  output error (the output could not be written: disk full, I/O error, ...)\n"
           "   13  timed out (the operation exceeded --timeout)\n"
           "   14  incomplete (sync --strict: the plugin sent an incomplete_* warning; output not committed)\n"
           "  130  interrupted (SIGINT, SIGTERM or SIGHUP)\n"
           "  141  broken pipe (the reader of the output went away, e.g. `| head`; nothing printed)\n";
}

std::string_view exit_code_name(ExitCode code) noexcept {
    switch (code) {
    case ExitCode::success: return "success";
    case ExitCode::failure: return "failure";
    case ExitCode::usage: return "usage";
    case ExitCode::config_error: return "config_error";
    case ExitCode::auth_failed: return "auth_failed";
    case ExitCode::not_found: return "not_found";
    case ExitCode::rate_limited: return "rate_limited";
    case ExitCode::transient: return "transient";
    case ExitCode::plugin_failure: return "plugin_failure";
    case ExitCode::invalid_argument: return "invalid_argument";
    case ExitCode::unsupported: return "unsupported";
    case ExitCode::conflict: return "conflict";
    case ExitCode::output_error: return "output_error";
    case ExitCode::timed_out: return "timed_out";
    case ExitCode::incomplete: return "incomplete";
    case ExitCode::interrupted: return "interrupted";
    case ExitCode::broken_pipe: return "broken_pipe";
    }
    return "unknown";
}

}  // namespace connector_host::cli
