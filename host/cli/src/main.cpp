// connector-host: load connector plugins through the stable C ABI and sync, inspect and provision with
// them. Generic: it knows the ABI, not any particular plugin. See host/CLI.md.
#include "commands.hpp"
#include "query_commands.hpp"

#include "connector_host/cli/config_assembly.hpp"
#include "connector_host/cli/error_report.hpp"
#include "connector_host/cli/exit_codes.hpp"
#include "connector_host/cli/text_safety.hpp"
#include "connector_host/cli/host_services.hpp"
#include "connector_host/plugin_loader.hpp"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>

#ifndef CONNECTOR_HOST_VERSION
#define CONNECTOR_HOST_VERSION "0.0.0"
#endif

namespace {

using namespace connector_host::cli;
namespace fs = std::filesystem;

// The loader's default (installed tree, build tree, or plugins/ beside the executable).
fs::path default_plugins_dir() {
    const fs::path exe = connector_host::running_executable();
    return exe.empty() ? fs::path("plugins") : connector_host::default_plugins_dir(exe);
}

const char *config_help =
    "Config (check, sync, grant, revoke, create-account, delete):\n"
    "  Every config field the plugin declares (see `describe`) can be given, highest precedence first, as\n"
    "    --set name=value         on the command line (repeatable)\n"
    "    --config FILE            a JSON object {\"name\": \"value\", ...}\n"
    "    CONNECTOR_<PLUGIN>_NAME  an environment variable: the plugin id and the field name in upper snake\n"
    "                             case (CONNECTOR_CLAUDE_ENTERPRISE_SCIM_URL), else the short NAME alone\n"
    "                             (scim-url -> SCIM_URL, scim-token -> SCIM_TOKEN)\n"
    "  Any field can be read from a file with --set name=@FILE (one trailing newline removed; FILE and a\n"
    "  --config FILE must be regular files of at most 1 MiB). Only --set reads files: values in --config FILE\n"
    "  and in the environment are taken as they are (a value beginning with @ goes there). A secret\n"
    "  given literally with --set works but warns: other users of the machine can see command lines.\n"
    "\n"
    "Environment: CONNECTOR_PLUGINS_DIR sets the default of --plugins-dir.\n\n";

// Every piece of a --set argument that could be a value: the whole, and what follows each '=' or ':'.
void scrub_set_argument(Console &console, const std::string &arg) {
    console.add_secret(arg);
    for (size_t i = 0; i < arg.size(); ++i)
        if (arg[i] == '=' || arg[i] == ':') console.add_secret(arg.substr(i + 1));
}

// Everything the command line sets, and the subcommands, so that dispatch can ask which one was parsed.
struct CommandLine {
    CLI::App app{"connector-host: sync, inspect and provision through connector plugins (connector ABI " +
                     std::to_string(CONN_ABI_VERSION_MAJOR) + "." + std::to_string(CONN_ABI_VERSION_MINOR) + ")",
                 "connector-host"};
    std::string plugins_dir;
    std::string log_level = "warn";
    double timeout_s = 0;
    std::string plugin_arg;
    ConfigOptions cfg;
    bool json = false;
    SyncOptions sync_opts;
    std::string entitlement, principal;
    std::string email;
    std::vector<std::string> profile;
    std::string resource;
    CLI::App *plugins = nullptr, *describe = nullptr, *check = nullptr, *sync = nullptr, *grant = nullptr,
             *revoke = nullptr, *create = nullptr, *del = nullptr;
    QueryOptions query;
    std::vector<std::pair<CLI::App *, Question>> questions;
    CLI::App *diff = nullptr;

