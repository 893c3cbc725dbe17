#include "connector_host/cli/config_assembly.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <map>

namespace connector_host::cli {

namespace {

std::string one_line(std::string_view s) {
    static const char *const hex = "0123456789abcdef";
    std::string out;
    out.reserve(s.size());
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c >= 0x20 && c != 0x7f) {
            out.push_back(ch);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else {
            out += "\\x";
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out;
}

}  // namespace

ConfigError::ConfigError(const std::string &message) : std::runtime_error(one_line(message)) {}

std::string_view to_string(ConfigSource source) noexcept {
    switch (source) {
    case ConfigSource::set_flag: return "--set";
    case ConfigSource::set_file: return "--set @FILE";
    case ConfigSource::config_file: return "--config";
    case ConfigSource::environment: return "environment";
    }
    return "unknown";
}

std::string env_var_name(std::string_view field_name) {
    std::string out;
    out.reserve(field_name.size());
    for (char c : field_name) {
        if (c >= 'a' && c <= 'z') out.push_back(static_cast<char>(c - 'a' + 'A'));
        else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) out.push_back(c);
        else out.push_back('_');
    }
    return out;
}

namespace {

std::string join(const std::vector<std::string> &items, std::string_view sep = ", ") {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += sep;
        out += items[i];
    }
    return out;
}

std::string strip_one_newline(std::string s) {
    if (!s.empty() && s.back() == '\n') s.pop_back();
    if (!s.empty() && s.back() == '\r') s.pop_back();
    return s;
}

// "<path>: <why>", or why alone when it already names the path ("<path> is a directory").
std::string with_path(const std::string &path, const std::string &why) {
    if (why.rfind(path, 0) == 0) return why;
    return path + (why.empty() ? "" : ": " + why);
}

const FieldSpec *find_field(const std::vector<FieldSpec> &fields, std::string_view name) {
    for (const auto &f : fields)
        if (f.name == name) return &f;
    return nullptr;
}

struct SetArgument {
    std::string name;    // the declared field, when the argument is good
    std::string problem; // else what is wrong, holding no text of the argument but a declared name
    bool unknown = false;
};

// Reads the --config file into name -> value (strings, numbers and booleans; anything else is refused).
std::map<std::string, std::string> read_config_file(const std::vector<FieldSpec> &fields, const ConfigInputs &in) {
    std::map<std::string, std::string> out;
    if (!in.config_path) return out;
    std::string why;
    auto text = in.read_file ? in.read_file(*in.config_path, why) : std::nullopt;
    if (!text && why.rfind(*in.config_path, 0) == 0) throw ConfigError("--config: config file " + why);
    if (!text) throw ConfigError("cannot read config file " + with_path(*in.config_path, why));
    rapidjson::Document doc;
    doc.Parse(text->data(), text->size());
    if (doc.HasParseError())
        throw ConfigError("config file " + *in.config_path + " is not valid JSON: " +
                          rapidjson::GetParseError_En(doc.GetParseError()) + " at byte " +
                          std::to_string(doc.GetErrorOffset()));
    if (!doc.IsObject()) throw ConfigError("config file " + *in.config_path + " must hold a JSON object");
    std::vector<std::string> unknown, bad_type;
    for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
        std::string name(it->name.GetString(), it->name.GetStringLength());
        if (find_field(fields, name) == nullptr) {
            unknown.push_back(name);
            continue;
        }
        const auto &v = it->value;
        if (v.IsString()) out[name] = std::string(v.GetString(), v.GetStringLength());
        else if (v.IsBool()) out[name] = v.GetBool() ? "true" : "false";
        else if (v.IsInt64()) out[name] = std::to_string(v.GetInt64());
        else if (v.IsUint64()) out[name] = std::to_string(v.GetUint64());
        else bad_type.push_back(name);
    }
    if (!unknown.empty())
        throw ConfigError("config file " + *in.config_path + " names unknown config field(s): " + join(unknown));
    if (!bad_type.empty())
        throw ConfigError("config file " + *in.config_path +
                          ": field(s) must be a string, an integer or a boolean: " + join(bad_type));
    return out;
}

}  // namespace

size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = up;
        }
    }
    return row[b.size()];
}

namespace {

// " (did you mean 'scim-url'?)" when a declared name is within two edits of `typed` (only the declared,
// public name is shown), else "".
std::string did_you_mean(const std::vector<FieldSpec> &fields, std::string_view typed) {
    for (const auto &f : fields)
        if (typed.size() >= 3 && edit_distance(typed, f.name) <= 2) return ", did you mean '" + f.name + "'?";
    return {};
}

// One --set argument. The rule that keeps secrets out of errors: no text of the argument is ever shown,
// except a declared field name. The key is the text before the first '=', ':' or blank. When the key is a
// declared field and '=' follows, the argument is good; when ':' or a blank follows a declared key, the key
// is named ("'scim-token' followed by ':' instead of '='"); any other argument is told by its position and
// length only ("--set #2 (18 characters)"), with a declared name it resembles, if any.
SetArgument parse_set_argument(const std::vector<FieldSpec> &fields, const std::string &arg, size_t position) {
    SetArgument out;
    const size_t cut = arg.find_first_of("=: \t");
    const std::string key = arg.substr(0, cut);
    const bool declared = find_field(fields, key) != nullptr;
    const std::string where = "--set #" + std::to_string(position) + " (" + std::to_string(arg.size()) + " characters";
    if (cut != std::string::npos && arg[cut] == '=' && !key.empty()) {
        if (declared) out.name = key;
        else {
            out.unknown = true;
            out.problem = where + did_you_mean(fields, key) + ")";
        }
    } else if (cut == 0 && arg[0] == '=') {
        out.problem = "(empty name)";
    } else if (declared) {
        out.problem = "'" + key + "'" + (cut == std::string::npos ? " without '='" : " followed by '" +
                      std::string(1, arg[cut] == '\t' ? ' ' : arg[cut]) + "' instead of '='");
    } else {
        out.problem = "a --set argument without '=' before any ':' or blank: " + where +
                      ", not shown: it may hold a secret)";
    }
    return out;
}

}  // namespace

