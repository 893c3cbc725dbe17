// connector-conformance: runs every rule of the connector ABI against a plugin file.
//
// Each test runs in a child process (this executable re-executed with a hidden flag, via posix_spawn),
// with a timeout, its stdout and stderr captured (the plugin must write to neither) and its result sent
// over a dedicated pipe (fd 4); the context, config secrets included, arrives on another pipe (fd 3),
// never on a command line. A crash, an abort, an exit or a hang is that test's failure and the runner
// goes on. --in-process runs everything in this process, for a debugger.
#include "registry.hpp"
#include "support.hpp"
#include "connector_host/plugin_loader.hpp"

#include <CLI/CLI.hpp>
#include <rapidjson/document.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <regex>
#include <spawn.h>
#include <sstream>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace conformance {
namespace {

constexpr int kContextFd = 3;
constexpr int kResultFd = 4;
constexpr const char *kChildFlag = "--conformance-child";
constexpr const char *kDescribe = "@describe";
constexpr const char *kDiscover = "@discover";

struct Outcome {
    Verdict verdict = Verdict::fail;
    std::string message; // the reason (fail), why (skip) or a note (pass)
    double ms = 0;
};

std::string verdict_word(Verdict v) { return v == Verdict::pass ? "pass" : v == Verdict::fail ? "fail" : "skip"; }

std::string encode_result(Verdict v, const std::string &message) {
    return "{\"verdict\":\"" + verdict_word(v) + "\",\"message\":\"" + json_escape(message) + "\"}";
}

// ---- Introspection (in a child, so that a crashing plugin cannot take the runner down) ----------------

struct FieldInfo {
    std::string name;
    int32_t type = 0;
    uint32_t flags = 0;
};

std::string describe_fields(const Context &ctx) {
    auto plugin = load_plugin(ctx);
    const conn_descriptor &d = plugin->descriptor();
    std::string out = "[";
    for (uint32_t i = 0; i < d.config_field_count && d.config_fields != nullptr; ++i) {
        const conn_field *f = d.config_fields[i];
        if (f == nullptr || f->name == nullptr) continue;
        out += std::string(out.size() > 1 ? "," : "") + "{\"name\":\"" + json_escape(f->name) + "\",\"type\":" + std::to_string(f->type) +
               ",\"flags\":" + std::to_string(f->flags) + "}";
    }
    return out + "]";
}

// The file of the plugin whose descriptor id is ctx.plugin_id in ctx.plugins_dir, as the host finds it.
std::string discover_path(const Context &ctx) {
    connector_host::DiscoveryResult found;
    try {
        found = connector_host::discover_plugins(ctx.plugins_dir);
    } catch (const std::exception &e) {
        fail(e.what());
    }
    std::vector<std::string> matches;
    std::string ids;
    for (const auto &p : found.plugins) {
        if (p.id == ctx.plugin_id) matches.push_back(p.path.string());
        ids += (ids.empty() ? "" : ", ") + p.id;
    }
    if (matches.size() > 1) fail("two plugins in " + ctx.plugins_dir + " have the id '" + ctx.plugin_id + "': " + matches[0] + " and " + matches[1]);
    if (matches.empty())
        fail("no plugin with id '" + ctx.plugin_id + "' in " + ctx.plugins_dir + (ids.empty() ? " (it holds no plugin)" : " (found: " + ids + ")"));
    return matches.front();
}

Outcome run_body(const std::string &name, const Context &ctx) {
    Outcome o;
    try {
        if (name == kDescribe) {
            o.message = describe_fields(ctx);
        } else if (name == kDiscover) {
            o.message = discover_path(ctx);
        } else {
            const TestCase *tc = nullptr;
            for (const auto &t : all_tests())
                if (t.name == name) tc = &t;
            if (tc == nullptr) throw TestFailure("no such test: " + name);
            o.message = tc->run(ctx);
        }
        o.verdict = Verdict::pass;
    } catch (const TestFailure &e) {
        o.verdict = Verdict::fail;
        o.message = e.what();
    } catch (const TestSkip &e) {
        o.verdict = Verdict::skip;
        o.message = e.what();
    } catch (const std::exception &e) {
        o.verdict = Verdict::fail;
        o.message = std::string("a C++ exception crossed the ABI boundary: ") + e.what();
    } catch (...) {
        o.verdict = Verdict::fail;
        o.message = "an unknown exception crossed the ABI boundary";
    }
    return o;
}

// The child: context from fd 3, one result to fd 4, then _exit (no atexit handlers, no leak report).
[[noreturn]] void child_main(const std::string &name) {
    std::string json;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(kContextFd, buf, sizeof buf)) > 0) json.append(buf, static_cast<size_t>(n));
    ::close(kContextFd);
    Outcome o;
    try {
        Context ctx = Context::from_json(json);
        o = run_body(name, ctx);
    } catch (const std::exception &e) {
        o.verdict = Verdict::fail;
        o.message = std::string("runner: ") + e.what();
    }
    std::string out = encode_result(o.verdict, o.message);
    size_t off = 0;
    while (off < out.size()) {
        ssize_t w = ::write(kResultFd, out.data() + off, out.size() - off);
        if (w <= 0) break;
        off += static_cast<size_t>(w);
    }
    ::_exit(0);
}