    void add_plugin_arg(CLI::App *sub) {
        sub->add_option("plugin", plugin_arg, "A plugin id found in the plugins directory, or a path to a plugin file")
            ->required();
    }
    void add_config(CLI::App *sub) {
        sub->add_option("--set", cfg.set_args, "Config field: name=value, or name=@FILE to read the value from FILE (repeatable)")
            ->type_size(1)
            ->allow_extra_args(false)
            ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
        sub->add_option("--config", cfg.config_file, "JSON file holding config fields");
        sub->footer(std::string(config_help) + std::string(exit_code_table()));
    }
};

void add_global_options(CommandLine &cl) {
    CLI::App &app = cl.app;
    app.footer(std::string("\n") + config_help + std::string(exit_code_table()) + "\nSee host/CLI.md for examples.");
    app.set_version_flag("--version", std::string("connector-host ") + CONNECTOR_HOST_VERSION + " (connector ABI " +
                                          std::to_string(CONN_ABI_VERSION_MAJOR) + "." +
                                          std::to_string(CONN_ABI_VERSION_MINOR) + ")");
    app.require_subcommand(1, 1);
    app.fallthrough();
    app.add_option("--plugins-dir", cl.plugins_dir, "Directory holding plugins (default: <prefix>/lib/connector/plugins for an installed <prefix>/bin/connector-host, else plugins/ beside the executable's directory)")
        ->envname("CONNECTOR_PLUGINS_DIR");
    app.add_option("--log-level", cl.log_level, "Plugin and host log level: error, warn, info, debug, trace (default warn)")
        ->check(CLI::IsMember({"error", "warn", "warning", "info", "debug", "trace"}));
    app.add_option("--timeout", cl.timeout_s, "Cancel a plugin operation that runs longer than SECONDS (default: none)")
        ->check(CLI::NonNegativeNumber);
}

void add_inspection_commands(CommandLine &cl) {
    cl.plugins = cl.app.add_subcommand("plugins", "List the plugins in the plugins directory (id, version, ABI, path)");
    cl.plugins->add_flag("--json", cl.json, "Print a JSON array (a failure: {\"error\":{...}}, see host/CLI.md)");
    cl.plugins->footer(std::string(exit_code_table()));

    cl.describe = cl.app.add_subcommand("describe", "Show what a plugin declares: capabilities, resource types, "
                                                    "entitlements, config and account fields");
    cl.add_plugin_arg(cl.describe);
    cl.describe->add_flag("--json", cl.json, "Print JSON (a failure: {\"error\":{...}}, see host/CLI.md)");
    cl.describe->footer(std::string(exit_code_table()));

    cl.check = cl.app.add_subcommand("check", "Validate config and credentials; exit 0 only when they work");
    cl.add_plugin_arg(cl.check);
    cl.add_config(cl.check);
    cl.check->add_flag("--json", cl.json, "Print JSON (a failure: {\"error\":{...}}, see host/CLI.md)");
}

void add_sync_command(CommandLine &cl) {
    SyncOptions &o = cl.sync_opts;
    CLI::App *sync = cl.sync = cl.app.add_subcommand("sync", "Run a full sync: every resource, entitlement and grant");
    cl.add_plugin_arg(sync);
    cl.add_config(sync);
    sync->add_option("--out", o.out, "Write to FILE (a regular or new file: atomically, a temporary file "
                                     "renamed at the end, mode and owner kept, new files 0600; a symlink is "
                                     "followed; a character device or FIFO is written directly; a directory, "
                                     "socket or block device is refused, exit 2); json and ndjson files list "
                                     "their records in a stable order (by type, then id) with the run's times "
                                     "and tenant; default standard output");
    sync->add_option("--format", o.format,
                     "json (default when --out ends in .json or stdout is not a terminal), ndjson (one record per "
                     "line, streamed), table (every row; without --format a terminal gets the counts and the first 10 rows of each table), sqlite (a snapshot: default when --out ends in "
                     ".db or .sqlite; see host/SNAPSHOT.md)")
        ->check(CLI::IsMember({"json", "ndjson", "table", "sqlite"}));
    sync->add_option("--keep", o.keep, "Snapshots: how many complete runs to keep (default 2)")
        ->check(CLI::PositiveNumber);
    sync->add_option("--resume-from", o.resume_from,
                     "Continue from a checkpoint token (plugins with checkpoint); the output holds only the rest");
    sync->add_option("--checkpoint", o.checkpoint_file,
                     "json/ndjson --out FILE: keep the latest checkpoint in this file (0600, replaced atomically) "
                     "and the records before it in FILE.spool, so that --resume can finish the sync; both are "
                     "removed when the sync succeeds");
    sync->add_flag("--resume", o.resume,
                   "Continue the sync checkpointed in --checkpoint FILE (same plugin, version, config and format) "
                   "and write the whole sync to --out");
    sync->add_flag("--fresh", o.fresh,
                   "Snapshots: start a new run even when the latest run of the same plugin and config is "
                   "unfinished with a checkpoint (which sync --out FILE.db otherwise resumes); that run is dropped");
    sync->add_flag("--strict", o.strict,
                   "Fail (exit 14, output not committed) when the plugin warns the data may be incomplete (a warning "
                   "code beginning with incomplete_); without it such a sync succeeds and records \"complete\": false");
}

const char *provisioning_output_help =
    "Output: one JSON object on stdout, {\"outcome\":...} on success; a failure (any other exit code) prints\n"
    "  {\"error\":{\"status\",\"message\",\"field\",\"http_status\",\"exit_code\"}} instead (host/CLI.md).\n\n";

void add_provisioning_commands(CommandLine &cl) {
    cl.grant = cl.app.add_subcommand("grant", "Grant an entitlement to a principal");
    cl.revoke = cl.app.add_subcommand("revoke", "Revoke an entitlement from a principal");
    for (auto *sub : {cl.grant, cl.revoke}) {
        cl.add_plugin_arg(sub);
        cl.add_config(sub);
        sub->add_option("--entitlement", cl.entitlement, "Entitlement id, e.g. group:<gid>:member")->required();
        sub->add_option("--principal", cl.principal, "Principal as <type>:<id>, e.g. user:<uid>")->required();
    }

    cl.create = cl.app.add_subcommand("create-account", "Create an account (or report the existing one)");
    cl.add_plugin_arg(cl.create);
    cl.add_config(cl.create);
    cl.create->add_option("--email", cl.email, "The account's email (sent as the account field \"email\")");
    cl.create->add_option("--profile", cl.profile, "Another account field, name=value (repeatable), e.g. "
                                                   "display_name=\"Jane Smith\"")
        ->type_size(1)
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);

