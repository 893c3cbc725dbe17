// Fuzz target: the host's config assembly (host/cli/src/config_assembly.cpp: --set, --set name=@FILE,
// --config FILE as JSON, the environment) and the text it prints (text_safety.cpp: printable_line and
// the secret scrubber).
//
// The input is a small text script, one directive a line (escapes \n \r \t \0 \\ \xHH in values):
//   field <flags> <name>     a declared field; flags: r required, s secret, d has a default, - none
//                            (no field lines: the claude-enterprise plugin's fields)
//   env <NAME>=<value>       an environment variable
//   set <arg>                one --set argument, verbatim
//   file <path>=<content>    a readable file
//   config <path>            --config <path>
// Invariants:
//  - only ConfigError escapes; it is thrown exactly when an independent model of the documented rules says
//    the inputs are wrong (malformed or unknown --set, unreadable @FILE or config file, config file not a
//    JSON object of strings/integers/booleans, unknown names in it, a required field without a default
//    missing);
//  - on success: entries follow the declared field order, once each, with the value of the highest
//    source (last --set, then the config file, then a non-empty environment variable); every non-empty
//    secret value is listed for the scrubber; exactly one warning per secret given literally on the
//    command line (and winning);
//  - no error message or warning holds a secret value (checked for secrets with a byte no message template
//    has, once the public names and paths it may quote are set aside);
//  - what the host prints (printable_line(scrub(message))) is one line of valid UTF-8 without C0/C1
//    controls; printable_line leaves printable valid UTF-8 (no C0, DEL, C1 or bidi control) unchanged;
//  - env_var_name maps names to upper snake case;
//  - scrub() leaves no secret behind (when no secret shares a character with the mask).
#include <rapidjson/document.h>

#include <algorithm>
#include <cstdio>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "connector_host/cli/config_assembly.hpp"
#include "connector_host/cli/text_safety.hpp"
#include "fuzz_check.hpp"

namespace {

using namespace connector_host::cli;

int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string unescape(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\' || i + 1 >= s.size()) {
            out += s[i];
            continue;
        }
        const char c = s[++i];
        switch (c) {
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case '0': out += '\0'; break;
        case 'x':
            if (i + 2 < s.size() && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
                out += static_cast<char>(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
                i += 2;
            } else {
                out += 'x';
            }
            break;
        default: out += c;
        }
    }
    return out;
}

std::string ref_env_name(std::string_view name) {
    std::string out;
    for (char c : name) {
        if (c >= 'a' && c <= 'z') out += static_cast<char>(c - 32);
        else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) out += c;
        else out += '_';
    }
    return out;
}

bool is_printable_ascii(unsigned char c) { return c >= 0x20 && c < 0x7f; }

// A printed line: valid UTF-8, no C0 controls, no DEL, no C1 controls (U+0080..U+009F).
void check_printed(std::string_view s) {
    FUZZ_CHECK(fuzz::valid_utf8(s), "a printed line is not valid UTF-8");
    for (size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        FUZZ_CHECK(c >= 0x20 && c != 0x7f, "a printed line holds a control character");
        if (c == 0xC2 && i + 1 < s.size())
            FUZZ_CHECK(static_cast<unsigned char>(s[i + 1]) >= 0xA0, "a printed line holds a C1 control");
    }
}