// ---- Captured output -----------------------------------------------------------------------------------

int make_capture(const char *name) {
    int fd = ::memfd_create(name, MFD_CLOEXEC);
    if (fd < 0) {
        std::perror("memfd_create");
        std::exit(2);
    }
    return fd;
}

std::string read_all(int fd) {
    std::string out;
    ::lseek(fd, 0, SEEK_SET);
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    return out;
}

std::string signal_name(int sig) {
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGKILL: return "SIGKILL";
    case SIGTERM: return "SIGTERM";
    case SIGPIPE: return "SIGPIPE";
    case SIGTRAP: return "SIGTRAP";
    case SIGSYS: return "SIGSYS";
    default: {
        const char *s = ::sigabbrev_np(sig);
        return s != nullptr ? std::string("SIG") + s : "signal " + std::to_string(sig);
    }
    }
}

// The line of captured stderr that says most: a sanitizer's SUMMARY, ERROR or runtime error line, else the last line.
std::string tail_line(const std::string &text) {
    for (const char *marker : {"SUMMARY: ", "ERROR: ", "runtime error: "}) {
        size_t at = text.find(marker);
        if (at == std::string::npos) continue;
        size_t start = text.rfind('\n', at);
        start = start == std::string::npos ? 0 : start + 1;
        size_t end = text.find('\n', at);
        return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    }
    std::string t = text;
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
    size_t nl = t.rfind('\n');
    return nl == std::string::npos ? t : t.substr(nl + 1);
}

// Applies the "never writes to stdout/stderr" rule to a finished test.
void judge_output(Outcome &o, const std::string &out, const std::string &err) {
    std::string note;
    if (!out.empty()) note = "the plugin wrote " + std::to_string(out.size()) + " byte(s) to stdout: " + printable(out, 80);
    if (!err.empty())
        note += (note.empty() ? "" : "; ") + std::string("the plugin wrote ") + std::to_string(err.size()) + " byte(s) to stderr: " + printable(tail_line(err), 160);
    if (note.empty()) return;
    if (o.verdict == Verdict::fail) o.message += " [" + note + "]";
    else {
        o.verdict = Verdict::fail;
        o.message = note;
    }
}

std::string self_exe() {
    char buf[4096];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return {};
    buf[n] = '\0';
    return buf;
}

struct TestChild {
    pid_t pid = -1;
    int context_fd = -1; // the write end of the context pipe
    int result_fd = -1;  // the read end of the result pipe
    int out_fd = -1, err_fd = -1; // the captures of the child's stdout and stderr
};

