#include "commands.hpp"

#include "connector_host/cli/checkpoint_file.hpp"
#include "connector_host/cli/config_assembly.hpp"
#include "connector_host/cli/error_report.hpp"
#include "connector_host/cli/record_validation.hpp"
#include "connector_host/cli/snapshot_sync_writer.hpp"
#include "connector_host/cli/sync_writers.hpp"

#include <connector_host/store/sqlite_handle.hpp>

#include <connector_host/plugin_loader.hpp>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <unistd.h>

#include <cerrno>

#include <cstdlib>
#include <functional>
#include <iostream>
#include <sstream>

namespace connector_host::cli {

namespace fs = std::filesystem;

namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// A failure that ends a command: the message (one line) and the exit code; for a refusal by the plugin also
// its status, the field at fault and the HTTP status behind it (the machine-readable report).
struct CommandError {
    CommandError(ExitCode c, std::string m) : code(c), message(std::move(m)) {}
    CommandError(ExitCode c, std::string m, conn_status st, const conn_error &err)
        : code(c), message(std::move(m)), status(conn::status_name(st, "")),
          field(printable_line(conn::field_text(err.field))), http_status(err.http_status) {}
    ExitCode code;
    std::string message;
    std::string status, field; // empty: the exit code's name; no field
    int http_status = 0;
};

void key(JsonWriter &w, std::string_view k) { w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); }
// Strings go through json_quoted when they hold DEL, C1 or bidi controls (RapidJSON leaves those raw).
void str(JsonWriter &w, std::string_view s) {
    if (needs_extra_json_escape(s)) {
        const std::string quoted = json_quoted(s);
        w.RawValue(quoted.data(), quoted.size(), rapidjson::kStringType);
    } else {
        w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    }
}
void cstr(JsonWriter &w, const char *s) {
    if (s == nullptr) w.Null();
    else str(w, s);
}

// Writes text and a newline to stdout; a failed write is an OutputWriteError (EPIPE: 141, else 12). JSON is
// printed as is (its strings are escaped); human text line by line through printable_line.
void print_stdout(const std::string &text, const SecretScrubber &scrubber, bool human = false) {
    std::string clean = scrubber.scrub(text);
    if (human) clean = printable_text(clean);
    clean.push_back('\n');
    errno = 0;
    if (std::fwrite(clean.data(), 1, clean.size(), stdout) != clean.size() || std::fflush(stdout) != 0)
        throw OutputWriteError("cannot write to standard output", errno != 0 ? errno : EIO);
}

void print_human(const std::string &text, const SecretScrubber &scrubber) { print_stdout(text, scrubber, true); }

// ---- descriptor checks -----------------------------------------------------------------------------
// The loader checked id/name/version. Here: every count, pointer, struct size and string the commands read.
std::optional<std::string> check_descriptor(const conn_descriptor &d) {
    auto text = [](const char *s, const std::string &what, bool required) -> std::optional<std::string> {
        if (s == nullptr) return required ? std::optional<std::string>(what + " is NULL") : std::nullopt;
        std::string_view v(s);
        if (required && v.empty()) return what + " is empty";
        if (v.size() > 64 * 1024) return what + " is absurdly long";
        if (!is_valid_utf8(v)) return what + " is not valid UTF-8";
        return std::nullopt;
    };
    constexpr uint32_t max_count = 1024;
    if (d.resource_type_count > max_count || d.config_field_count > max_count || d.account_field_count > max_count)
        return std::string("descriptor counts are absurd");
    if (d.resource_type_count > 0 && d.resource_types == nullptr) return std::string("resource_types is NULL");
    if (d.config_field_count > 0 && d.config_fields == nullptr) return std::string("config_fields is NULL");
    if (d.account_field_count > 0 && d.account_fields == nullptr) return std::string("account_fields is NULL");
    for (const char *s : {d.description, d.vendor, d.url})
        if (auto e = text(s, "descriptor text", false)) return e;
    for (uint32_t i = 0; i < d.resource_type_count; ++i) {
        const conn_resource_type *rt = d.resource_types[i];
        if (rt == nullptr || rt->struct_size < sizeof(conn_resource_type)) return "resource type " + std::to_string(i) + " is malformed";
        if (auto e = text(rt->id, "resource type id", true)) return e;
        if (auto e = text(rt->display_name, "resource type display_name", false)) return e;
        if (auto e = text(rt->description, "resource type description", false)) return e;
        if (rt->entitlement_type_count > max_count || (rt->entitlement_type_count > 0 && rt->entitlement_types == nullptr))
            return "resource type " + std::string(rt->id) + " has malformed entitlement types";
        for (uint32_t j = 0; j < rt->entitlement_type_count; ++j) {
            const conn_entitlement_type *et = rt->entitlement_types[j];
            if (et == nullptr || et->struct_size < sizeof(conn_entitlement_type))
                return "an entitlement type of " + std::string(rt->id) + " is malformed";
            if (auto e = text(et->slug, "entitlement slug", true)) return e;
            if (auto e = text(et->display_name, "entitlement display_name", false)) return e;
            if (auto e = text(et->description, "entitlement description", false)) return e;
            if (et->grantable_to_count > max_count || (et->grantable_to_count > 0 && et->grantable_to == nullptr))
                return "entitlement " + std::string(et->slug) + " has a malformed grantable_to list";
            for (uint32_t k = 0; k < et->grantable_to_count; ++k)
                if (auto e = text(et->grantable_to[k], "grantable_to entry", true)) return e;
        }
    }
    for (auto [fields, count, what] : {std::tuple{d.config_fields, d.config_field_count, "config field"},
                                       std::tuple{d.account_fields, d.account_field_count, "account field"}}) {
        for (uint32_t i = 0; i < count; ++i) {
            const conn_field *f = fields[i];
            if (f == nullptr || f->struct_size < sizeof(conn_field)) return std::string(what) + " " + std::to_string(i) + " is malformed";
            if (auto e = text(f->name, std::string(what) + " name", true)) return e;
            for (const char *s : {f->display_name, f->description, f->default_value, f->example})
                if (auto e = text(s, std::string(what) + " text", false)) return e;
        }
    }
    return std::nullopt;
}

std::vector<std::string> declared_types(const conn_descriptor &d) {
    std::vector<std::string> out;
    for (uint32_t i = 0; i < d.resource_type_count; ++i) out.emplace_back(d.resource_types[i]->id);
    return out;
}

const conn_resource_type *find_type(const conn_descriptor &d, std::string_view id) {
    for (uint32_t i = 0; i < d.resource_type_count; ++i)
        if (view(d.resource_types[i]->id) == id) return d.resource_types[i];
    return nullptr;
}

// ---- plugin resolution -----------------------------------------------------------------------------
bool looks_like_path(const std::string &arg) {
    return arg.find('/') != std::string::npos || has_plugin_extension(arg);
}

std::unique_ptr<LoadedPlugin> load_plugin(Console &console, const GlobalOptions &g, const std::string &arg) {
    fs::path path;
    if (looks_like_path(arg)) {
        path = arg;
    } else {
        DiscoveryResult found;
        try {
            found = discover_plugins(g.plugins_dir, Unmap::never);
        } catch (const std::exception &e) {
            throw CommandError{ExitCode::plugin_failure, std::string(e.what()) + " (looking for plugin '" + arg + "')"};
        }
        for (const auto &s : found.skipped) console.info("skipped " + s.path.string() + ": " + s.reason);
        std::vector<const DiscoveredPlugin *> matches;
        std::string ids;
        for (const auto &p : found.plugins) {
            if (p.id == arg) matches.push_back(&p);
            ids += (ids.empty() ? "" : ", ") + p.id;
        }
        if (matches.empty())
            throw CommandError{ExitCode::plugin_failure, "no plugin with id '" + arg + "' in " + g.plugins_dir.string() +
                                                             (ids.empty() ? " (it holds no plugin)" : " (found: " + ids + ")")};
        if (matches.size() > 1)
            throw CommandError{ExitCode::plugin_failure, "two plugins have the id '" + arg + "': " +
                                                             matches[0]->path.string() + " and " + matches[1]->path.string()};
        path = matches[0]->path;
    }
    std::unique_ptr<LoadedPlugin> plugin;
    try {
        plugin = LoadedPlugin::load(path, Unmap::never);
    } catch (const PluginLoadError &e) {
        throw CommandError{ExitCode::plugin_failure, e.what()};
    }
    if (auto why = check_descriptor(plugin->descriptor()))
        throw CommandError{ExitCode::plugin_failure, path.string() + ": malformed descriptor: " + *why};
    return plugin;
}