bool shares_char(std::string_view a, std::string_view b) { return a.find_first_of(b) != std::string_view::npos; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string_view text(reinterpret_cast<const char *>(data), size);

    std::vector<FieldSpec> fields;
    std::map<std::string, std::string> env, files;
    ConfigInputs in;
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        const std::string_view line = text.substr(pos, nl - pos);
        pos = nl + 1;
        const size_t sp = line.find(' ');
        if (sp == std::string_view::npos) continue;
        const std::string_view kw = line.substr(0, sp);
        const std::string rest = unescape(line.substr(sp + 1));
        if (kw == "field") {
            const size_t sp2 = rest.find(' ');
            if (sp2 == std::string::npos || fields.size() >= 12) continue;
            FieldSpec f;
            f.name = rest.substr(sp2 + 1);
            const std::string flags = rest.substr(0, sp2);
            f.required = flags.find('r') != std::string::npos;
            f.secret = flags.find('s') != std::string::npos;
            f.has_default = flags.find('d') != std::string::npos;
            bool dup = false;
            for (const auto &g : fields) dup = dup || g.name == f.name;
            if (!dup) fields.push_back(f);
        } else if (kw == "env" || kw == "file") {
            const size_t eq = rest.find('=');
            if (eq == std::string::npos) continue;
            (kw == "env" ? env : files)[rest.substr(0, eq)] = rest.substr(eq + 1);
        } else if (kw == "set") {
            if (in.set_args.size() < 32) in.set_args.push_back(rest);
        } else if (kw == "config") {
            in.config_path = rest;
        }
        if (nl == text.size()) break;
    }
    if (fields.empty()) {
        fields = {{"scim-url", true, false, false}, {"scim-token", true, true, false},
                  {"page-size", false, false, true}, {"concurrency", false, false, true}, {"ca-file", false, false, false}};
    }
    static const std::string kNoFile = "no such file";
    in.read_file = [&](const std::string &path, std::string &why) -> std::optional<std::string> {
        auto it = files.find(path);
        if (it == files.end()) {
            why = kNoFile;
            return std::nullopt;
        }
        return it->second;
    };
    in.get_env = [&](const std::string &name) -> std::optional<std::string> {
        auto it = env.find(name);
        return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
    };

    for (const auto &f : fields) FUZZ_CHECK(env_var_name(f.name) == ref_env_name(f.name), "env_var_name is not upper snake case");

    // The model: what the rules say, and which texts a message may quote.
    auto field_of = [&](std::string_view name) -> const FieldSpec * {
        for (const auto &f : fields)
            if (f.name == name) return &f;
        return nullptr;
    };
    bool model_fails = false;
    std::vector<std::string> public_items = {kNoFile};
    std::vector<std::string> secrets;  // every value given to a secret field, from any source
    std::map<std::string, std::string> value;
    std::set<std::string> literal_secret_winner;
    for (const auto &f : fields) {
        public_items.push_back(f.name);
        public_items.push_back(ref_env_name(f.name));
        auto it = env.find(ref_env_name(f.name));
        if (it != env.end() && f.secret) secrets.push_back(it->second);
        if (it != env.end() && !it->second.empty()) value[f.name] = it->second;
    }
    if (in.config_path) {
        public_items.push_back(*in.config_path);
        auto it = files.find(*in.config_path);
        if (it == files.end()) {
            model_fails = true;
        } else {
            rapidjson::Document d;
            d.Parse(it->second.data(), it->second.size());
            if (d.HasParseError() || !d.IsObject()) {
                model_fails = true;
            } else {
                for (auto m = d.MemberBegin(); m != d.MemberEnd(); ++m) {
                    const std::string name(m->name.GetString(), m->name.GetStringLength());
                    public_items.push_back(name);
                    const FieldSpec *f = field_of(name);
                    const auto &v = m->value;
                    std::string s;
                    if (v.IsString()) s.assign(v.GetString(), v.GetStringLength());
                    else if (v.IsBool()) s = v.GetBool() ? "true" : "false";
                    else if (v.IsInt64()) s = std::to_string(v.GetInt64());
                    else if (v.IsUint64()) s = std::to_string(v.GetUint64());
                    else model_fails = true;
                    if (!f) {
                        model_fails = true;
                        continue;
                    }
                    if (f->secret) secrets.push_back(s);
                    value[name] = s;
                }
            }
        }
    }
    for (const auto &arg : in.set_args) {
        // The name is the text before the first '=', ':' or blank; only '=' there makes a good argument.
        const size_t eq = arg.find_first_of("=: \t");
        if (eq == std::string::npos || eq == 0 || arg[eq] != '=') {
            public_items.push_back(arg);
            model_fails = true;
            continue;
        }
        const std::string name = arg.substr(0, eq), v = arg.substr(eq + 1);
        public_items.push_back(name);
        const FieldSpec *f = field_of(name);
        if (!f) {
            model_fails = true;
            continue;
        }
        if (v.size() > 1 && v[0] == '@') {  // --set NAME=@FILE reads every field from the file (not only secrets)
            public_items.push_back(v.substr(1));
            auto it = files.find(v.substr(1));
            if (it == files.end()) {
                model_fails = true;
                continue;
            }
            std::string s = it->second;
            if (!s.empty() && s.back() == '\n') s.pop_back();
            if (!s.empty() && s.back() == '\r') s.pop_back();
            if (f->secret) {
                secrets.push_back(it->second);
                secrets.push_back(s);
            }
            value[name] = s;
            literal_secret_winner.erase(name);
        } else {
            if (f->secret) {
                secrets.push_back(v);
                literal_secret_winner.insert(name);
            }
            value[name] = v;
        }
    }
    for (const auto &f : fields)
        if (f.required && !f.has_default && !value.count(f.name)) model_fails = true;

    // Secrets worth scanning for: at least 2 bytes, one of them something no message template holds.
    std::vector<std::string> scan;
    for (const auto &s : secrets) {
        if (s.size() < 2 || s.find('\0') != std::string::npos) continue;
        bool odd = false;
        for (unsigned char c : s) odd = odd || !is_printable_ascii(c);
        if (odd) scan.push_back(s);
    }
    // A message may quote an item cut short: a malformed --set argument at 64 bytes, and anything at its
    // first NUL (what() is a C string).
    for (size_t i = 0, n = public_items.size(); i < n; ++i) {
        const std::string p = public_items[i];
        const std::string cut = p.substr(0, std::min<size_t>(64, p.size()));
        public_items.push_back(cut);
        public_items.push_back(p.substr(0, p.find('\0')));
        public_items.push_back(cut.substr(0, cut.find('\0')));
    }
    // ConfigError writes control bytes as \n, \t, \xHH (messages stay one line): quote items that way too.
    for (size_t i = 0, n = public_items.size(); i < n; ++i) public_items.push_back(ConfigError(public_items[i]).what());
    std::sort(public_items.begin(), public_items.end(), [](const auto &a, const auto &b) { return a.size() > b.size(); });
    auto check_no_secret = [&](const std::string &msg) {
        std::string rest = msg;
        for (const auto &p : public_items) {
            if (p.empty()) continue;
            for (size_t at = rest.find(p); at != std::string::npos; at = rest.find(p, at + 1)) rest.replace(at, p.size(), 1, '\0');
        }
        for (const auto &s : scan) {
            if (rest.find(s) == std::string::npos) continue;
            std::fprintf(stderr, "secret \"%s\" in message \"%s\"\n", printable_line(s).c_str(), printable_line(msg).c_str());
            FUZZ_CHECK(false, "a secret value appears in a message");
        }
    };

    std::vector<std::string> printed;
    AssembledConfig got;
    bool failed = false;
    try {
        got = assemble_config(fields, in);
    } catch (const ConfigError &e) {
        failed = true;
        check_no_secret(e.what());
        printed.push_back(e.what());
    }
    FUZZ_CHECK(failed == model_fails, failed ? "a ConfigError where the rules allow the inputs"
                                             : "inputs the rules refuse were accepted");
    std::vector<std::string> secret_values;
    if (!failed) {
        size_t last = 0;
        std::set<std::string> names;
        for (const auto &e : got.entries) {
            size_t idx = fields.size();
            for (size_t i = 0; i < fields.size(); ++i)
                if (fields[i].name == e.name) idx = i;
            FUZZ_CHECK(idx < fields.size(), "an entry for an undeclared field");
            FUZZ_CHECK(names.insert(e.name).second, "a field appears twice");
            FUZZ_CHECK(names.size() == 1 || idx > last, "entries out of the declared order");
            last = idx;
            auto it = value.find(e.name);
            FUZZ_CHECK(it != value.end() && it->second == e.value, "an entry's value is not the highest source's");
            if (fields[idx].secret && !e.value.empty())
                FUZZ_CHECK(std::find(got.secret_values.begin(), got.secret_values.end(), e.value) != got.secret_values.end(),
                           "a secret value is not handed to the scrubber");
        }
        FUZZ_CHECK(names.size() == value.size(), "a given field is missing from the entries");
        FUZZ_CHECK(got.warnings.size() == literal_secret_winner.size(), "not one warning per literal secret");
        for (const auto &w : got.warnings) {
            check_no_secret(w);
            printed.push_back(w);
        }
        secret_values = got.secret_values;
    }

    // What the host prints, with the scrubber loaded as it would be.
    SecretScrubber scrubber(secret_values);
    for (const auto &s : scan) scrubber.add(s);
    for (const auto &m : printed) check_printed(printable_line(scrubber.scrub(m)));

    // printable_line on the raw input: safe, and the identity on printable valid UTF-8.
    const std::string line = printable_line(text);
    check_printed(line);
    // Printable: no C0 control, DEL, C1 or bidi control (those printable_line makes visible, as documented).
    bool plain = fuzz::valid_utf8(text);
    for (size_t i = 0; plain && i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        size_t control_len = 0;
        if (c < 0x20 || c == 0x7f || invisible_control_at(text, i, control_len) != 0) plain = false;
    }
    if (plain) FUZZ_CHECK(line == text, "printable_line changed printable valid UTF-8");

    // The scrubber leaves no secret of 4+ bytes behind (unless a secret could be formed from the mask).
    std::vector<std::string> long_secrets;
    bool mask_safe = true;
    for (const auto &s : scan)
        if (s.size() >= 4) long_secrets.push_back(s);
    for (const auto *list : {&scan, &secret_values})
        for (const auto &s : *list)
            if (s.size() >= 4) mask_safe = mask_safe && !shares_char(s, SecretScrubber::mask);
    if (mask_safe) {
        const std::string clean = scrubber.scrub(text);
        for (const auto &s : long_secrets) FUZZ_CHECK(clean.find(s) == std::string::npos, "scrub() left a secret behind");
        FUZZ_CHECK(!scrubber.contains_secret(clean), "contains_secret() after scrub()");
    }
    return 0;
}