// Spawns this executable as the child that runs one test, in its own process group. An error text on failure.
std::string spawn_test_child(const std::string &name, TestChild &child) {
    int ctx_pipe[2], res_pipe[2];
    if (::pipe2(ctx_pipe, O_CLOEXEC) != 0 || ::pipe2(res_pipe, O_CLOEXEC) != 0) return "runner: pipe failed";
    child.out_fd = make_capture("conformance-stdout");
    child.err_fd = make_capture("conformance-stderr");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, child.out_fd, 1);
    posix_spawn_file_actions_adddup2(&fa, child.err_fd, 2);
    posix_spawn_file_actions_adddup2(&fa, ctx_pipe[0], kContextFd);
    posix_spawn_file_actions_adddup2(&fa, res_pipe[1], kResultFd);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    std::string exe = self_exe(), flag = kChildFlag, test = name;
    char *argv[] = {exe.data(), flag.data(), test.data(), nullptr};
    int rc = ::posix_spawn(&child.pid, exe.c_str(), &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    ::close(ctx_pipe[0]);
    ::close(res_pipe[1]);
    child.context_fd = ctx_pipe[1];
    child.result_fd = res_pipe[0];
    if (rc == 0) return {};
    for (int fd : {child.context_fd, child.result_fd, child.out_fd, child.err_fd}) ::close(fd);
    return std::string("runner: posix_spawn failed: ") + std::strerror(rc);
}

// Writes the context to the child and closes the pipe (a child that died early must not SIGPIPE the runner).
void send_context(int fd, const std::string &json) {
    struct sigaction ign{}, old{};
    ign.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ign, &old);
    size_t off = 0;
    while (off < json.size()) {
        ssize_t w = ::write(fd, json.data() + off, json.size() - off);
        if (w <= 0) break;
        off += static_cast<size_t>(w);
    }
    ::sigaction(SIGPIPE, &old, nullptr);
    ::close(fd);
}

void drain_into(int fd, std::string &result) {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) result.append(buf, static_cast<size_t>(n));
}

struct ChildEnd {
    std::string result; // what the child wrote on the result pipe
    int status = 0;     // waitpid's status
    bool timed_out = false;
};

