// Config assembly: turns the plugin's declared config fields and the user's sources (--set, --config FILE,
// environment) into the key/value list handed to instance_create. Pure: the environment and the file
// system are reached through callbacks, so every rule is unit-tested.
//
// Precedence, highest first: --set name=value  >  --config FILE (a JSON object)  >  environment
// (CONNECTOR_<PLUGIN>_<FIELD>, then the field name in upper snake case: "scim-url" -> SCIM_URL). Every field
// may be given as --set name=@FILE (the file's content, one trailing newline removed; only --set reads files,
// a value from --config or the environment is taken as it is); a secret given literally on the command line works but
// warns that other users of the machine can see it. Unknown names (in --set or the config file) and
// missing required fields are errors that name every offending field at once.
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace connector_host::cli {

struct FieldSpec {
    std::string name;
    bool required = false;
    bool secret = false;
    bool has_default = false; // a required field with a default is not "missing"
};

enum class ConfigSource { set_flag, set_file, config_file, environment };
std::string_view to_string(ConfigSource source) noexcept;

struct ConfigEntry {
    std::string name;
    std::string value;
    ConfigSource source = ConfigSource::set_flag;
    std::string env_name; // the environment variable it came from, when source is environment
};

struct ConfigInputs {
    std::vector<std::string> set_args;          // each "name=value" or "name=@FILE"
    std::optional<std::string> config_path;     // --config FILE
    // Reads a whole file; returns nullopt (and fills why) when it cannot.
    std::function<std::optional<std::string>(const std::string &path, std::string &why)> read_file;
    // Looks up an environment variable; nullopt when unset.
    std::function<std::optional<std::string>(const std::string &name)> get_env;
    // "CONNECTOR_<PLUGIN>_" (plugin_env_prefix): each field is read from <prefix><FIELD> first, then from the
    // short name <FIELD>. Empty: the short name only.
    std::string env_prefix;
};

struct AssembledConfig {
    std::vector<ConfigEntry> entries;            // in the plugin's field order
    std::vector<std::string> warnings;           // one line each, never holding a secret value
    std::vector<std::string> secret_values;      // values of secret fields, for the scrubber
};

// Thrown for any config problem; the message is one line and never holds a secret value. The constructor keeps
// it one line: control bytes (a newline or NUL in a config-file key or path, ...) are written as \n, \r, \t or
// \xHH.
class ConfigError : public std::runtime_error {
public:
    explicit ConfigError(const std::string &message);
};

// "scim-url" -> "SCIM_URL": letters upper-cased, every other non-alphanumeric byte becomes '_'.
std::string env_var_name(std::string_view field_name);

// Levenshtein distance (bytes).
size_t edit_distance(std::string_view a, std::string_view b);

// "claude-enterprise" -> "CONNECTOR_CLAUDE_ENTERPRISE_".
std::string plugin_env_prefix(std::string_view plugin_id);

AssembledConfig assemble_config(const std::vector<FieldSpec> &fields, const ConfigInputs &inputs);

}  // namespace connector_host::cli