// ---- config ----------------------------------------------------------------------------------------
std::vector<FieldSpec> config_specs(const conn_descriptor &d) {
    std::vector<FieldSpec> specs;
    for (uint32_t i = 0; i < d.config_field_count; ++i) {
        const conn_field *f = d.config_fields[i];
        specs.push_back(FieldSpec{f->name, (f->flags & CONN_FIELD_REQUIRED) != 0, (f->flags & CONN_FIELD_SECRET) != 0,
                                  f->default_value != nullptr});
    }
    return specs;
}

// The plugin's error detail, one line (control characters escaped), scrubbed by the console when printed.
std::string describe_error(conn_status st, const conn_error &err) { return conn::describe(st, err, printable_line); }

// When the field the plugin refused came from the environment: which variable, so the user can find it.
std::string environment_origin(const std::vector<ConfigEntry> &entries, const conn_error &err) {
    const std::string field(err.field, strnlen(err.field, sizeof err.field));
    for (const auto &e : entries)
        if (!field.empty() && e.name == field && !e.env_name.empty())
            return " (" + field + " came from the environment variable " + e.env_name + ")";
    return {};
}

// An instance of the plugin made from the assembled config, destroyed before the plugin is unloaded.
class Instance {
public:
    Instance(Console &console, LoadedPlugin &plugin, const ConfigOptions &opts) : log_(console, plugin.descriptor().id) {
        ConfigInputs inputs;
        inputs.set_args = opts.set_args;
        if (!opts.config_file.empty()) inputs.config_path = opts.config_file;
        inputs.read_file = [](const std::string &path, std::string &why) { return read_small_file(path, why); };
        inputs.get_env = [](const std::string &name) -> std::optional<std::string> {
            const char *v = std::getenv(name.c_str());
            return v ? std::optional<std::string>(v) : std::nullopt;
        };
        inputs.env_prefix = plugin_env_prefix(plugin.descriptor().id);
        AssembledConfig config;
        try {
            config = assemble_config(config_specs(plugin.descriptor()), inputs);
        } catch (const ConfigError &e) {
            throw CommandError{ExitCode::config_error, e.what()};
        }
        for (const auto &s : config.secret_values) console.add_secret(s);
        for (const auto &w : config.warnings) console.warning(w);
        for (const auto &e : config.entries)
            console.info("config " + e.name + " from " + std::string(to_string(e.source)) +
                         (e.env_name.empty() ? "" : " (" + e.env_name + ")"));
        identity_ = run_identity(plugin.descriptor(), config.entries);
        std::vector<conn_kv> kvs;
        for (const auto &e : config.entries) kvs.push_back(conn_kv{conn::str(e.name), conn::str(e.value)});
        auto cfg = conn::make<conn_config>();
        cfg.entries = kvs.empty() ? nullptr : kvs.data();
        cfg.entry_count = kvs.size();
        conn_error err = conn::make_error();
        conn_status st = instance_.create(plugin.connector(), cfg, log_.host(), &err);
        if (st != CONN_OK) {
            ExitCode code = st == CONN_ERR_INVALID_ARGUMENT ? ExitCode::config_error : exit_code_for_status(st);
            throw CommandError{code,
                               "the plugin refused the config: " + describe_error(st, err) +
                                   environment_origin(config.entries, err),
                               st, err};
        }
        if (!instance_) throw CommandError{ExitCode::plugin_failure, "instance_create succeeded without an instance"};
    }
    conn_instance *get() const { return instance_.get(); }
    // Who this instance syncs: a fingerprint of the non-secret config and the tenant URL, for snapshots.
    const RunIdentity &identity() const { return identity_; }

private:
    RunIdentity identity_;
    PluginLog log_;          // outlives the instance, which logs through it until destroyed
    conn::Instance instance_;
};

// The exit code and message for a finished operation that did not succeed.
CommandError operation_failure(const char *what, conn_status st, const conn_error &err, const Operation &op,
                               const ValidatingSink *sink) {
    if (sink != nullptr && sink->host_failure() && sink->host_failure_errno() == EPIPE)
        return {ExitCode::broken_pipe, ""};
    if (sink != nullptr && sink->host_failure())
        return {ExitCode::output_error, std::string(what) + " stopped: " + *sink->host_failure()};
    if (sink != nullptr && sink->plugin_violation())
        return {ExitCode::plugin_failure, std::string(what) + " refused: " + *sink->plugin_violation()};
    if (op.cancel_reason() == Operation::CancelReason::signal || received_signal() != 0)
        return {ExitCode::interrupted, std::string(what) + " interrupted"};
    if (op.cancel_reason() == Operation::CancelReason::timeout)
        return {ExitCode::timed_out, std::string(what) + " timed out"};
    if (st == CONN_ERR_CANCELLED)
        return {ExitCode::plugin_failure, std::string(what) + ": the plugin reported cancelled without being asked"};
    if (st == CONN_ERR_STOPPED)
        return {ExitCode::plugin_failure, std::string(what) + ": the plugin reported stopped without a sink asking"};
    return {exit_code_for_status(st), std::string(what) + " failed: " + describe_error(st, err), st, err};
}

void require_capability(const LoadedPlugin &plugin, uint32_t cap, const void *fn, const char *what) {
    if ((plugin.descriptor().capabilities & cap) == 0 || fn == nullptr)
        throw CommandError{ExitCode::unsupported,
                           std::string("plugin '") + plugin.descriptor().id + "' does not support " + what};
}

std::string caps_text(uint32_t caps) {
    std::string out;
    for (auto [bit, name] : {std::pair{CONN_CAP_CHECK, "check"}, {CONN_CAP_SYNC, "sync"},
                             {CONN_CAP_CREATE_ACCOUNT, "create-account"}, {CONN_CAP_DELETE, "delete"},
                             {CONN_CAP_GRANT, "grant"}, {CONN_CAP_REVOKE, "revoke"}, {CONN_CAP_CHECKPOINT, "checkpoint"}})
        if (caps & bit) out += (out.empty() ? "" : ", ") + std::string(name);
    return out.empty() ? "none" : out;
}

const char *field_type_name(int32_t t) {
    switch (t) {
    case CONN_FIELD_URL: return "url";
    case CONN_FIELD_EMAIL: return "email";
    case CONN_FIELD_INT: return "int";
    case CONN_FIELD_BOOL: return "bool";
    case CONN_FIELD_PATH: return "path";
    default: return "string";
    }
}

// Fills the report (when asked for) of a failure; returns its exit code.
int failure(ErrorReport *report, ExitCode code, const std::string &message, const std::string &status = {},
            const std::string &field = {}, int http_status = 0) {
    if (report != nullptr)
        *report = ErrorReport{status.empty() ? std::string(exit_code_name(code)) : status, message, field, http_status, code};
    return to_int(code);
}