// Reads the result until the child exits or the timeout kills its process group; then kills what it left behind.
ChildEnd wait_for_child(const TestChild &child, std::chrono::steady_clock::time_point start, double timeout_s) {
    ChildEnd end;
    ::fcntl(child.result_fd, F_SETFL, O_NONBLOCK);
    for (;;) {
        drain_into(child.result_fd, end.result);
        if (::waitpid(child.pid, &end.status, WNOHANG) == child.pid) break;
        if (ms_since(start) > timeout_s * 1000.0) {
            ::kill(-child.pid, SIGKILL);
            ::waitpid(child.pid, &end.status, 0);
            end.timed_out = true;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ::kill(-child.pid, SIGKILL); // anything the test left behind in its process group
    drain_into(child.result_fd, end.result);
    ::close(child.result_fd);
    return end;
}

// The test's verdict from its result, or why there is none (hung, crashed, exited).
void interpret_child_end(const ChildEnd &end, const Context &ctx, Outcome &o) {
    rapidjson::Document d;
    d.Parse(end.result.data(), end.result.size());
    if (!end.result.empty() && !d.HasParseError() && d.IsObject() && d.HasMember("verdict") && d["verdict"].IsString() &&
        d.HasMember("message") && d["message"].IsString()) {
        std::string v = d["verdict"].GetString();
        o.verdict = v == "pass" ? Verdict::pass : v == "skip" ? Verdict::skip : Verdict::fail;
        o.message.assign(d["message"].GetString(), d["message"].GetStringLength());
    } else if (end.timed_out) {
        o.message = "hung: killed after the " + std::to_string(static_cast<int>(ctx.timeout_s)) + " s timeout";
    } else if (WIFSIGNALED(end.status)) {
        int sig = WTERMSIG(end.status);
        o.message = "crashed with " + signal_name(sig);
        if (sig == SIGABRT) o.message = "aborted (SIGABRT): the plugin called abort, failed an assertion or let a C++ exception escape";
    } else if (WIFEXITED(end.status)) {
        o.message = "the test process exited with status " + std::to_string(WEXITSTATUS(end.status)) +
                    " without a result (the plugin called exit, or a sanitizer stopped it)";
    } else {
        o.message = "the test process ended without a result";
    }
}

Outcome run_child(const std::string &name, const Context &ctx) {
    auto start = std::chrono::steady_clock::now();
    TestChild child;
    if (std::string error = spawn_test_child(name, child); !error.empty()) return {Verdict::fail, error, 0};
    send_context(child.context_fd, ctx.to_json());
    ChildEnd end = wait_for_child(child, start, ctx.timeout_s);
    std::string out = read_all(child.out_fd), err = read_all(child.err_fd);
    ::close(child.out_fd);
    ::close(child.err_fd);

    Outcome o;
    o.ms = ms_since(start);
    interpret_child_end(end, ctx, o);
    if (name != kDescribe && name != kDiscover) judge_output(o, out, err);
    else if (o.verdict == Verdict::fail && !err.empty()) o.message += " (" + printable(tail_line(err), 160) + ")";
    return o;
}

Outcome run_in_process(const std::string &name, const Context &ctx) {
    auto start = std::chrono::steady_clock::now();
    std::fflush(stdout);
    std::fflush(stderr);
    std::cout.flush();
    int out_fd = make_capture("conformance-stdout"), err_fd = make_capture("conformance-stderr");
    int saved_out = ::dup(1), saved_err = ::dup(2);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    Outcome o = run_body(name, ctx);
    std::fflush(stdout);
    std::fflush(stderr);
    ::dup2(saved_out, 1);
    ::dup2(saved_err, 2);
    ::close(saved_out);
    ::close(saved_err);
    std::string out = read_all(out_fd), err = read_all(err_fd);
    ::close(out_fd);
    ::close(err_fd);
    o.ms = ms_since(start);
    if (name != kDescribe && name != kDiscover) judge_output(o, out, err);
    return o;
}

// ---- Config -----------------------------------------------------------------------------------------------

std::optional<std::string> read_file(const std::string &path) { return read_whole_file(path); }

// --config FILE (a JSON object of strings, integers and booleans), then --set name=value / name=@FILE.
ConfigEntries assemble(const std::vector<std::string> &sets, const std::string &config_file) {
    ConfigEntries out;
    auto put = [&](const std::string &k, const std::string &v) { out = with_value(std::move(out), k, v); };
    if (!config_file.empty()) {
        auto text = read_file(config_file);
        if (!text) throw std::runtime_error("cannot read --config file " + config_file);
        rapidjson::Document d;
        d.Parse(text->data(), text->size());
        if (d.HasParseError() || !d.IsObject()) throw std::runtime_error("--config " + config_file + " is not a JSON object");
        for (const auto &m : d.GetObject()) {
            std::string k(m.name.GetString(), m.name.GetStringLength());
            if (m.value.IsString()) put(k, std::string(m.value.GetString(), m.value.GetStringLength()));
            else if (m.value.IsBool()) put(k, m.value.GetBool() ? "true" : "false");
            else if (m.value.IsInt64()) put(k, std::to_string(m.value.GetInt64()));
            else if (m.value.IsUint64()) put(k, std::to_string(m.value.GetUint64()));
            else throw std::runtime_error("--config: the value of '" + k + "' is not a string, integer or boolean");
        }
    }
    for (const auto &s : sets) {
        size_t eq = s.find('=');
        if (eq == std::string::npos || eq == 0) throw std::runtime_error("--set expects name=value, got '" + s.substr(0, s.find('=')) + "'");
        std::string k = s.substr(0, eq), v = s.substr(eq + 1);
        if (!v.empty() && v[0] == '@') {
            auto text = read_file(v.substr(1));
            if (!text) throw std::runtime_error("cannot read the file given for --set " + k);
            v = *text;
            if (!v.empty() && v.back() == '\n') v.pop_back();
            if (!v.empty() && v.back() == '\r') v.pop_back();
        }
        put(k, v);
    }
    return out;
}

std::string needs_text(Needs n) {
    switch (n) {
    case Needs::nothing: return "plugin";
    case Needs::service: return "service";
    case Needs::sim: return "sim";
    case Needs::sim_binary: return "scim-sim";
    case Needs::writes: return "writes";
    }
    return "?";
}

std::string level_of(const std::string &name) { return name.substr(0, name.find('.')); }

struct Options {
    std::string plugin_file, config_file, filter, sim_binary, plugins_dir;
    std::vector<std::string> sets;
    bool use_sim = false, list = false, in_process = false, json = false, allow_writes = false;
    uint64_t seed = 1;
    double timeout = 60;
    int level = kDefaultDepth;
};

// Parses the command line; an exit code when the run ends here (help, usage error).
std::optional<int> parse_options(int argc, char **argv, Options &opt) {
    CLI::App app{"connector-conformance: checks a connector plugin against every rule of the connector ABI"};
    app.add_option("plugin-file", opt.plugin_file, "The plugin shared library to check, or a plugin id found in --plugins-dir (required unless --list)");
    app.add_option("--plugins-dir", opt.plugins_dir, "Where a plugin id is looked up (default: env CONNECTOR_PLUGINS_DIR, else plugins/ beside the runner, as connector-host does)");
    app.add_option("--set", opt.sets, "A config value name=value (or name=@FILE for a secret); repeatable");
    app.add_option("--config", opt.config_file, "A JSON object of config values")->check(CLI::ExistingFile);
    app.add_flag("--sim", opt.use_sim, "Start scim-sim and point the plugin's URL and secret fields at it");
    app.add_option("--sim-binary", opt.sim_binary, "The scim-sim executable (default: env SCIM_SIM, or beside this runner)");
    app.add_option("--filter", opt.filter, "Run only tests whose name matches this regular expression");
    app.add_option("--level", opt.level, "How thorough: 1 library, 2 + instance, 3 + sync and provisioning, 4 + soak cycles (default: 4, all)")
        ->check(CLI::Range(1, kMaxDepth));
    app.add_flag("--list", opt.list, "List the tests and the rule each checks, then exit");
    app.add_flag("--in-process", opt.in_process, "Run every test in this process (for a debugger; a crash ends the run)");
    app.add_option("--seed", opt.seed, "Seed of the simulator and of every random input (default 1)");
    app.add_option("--timeout", opt.timeout, "Seconds a test may run before it is killed (default 60)")->check(CLI::PositiveNumber);
    app.add_flag("--json", opt.json, "Print one JSON document instead of lines");
    app.add_flag("--allow-writes", opt.allow_writes, "With a real config: also run the provisioning tests (they create and delete an account)");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        int code = app.exit(e); // prints help, version or the usage error
        return code == 0 ? 0 : 2;
    }
    if (opt.plugin_file.empty() && !opt.list) {
        std::cerr << "connector-conformance: the plugin file is required (see --help)\n";
        return 2;
    }
    return std::nullopt;
}

// The host's default plugins directory (connector_host::default_plugins_dir), CONNECTOR_PLUGINS_DIR first.
std::string default_plugins_dir() {
    if (const char *env = std::getenv("CONNECTOR_PLUGINS_DIR"); env != nullptr && *env != '\0') return env;
    return connector_host::default_plugins_dir(std::filesystem::path(self_exe())).string();
}

// `connector-conformance <plugin-id>`: an argument that is no path (no '/', no plugin extension) and no file
// names a plugin by its descriptor id, found the host's way in a child process. An exit code on failure.
std::optional<int> resolve_plugin_id(Options &opt) {
    std::error_code ec;
    const std::string &arg = opt.plugin_file;
    if (arg.empty() || arg.find('/') != std::string::npos || connector_host::has_plugin_extension(arg) ||
        std::filesystem::exists(arg, ec))
        return std::nullopt;
    Context probe;
    probe.plugins_dir = opt.plugins_dir.empty() ? default_plugins_dir() : opt.plugins_dir;
    probe.plugin_id = arg;
    probe.timeout_s = opt.timeout;
    Outcome o = opt.in_process ? run_in_process(kDiscover, probe) : run_child(kDiscover, probe);
    if (o.verdict != Verdict::pass) {
        std::cerr << "connector-conformance: " << o.message << "\n";
        return 2;
    }
    opt.plugin_file = o.message;
    return std::nullopt;
}

// The tests --filter selects; with --list, prints them. An exit code when the run ends here.
std::optional<int> select_tests(const Options &opt, std::vector<const TestCase *> &selected) {
    std::regex re;
    try {
        re = std::regex(opt.filter.empty() ? std::string(".*") : opt.filter);
    } catch (const std::regex_error &) {
        std::cerr << "connector-conformance: --filter is not a valid regular expression\n";
        return 2;
    }
    for (const auto &t : all_tests())
        if (std::regex_search(t.name, re) && (opt.list || t.depth <= opt.level)) selected.push_back(&t); // --list: every level
    if (opt.list) {
        for (const auto *t : selected)
            std::cout << t->name << "  [" << needs_text(t->needs) << ", level " << t->depth << "]  " << t->rule << "\n";
        return 0;
    }
    if (selected.empty()) {
        std::cerr << "connector-conformance: no test matches --filter at this --level\n";
        return 2;
    }
    std::error_code ec;
    if (!std::filesystem::is_regular_file(opt.plugin_file, ec)) {
        std::cerr << "connector-conformance: no plugin file at " << opt.plugin_file << "\n";
        return 2;
    }
    return std::nullopt;
}

Context context_from(const Options &opt) {
    Context ctx;
    std::error_code ec;
    auto abs = std::filesystem::absolute(opt.plugin_file, ec);
    ctx.plugin_path = ec ? opt.plugin_file : abs.string();
    ctx.seed = opt.seed;
    ctx.timeout_s = opt.timeout;
    ctx.allow_writes = opt.allow_writes;
    ctx.sim_binary = find_sim_binary(opt.sim_binary);
    for (const char *salt : {"working", "leak-probe", "other-tenant", "slow-sim"}) ctx.secrets.push_back(distinctive_secret(ctx, salt));
    return ctx;
}

struct Description {
    bool ok = false;
    std::string why_not; // the describing child's failure or skip reason
    std::vector<FieldInfo> fields;
};

// The plugin's config fields, learned in a child process (a crash there is the plugin's, not the runner's).
Description learn_fields(const Context &ctx, bool in_process) {
    Description desc;
    Outcome o = in_process ? run_in_process(kDescribe, ctx) : run_child(kDescribe, ctx);
    if (o.verdict != Verdict::pass) {
        desc.why_not = o.message.empty() ? "no reason given" : o.message;
        return desc;
    }
    rapidjson::Document d;
    d.Parse(o.message.data(), o.message.size());
    if (!d.HasParseError() && d.IsArray())
        for (const auto &f : d.GetArray()) desc.fields.push_back(FieldInfo{f["name"].GetString(), f["type"].GetInt(), f["flags"].GetUint()});
    desc.ok = true;
    return desc;
}

// Picks the URL and secret fields and adds every secret the user gave to the scrub list.
void note_fields(Context &ctx, const std::vector<FieldInfo> &fields, const ConfigEntries &user_config) {
    for (const auto &f : fields) {
        if (ctx.url_field.empty() && f.type == CONN_FIELD_URL) ctx.url_field = f.name;
        if (ctx.secret_field.empty() && (f.flags & CONN_FIELD_SECRET) != 0) ctx.secret_field = f.name;
        if ((f.flags & CONN_FIELD_SECRET) != 0)
            for (const auto &[k, v] : user_config)
                if (k == f.name) ctx.secrets.push_back(v);
    }
    for (const auto &[k, v] : user_config) // a secret given before the plugin could be described is still scrubbed
        if (fields.empty()) ctx.secrets.push_back(v);
}

bool any_needs_service(const std::vector<const TestCase *> &selected) {
    bool needs_service = false;
    // A test that starts simulators of its own (sync.cancel, soak.fault_paths) also starts the shared one with
    // --sim: fault_paths compares with the truth only for a plugin shown the simulator's config.
    for (const auto *t : selected)
        needs_service |= t->needs == Needs::service || t->needs == Needs::sim || t->needs == Needs::writes || t->needs == Needs::sim_binary;
    return needs_service;
}

// Starts the simulator and points the config at it; an exit code when that is impossible.
std::optional<int> start_sim(Context &ctx, const Options &opt, const ConfigEntries &user_config, std::unique_ptr<SimProcess> &sim) {
    if (ctx.url_field.empty() || ctx.secret_field.empty()) {
        std::cerr << "connector-conformance: --sim needs a config field of type URL and a SECRET field; the plugin declares "
                  << (ctx.url_field.empty() ? "no URL field" : "no secret field") << "\n";
        return 2;
    }
    SimOptions sim_opts;
    sim_opts.binary = ctx.sim_binary;
    sim_opts.token = distinctive_secret(ctx, "sim-token");
    sim_opts.seed = opt.seed;
    try {
        sim = std::make_unique<SimProcess>(sim_opts);
    } catch (const TestFailure &e) {
        std::cerr << "connector-conformance: cannot start the simulator: " << e.what() << "\n";
        return 2;
    }
    ctx.sim = true;
    ctx.sim_url = sim->url();
    ctx.sim_admin = sim->admin();
    ctx.sim_token = sim_opts.token;
    ctx.secrets.push_back(sim_opts.token);
    ctx.config = with_value(with_value(user_config, ctx.url_field, ctx.sim_url), ctx.secret_field, sim_opts.token);
    return std::nullopt;
}

// A skip outcome when the run lacks what the test needs; otherwise a fail outcome with no message (not yet run).
Outcome skip_for_missing_needs(const TestCase &t, const Context &ctx) {
    switch (t.needs) {
    case Needs::nothing: break;
    case Needs::service:
        if (!ctx.has_service()) return {Verdict::skip, "needs a service: --sim, or a config (--set/--config) for a real one", 0};
        break;
    case Needs::sim:
        if (!ctx.sim) return {Verdict::skip, "needs --sim (reads the simulator's truth or its request counters)", 0};
        break;
    case Needs::sim_binary:
        if (ctx.sim_binary.empty()) return {Verdict::skip, "needs scim-sim (beside the runner, --sim-binary or SCIM_SIM)", 0};
        if (ctx.url_field.empty() || ctx.secret_field.empty()) return {Verdict::skip, "the plugin declares no URL or no secret config field", 0};
        break;
    case Needs::writes:
        if (!ctx.sim && !(ctx.config_from_user && ctx.allow_writes))
            return {Verdict::skip, ctx.config_from_user ? "provisioning writes to the service: give --allow-writes" : "needs --sim, or a config with --allow-writes", 0};
        break;
    }
    return {};
}

struct Tally {
    int passed = 0, failed = 0, skipped = 0;
    std::string json_tests; // the tests' JSON objects, comma-separated (with --json)
};

void report_outcome(const TestCase &t, const Outcome &o, bool json, Tally &tally) {
    if (o.verdict == Verdict::pass) ++tally.passed;
    else if (o.verdict == Verdict::fail) ++tally.failed;
    else ++tally.skipped;
    if (json) {
        char ms[32];
        std::snprintf(ms, sizeof ms, "%.1f", o.ms);
        tally.json_tests += std::string(tally.json_tests.empty() ? "" : ",\n") + "    {\"name\":\"" + json_escape(t.name) + "\",\"level\":\"" +
                            level_of(t.name) + "\",\"verdict\":\"" + verdict_word(o.verdict) + "\",\"message\":\"" +
                            json_escape(o.message) + "\",\"duration_ms\":" + ms + "}";
        return;
    }
    std::string line;
    if (o.verdict == Verdict::pass) line = "PASS " + t.name + (t.report_note && !o.message.empty() ? " (" + o.message + ")" : "");
    else if (o.verdict == Verdict::fail) line = "FAIL " + t.name + ": " + o.message;
    else line = "SKIP " + t.name + ": " + o.message;
    std::cout << line << std::endl;
}

void print_summary(const Tally &tally, const Context &ctx, const Options &opt) {
    std::string summary = std::to_string(tally.passed) + " passed, " + std::to_string(tally.failed) + " failed";
    if (tally.skipped > 0) summary += ", " + std::to_string(tally.skipped) + " skipped";
    if (!opt.json) {
        std::cout << summary << std::endl;
        return;
    }
    std::cout << "{\n  \"plugin\": \"" << json_escape(ctx.plugin_path) << "\",\n  \"sim\": " << (ctx.sim ? "true" : "false")
              << ",\n  \"seed\": " << opt.seed << ",\n  \"tests\": [\n" << tally.json_tests << "\n  ],\n  \"passed\": " << tally.passed
              << ",\n  \"failed\": " << tally.failed << ",\n  \"skipped\": " << tally.skipped << ",\n  \"summary\": \"" << summary << "\"\n}\n";
}

}  // namespace

