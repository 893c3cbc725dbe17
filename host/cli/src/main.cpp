// connector-host: load connector plugins through the stable C ABI and sync, inspect and provision with
// them. Generic: it knows the ABI, not any particular plugin. See host/CLI.md.
#include "commands.hpp"

#include "connector_host/cli/exit_codes.hpp"
#include "connector_host/cli/host_services.hpp"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <sstream>

#ifndef CONNECTOR_HOST_VERSION
#define CONNECTOR_HOST_VERSION "0.0.0"
#endif

namespace {

using namespace connector_host::cli;
namespace fs = std::filesystem;

// plugins/ beside the executable: <prefix>/plugins for <prefix>/bin/connector-host, else <dir>/plugins.
fs::path default_plugins_dir() {
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (ec) return "plugins";
    fs::path dir = exe.parent_path();
    if (dir.filename() == "bin") return dir.parent_path() / "plugins";
    return dir / "plugins";
}

const char *config_help =
    "Config (check, sync, grant, revoke, create-account, delete):\n"
    "  Every config field the plugin declares (see `describe`) can be given, highest precedence first, as\n"
    "    --set name=value         on the command line (repeatable)\n"
    "    --config FILE            a JSON object {\"name\": \"value\", ...}\n"
    "    NAME                     an environment variable: the field name in upper snake case\n"
    "                             (scim-url -> SCIM_URL, scim-token -> SCIM_TOKEN)\n"
    "  Secret fields can also be read from a file: --set name=@FILE (one trailing newline removed; FILE and a\n"
    "  --config FILE must be regular files of at most 1 MiB). A secret\n"
    "  given literally with --set works but warns: other users of the machine can see command lines.\n"
    "\n"
    "Environment: CONNECTOR_PLUGINS_DIR sets the default of --plugins-dir.\n\n";

// Every piece of a --set argument that could be a value: the whole, and what follows each '=' or ':'.
void scrub_set_argument(Console &console, const std::string &arg) {
    console.add_secret(arg);
    for (size_t i = 0; i < arg.size(); ++i)
        if (arg[i] == '=' || arg[i] == ':') console.add_secret(arg.substr(i + 1));
}

}  // namespace