// Runs a command: a CommandError or an output write error becomes its exit code and one line on stderr (and
// the report, when asked for). A closed pipe (EPIPE) ends the command quietly with 141, like a program killed
// by SIGPIPE.
template <typename Fn>
int guard(Console &console, Fn &&fn, ErrorReport *report = nullptr) {
    try {
        return fn();
    } catch (const CommandError &e) {
        if (!e.message.empty()) console.error(e.message);
        return failure(report, e.code, e.message, e.status, e.field, e.http_status);
    } catch (const OutputWriteError &e) {
        if (e.error() == EPIPE) return failure(report, ExitCode::broken_pipe, "");
        if (received_signal() != 0) { // a write to a slow FIFO cut short by SIGINT/SIGTERM/SIGHUP
            console.error("interrupted");
            return failure(report, ExitCode::interrupted, "interrupted");
        }
        console.error(e.what());
        return failure(report, ExitCode::output_error, e.what());
    } catch (const std::exception &e) {
        console.error(e.what());
        return failure(report, ExitCode::failure, e.what());
    }
}

// guard, and when `json`, a failure also as one JSON object on stdout ({"error":{...}}), unless stdout is
// a closed pipe.
template <typename Fn>
int guard_reporting(Console &console, bool json, Fn &&fn) {
    ErrorReport report;
    const int code = guard(console, fn, &report);
    if (code == 0 || !json || report.exit_code == ExitCode::broken_pipe) return code;
    try {
        print_stdout(error_json(report, console.scrubber()), console.scrubber());
    } catch (const OutputWriteError &) {
        // stdout is gone: the exit code and stderr still tell
    }
    return code;
}

// Splits "type:id" at the first ':'.
std::pair<std::string, std::string> split_typed_id(const std::string &text, const char *option) {
    auto colon = text.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
        throw CommandError{ExitCode::usage, std::string(option) + " expects <type>:<id>, got '" + printable_line(text) + "'"};
    std::string type = text.substr(0, colon), id = text.substr(colon + 1);
    if (!is_valid_utf8(text)) throw CommandError{ExitCode::usage, std::string(option) + " is not valid UTF-8"};
    return {type, id};
}

void check_outcome(conn_outcome o, conn_outcome a, conn_outcome b, const char *what) {
    if (o != a && o != b)
        throw CommandError{ExitCode::plugin_failure, std::string(what) + ": the plugin returned success with outcome " +
                                                         std::to_string(o) + ", which does not fit the operation"};
}

}  // namespace

// ---- plugins -----------------------------------------------------------------------------------------
int run_plugins(Console &console, const GlobalOptions &g, bool json) {
    return guard_reporting(console, json, [&] {
        DiscoveryResult found;
        try {
            found = discover_plugins(g.plugins_dir, Unmap::never);
        } catch (const std::exception &e) {
            throw CommandError{ExitCode::plugin_failure, e.what()};
        }
        for (const auto &s : found.skipped) console.warning("skipped " + s.path.string() + ": " + s.reason);
        if (json) {
            rapidjson::StringBuffer buf;
            JsonWriter w(buf);
            w.StartArray();
            for (const auto &p : found.plugins) {
                w.StartObject();
                key(w, "id"); str(w, p.id);
                key(w, "name"); str(w, p.name);
                key(w, "version"); str(w, p.version);
                key(w, "abi"); str(w, std::to_string(p.abi_major) + "." + std::to_string(p.abi_minor));
                key(w, "path"); str(w, p.path.string());
                w.EndObject();
            }
            w.EndArray();
            print_stdout(std::string(buf.GetString(), buf.GetSize()), console.scrubber());
        } else if (found.plugins.empty()) {
            console.warning("no plugins in " + g.plugins_dir.string());
        } else {
            size_t wid = 2, wver = 7;
            for (const auto &p : found.plugins) {
                wid = std::max(wid, p.id.size());
                wver = std::max(wver, p.version.size());
            }
            auto pad = [](std::string s, size_t n) { return s + std::string(n - std::min(n, s.size()) + 2, ' '); };
            print_human(pad("ID", wid) + pad("VERSION", wver) + pad("ABI", 5) + "PATH", console.scrubber());
            for (const auto &p : found.plugins)
                print_human(pad(printable_line(p.id), wid) + pad(printable_line(p.version), wver) +
                                 pad(std::to_string(p.abi_major) + "." + std::to_string(p.abi_minor), 5) + p.path.string(),
                             console.scrubber());
        }
        for (size_t i = 1; i < found.plugins.size(); ++i)
            if (found.plugins[i].id == found.plugins[i - 1].id)
                throw CommandError{ExitCode::plugin_failure, "two plugins have the id '" + found.plugins[i].id + "': " +
                                                                 found.plugins[i - 1].path.string() + " and " +
                                                                 found.plugins[i].path.string()};
        return 0;
    });
}