int run(int argc, char **argv) {
    if (argc >= 3 && std::string(argv[1]) == kChildFlag) child_main(argv[2]);

    Options opt;
    if (auto code = parse_options(argc, argv, opt)) return *code;
    if (!opt.list)
        if (auto code = resolve_plugin_id(opt)) return *code;
    std::vector<const TestCase *> selected;
    if (auto code = select_tests(opt, selected)) return *code;
    const ScratchTmpdir scratch; // before the first child: every test's plugin writes its files there
    Context ctx = context_from(opt);
    ConfigEntries user_config;
    try {
        user_config = assemble(opt.sets, opt.config_file);
    } catch (const std::exception &e) {
        std::cerr << "connector-conformance: " << e.what() << "\n";
        return 2;
    }
    const Description desc = learn_fields(ctx, opt.in_process);
    note_fields(ctx, desc.fields, user_config);

    std::unique_ptr<SimProcess> sim;
    std::string no_sim; // why --sim was given but not started: the tests that need it skip with this reason
    if (opt.use_sim && any_needs_service(selected) && !desc.ok) {
        no_sim = "--sim was not started: the plugin could not be described (" + scrub(desc.why_not, ctx.secrets) + ")";
    } else if (opt.use_sim && any_needs_service(selected)) {
        if (auto code = start_sim(ctx, opt, user_config, sim)) return *code;
    } else if (!user_config.empty()) {
        ctx.config = user_config;
        ctx.config_from_user = true;
    }

    Tally tally;
    for (const auto *t : selected) {
        Outcome o = skip_for_missing_needs(*t, ctx);
        if (o.verdict == Verdict::skip && !no_sim.empty()) o.message = no_sim;
        if (o.verdict != Verdict::skip) o = opt.in_process ? run_in_process(t->name, ctx) : run_child(t->name, ctx);
        o.message = scrub(o.message, ctx.secrets);
        report_outcome(*t, o, opt.json, tally);
    }
    sim.reset();
    print_summary(tally, ctx, opt);
    return tally.failed == 0 ? 0 : 1;
}

}  // namespace conformance

int main(int argc, char **argv) { return conformance::run(argc, argv); }