int main(int argc, char **argv) {
    install_signal_handlers();
    Console console(stderr, ::isatty(STDERR_FILENO) == 1);

    CLI::App app{"connector-host: sync, inspect and provision through connector plugins (connector ABI " +
                     std::to_string(CONN_ABI_VERSION_MAJOR) + "." + std::to_string(CONN_ABI_VERSION_MINOR) + ")",
                 "connector-host"};
    app.footer(std::string("\n") + config_help + std::string(exit_code_table()) + "\nSee host/CLI.md for examples.");
    app.set_version_flag("--version", std::string("connector-host ") + CONNECTOR_HOST_VERSION + " (connector ABI " +
                                          std::to_string(CONN_ABI_VERSION_MAJOR) + "." +
                                          std::to_string(CONN_ABI_VERSION_MINOR) + ")");
    app.require_subcommand(1, 1);
    app.fallthrough();

    std::string plugins_dir;
    std::string log_level = "warn";
    double timeout_s = 0;
    app.add_option("--plugins-dir", plugins_dir, "Directory holding plugins (default: plugins/ beside the executable)")
        ->envname("CONNECTOR_PLUGINS_DIR");
    app.add_option("--log-level", log_level, "Plugin and host log level: error, warn, info, debug, trace (default warn)")
        ->check(CLI::IsMember({"error", "warn", "warning", "info", "debug", "trace"}));
    app.add_option("--timeout", timeout_s, "Cancel a plugin operation that runs longer than SECONDS (default: none)")
        ->check(CLI::NonNegativeNumber);

    std::string plugin_arg;
    auto add_plugin_arg = [&](CLI::App *sub) {
        sub->add_option("plugin", plugin_arg, "A plugin id found in the plugins directory, or a path to a plugin file")
            ->required();
    };
    ConfigOptions cfg;
    auto add_config = [&](CLI::App *sub) {
        sub->add_option("--set", cfg.set_args, "Config field: name=value, or name=@FILE for a secret (repeatable)")
            ->type_size(1)
            ->allow_extra_args(false)
            ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
        sub->add_option("--config", cfg.config_file, "JSON file holding config fields");
        sub->footer(config_help);
    };
    bool json = false;

    auto *plugins = app.add_subcommand("plugins", "List the plugins in the plugins directory (id, version, ABI, path)");
    plugins->add_flag("--json", json, "Print a JSON array");

    auto *describe = app.add_subcommand("describe", "Show what a plugin declares: capabilities, resource types, "
                                                    "entitlements, config and account fields");
    add_plugin_arg(describe);
    describe->add_flag("--json", json, "Print JSON");

    auto *check = app.add_subcommand("check", "Validate config and credentials; exit 0 only when they work");
    add_plugin_arg(check);
    add_config(check);
    check->add_flag("--json", json, "Print JSON");

    SyncOptions sync_opts;
    auto *sync = app.add_subcommand("sync", "Run a full sync: every resource, entitlement and grant");
    add_plugin_arg(sync);
    add_config(sync);
    sync->add_option("--out", sync_opts.out, "Write to FILE (a regular or new file: atomically, a temporary file "
                                             "renamed at the end, mode and owner kept, new files 0600; a symlink is "
                                             "followed; a character device or FIFO is written directly; a directory, "
                                             "socket or block device is refused, exit 2); default standard output");
    sync->add_option("--format", sync_opts.format,
                     "json (default when --out ends in .json or stdout is not a terminal), ndjson (one record per "
                     "line, streamed), table (default on a terminal)")
        ->check(CLI::IsMember({"json", "ndjson", "table"}));
    sync->add_option("--resume-from", sync_opts.resume_from, "Continue from a checkpoint token (plugins with checkpoint)");
    sync->add_flag("--strict", sync_opts.strict,
                   "Fail (exit 14, output not committed) when the plugin warns the data may be incomplete (a warning "
                   "code beginning with incomplete_); without it such a sync succeeds and records \"complete\": false");

    std::string entitlement, principal;
    auto *grant = app.add_subcommand("grant", "Grant an entitlement to a principal");
    auto *revoke = app.add_subcommand("revoke", "Revoke an entitlement from a principal");
    for (auto *sub : {grant, revoke}) {
        add_plugin_arg(sub);
        add_config(sub);
        sub->add_option("--entitlement", entitlement, "Entitlement id, e.g. group:<gid>:member")->required();
        sub->add_option("--principal", principal, "Principal as <type>:<id>, e.g. user:<uid>")->required();
    }

    std::string email;
    std::vector<std::string> profile;
    auto *create = app.add_subcommand("create-account", "Create an account (or report the existing one)");
    add_plugin_arg(create);
    add_config(create);
    create->add_option("--email", email, "The account's email (sent as the account field \"email\")");
    create->add_option("--profile", profile, "Another account field, name=value (repeatable), e.g. "
                                             "display_name=\"Jane Smith\"")
        ->type_size(1)
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);

    std::string resource;
    auto *del = app.add_subcommand("delete", "Delete a resource");
    add_plugin_arg(del);
    add_config(del);
    del->add_option("--resource", resource, "Resource as <type>:<id>, e.g. user:<uid>")->required();

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp &e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp &e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion &e) {
        return app.exit(e);
    } catch (const CLI::ParseError &e) {
        // The message may quote arguments; never echo any part of a --set argument (it may be a secret).
        for (int i = 1; i < argc; ++i) {
            std::string a = argv[i];
            if (a == "--set" && i + 1 < argc) scrub_set_argument(console, argv[i + 1]);
            else if (a.rfind("--set=", 0) == 0) scrub_set_argument(console, a.substr(6));
        }
        std::ostringstream out, err;
        app.exit(e, out, err);
        std::istringstream lines(err.str());
        for (std::string line; std::getline(lines, line);) console.line(line);
        return to_int(ExitCode::usage);
    }

    console.set_level(parse_log_level(log_level));
    GlobalOptions g;
    g.plugins_dir = plugins_dir.empty() ? default_plugins_dir() : fs::path(plugins_dir);
    g.timeout = std::chrono::milliseconds(static_cast<long long>(timeout_s * 1000.0));

    if (plugins->parsed()) return run_plugins(console, g, json);
    if (describe->parsed()) return run_describe(console, g, plugin_arg, json);
    if (check->parsed()) return run_check(console, g, plugin_arg, cfg, json);
    if (sync->parsed()) return run_sync(console, g, plugin_arg, cfg, sync_opts);
    if (grant->parsed()) return run_grant(console, g, plugin_arg, cfg, entitlement, principal, false);
    if (revoke->parsed()) return run_grant(console, g, plugin_arg, cfg, entitlement, principal, true);
    if (create->parsed()) return run_create_account(console, g, plugin_arg, cfg, email, profile);
    if (del->parsed()) return run_delete(console, g, plugin_arg, cfg, resource);
    console.error("no command given");
    return to_int(ExitCode::usage);
}