// ---- describe ----------------------------------------------------------------------------------------
namespace {

constexpr std::pair<uint32_t, const char *> kCapabilityNames[] = {
    {CONN_CAP_CHECK, "check"},   {CONN_CAP_SYNC, "sync"},     {CONN_CAP_CREATE_ACCOUNT, "create_account"},
    {CONN_CAP_DELETE, "delete"}, {CONN_CAP_GRANT, "grant"},   {CONN_CAP_REVOKE, "revoke"},
    {CONN_CAP_CHECKPOINT, "checkpoint"}};
constexpr std::pair<uint32_t, const char *> kTraitNames[] = {
    {CONN_TRAIT_USER, "user"}, {CONN_TRAIT_GROUP, "group"}, {CONN_TRAIT_ROLE, "role"}, {CONN_TRAIT_APP, "app"}};
constexpr std::pair<uint32_t, const char *> kTypeCapabilityNames[] = {
    {CONN_RT_SYNC, "sync"}, {CONN_RT_CREATE, "create"}, {CONN_RT_DELETE, "delete"}};

template <size_t N>
void write_flag_names(JsonWriter &w, uint32_t bits, const std::pair<uint32_t, const char *> (&names)[N]) {
    w.StartArray();
    for (auto [bit, name] : names)
        if (bits & bit) w.String(name);
    w.EndArray();
}

template <size_t N>
std::string flag_names_text(uint32_t bits, const std::pair<uint32_t, const char *> (&names)[N]) {
    std::string out;
    for (auto [bit, name] : names)
        if (bits & bit) out += (out.empty() ? "" : ", ") + std::string(name);
    return out.empty() ? "none" : out;
}

void write_entitlement_type_json(JsonWriter &w, const conn_entitlement_type &et) {
    w.StartObject();
    key(w, "slug"); cstr(w, et.slug);
    key(w, "display_name"); cstr(w, et.display_name);
    key(w, "description"); cstr(w, et.description);
    key(w, "purpose"); w.String(et.purpose == CONN_PURPOSE_PERMISSION ? "permission" : "assignment");
    key(w, "grantable"); w.Bool((et.flags & CONN_ENT_GRANTABLE) != 0);
    key(w, "revocable"); w.Bool((et.flags & CONN_ENT_REVOCABLE) != 0);
    key(w, "grantable_to");
    w.StartArray();
    for (uint32_t k = 0; k < et.grantable_to_count; ++k) cstr(w, et.grantable_to[k]);
    w.EndArray();
    w.EndObject();
}

void write_resource_type_json(JsonWriter &w, const conn_resource_type &rt) {
    w.StartObject();
    key(w, "id"); cstr(w, rt.id);
    key(w, "display_name"); cstr(w, rt.display_name);
    key(w, "description"); cstr(w, rt.description);
    key(w, "traits"); write_flag_names(w, rt.traits, kTraitNames);
    key(w, "capabilities"); write_flag_names(w, rt.capabilities, kTypeCapabilityNames);
    key(w, "entitlements");
    w.StartArray();
    for (uint32_t j = 0; j < rt.entitlement_type_count; ++j) write_entitlement_type_json(w, *rt.entitlement_types[j]);
    w.EndArray();
    w.EndObject();
}

// A config field also names its environment variables (CONNECTOR_<PLUGIN>_<FIELD> first, then the short
// name); an account field does not. `env_prefix` is empty for account fields.
void write_fields_json(JsonWriter &w, const char *name, const conn_field *const *fields, uint32_t count,
                       const std::string &env_prefix) {
    key(w, name);
    w.StartArray();
    for (uint32_t i = 0; i < count; ++i) {
        const conn_field &f = *fields[i];
        w.StartObject();
        key(w, "name"); cstr(w, f.name);
        key(w, "display_name"); cstr(w, f.display_name);
        key(w, "description"); cstr(w, f.description);
        key(w, "type"); w.String(field_type_name(f.type));
        key(w, "required"); w.Bool((f.flags & CONN_FIELD_REQUIRED) != 0);
        key(w, "secret"); w.Bool((f.flags & CONN_FIELD_SECRET) != 0);
        key(w, "default"); cstr(w, f.default_value);
        key(w, "example"); cstr(w, f.example);
        if (!env_prefix.empty()) {
            key(w, "env"); str(w, env_var_name(f.name));
            key(w, "env_plugin"); str(w, env_prefix + env_var_name(f.name));
        }
        w.EndObject();
    }
    w.EndArray();
}

std::string describe_json(const LoadedPlugin &plugin) {
    const conn_descriptor &d = plugin.descriptor();
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    key(w, "id"); cstr(w, d.id);
    key(w, "name"); cstr(w, d.name);
    key(w, "version"); cstr(w, d.version);
    key(w, "description"); cstr(w, d.description);
    key(w, "vendor"); cstr(w, d.vendor);
    key(w, "url"); cstr(w, d.url);
    key(w, "abi"); str(w, std::to_string(d.abi_major) + "." + std::to_string(d.abi_minor));
    key(w, "abi_negotiated"); str(w, std::to_string(CONN_ABI_VERSION_MAJOR) + "." + std::to_string(plugin.abi_minor()));
    key(w, "path"); str(w, plugin.path().string());
    key(w, "capabilities"); write_flag_names(w, d.capabilities, kCapabilityNames);
    key(w, "resource_types");
    w.StartArray();
    for (uint32_t i = 0; i < d.resource_type_count; ++i) write_resource_type_json(w, *d.resource_types[i]);
    w.EndArray();
    write_fields_json(w, "config_fields", d.config_fields, d.config_field_count, plugin_env_prefix(d.id));
    write_fields_json(w, "account_fields", d.account_fields, d.account_field_count, "");
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

std::string printable_or_empty(const char *s) { return printable_line(s ? s : ""); }

std::string resource_type_text(const conn_resource_type &rt) {
    const auto p = printable_or_empty;
    std::string out = "  " + p(rt.id) + " (" + p(rt.display_name) + ")  traits: " + flag_names_text(rt.traits, kTraitNames) +
                      "; capabilities: " + flag_names_text(rt.capabilities, kTypeCapabilityNames) + "\n";
    if (rt.description && *rt.description) out += "      " + p(rt.description) + "\n";
    for (uint32_t j = 0; j < rt.entitlement_type_count; ++j) {
        const conn_entitlement_type &et = *rt.entitlement_types[j];
        std::string to;
        for (uint32_t k = 0; k < et.grantable_to_count; ++k) to += (to.empty() ? "" : ", ") + p(et.grantable_to[k]);
        out += "      entitlement " + p(rt.id) + ":<id>:" + p(et.slug) + " (" + p(et.display_name) + ")" +
               (et.purpose == CONN_PURPOSE_PERMISSION ? " permission" : " assignment") +
               ((et.flags & CONN_ENT_GRANTABLE) ? ", grantable" : "") +
               ((et.flags & CONN_ENT_REVOCABLE) ? ", revocable" : "") + (to.empty() ? "" : ", to " + to) + "\n";
    }
    return out;
}

std::string fields_text(const char *title, const conn_field *const *fields, uint32_t count,
                        const std::string &env_prefix) {
    const auto p = printable_or_empty;
    std::string out = std::string("\n") + title + ":\n";
    if (count == 0) out += "  none\n";
    for (uint32_t i = 0; i < count; ++i) {
        const conn_field &f = *fields[i];
        std::string flags = field_type_name(f.type);
        if (f.flags & CONN_FIELD_REQUIRED) flags += ", required";
        if (f.flags & CONN_FIELD_SECRET) flags += ", secret";
        const std::string env = env_var_name(f.name);
        out += "  " + p(f.name) + " (" + flags + ")" +
               (env_prefix.empty() ? std::string{} : "  env " + p((env_prefix + env).c_str()) + " or " + env) + "\n";
        if (f.description && *f.description) out += "      " + p(f.description) + "\n";
        if (f.default_value) out += "      default: " + p(f.default_value) + "\n";
        if (f.example) out += "      example: " + p(f.example) + "\n";
    }
    return out;
}

std::string describe_text(const LoadedPlugin &plugin) {
    const conn_descriptor &d = plugin.descriptor();
    const auto p = printable_or_empty;
    std::string out;
    out += p(d.name) + " (" + p(d.id) + ") " + p(d.version) + "\n";
    if (d.description && *d.description) out += "  " + p(d.description) + "\n";
    if (d.vendor && *d.vendor) out += "  vendor: " + p(d.vendor) + "\n";
    if (d.url && *d.url) out += "  url: " + p(d.url) + "\n";
    out += "  ABI: " + std::to_string(d.abi_major) + "." + std::to_string(d.abi_minor) + " (negotiated " +
           std::to_string(CONN_ABI_VERSION_MAJOR) + "." + std::to_string(plugin.abi_minor()) + ")\n";
    out += "  path: " + plugin.path().string() + "\n";
    out += "  capabilities: " + caps_text(d.capabilities) + "\n\nResource types:\n";
    for (uint32_t i = 0; i < d.resource_type_count; ++i) out += resource_type_text(*d.resource_types[i]);
    out += fields_text("Config fields", d.config_fields, d.config_field_count, plugin_env_prefix(d.id));
    out += fields_text("Account fields", d.account_fields, d.account_field_count, "");
    out.pop_back();
    return out;
}

}  // namespace

int run_describe(Console &console, const GlobalOptions &g, const std::string &arg, bool json) {
    return guard_reporting(console, json, [&] {
        auto plugin = load_plugin(console, g, arg);
        if (json) print_stdout(describe_json(*plugin), console.scrubber());
        else print_human(describe_text(*plugin), console.scrubber());
        return 0;
    });
}

// ---- check -------------------------------------------------------------------------------------------
int run_check(Console &console, const GlobalOptions &g, const std::string &arg, const ConfigOptions &c, bool json) {
    return guard_reporting(console, json, [&] {
        auto plugin = load_plugin(console, g, arg);
        require_capability(*plugin, CONN_CAP_CHECK, reinterpret_cast<const void *>(plugin->connector().check), "check");
        Instance instance(console, *plugin, c);
        auto result = conn::make<conn_check_result>();
        result.user_count = -1;
        conn_error err = conn::make_error();
        conn_status st;
        {
            Operation op(console, g.timeout, false, "check");
            st = plugin->connector().check(instance.get(), op.call(), &result, &err);
            op.finished();
            if (st != CONN_OK || received_signal() != 0) throw operation_failure("check", st, err, op, nullptr);
        }
        result.message[sizeof result.message - 1] = '\0';
        std::string message = printable_line(result.message);
        if (json) {
            rapidjson::StringBuffer buf;
            JsonWriter w(buf);
            w.StartObject();
            key(w, "ok"); w.Bool(true);
            key(w, "plugin"); cstr(w, plugin->descriptor().id);
            key(w, "message"); str(w, message);
            key(w, "user_count");
            if (result.user_count >= 0) w.Int64(result.user_count);
            else w.Null();
            w.EndObject();
            print_stdout(std::string(buf.GetString(), buf.GetSize()), console.scrubber());
        } else {
            // The plugin's message says what it learned; the count is only added when it says nothing.
            std::string text = message.empty() ? std::string("config and credentials work") +
                                                     (result.user_count >= 0
                                                          ? " (" + std::to_string(result.user_count) + " users visible)"
                                                          : std::string{})
                                               : message;
            print_human("ok: " + text, console.scrubber());
        }
        return 0;
    });
}

// ---- sync --------------------------------------------------------------------------------------------
namespace {

constexpr uint64_t kWarningsShownPerCode = 100;

std::string sync_summary_line(const SyncSummary &summary, const std::string &prefix) {
    const SyncCounts &n = summary.counts;
    std::string types;
    for (const auto &[t, count] : n.resources_by_type) types += (types.empty() ? "" : ", ") + std::to_string(count) + " " + t;
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.2f", summary.elapsed_seconds);
    std::string line = prefix + std::to_string(n.resources) + " resources" + (types.empty() ? "" : " (" + types + ")") +
                       ", " + std::to_string(n.entitlements) + " entitlements, " + std::to_string(n.grants) + " grants" +
                       (n.unresolved ? " (" + std::to_string(n.unresolved) + " unresolved)" : "") + ", " +
                       std::to_string(n.warnings) + " warnings, " + std::to_string(summary.requests) + " requests, " +
                       std::to_string(summary.pages) + " pages in " + secs + " s";
    if (n.incomplete > 0)
        line += "; the data may be incomplete (" + with_thousands(n.incomplete) + " incomplete_* warnings)";
    return line;
}

std::unique_ptr<SyncOutput> open_sync_output(const std::string &out) {
    try {
        return SyncOutput::open(out);
    } catch (const OutputRefused &e) {
        throw CommandError{ExitCode::usage, e.what()};
    } catch (const std::exception &e) {
        if (received_signal() != 0) throw CommandError{ExitCode::interrupted, "sync interrupted"};
        throw CommandError{ExitCode::output_error, e.what()};
    }
}

// One warning from the plugin: counted exactly, written to the output, shown on the console up to a limit per
// code. incomplete_* warnings are shown at the default level (warn), the others at info.
void on_sync_warning(Console &console, WarningTally &tally, SyncCounts &counts, std::string_view code,
                     std::string_view message) {
    ++counts.warnings;
    ++counts.warnings_by_code[std::string(code)];
    const bool incomplete = is_incomplete_warning(code);
    if (incomplete) ++counts.incomplete;
    if (!tally.note(code)) return;
    const std::string text = "plugin warning " + std::string(code) + ": " + std::string(message);
    if (incomplete) console.warning(text + " (the sync's data may be incomplete)");
    else console.info(text);
}

void report_warning_overflow(Console &console, const WarningTally &tally) {
    for (const auto &[code, line] : tally.summaries()) {
        if (is_incomplete_warning(code)) console.warning(line);
        else console.info(line);
    }
}

ValidatingSink::Handlers sync_handlers(Console &console, SyncCounts &counts, WarningTally &tally, Operation &op,
                                       SyncWriter &writer, std::function<void(std::string_view)> kept) {
    ValidatingSink::Handlers h;
    h.resource = [&](const conn_resource &r) {
        ++counts.resources;
        ++counts.resources_by_type[std::string(view(r.type))];
        op.seen_resources = counts.resources;
        writer.resource(r);
    };
    h.entitlement = [&](const conn_entitlement &e) {
        ++counts.entitlements;
        op.seen_entitlements = counts.entitlements;
        writer.entitlement(e);
    };
    h.grant = [&](const conn_grant &gr) {
        ++counts.grants;
        if (gr.flags & CONN_GRANT_UNRESOLVED_PRINCIPAL) ++counts.unresolved;
        op.seen_grants = counts.grants;
        writer.grant(gr);
    };
    h.warning = [&](std::string_view code, std::string_view message) {
        on_sync_warning(console, tally, counts, code, message);
        writer.warning(code, message);
    };
    // The writer commits the records so far with the token first; then the checkpoint file names it.
    h.checkpoint = [&writer, &counts, kept = std::move(kept)](std::string_view token) {
        writer.checkpoint(token, counts);
        kept(token);
    };
    return h;
}

SyncFormat sync_format(const SyncOptions &s) {
    const bool to_stdout = s.out.empty() || s.out == "-";
    try {
        return s.format.empty() ? default_sync_format(to_stdout ? "" : s.out, ::isatty(STDOUT_FILENO) == 1)
                                : parse_sync_format(s.format);
    } catch (const std::invalid_argument &e) {
        throw CommandError{ExitCode::usage, e.what()};
    }
}

// --checkpoint FILE: the record written at each checkpoint, beside the spool of the records before it.
struct CheckpointKeeper {
    std::filesystem::path file;
    CheckpointRecord record;
    void save(std::string_view token) {
        record.token = std::string(token);
        write_checkpoint_file(file, record);
    }
};

// How this sync continues an interrupted one, and what it keeps at each checkpoint.
struct SyncResume {
    std::string token;       // resume_from: --resume-from TOKEN, or the host's stored checkpoint
    bool stored = false;     // the token is the host's own (a snapshot's run, or --checkpoint FILE)
    std::string start_over;  // how to start over when the plugin refuses the stored token
    bool checkpointed = false; // this sync ends with a stored checkpoint (it can be resumed)
    std::optional<CheckpointKeeper> keeper;
};

// The plugin refused the token the host kept for it: say so and how to start over (never silently).
CommandError refused_resume(const SyncResume &resume, conn_status st, const conn_error &err) {
    return {exit_code_for_status(st),
            "sync: the plugin refused the stored checkpoint (" + describe_error(st, err) + "); " + resume.start_over, st,
            err};
}

// Runs the plugin's sync into the writer; fills summary (whose counts hold the records a resumed sync keeps
// of its interrupted part). Throws CommandError when it did not succeed.
void run_plugin_sync(Console &console, const GlobalOptions &g, LoadedPlugin &plugin, Instance &instance,
                     SyncResume &resume, SyncWriter &writer, SyncSummary &summary) {
    const conn_descriptor &d = plugin.descriptor();
    Operation op(console, g.timeout, true, "sync");
    WarningTally tally(kWarningsShownPerCode);
    SyncCounts &counts = summary.counts;
    const SyncCounts kept = counts;
    auto after_checkpoint = [&](std::string_view token) {
        if (resume.keeper) resume.keeper->save(token);
        resume.checkpointed = true;
    };
    ValidatingSink::Handlers handlers = sync_handlers(console, counts, tally, op, writer, after_checkpoint);
    if (!resume.keeper && !writer.keeps_checkpoints()) handlers.checkpoint = nullptr;
    ValidatingSink sink(declared_types(d), std::move(handlers));
    auto options = conn::make<conn_sync_options>();
    options.resume_from = conn::str(resume.token);
    auto result = conn::make<conn_sync_result>();
    conn_error err = conn::make_error();
    conn_status st = plugin.connector().sync(instance.get(), op.call(), &options, sink.open(), &result, &err);
    sink.close();
    op.finished();
    report_warning_overflow(console, tally);
    summary.elapsed_seconds = op.elapsed_seconds();
    summary.requests = result.requests;
    summary.retries = result.retries;
    summary.pages = result.pages;
    summary.complete = counts.incomplete == 0;
    const bool clean_failure = !sink.plugin_violation() && !sink.host_failure() && received_signal() == 0;
    if (st == CONN_ERR_INVALID_ARGUMENT && resume.stored && clean_failure) throw refused_resume(resume, st, err);
    if (st != CONN_OK || !clean_failure) throw operation_failure("sync", st, err, op, &sink);
    if (result.resources != counts.resources - kept.resources ||
        result.entitlements != counts.entitlements - kept.entitlements || result.grants != counts.grants - kept.grants)
        console.warning("the plugin's own counts (" + std::to_string(result.resources) + " resources, " +
                        std::to_string(result.entitlements) + " entitlements, " + std::to_string(result.grants) +
                        " grants) differ from the records it delivered");
}

}  // namespace

namespace {

// Where a sync's records go: a writer over an output file (json, ndjson, table), or a snapshot writer that
// owns its database file (sqlite).
struct SyncDestination {
    std::unique_ptr<SyncOutput> output; // null for a snapshot
    std::unique_ptr<SyncWriter> writer;
    std::optional<CheckpointKeeper> keeper; // --checkpoint FILE
    bool atomic() const { return output != nullptr && output->atomic(); }
};

store::StartMode snapshot_start(const SyncOptions &s) {
    if (s.fresh) return store::StartMode::fresh;
    return s.resume_from.empty() ? store::StartMode::resume : store::StartMode::new_run;
}

// --checkpoint FILE: what this sync's checkpoints are for; with --resume, the spool FILE names, once FILE is
// known to be of this plugin, version, config and format. Without --resume an older checkpoint is dropped.
std::optional<CheckpointKeeper> checkpoint_keeper(Console &console, const SyncOptions &s, SyncFormat format,
                                                  const conn_descriptor &d, const RunIdentity &identity) {
    if (s.checkpoint_file.empty()) return std::nullopt;
    const std::filesystem::path file = s.checkpoint_file;
    CheckpointKeeper k{file, {std::string(view(d.id)), std::string(view(d.version)), identity.config_fingerprint,
                              std::string(to_string(format)), spool_path_for(file), {}}};
    std::error_code ec;
    if (!s.resume) {
        if (std::filesystem::exists(file, ec))
            console.warning("starting over: " + file.string() + " held an unfinished sync (--resume continues it)");
        remove_checkpoint(file, k.record.spool);
        return k;
    }
    CheckpointRecord stored;
    try {
        stored = read_checkpoint_file(file);
    } catch (const CheckpointFileError &e) {
        throw CommandError{ExitCode::usage, std::string("sync --resume: ") + e.what()};
    }
    const CheckpointRecord &mine = k.record;
    if (stored.plugin_id != mine.plugin_id || stored.plugin_version != mine.plugin_version ||
        stored.config_fingerprint != mine.config_fingerprint || stored.format != mine.format)
        throw CommandError{ExitCode::usage,
                           "sync --resume: " + file.string() + " is the checkpoint of another sync (plugin " +
                               printable_line(stored.plugin_id) + " " + printable_line(stored.plugin_version) +
                               ", config " + printable_line(stored.config_fingerprint) + ", format " +
                               printable_line(stored.format) + "); run without --resume to start over"};
    k.record.spool = stored.spool;
    return k;
}

std::unique_ptr<SyncWriter> open_file_writer(Console &console, SyncFormat format, const SyncOptions &s,
                                             SyncDestination &dest, const Instance &instance) {
    // A file gets the stable order; a stream (stdout, a FIFO, a device) each record as it arrives.
    SyncWriterOptions options{dest.output->atomic(), instance.identity().tenant, {}, false};
    if (dest.keeper) {
        if (!dest.output->atomic() || (format != SyncFormat::json && format != SyncFormat::ndjson))
            throw CommandError{ExitCode::usage, "--checkpoint needs --out FILE, a regular file, in json or ndjson"};
        options.durable_spool = dest.keeper->record.spool;
        options.resume = s.resume;
    }
    try {
        return make_sync_writer(format, dest.output->file(), console.scrubber(), options);
    } catch (const store::StoreError &e) {
        throw CommandError{ExitCode::output_error, std::string("sync --checkpoint: ") + e.what()};
    }
}

SyncDestination open_sync_destination(Console &console, SyncFormat format, const SyncOptions &s,
                                      const conn_descriptor &d, const Instance &instance) {
    SyncDestination dest;
    if (format == SyncFormat::sqlite) {
        if (s.out.empty() || s.out == "-")
            throw CommandError{ExitCode::usage, "a snapshot (--format sqlite) needs --out FILE"};
        dest.writer = make_snapshot_writer(s.out, instance.identity(), s.keep, snapshot_start(s), console.scrubber());
        return dest;
    }
    dest.keeper = checkpoint_keeper(console, s, format, d, instance.identity());
    dest.output = open_sync_output(s.out);
    dest.writer = open_file_writer(console, format, s, dest, instance);
    return dest;
}

void begin_sync_output(SyncWriter &writer, const conn_descriptor &d) {
    try {
        writer.begin(d);
    } catch (const store::StoreError &e) {
        throw CommandError{ExitCode::output_error, e.what()};
    }
}

std::string kept_counts_text(const SyncCounts &n) {
    return with_thousands(n.resources) + " resources, " + with_thousands(n.entitlements) + " entitlements, " +
           with_thousands(n.grants) + " grants kept";
}

// After begin(): when the writer continues an interrupted sync, its token and counts, and one line saying so.
SyncResume resume_of(Console &console, const SyncOptions &s, SyncFormat format, SyncDestination &dest,
                     SyncSummary &summary) {
    SyncResume r;
    r.token = s.resume_from;
    r.keeper = std::move(dest.keeper);
    const std::optional<ResumePoint> point = dest.writer->resume_point();
    if (!point) return r;
    r.token = point->token;
    r.stored = r.checkpointed = true;
    summary.counts = point->counts;
    const bool snapshot = format == SyncFormat::sqlite;
    r.start_over = snapshot ? "run with --fresh to start over" : "run without --resume to start over";
    const std::string what = snapshot ? "run " + std::to_string(point->run_id) + " of " + s.out
                                      : "the sync checkpointed in " + s.checkpoint_file;
    console.line("connector-host: resuming " + what + " (started " + point->started_at + ", last checkpoint " +
                 point->checkpointed_at + ": " + kept_counts_text(point->counts) + "); " +
                 (snapshot ? "--fresh starts over" : "without --resume it starts over"));
    return r;
}

void check_sync_preconditions(const LoadedPlugin &plugin, const SyncOptions &s, SyncFormat format) {
    const conn_descriptor &d = plugin.descriptor();
    require_capability(plugin, CONN_CAP_SYNC, reinterpret_cast<const void *>(plugin.connector().sync), "sync");
    const bool checkpoints = (d.capabilities & CONN_CAP_CHECKPOINT) != 0;
    if (!s.resume_from.empty() && !checkpoints)
        throw CommandError{ExitCode::unsupported, std::string("plugin '") + d.id + "' does not support --resume-from"};
    if (!s.checkpoint_file.empty() && !checkpoints)
        throw CommandError{ExitCode::unsupported, std::string("plugin '") + d.id + "' does not support --checkpoint"};
    if (s.resume && s.checkpoint_file.empty())
        throw CommandError{ExitCode::usage, "--resume needs --checkpoint FILE (the checkpoint to resume from)"};
    if ((s.resume || s.fresh) && !s.resume_from.empty())
        throw CommandError{ExitCode::usage, "--resume-from TOKEN goes without --resume and --fresh"};
    if (s.resume && s.fresh) throw CommandError{ExitCode::usage, "--resume and --fresh exclude each other"};
    if (format == SyncFormat::sqlite && !s.checkpoint_file.empty())
        throw CommandError{ExitCode::usage, "--checkpoint is for json and ndjson files: a snapshot (" + s.out +
                                                ") keeps its checkpoint in its unfinished run"};
    if (!s.checkpoint_file.empty() && (s.out.empty() || s.out == "-"))
        throw CommandError{ExitCode::usage, "--checkpoint needs --out FILE (the whole sync is written at the end)"};
    if (format == SyncFormat::sqlite) return; // the store opens its own file (no symlink, FIFO or device)
    try {
        SyncOutput::check_destination(s.out); // refused kinds before the plugin runs
    } catch (const OutputRefused &e) {
        throw CommandError{ExitCode::usage, e.what()};
    }
}

// A failed sync streaming ndjson (to stdout, a FIFO or a device) ends its stream with the failure as one
// record, {"kind":"error",...}. A file is not committed at all, so it gets none; after an interrupt the
// host leaves at once (a stalled reader must not hold it in a write).
void end_ndjson_stream(Console &console, const SyncDestination &dest, const SyncOptions &s, const ErrorReport &report) {
    if (report.exit_code == ExitCode::broken_pipe || report.exit_code == ExitCode::interrupted) return;
    if (dest.output != nullptr && dest.output->atomic()) return;
    std::FILE *out = dest.output != nullptr ? dest.output->file() : (s.out.empty() || s.out == "-" ? stdout : nullptr);
    if (out == nullptr) return;
    const std::string line = error_record(report, console.scrubber()) + "\n";
    if (std::fwrite(line.data(), 1, line.size(), out) == line.size()) std::fflush(out);
}

// The sync proper, once the destination is open: resume, run, finish or abandon, commit.
void sync_into(Console &console, const GlobalOptions &g, LoadedPlugin &plugin, Instance &instance,
               const SyncOptions &s, SyncFormat format, SyncDestination &dest, SyncResume &resume,
               SyncSummary &summary) {
    begin_sync_output(*dest.writer, plugin.descriptor());
    resume = resume_of(console, s, format, dest, summary);
    try {
        run_plugin_sync(console, g, plugin, instance, resume, *dest.writer, summary);
        if (s.strict && summary.counts.incomplete > 0)
            throw CommandError{ExitCode::incomplete,
                               "sync --strict: the plugin sent " + with_thousands(summary.counts.incomplete) +
                                   " incomplete_* warning(s): the data may be incomplete"};
        if (received_signal() != 0) throw CommandError{ExitCode::interrupted, "sync interrupted"};
        dest.writer->finish(summary);
    } catch (const CommandError &e) {
        dest.writer->abandon(e.message.empty() ? "sync failed" : e.message);
        throw;
    } catch (const std::exception &e) {
        dest.writer->abandon(e.what());
        throw;
    }
    if (dest.output && received_signal() != 0) throw CommandError{ExitCode::interrupted, "sync interrupted"};
    if (dest.output) dest.output->commit();
    if (resume.keeper) { // the whole sync is written: the spool and the checkpoint have done their work
        dest.writer.reset();
        remove_checkpoint(resume.keeper->file, resume.keeper->record.spool);
    }
}

// What the failure line adds: where the run is, and whether it can be resumed.
std::string failure_tail(const SyncOptions &s, SyncFormat format, bool atomic, const SyncResume &resume) {
    if (format == SyncFormat::sqlite)
        return resume.checkpointed ? "; the run is kept to its last checkpoint in " + s.out +
                                         " (sync again to resume it, --fresh to start over)"
                                   : "; the run is marked failed in " + s.out;
    if (resume.keeper && resume.checkpointed)
        return "; " + s.out + " not written (--resume --checkpoint " + s.checkpoint_file + " continues the sync)";
    return atomic ? "; " + s.out + " not written" : "";
}

}  // namespace

int run_sync(Console &console, const GlobalOptions &g, const std::string &arg, const ConfigOptions &c,
             const SyncOptions &s) {
    SyncSummary summary;
    bool started = false, atomic = false;
    SyncFormat format = SyncFormat::json;
    SyncDestination dest;
    SyncResume resume;
    ErrorReport report;
    int code = guard(console, [&] {
        format = sync_format(s);
        auto plugin = load_plugin(console, g, arg);
        check_sync_preconditions(*plugin, s, format);
        Instance instance(console, *plugin, c);
        dest = open_sync_destination(console, format, s, plugin->descriptor(), instance);
        atomic = dest.atomic() || format == SyncFormat::sqlite;
        started = true;
        sync_into(console, g, *plugin, instance, s, format, dest, resume, summary);
        console.line(sync_summary_line(summary, "sync: ") + (atomic ? " -> " + s.out : std::string{}));
        return 0;
    }, &report);
    if (code != 0 && format == SyncFormat::ndjson) end_ndjson_stream(console, dest, s, report);
    if (code != 0 && resume.keeper && !resume.checkpointed) { // nothing to resume: no spool left behind
        dest.writer.reset();
        remove_checkpoint(resume.keeper->file, resume.keeper->record.spool);
    }
    if (code != 0 && code != to_int(ExitCode::broken_pipe) && started)
        console.line(sync_summary_line(summary, "sync failed after receiving ") + failure_tail(s, format, atomic, resume));
    return code;
}

// ---- grant / revoke ------------------------------------------------------------------------------------
int run_grant(Console &console, const GlobalOptions &g, const std::string &arg, const ConfigOptions &c,
              const std::string &entitlement, const std::string &principal, bool revoke) {
    const char *what = revoke ? "revoke" : "grant";
    return guard_reporting(console, true, [&] { // provisioning: a failure is always reported as JSON
        if (entitlement.empty() || !is_valid_utf8(entitlement))
            throw CommandError{ExitCode::usage, "--entitlement must be a non-empty UTF-8 entitlement id"};
        auto [ptype, pid] = split_typed_id(principal, "--principal");
        auto plugin = load_plugin(console, g, arg);
        const auto &conn = plugin->connector();
        if (revoke) require_capability(*plugin, CONN_CAP_REVOKE, reinterpret_cast<const void *>(conn.revoke), "revoke");
        else require_capability(*plugin, CONN_CAP_GRANT, reinterpret_cast<const void *>(conn.grant), "grant");
        Instance instance(console, *plugin, c);

        std::string grant_json;
        ValidatingSink::Handlers h;
        h.grant = [&](const conn_grant &gr) { grant_json = grant_to_json(gr, console.scrubber()); };
        ValidatingSink sink(declared_types(plugin->descriptor()), std::move(h));
        conn_outcome outcome = CONN_OUTCOME_NONE;
        conn_error err = conn::make_error();
        conn_status st;
        {
            Operation op(console, g.timeout, false, what);
            if (revoke)
                st = conn.revoke(instance.get(), op.call(), conn::str(entitlement), conn::str(ptype), conn::str(pid), &outcome, &err);
            else
                st = conn.grant(instance.get(), op.call(), conn::str(entitlement), conn::str(ptype), conn::str(pid),
                                sink.open(), &outcome, &err);
            sink.close();
            op.finished();
            if (st != CONN_OK || sink.plugin_violation() || sink.host_failure() || received_signal() != 0)
                throw operation_failure(what, st, err, op, &sink);
        }
        if (revoke) check_outcome(outcome, CONN_OUTCOME_REVOKED, CONN_OUTCOME_ALREADY_REVOKED, what);
        else check_outcome(outcome, CONN_OUTCOME_GRANTED, CONN_OUTCOME_ALREADY_GRANTED, what);
        if (grant_json.empty()) {
            std::string id = entitlement + ":" + ptype + ":" + pid;
            auto gr = conn::make<conn_grant>();
            gr.id = conn::str(id);
            gr.entitlement_id = conn::str(entitlement);
            gr.principal_type = conn::str(ptype);
            gr.principal_id = conn::str(pid);
            grant_json = grant_to_json(gr, console.scrubber());
        }
        rapidjson::StringBuffer buf;
        JsonWriter w(buf);
        w.StartObject();
        key(w, "outcome"); w.String(conn::outcome_name(outcome, "unknown"));
        key(w, "grant"); w.RawValue(grant_json.data(), grant_json.size(), rapidjson::kObjectType);
        w.EndObject();
        print_stdout(std::string(buf.GetString(), buf.GetSize()), console.scrubber());
        return 0;
    });
}

// ---- create-account -------------------------------------------------------------------------------------
namespace {

using AccountFields = std::vector<std::pair<std::string, std::string>>;

// --email and each --profile name=value, in order; a name given twice or text that is not UTF-8 is refused.
AccountFields account_fields_from_options(const std::string &email, const std::vector<std::string> &profile) {
    AccountFields fields;
    if (!email.empty()) fields.emplace_back("email", email);
    for (const auto &kv : profile) {
        auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0)
            throw CommandError{ExitCode::usage, "--profile expects name=value, got '" + printable_line(kv) + "'"};
        std::string name = kv.substr(0, eq);
        for (const auto &f : fields)
            if (f.first == name) throw CommandError{ExitCode::usage, "account field '" + name + "' is given twice"};
        fields.emplace_back(name, kv.substr(eq + 1));
    }
    for (const auto &f : fields)
        if (!is_valid_utf8(f.first) || !is_valid_utf8(f.second))
            throw CommandError{ExitCode::usage, "account fields must be valid UTF-8"};
    return fields;
}

std::string joined_printable(const std::vector<std::string> &names) {
    std::string out;
    for (const auto &s : names) out += (out.empty() ? "" : ", ") + printable_line(s);
    return out;
}

// Every given field must be declared by the plugin, and every required field without a default given.
void check_account_fields(const conn_descriptor &d, const AccountFields &fields) {
    std::vector<std::string> unknown, missing, declared;
    for (const auto &f : fields) {
        bool known = false;
        for (uint32_t i = 0; i < d.account_field_count; ++i) known = known || f.first == d.account_fields[i]->name;
        if (!known) unknown.push_back(f.first);
    }
    for (uint32_t i = 0; i < d.account_field_count; ++i) {
        const conn_field &af = *d.account_fields[i];
        declared.emplace_back(af.name);
        bool given = false;
        for (const auto &f : fields) given = given || f.first == af.name;
        if (!given && (af.flags & CONN_FIELD_REQUIRED) && af.default_value == nullptr) missing.emplace_back(af.name);
    }
    if (!unknown.empty())
        throw CommandError{ExitCode::usage, "unknown account field(s): " + joined_printable(unknown) +
                                                " (this plugin declares: " +
                                                (declared.empty() ? std::string("none") : joined_printable(declared)) + ")"};
    if (!missing.empty())
        throw CommandError{ExitCode::usage, "missing required account field(s): " + joined_printable(missing) +
                                                " (give email with --email, others with --profile name=value)"};
}

struct CreatedAccount {
    conn_outcome outcome = CONN_OUTCOME_NONE;
    std::string resource_json; // empty when the plugin delivered no account
};

CreatedAccount call_create_account(Console &console, const GlobalOptions &g, LoadedPlugin &plugin, Instance &instance,
                                   const AccountFields &fields) {
    std::vector<conn_kv> kvs;
    for (const auto &f : fields) kvs.push_back(conn_kv{conn::str(f.first), conn::str(f.second)});
    auto req = conn::make<conn_account_request>();
    req.fields = kvs.data();
    req.field_count = kvs.size();
    CreatedAccount created;
    int delivered = 0;
    ValidatingSink::Handlers h;
    h.resource = [&](const conn_resource &r) {
        ++delivered;
        created.resource_json = resource_to_json(r, console.scrubber());
    };
    ValidatingSink sink(declared_types(plugin.descriptor()), std::move(h));
    conn_error err = conn::make_error();
    {
        Operation op(console, g.timeout, false, "create-account");
        conn_status st =
            plugin.connector().create_account(instance.get(), op.call(), &req, sink.open(), &created.outcome, &err);
        sink.close();
        op.finished();
        if (st != CONN_OK || sink.plugin_violation() || sink.host_failure() || received_signal() != 0)
            throw operation_failure("create-account", st, err, op, &sink);
    }
    // REACTIVATED (ABI 1.1) only from a plugin that negotiated 1.1: a 1.0 plugin cannot mean it.
    if (created.outcome != CONN_OUTCOME_REACTIVATED || plugin.abi_minor() < 1)
        check_outcome(created.outcome, CONN_OUTCOME_CREATED, CONN_OUTCOME_ALREADY_EXISTS, "create-account");
    if (delivered > 1)
        throw CommandError{ExitCode::plugin_failure, "create-account: the plugin delivered " + std::to_string(delivered) +
                                                         " accounts where the ABI says one"};
    if (delivered == 0)
        console.warning("the plugin did not deliver the account it " +
                        std::string(created.outcome == CONN_OUTCOME_CREATED ? "created" : "found"));
    return created;
}

std::string created_account_json(const CreatedAccount &created) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    key(w, "outcome"); w.String(conn::outcome_name(created.outcome, "unknown"));
    key(w, "resource");
    if (created.resource_json.empty()) w.Null();
    else w.RawValue(created.resource_json.data(), created.resource_json.size(), rapidjson::kObjectType);
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace

int run_create_account(Console &console, const GlobalOptions &g, const std::string &arg, const ConfigOptions &c,
                       const std::string &email, const std::vector<std::string> &profile) {
    return guard_reporting(console, true, [&] {
        const AccountFields fields = account_fields_from_options(email, profile);
        auto plugin = load_plugin(console, g, arg);
        require_capability(*plugin, CONN_CAP_CREATE_ACCOUNT,
                           reinterpret_cast<const void *>(plugin->connector().create_account), "create-account");
        check_account_fields(plugin->descriptor(), fields);
        Instance instance(console, *plugin, c);
        const CreatedAccount created = call_create_account(console, g, *plugin, instance, fields);
        print_stdout(created_account_json(created), console.scrubber());
        return 0;
    });
}

// ---- delete ----------------------------------------------------------------------------------------------
int run_delete(Console &console, const GlobalOptions &g, const std::string &arg, const ConfigOptions &c,
               const std::string &resource) {
    return guard_reporting(console, true, [&] {
        auto [type, id] = split_typed_id(resource, "--resource");
        auto plugin = load_plugin(console, g, arg);
        const conn_descriptor &d = plugin->descriptor();
        require_capability(*plugin, CONN_CAP_DELETE, reinterpret_cast<const void *>(plugin->connector().delete_resource),
                           "delete");
        const conn_resource_type *rt = find_type(d, type);
        if (rt == nullptr)
            throw CommandError{ExitCode::usage, "plugin '" + std::string(d.id) + "' has no resource type '" + printable_line(type) + "'"};
        if ((rt->capabilities & CONN_RT_DELETE) == 0)
            throw CommandError{ExitCode::unsupported, "plugin '" + std::string(d.id) + "' cannot delete resources of type '" + type + "'"};
        Instance instance(console, *plugin, c);
        conn_outcome outcome = CONN_OUTCOME_NONE;
        conn_error err = conn::make_error();
        {
            Operation op(console, g.timeout, false, "delete");
            conn_status st = plugin->connector().delete_resource(instance.get(), op.call(), conn::str(type), conn::str(id),
                                                                 &outcome, &err);
            op.finished();
            if (st != CONN_OK || received_signal() != 0) throw operation_failure("delete", st, err, op, nullptr);
        }
        check_outcome(outcome, CONN_OUTCOME_DELETED, CONN_OUTCOME_ALREADY_DELETED, "delete");
        rapidjson::StringBuffer buf;
        JsonWriter w(buf);
        w.StartObject();
        key(w, "outcome"); w.String(conn::outcome_name(outcome, "unknown"));
        key(w, "resource");
        w.StartObject();
        key(w, "type"); str(w, type);
        key(w, "id"); str(w, id);
        w.EndObject();
        w.EndObject();
        print_stdout(std::string(buf.GetString(), buf.GetSize()), console.scrubber());
        return 0;
    });
}

}  // namespace connector_host::cli