std::string plugin_env_prefix(std::string_view plugin_id) { return "CONNECTOR_" + env_var_name(plugin_id) + "_"; }

namespace {

// The variables a field is read from, in order: the plugin's own name first, then the short one.
std::vector<std::string> env_names_of(const FieldSpec &f, const std::string &prefix) {
    if (prefix.empty()) return {env_var_name(f.name)};
    return {prefix + env_var_name(f.name), env_var_name(f.name)};
}

std::string env_names_text(const FieldSpec &f, const std::string &prefix) {
    const auto names = env_names_of(f, prefix);
    return names.size() == 1 ? names[0] : names[0] + " or " + names[1];
}

void read_environment(const std::vector<FieldSpec> &fields, const ConfigInputs &in,
                      std::map<std::string, ConfigEntry> &chosen) {
    if (!in.get_env) return;
    for (const auto &f : fields)
        for (const auto &name : env_names_of(f, in.env_prefix)) {
            auto v = in.get_env(name);
            if (!v || v->empty()) continue;
            chosen[f.name] = ConfigEntry{f.name, *v, ConfigSource::environment, name};
            break;
        }
}

}  // namespace

AssembledConfig assemble_config(const std::vector<FieldSpec> &fields, const ConfigInputs &in) {
    AssembledConfig result;
    std::map<std::string, ConfigEntry> chosen;

    // Lowest precedence first; later sources overwrite.
    read_environment(fields, in, chosen);
    for (auto &[name, value] : read_config_file(fields, in))
        chosen[name] = ConfigEntry{name, value, ConfigSource::config_file, {}};

    std::vector<std::string> unknown, malformed;
    std::vector<std::string> literal_secrets;
    for (size_t i = 0; i < in.set_args.size(); ++i) {
        const std::string &arg = in.set_args[i];
        const SetArgument parsed = parse_set_argument(fields, arg, i + 1);
        if (!parsed.problem.empty()) {
            (parsed.unknown ? unknown : malformed).push_back(parsed.problem);
            continue;
        }
        const std::string &name = parsed.name, value = arg.substr(name.size() + 1);
        const FieldSpec *f = find_field(fields, name);
        if (value.size() > 1 && value[0] == '@') { // @FILE, for every field
            std::string why, path = value.substr(1);
            auto text = in.read_file ? in.read_file(path, why) : std::nullopt;
            if (!text)
                throw ConfigError("cannot read the value of " + std::string(f->secret ? "secret " : "") + "field '" +
                                  name + "' (--set " + name + "=@FILE): " + with_path(path, why));
            chosen[name] = ConfigEntry{name, strip_one_newline(*text), ConfigSource::set_file, {}};
        } else {
            if (f->secret &&
                std::find(literal_secrets.begin(), literal_secrets.end(), name) == literal_secrets.end())
                literal_secrets.push_back(name);
            chosen[name] = ConfigEntry{name, value, ConfigSource::set_flag, {}};
        }
    }
    if (!malformed.empty())
        throw ConfigError("--set expects name=value; malformed: " + join(malformed));
    if (!unknown.empty()) {
        std::vector<std::string> known;
        for (const auto &f : fields) known.push_back(f.name);
        throw ConfigError("unknown config field(s) in --set: " + join(unknown) +
                          "; names that are not declared are not shown, they may be a mistyped secret (this plugin "
                          "declares: " + (known.empty() ? std::string("none") : join(known)) + ")");
    }
    for (const auto &name : literal_secrets) {
        const FieldSpec *f = find_field(fields, name);
        if (f == nullptr || chosen[name].source != ConfigSource::set_flag) continue;
        result.warnings.push_back("the secret field '" + name +
                                  "' was given literally on the command line, where other users of this machine "
                                  "can see it; prefer --set " + name + "=@FILE, --config FILE or the " +
                                  env_var_name(name) + " environment variable");
    }

    std::vector<std::string> missing;
    for (const auto &f : fields) {
        auto it = chosen.find(f.name);
        if (it == chosen.end()) {
            if (f.required && !f.has_default) missing.push_back(f.name + " (" + env_names_text(f, in.env_prefix) + ")");
            continue;
        }
        if (f.secret && !it->second.value.empty()) result.secret_values.push_back(it->second.value);
        result.entries.push_back(it->second);
    }
    if (!missing.empty())
        throw ConfigError("missing required config field(s): " + join(missing) +
                          "; give each with --set name=value, in --config FILE, or in the environment variable shown");
    return result;
}

}  // namespace connector_host::cli