    cl.del = cl.app.add_subcommand("delete", "Delete a resource");
    cl.add_plugin_arg(cl.del);
    cl.add_config(cl.del);
    cl.del->add_option("--resource", cl.resource, "Resource as <type>:<id>, e.g. user:<uid>")->required();
    for (auto *sub : {cl.grant, cl.revoke, cl.create, cl.del})
        sub->footer(std::string(provisioning_output_help) + config_help + std::string(exit_code_table()));
}

void add_query_options(CommandLine &cl, CLI::App *sub) {
    sub->add_option("snapshot", cl.query.snapshot, "A snapshot written by sync --out FILE.db")->required();
    sub->add_option("--format", cl.query.format, "table (default on a terminal), json (default otherwise), ndjson, csv")
        ->check(CLI::IsMember({"table", "json", "ndjson", "csv"}));
    sub->add_option("--run", cl.query.run, "Read this run (default: the latest complete one)");
    sub->footer(std::string("See host/SNAPSHOT.md for the snapshot's schema.\n\n") + std::string(exit_code_table()) +
                (sub->get_name() == "diff" ? "  diff only: 0 no change, 1 changes (errors are 2 or more)\n" : ""));
}

CLI::App *add_question(CommandLine &cl, const char *name, const char *what, Question question) {
    CLI::App *sub = cl.app.add_subcommand(name, what);
    add_query_options(cl, sub);
    cl.questions.emplace_back(sub, question);
    return sub;
}

void add_question_commands(CommandLine &cl) {
    QueryOptions &q = cl.query;
    auto *resources = add_question(cl, "resources", "List a snapshot's resources", Question::resources);
    resources->add_option("--type", q.type, "Only resources of this type, e.g. user");
    resources->add_option("--filter", q.filter, "key=value: a column (type, id, display_name, email, status) or an attribute");
    resources->add_option("--search", q.search, "Text in the id, display name or e-mail (case-insensitive)");
    auto *entitlements = add_question(cl, "entitlements", "List a snapshot's entitlements, with grant counts",
                                      Question::entitlements);
    entitlements->add_option("--resource", q.resource, "Only this resource's, as <type>:<id>");
    auto *grants = add_question(cl, "grants", "List grants, names beside ids", Question::grants);
    grants->add_option("--entitlement", q.entitlement, "Only grants of this entitlement id");
    grants->add_option("--principal", q.principal, "Only this principal's: <type>:<id> or user:email=<address>");
    auto *access = add_question(cl, "access", "Everything one principal holds, directly and through groups, with the path",
                                Question::access);
    access->add_option("principal", q.target, "<type>:<id> or user:email=<address>")->required();
    auto *members = add_question(cl, "members", "Who holds an entitlement or is a member of a group (with the path)",
                                 Question::members);
    members->add_option("target", q.target, "An entitlement id, or a resource <type>:<id> (its assignment entitlements)")
        ->required();
    add_question(cl, "stats", "Counts by type, status and source; grants, unresolved grants; warnings", Question::stats);
    cl.diff = cl.app.add_subcommand("diff", "Changes between the last two runs of a snapshot, or between two files "
                                            "(snapshots or sync JSON outputs, old first): joiners, leavers, status "
                                            "changes, grants added and removed. Exit 0: no change, 1: changes");
    add_query_options(cl, cl.diff);
    cl.diff->add_option("new", q.other, "A second, newer snapshot or sync JSON output (then the first is the old one)");
}

// The first argument that is neither a global option nor its value: what should be the command.
std::string command_word(int argc, char **argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--plugins-dir" || a == "--log-level" || a == "--timeout") {
            ++i;
            continue;
        }
        if (a.rfind("-", 0) == 0) continue;
        return a;
    }
    return {};
}

// "unknown command 'synk', did you mean 'sync'?" when the command word is no command but within two edits of
// one; empty otherwise.
std::string nearest_command_hint(const CLI::App &app, int argc, char **argv) {
    const std::string word = command_word(argc, argv);
    if (word.empty()) return {};
    std::string best;
    size_t best_distance = 3;
    for (const CLI::App *sub : app.get_subcommands({})) {
        if (sub->get_name() == word) return {};
        const size_t d = edit_distance(word, sub->get_name());
        if (d < best_distance) {
            best_distance = d;
            best = sub->get_name();
        }
    }
    if (best.empty()) return {};
    return "connector-host: error: unknown command '" + printable_line(word) + "', did you mean '" + best + "'?";
}

