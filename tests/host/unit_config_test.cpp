#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <connector_host/cli/config_assembly.hpp>
#include <connector_host/cli/exit_codes.hpp>

#include <map>
#include <set>

using namespace connector_host::cli;

namespace {

std::vector<FieldSpec> fields() {
    return {FieldSpec{"scim-url", true, false, false}, FieldSpec{"scim-token", true, true, false},
            FieldSpec{"page-size", false, false, true}, FieldSpec{"ca-file", false, false, false}};
}

struct World {
    std::map<std::string, std::string> env, files;
    ConfigInputs inputs(std::vector<std::string> sets = {}, std::optional<std::string> config = std::nullopt) {
        ConfigInputs in;
        in.set_args = std::move(sets);
        in.config_path = std::move(config);
        in.get_env = [this](const std::string &n) -> std::optional<std::string> {
            auto it = env.find(n);
            return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
        };
        in.read_file = [this](const std::string &p, std::string &why) -> std::optional<std::string> {
            auto it = files.find(p);
            if (it == files.end()) {
                why = "No such file or directory";
                return std::nullopt;
            }
            return it->second;
        };
        return in;
    }
};

std::map<std::string, std::string> as_map(const AssembledConfig &c) {
    std::map<std::string, std::string> m;
    for (const auto &e : c.entries) m[e.name] = e.value;
    return m;
}

std::string error_of(const std::vector<FieldSpec> &f, const ConfigInputs &in) {
    try {
        assemble_config(f, in);
    } catch (const ConfigError &e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("env var names are the field names in upper snake case") {
    CHECK(env_var_name("scim-url") == "SCIM_URL");
    CHECK(env_var_name("scim-token") == "SCIM_TOKEN");
    CHECK(env_var_name("max-response-mb") == "MAX_RESPONSE_MB");
    CHECK(env_var_name("a.b c") == "A_B_C");
    CHECK(env_var_name("page_size2") == "PAGE_SIZE2");
}

TEST_CASE("each source alone supplies the config") {
    World w;
    SUBCASE("--set") {
        auto c = assemble_config(fields(), w.inputs({"scim-url=https://x", "scim-token=tok-1234"}));
        CHECK(as_map(c) == std::map<std::string, std::string>{{"scim-url", "https://x"}, {"scim-token", "tok-1234"}});
        CHECK(c.entries[0].source == ConfigSource::set_flag);
    }
    SUBCASE("--config") {
        w.files["c.json"] = R"({"scim-url":"https://y","scim-token":"tok-5678","page-size":50,"ca-file":"/ca"})";
        auto c = assemble_config(fields(), w.inputs({}, "c.json"));
        CHECK(as_map(c) == std::map<std::string, std::string>{
                               {"scim-url", "https://y"}, {"scim-token", "tok-5678"}, {"page-size", "50"}, {"ca-file", "/ca"}});
        CHECK(c.entries[0].source == ConfigSource::config_file);
    }
    SUBCASE("environment") {
        w.env = {{"SCIM_URL", "https://z"}, {"SCIM_TOKEN", "tok-9999"}};
        auto c = assemble_config(fields(), w.inputs());
        CHECK(as_map(c) == std::map<std::string, std::string>{{"scim-url", "https://z"}, {"scim-token", "tok-9999"}});
        CHECK(c.entries[1].source == ConfigSource::environment);
        CHECK(c.warnings.empty());
    }
}

TEST_CASE("environment: CONNECTOR_<PLUGIN>_<FIELD> first, the short name as a fallback, the variable recorded") {
    World w;
    CHECK(plugin_env_prefix("claude-enterprise") == "CONNECTOR_CLAUDE_ENTERPRISE_");
    w.env = {{"CONNECTOR_CLAUDE_ENTERPRISE_PAGE_SIZE", "200"}, {"PAGE_SIZE", "100"}, {"SCIM_URL", "https://short"},
             {"CONNECTOR_CLAUDE_ENTERPRISE_SCIM_TOKEN", "tok-long1"}};
    ConfigInputs in = w.inputs();
    in.env_prefix = plugin_env_prefix("claude-enterprise");
    auto c = assemble_config(fields(), in);
    CHECK(as_map(c) == std::map<std::string, std::string>{
                           {"scim-url", "https://short"}, {"scim-token", "tok-long1"}, {"page-size", "200"}});
    std::map<std::string, std::string> vars;
    for (const auto &e : c.entries) vars[e.name] = e.env_name;
    CHECK(vars == std::map<std::string, std::string>{{"scim-url", "SCIM_URL"},
                                                     {"scim-token", "CONNECTOR_CLAUDE_ENTERPRISE_SCIM_TOKEN"},
                                                     {"page-size", "CONNECTOR_CLAUDE_ENTERPRISE_PAGE_SIZE"}});
    // A missing field names both variables it was looked for in.
    w.env.clear();
    in = w.inputs();
    in.env_prefix = plugin_env_prefix("claude-enterprise");
    try {
        assemble_config(fields(), in);
        FAIL("missing fields were accepted");
    } catch (const ConfigError &e) {
        CHECK(std::string(e.what()).find("scim-url (CONNECTOR_CLAUDE_ENTERPRISE_SCIM_URL or SCIM_URL)") !=
              std::string::npos);
    }
}

TEST_CASE("precedence: --set over --config over environment") {
    World w;
    w.env = {{"SCIM_URL", "https://env"}, {"SCIM_TOKEN", "tok-env1"}, {"PAGE_SIZE", "10"}};
    w.files["c.json"] = R"({"scim-url":"https://file","page-size":"20"})";
    auto c = assemble_config(fields(), w.inputs({"scim-url=https://set"}, "c.json"));
    auto m = as_map(c);
    CHECK(m["scim-url"] == "https://set");
    CHECK(m["page-size"] == "20");
    CHECK(m["scim-token"] == "tok-env1");
    // The later --set of one name wins.
    auto c2 = assemble_config(fields(), w.inputs({"scim-url=https://a", "scim-url=https://b"}));
    CHECK(as_map(c2)["scim-url"] == "https://b");
    // Entries come in the plugin's field order.
    REQUIRE(c.entries.size() == 3);
    CHECK(c.entries[0].name == "scim-url");
    CHECK(c.entries[1].name == "scim-token");
    CHECK(c.entries[2].name == "page-size");
}

TEST_CASE("secrets: @FILE, literal warning, secret values collected") {
    World w;
    w.files["/run/tok"] = "file-secret-xyz\n";
    auto c = assemble_config(fields(), w.inputs({"scim-url=https://x", "scim-token=@/run/tok"}));
    CHECK(as_map(c)["scim-token"] == "file-secret-xyz");
    CHECK(c.warnings.empty());
    CHECK(c.secret_values == std::vector<std::string>{"file-secret-xyz"});

    auto lit = assemble_config(fields(), w.inputs({"scim-url=https://x", "scim-token=literal-secret"}));
    REQUIRE(lit.warnings.size() == 1);
    CHECK(lit.warnings[0].find("scim-token") != std::string::npos);
    CHECK(lit.warnings[0].find("can see it") != std::string::npos);
    CHECK(lit.warnings[0].find("literal-secret") == std::string::npos);

    // A literal secret overridden... by a later @FILE: no warning.
    auto over = assemble_config(fields(), w.inputs({"scim-url=https://x", "scim-token=lit-12345", "scim-token=@/run/tok"}));
    CHECK(over.warnings.empty());

    // @FILE works for every field, secret or not; a file read for a non-secret field is no secret.
    w.files["/run/url"] = "https://from-file\n";
    w.files["/run/size"] = "25";
    auto url = assemble_config(fields(), w.inputs({"scim-url=@/run/url", "scim-token=@/run/tok", "page-size=@/run/size"}));
    CHECK(as_map(url)["scim-url"] == "https://from-file");
    CHECK(as_map(url)["page-size"] == "25");
    CHECK(url.secret_values == std::vector<std::string>{"file-secret-xyz"});
    const std::string bad = error_of(fields(), w.inputs({"scim-url=@/no/url", "scim-token=@/run/tok"}));
    CHECK(bad.find("'scim-url'") != std::string::npos);
    CHECK(bad.find("/no/url") != std::string::npos);
    // Only --set reads files: a value from --config or the environment is taken as it is.
    w.files["c.json"] = R"({"scim-url":"@/run/url"})";
    CHECK(as_map(assemble_config(fields(), w.inputs({"scim-token=@/run/tok"}, "c.json")))["scim-url"] == "@/run/url");
    // A lone "@" is a literal value.
    CHECK(as_map(assemble_config(fields(), w.inputs({"scim-url=@", "scim-token=@/run/tok"})))["scim-url"] == "@");

    // A missing secret file: an error naming the field and path, not the content.
    std::string e = error_of(fields(), w.inputs({"scim-url=https://x", "scim-token=@/nope"}));
    CHECK(e.find("scim-token") != std::string::npos);
    CHECK(e.find("/nope") != std::string::npos);

    // CRLF stripped once.
    w.files["/run/crlf"] = "abcd1234\r\n";
    auto crlf = assemble_config(fields(), w.inputs({"scim-url=https://x", "scim-token=@/run/crlf"}));
    CHECK(as_map(crlf)["scim-token"] == "abcd1234");
}

TEST_CASE("missing required fields: one error listing all of them") {
    World w;
    std::string e = error_of(fields(), w.inputs());
    CHECK(e.find("missing required") != std::string::npos);
    CHECK(e.find("scim-url (SCIM_URL)") != std::string::npos);
    CHECK(e.find("scim-token (SCIM_TOKEN)") != std::string::npos);
    CHECK(e.find("page-size") == std::string::npos); // has a default
    // An empty environment variable counts as unset.
    w.env = {{"SCIM_URL", ""}, {"SCIM_TOKEN", "tok-abcd"}};
    e = error_of(fields(), w.inputs());
    CHECK(e.find("scim-url") != std::string::npos);
    CHECK(e.find("scim-token") == std::string::npos);
}

TEST_CASE("unknown and malformed names are refused, naming them") {
    World w;
    std::string e = error_of(fields(), w.inputs({"scim-url=https://x", "scim-token=t-123", "bogus=1", "other=2", "bogus=3"}));
    CHECK(e.find("unknown config field") != std::string::npos);
    // Unknown names are not shown (a typo may be a secret): each is told by its position and length.
    CHECK(e.find("--set #3 (7 characters), --set #4 (7 characters), --set #5 (7 characters)") != std::string::npos);
    CHECK(e.find("bogus") == std::string::npos);
    CHECK(e.find("scim-url, scim-token, page-size, ca-file") != std::string::npos);
    // An argument without '=' may be a value alone: it is never echoed; a declared name before it is named.
    e = error_of(fields(), w.inputs({"novalue"}));
    CHECK(e.find("name=value") != std::string::npos);
    CHECK(e.find("without '='") != std::string::npos);
    CHECK(e.find("novalue") == std::string::npos);
    e = error_of(fields(), w.inputs({"scim-url"}));
    CHECK(e.find("'scim-url' without '='") != std::string::npos);
    e = error_of(fields(), w.inputs({"=x"}));
    CHECK(e.find("empty name") != std::string::npos);

    w.files["c.json"] = R"({"scim-url":"https://x","nope":1})";
    e = error_of(fields(), w.inputs({"scim-token=t-123"}, "c.json"));
    CHECK(e.find("unknown config field(s): nope") != std::string::npos);
}

TEST_CASE("config file errors") {
    World w;
    CHECK(error_of(fields(), w.inputs({}, "absent.json")).find("cannot read config file absent.json") != std::string::npos);
    w.files["bad.json"] = "{not json";
    CHECK(error_of(fields(), w.inputs({}, "bad.json")).find("not valid JSON") != std::string::npos);
    w.files["arr.json"] = "[1,2]";
    CHECK(error_of(fields(), w.inputs({}, "arr.json")).find("JSON object") != std::string::npos);
    w.files["obj.json"] = R"({"scim-url":{"a":1},"scim-token":"x"})";
    CHECK(error_of(fields(), w.inputs({}, "obj.json")).find("scim-url") != std::string::npos);
    w.files["bool.json"] = R"({"scim-url":"https://x","scim-token":"tok-1234","ca-file":true})";
    CHECK(as_map(assemble_config(fields(), w.inputs({}, "bool.json")))["ca-file"] == "true");
}

TEST_CASE("exit codes: statuses map to distinct documented codes") {
    CHECK(exit_code_for_status(CONN_OK) == ExitCode::success);
    CHECK(exit_code_for_status(CONN_ERR_INVALID_CONFIG) == ExitCode::config_error);
    CHECK(exit_code_for_status(CONN_ERR_UNAUTHENTICATED) == ExitCode::auth_failed);
    CHECK(exit_code_for_status(CONN_ERR_PERMISSION_DENIED) == ExitCode::auth_failed);
    CHECK(exit_code_for_status(CONN_ERR_NOT_FOUND) == ExitCode::not_found);
    CHECK(exit_code_for_status(CONN_ERR_RATE_LIMITED) == ExitCode::rate_limited);
    CHECK(exit_code_for_status(CONN_ERR_TRANSIENT) == ExitCode::transient);
    CHECK(exit_code_for_status(CONN_ERR_INTERNAL) == ExitCode::plugin_failure);
    CHECK(exit_code_for_status(CONN_ERR_CANCELLED) == ExitCode::interrupted);
    CHECK(exit_code_for_status(CONN_ERR_UNSUPPORTED) == ExitCode::unsupported);
    CHECK(exit_code_for_status(CONN_ERR_INVALID_ARGUMENT) == ExitCode::invalid_argument);
    CHECK(exit_code_for_status(CONN_ERR_ALREADY_EXISTS) == ExitCode::conflict);
    CHECK(exit_code_for_status(CONN_ERR_FAILED_PRECONDITION) == ExitCode::conflict);
    CHECK(exit_code_for_status(9999) == ExitCode::plugin_failure);
    CHECK(exit_code_for_status(-1) == ExitCode::plugin_failure);
    CHECK(to_int(ExitCode::usage) == 2);
    CHECK(to_int(ExitCode::interrupted) == 130);
    // Every code is documented in the --help table, and the ones callers branch on are distinct.
    std::string table(exit_code_table());
    for (ExitCode c : {ExitCode::success, ExitCode::failure, ExitCode::usage, ExitCode::config_error, ExitCode::auth_failed,
                       ExitCode::not_found, ExitCode::rate_limited, ExitCode::transient, ExitCode::plugin_failure,
                       ExitCode::invalid_argument, ExitCode::unsupported, ExitCode::conflict, ExitCode::output_error,
                       ExitCode::timed_out, ExitCode::incomplete, ExitCode::interrupted, ExitCode::broken_pipe}) {
        std::string needle = std::to_string(to_int(c)) + "  ";
        CHECK_MESSAGE(table.find(needle) != std::string::npos, needle);
        CHECK(exit_code_name(c) != "unknown");
    }
    std::set<int> distinct;
    for (conn_status s : {CONN_ERR_INVALID_CONFIG, CONN_ERR_UNAUTHENTICATED, CONN_ERR_NOT_FOUND, CONN_ERR_RATE_LIMITED,
                          CONN_ERR_TRANSIENT, CONN_ERR_INTERNAL, CONN_ERR_CANCELLED})
        distinct.insert(to_int(exit_code_for_status(s)));
    CHECK(distinct.size() == 7);
}

TEST_CASE("a --set typo never echoes the value: --set scim-token:SECRET, --set 'scim-token SECRET', --set SECRET") {
    World w;
    for (const std::string arg : {"scim-token:Sup3rS3cretT0ken", "scim-token Sup3rS3cretT0ken",
                                  "scim-token\tSup3rS3cretT0ken", "Sup3rS3cretT0ken", "unknown:Sup3rS3cretT0ken",
                                  ":Sup3rS3cretT0ken", "Sup3rS3cretT0ken:scim-token"}) {
        CAPTURE(arg);
        const std::string e = error_of(fields(), w.inputs({"scim-url=https://x", arg}));
        CHECK(e.find("name=value") != std::string::npos);
        CHECK(e.find("Sup3r") == std::string::npos);
        CHECK(e.find("S3cret") == std::string::npos);
        CHECK(e.find('\n') == std::string::npos);
    }
    CHECK(error_of(fields(), w.inputs({"scim-token:Sup3rS3cretT0ken"})).find("'scim-token' followed by ':'") !=
          std::string::npos);
    CHECK(error_of(fields(), w.inputs({"unknown:Sup3rS3cretT0ken"})).find("a --set argument without '='") !=
          std::string::npos);
}

TEST_CASE("config errors are one line: a key or path with a newline, a NUL or an escape") {
    World w;
    w.files["keys.json"] = std::string("{\"scim-url\":\"https://x\",\"bad\\nkey\\u0000x\\u001b[31m\":1}");
    std::string e = error_of(fields(), w.inputs({"scim-token=t-123"}, "keys.json"));
    CHECK(e.find("unknown config field(s)") != std::string::npos);
    CHECK(e.find("bad\\nkey\\x00x\\x1b[31m") != std::string::npos);
    for (char c : e) CHECK(static_cast<unsigned char>(c) >= 0x20);
    const std::string path = std::string("dir\nwith\0nul.json", 17);
    e = error_of(fields(), w.inputs({"scim-token=t-123"}, path));
    CHECK(e.find("cannot read config file dir\\nwith\\x00nul.json") != std::string::npos);
    for (char c : e) CHECK(static_cast<unsigned char>(c) >= 0x20);
    CHECK(std::string(ConfigError("a\r\tb\x7f").what()) == "a\\r\\tb\\x7f");
}

// ---- Issue 15 (trust nothing) --------------------------------------------------------------------------
TEST_CASE("a --set argument naming no declared field is never shown: base64 padding, '=' and ':' in a secret") {
    World w;
    for (const std::string arg : {"scim-token:c2VjcmV0LXRva2Vu==", "c2VjcmV0LXRva2Vu==", "scim-tokn=c2VjcmV0LXRva2Vu==",
                                  "se:cr=et-S3cr3tV4lue", "se=cr:et-S3cr3tV4lue", "scim-token:se=cr:et-S3cr3tV4lue",
                                  "S3cr3tV4lue=", "S3cr3t V4lue=x", "scim-token S3cr3t=V4lue"}) {
        CAPTURE(arg);
        const std::string e = error_of(fields(), w.inputs({"scim-url=https://x", arg}));
        CHECK_FALSE(e.empty());
        for (const char *fragment : {"c2VjcmV0", "S3cr3t", "V4lue", "se:cr", "cr=et", "cr:et", "tokn"})
            CHECK(e.find(fragment) == std::string::npos);
    }
    std::string e = error_of(fields(), w.inputs({"scim-token:c2VjcmV0LXRva2Vu=="}));
    CHECK(e.find("'scim-token' followed by ':' instead of '='") != std::string::npos);
    e = error_of(fields(), w.inputs({"scim-tokn=c2VjcmV0LXRva2Vu=="}));
    CHECK(e.find("did you mean 'scim-token'") != std::string::npos);
    e = error_of(fields(), w.inputs({"c2VjcmV0LXRva2Vu=="}));
    CHECK(e.find("(18 characters)") != std::string::npos);
}