// A failure is reported as JSON on stdout too for the provisioning commands (always) and with --json.
bool wants_json_errors(int argc, char **argv) {
    const std::string word = command_word(argc, argv);
    if (word == "grant" || word == "revoke" || word == "create-account" || word == "delete") return true;
    for (int i = 1; i < argc; ++i)
        if (std::string_view(argv[i]) == "--json" && (i == 1 || std::string_view(argv[i - 1]) != "--set")) return true;
    return false;
}

void print_usage_error_json(Console &console, const std::string &message) {
    const std::string prefix = "connector-host: error: ";
    ErrorReport report{"usage", message.rfind(prefix, 0) == 0 ? message.substr(prefix.size()) : message, "", 0,
                       ExitCode::usage};
    const std::string text = error_json(report, console.scrubber()) + "\n";
    if (std::fwrite(text.data(), 1, text.size(), stdout) == text.size()) std::fflush(stdout);
}

// A parse error's message, on stderr through the console; it may quote arguments, so no part of a --set
// argument is ever echoed (it may be a secret).
int report_parse_error(Console &console, CLI::App &app, const CLI::ParseError &e, int argc, char **argv) {
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--set" && i + 1 < argc) scrub_set_argument(console, argv[i + 1]);
        else if (a.rfind("--set=", 0) == 0) scrub_set_argument(console, a.substr(6));
    }
    std::ostringstream out, err;
    app.exit(e, out, err);
    std::istringstream lines(err.str());
    for (std::string line; std::getline(lines, line);) console.line(line);
    const std::string hint = nearest_command_hint(app, argc, argv);
    if (!hint.empty()) console.line(hint);
    if (wants_json_errors(argc, argv)) print_usage_error_json(console, hint.empty() ? e.what() : hint);
    return to_int(ExitCode::usage);
}

// The exit code when parsing ended the run (help, version, a usage error); nullopt when a command is to run.
std::optional<int> parse_command_line(Console &console, CommandLine &cl, int argc, char **argv) {
    try {
        cl.app.parse(argc, argv);
    } catch (const CLI::CallForHelp &e) {
        return cl.app.exit(e);
    } catch (const CLI::CallForAllHelp &e) {
        return cl.app.exit(e);
    } catch (const CLI::CallForVersion &e) {
        return cl.app.exit(e);
    } catch (const CLI::ParseError &e) {
        return report_parse_error(console, cl.app, e, argc, argv);
    }
    return std::nullopt;
}

int run_parsed_command(Console &console, const CommandLine &cl) {
    console.set_level(parse_log_level(cl.log_level));
    GlobalOptions g;
    g.plugins_dir = cl.plugins_dir.empty() ? default_plugins_dir() : fs::path(cl.plugins_dir);
    g.timeout = std::chrono::milliseconds(static_cast<long long>(cl.timeout_s * 1000.0));

    if (cl.plugins->parsed()) return run_plugins(console, g, cl.json);
    if (cl.describe->parsed()) return run_describe(console, g, cl.plugin_arg, cl.json);
    if (cl.check->parsed()) return run_check(console, g, cl.plugin_arg, cl.cfg, cl.json);
    if (cl.sync->parsed()) return run_sync(console, g, cl.plugin_arg, cl.cfg, cl.sync_opts);
    if (cl.grant->parsed()) return run_grant(console, g, cl.plugin_arg, cl.cfg, cl.entitlement, cl.principal, false);
    if (cl.revoke->parsed()) return run_grant(console, g, cl.plugin_arg, cl.cfg, cl.entitlement, cl.principal, true);
    if (cl.create->parsed()) return run_create_account(console, g, cl.plugin_arg, cl.cfg, cl.email, cl.profile);
    if (cl.del->parsed()) return run_delete(console, g, cl.plugin_arg, cl.cfg, cl.resource);
    for (const auto &[sub, question] : cl.questions)
        if (sub->parsed()) return run_question(console, question, cl.query);
    if (cl.diff->parsed()) return run_diff(console, cl.query);
    console.error("no command given");
    return to_int(ExitCode::usage);
}

}  // namespace

int main(int argc, char **argv) {
    install_signal_handlers();
    Console console(stderr, ::isatty(STDERR_FILENO) == 1);
    CommandLine cl;
    add_global_options(cl);
    add_inspection_commands(cl);
    add_sync_command(cl);
    add_provisioning_commands(cl);
    add_question_commands(cl);
    if (auto code = parse_command_line(console, cl, argc, argv)) return *code;
    return run_parsed_command(console, cl);
}
