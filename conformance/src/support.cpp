#include "support.hpp"

#include <connector_host/plugin_loader.hpp>

#include <httplib.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <filesystem>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <poll.h>
#include <sstream>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace conformance {

using namespace std::chrono_literals;

void require(bool cond, const std::string &message) {
    if (!cond) throw TestFailure(message);
}
void fail(const std::string &message) { throw TestFailure(message); }
void skip(const std::string &why) { throw TestSkip(why); }

// ---- Context ----------------------------------------------------------------------------------------------

std::string Context::to_json() const {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    auto s = [&](const char *k, const std::string &v) {
        w.Key(k);
        w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    };
    w.StartObject();
    s("plugin_path", plugin_path);
    w.Key("config");
    w.StartArray();
    for (const auto &[k, v] : config) {
        w.StartArray();
        w.String(k.data(), static_cast<rapidjson::SizeType>(k.size()));
        w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
        w.EndArray();
    }
    w.EndArray();
    w.Key("secrets");
    w.StartArray();
    for (const auto &v : secrets) w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    w.EndArray();
    w.Key("config_from_user");
    w.Bool(config_from_user);
    w.Key("sim");
    w.Bool(sim);
    s("sim_url", sim_url);
    s("sim_admin", sim_admin);
    s("sim_token", sim_token);
    s("sim_binary", sim_binary);
    s("url_field", url_field);
    s("secret_field", secret_field);
    s("plugins_dir", plugins_dir);
    s("plugin_id", plugin_id);
    w.Key("allow_writes");
    w.Bool(allow_writes);
    w.Key("seed");
    w.Uint64(seed);
    w.Key("timeout_s");
    w.Double(timeout_s);
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

Context Context::from_json(std::string_view json) {
    rapidjson::Document d;
    d.Parse(json.data(), json.size());
    if (d.HasParseError() || !d.IsObject()) throw std::runtime_error("malformed context");
    Context c;
    auto s = [&](const char *k) { return d.HasMember(k) && d[k].IsString() ? std::string(d[k].GetString(), d[k].GetStringLength()) : std::string(); };
    auto b = [&](const char *k) { return d.HasMember(k) && d[k].IsBool() && d[k].GetBool(); };
    c.plugin_path = s("plugin_path");
    if (d.HasMember("config") && d["config"].IsArray())
        for (const auto &e : d["config"].GetArray())
            if (e.IsArray() && e.Size() == 2 && e[0].IsString() && e[1].IsString())
                c.config.emplace_back(std::string(e[0].GetString(), e[0].GetStringLength()),
                                      std::string(e[1].GetString(), e[1].GetStringLength()));
    if (d.HasMember("secrets") && d["secrets"].IsArray())
        for (const auto &e : d["secrets"].GetArray())
            if (e.IsString()) c.secrets.emplace_back(e.GetString(), e.GetStringLength());
    c.config_from_user = b("config_from_user");
    c.sim = b("sim");
    c.sim_url = s("sim_url");
    c.sim_admin = s("sim_admin");
    c.sim_token = s("sim_token");
    c.sim_binary = s("sim_binary");
    c.url_field = s("url_field");
    c.secret_field = s("secret_field");
    c.plugins_dir = s("plugins_dir");
    c.plugin_id = s("plugin_id");
    c.allow_writes = b("allow_writes");
    if (d.HasMember("seed") && d["seed"].IsUint64()) c.seed = d["seed"].GetUint64();
    if (d.HasMember("timeout_s") && d["timeout_s"].IsNumber()) c.timeout_s = d["timeout_s"].GetDouble();
    return c;
}

// ---- Text ----------------------------------------------------------------------------------------------------

std::string str(conn_str s) { return std::string(conn::view(s)); }
bool valid_utf8(std::string_view s) { return connector_host::is_valid_utf8(s); }

std::string printable(std::string_view s, size_t max) {
    std::string out = "\"";
    size_t n = 0;
    const bool utf8 = valid_utf8(s); // otherwise every byte >= 0x80 is escaped, so the output stays UTF-8
    for (unsigned char c : s) {
        if (n++ >= max) {
            out += "...";
            break;
        }
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f || (!utf8 && c >= 0x80)) {
            char b[8];
            std::snprintf(b, sizeof b, "\\x%02x", c);
            out += b;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

std::string outcome_text(conn_outcome o) {
    const char *name = conn::outcome_code_name(o);
    return name != nullptr ? std::string(name) : "outcome " + std::to_string(o);
}

std::string json_escape(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20) {
                char b[8];
                std::snprintf(b, sizeof b, "\\u%04x", c);
                out += b;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    return out;
}

std::string scrub(std::string text, const std::vector<std::string> &secrets) {
    for (const auto &secret : secrets) {
        if (secret.size() < 4) continue; // shorter "secrets" would blank out ordinary words
        size_t pos = 0;
        while ((pos = text.find(secret, pos)) != std::string::npos) {
            text.replace(pos, secret.size(), "[redacted]");
            pos += 10;
        }
    }
    return text;
}

// ---- Raw library ------------------------------------------------------------------------------------------------

RawLibrary::RawLibrary(const std::string &path, int flags) {
    ::dlerror();
    handle_ = ::dlopen(path.c_str(), flags);
    if (handle_ == nullptr) {
        const char *e = ::dlerror();
        fail("dlopen(RTLD_NOW | RTLD_LOCAL) refused the file: " + std::string(e != nullptr ? e : "unknown error"));
    }
}

RawLibrary::~RawLibrary() { close(); }

void RawLibrary::close() {
    if (handle_ != nullptr) ::dlclose(handle_);
    handle_ = nullptr;
}

void *RawLibrary::symbol(const char *name) const { return handle_ == nullptr ? nullptr : ::dlsym(handle_, name); }

conn_plugin_entry_fn RawLibrary::entry_fn() const {
    void *sym = symbol(CONN_ENTRY_SYMBOL);
    require(sym != nullptr, "the library does not export " CONN_ENTRY_SYMBOL);
    conn_plugin_entry_fn fn = nullptr;
    static_assert(sizeof fn == sizeof sym);
    std::memcpy(&fn, &sym, sizeof fn);
    return fn;
}

namespace {

template <typename Ehdr, typename Shdr, typename Sym>
std::vector<std::string> elf_exports(const std::string &bytes) {
    auto at = [&](size_t off, size_t len) {
        if (off > bytes.size() || len > bytes.size() - off) fail("truncated ELF file");
        return bytes.data() + off;
    };
    Ehdr eh;
    std::memcpy(&eh, at(0, sizeof eh), sizeof eh);
    if (eh.e_shentsize != sizeof(Shdr)) fail("unexpected ELF section header size");
    std::vector<Shdr> sections(eh.e_shnum);
    for (size_t i = 0; i < sections.size(); ++i)
        std::memcpy(&sections[i], at(static_cast<size_t>(eh.e_shoff) + i * sizeof(Shdr), sizeof(Shdr)), sizeof(Shdr));
    std::vector<std::string> names;
    bool found = false;
    for (const auto &sh : sections) {
        if (sh.sh_type != SHT_DYNSYM) continue;
        found = true;
        if (sh.sh_link >= sections.size()) fail("ELF .dynsym links to no string table");
        const auto &strtab = sections[sh.sh_link];
        const char *strs = at(static_cast<size_t>(strtab.sh_offset), static_cast<size_t>(strtab.sh_size));
        size_t count = sh.sh_entsize == 0 ? 0 : static_cast<size_t>(sh.sh_size / sh.sh_entsize);
        for (size_t i = 1; i < count; ++i) {
            Sym sym;
            std::memcpy(&sym, at(static_cast<size_t>(sh.sh_offset) + i * static_cast<size_t>(sh.sh_entsize), sizeof sym), sizeof sym);
            unsigned bind = sym.st_info >> 4, type = sym.st_info & 0xf, vis = sym.st_other & 0x3;
            if (sym.st_shndx == SHN_UNDEF) continue;
            if (bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_GNU_UNIQUE) continue;
            if (vis != STV_DEFAULT && vis != STV_PROTECTED) continue;
            if (sym.st_shndx == SHN_ABS && type == STT_OBJECT && sym.st_value == 0) continue; // version node
            if (sym.st_name >= strtab.sh_size) fail("ELF symbol name out of range");
            const char *name = strs + sym.st_name;
            names.emplace_back(name, strnlen(name, static_cast<size_t>(strtab.sh_size - sym.st_name)));
        }
    }
    if (!found) fail("the file has no dynamic symbol table (.dynsym)");
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return names;
}

}  // namespace

std::optional<std::string> read_whole_file(const std::string &path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::string out;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    if (n < 0) return std::nullopt;
    return out;
}

std::vector<std::string> exported_symbols(const std::string &path) {
    auto file = read_whole_file(path);
    if (!file) fail("cannot read " + path);
    const std::string &bytes = *file;
    if (bytes.size() < EI_NIDENT || std::memcmp(bytes.data(), ELFMAG, SELFMAG) != 0) fail("not an ELF file");
    if (bytes[EI_DATA] != ELFDATA2LSB) fail("big-endian ELF files are not supported by this check");
    if (bytes[EI_CLASS] == ELFCLASS64) return elf_exports<Elf64_Ehdr, Elf64_Shdr, Elf64_Sym>(bytes);
    if (bytes[EI_CLASS] == ELFCLASS32) return elf_exports<Elf32_Ehdr, Elf32_Shdr, Elf32_Sym>(bytes);
    fail("unknown ELF class");
}

// ---- Process statistics -----------------------------------------------------------------------------------------

size_t thread_count() {
    size_t n = 0;
    DIR *dir = ::opendir("/proc/self/task");
    if (dir == nullptr) return 0;
    while (const dirent *e = ::readdir(dir))
        if (e->d_name[0] != '.') ++n;
    ::closedir(dir);
    return n;
}

size_t resident_bytes() {
    std::ifstream in("/proc/self/statm");
    size_t size = 0, resident = 0;
    in >> size >> resident;
    return resident * static_cast<size_t>(::sysconf(_SC_PAGESIZE));
}

#if defined(__SANITIZE_ADDRESS__)
// From the AddressSanitizer runtime (sanitizer/allocator_interface.h, not installed with every compiler).
extern "C" size_t __sanitizer_get_current_allocated_bytes(void);
size_t memory_in_use() { return __sanitizer_get_current_allocated_bytes(); }
const char *memory_measure_name() { return "live heap (AddressSanitizer)"; }
#else
size_t memory_in_use() { return resident_bytes(); }
const char *memory_measure_name() { return "RSS"; }
#endif

size_t settle_threads(size_t target, std::chrono::milliseconds max) {
    auto start = std::chrono::steady_clock::now();
    size_t n = thread_count();
    while (n > target && std::chrono::steady_clock::now() - start < max) {
        std::this_thread::sleep_for(10ms);
        n = thread_count();
    }
    return n;
}

double ms_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// ---- Descriptor helpers ----------------------------------------------------------------------------------------

std::string field_type_name(int32_t type) {
    switch (type) {
    case CONN_FIELD_STRING: return "string";
    case CONN_FIELD_URL: return "url";
    case CONN_FIELD_EMAIL: return "email";
    case CONN_FIELD_INT: return "int";
    case CONN_FIELD_BOOL: return "bool";
    case CONN_FIELD_PATH: return "path";
    default: return "type " + std::to_string(type);
    }
}

const conn_resource_type *find_type_with_trait(const conn_descriptor &d, uint32_t trait) {
    for (uint32_t i = 0; i < d.resource_type_count && d.resource_types != nullptr; ++i)
        if (d.resource_types[i] != nullptr && (d.resource_types[i]->traits & trait) != 0) return d.resource_types[i];
    return nullptr;
}

const conn_resource_type *find_type(const conn_descriptor &d, std::string_view id) {
    for (uint32_t i = 0; i < d.resource_type_count && d.resource_types != nullptr; ++i)
        if (d.resource_types[i] != nullptr && d.resource_types[i]->id != nullptr && id == d.resource_types[i]->id)
            return d.resource_types[i];
    return nullptr;
}

std::pair<std::string, std::string> service_fields(const conn_descriptor &d) {
    std::string url, secret;
    for (uint32_t i = 0; i < d.config_field_count && d.config_fields != nullptr; ++i) {
        const conn_field *f = d.config_fields[i];
        if (f == nullptr || f->name == nullptr) continue;
        if (url.empty() && f->type == CONN_FIELD_URL) url = f->name;
        if (secret.empty() && (f->flags & CONN_FIELD_SECRET) != 0) secret = f->name;
    }
    return {url, secret};
}

ConfigEntries synthesise_config(const conn_descriptor &d, const std::string &secret) {
    ConfigEntries out;
    for (uint32_t i = 0; i < d.config_field_count && d.config_fields != nullptr; ++i) {
        const conn_field *f = d.config_fields[i];
        if (f == nullptr || f->name == nullptr) continue;
        bool required = (f->flags & CONN_FIELD_REQUIRED) != 0;
        if ((f->flags & CONN_FIELD_SECRET) != 0) {
            out.emplace_back(f->name, secret);
            continue;
        }
        if (f->type == CONN_FIELD_URL) {
            out.emplace_back(f->name, "http://127.0.0.1:9/conformance");
            continue;
        }
        if (!required || f->default_value != nullptr) continue;
        std::string value;
        switch (f->type) {
        case CONN_FIELD_EMAIL: value = "conformance@example.com"; break;
        case CONN_FIELD_INT: value = "1"; break;
        case CONN_FIELD_BOOL: value = "false"; break;
        case CONN_FIELD_PATH: value = "/dev/null"; break;
        default: value = f->example != nullptr ? f->example : "conformance"; break;
        }
        out.emplace_back(f->name, value);
    }
    return out;
}

ConfigEntries with_value(ConfigEntries config, const std::string &name, const std::string &value) {
    for (auto &[k, v] : config)
        if (k == name) {
            v = value;
            return config;
        }
    config.emplace_back(name, value);
    return config;
}

ConfigEntries without(ConfigEntries config, const std::string &name) {
    config.erase(std::remove_if(config.begin(), config.end(), [&](const auto &kv) { return kv.first == name; }),
                 config.end());
    return config;
}

OwnedConfig::OwnedConfig(const ConfigEntries &e) : entries(e) {
    kvs.reserve(entries.size());
    for (const auto &[k, v] : entries) kvs.push_back(conn_kv{conn::str(k), conn::str(v)});
    config = conn::make<conn_config>();
    config.entries = kvs.empty() ? nullptr : kvs.data();
    config.entry_count = kvs.size();
}

// ---- Poisoned strings ------------------------------------------------------------------------------------------

conn_str PoisonedStrings::view(std::string_view s) {
    static constexpr char kPattern[] = "\xff\xfe<conn_str is not NUL-terminated>\xff";
    auto buf = std::make_unique<char[]>(s.size() + kPoisonBytes);
    std::memcpy(buf.get(), s.data(), s.size());
    for (size_t i = 0; i + 1 < kPoisonBytes; ++i) buf[s.size() + i] = kPattern[i % (sizeof kPattern - 1)];
    buf[s.size() + kPoisonBytes - 1] = '\0'; // strlen stops inside the buffer: a wrong string, not a crash
    conn_str out{buf.get(), s.size()};
    buffers_.push_back(std::move(buf));
    return out;
}

const std::vector<conn_kv> &PoisonedStrings::kvs(const ConfigEntries &entries) {
    auto list = std::make_unique<std::vector<conn_kv>>();
    for (const auto &[k, v] : entries) list->push_back(conn_kv{view(k), view(v)});
    kv_lists_.push_back(std::move(list));
    return *kv_lists_.back();
}

const conn_config &PoisonedStrings::config(const ConfigEntries &entries) {
    const std::vector<conn_kv> &list = kvs(entries);
    auto c = std::make_unique<conn_config>(conn::make<conn_config>());
    c->entries = list.empty() ? nullptr : list.data();
    c->entry_count = list.size();
    configs_.push_back(std::move(c));
    return *configs_.back();
}

// ---- Simulator ---------------------------------------------------------------------------------------------------

std::string find_sim_binary(const std::string &explicit_path) {
    if (!explicit_path.empty()) return explicit_path;
    if (const char *env = std::getenv("SCIM_SIM"); env != nullptr && *env != '\0') return env;
    char buf[4096];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return {};
    buf[n] = '\0';
    std::string dir(buf);
    dir = dir.substr(0, dir.rfind('/'));
    std::string candidate = dir + "/scim-sim";
    return ::access(candidate.c_str(), X_OK) == 0 ? candidate : std::string();
}

ScratchTmpdir::ScratchTmpdir() {
    const char *given = std::getenv("TMPDIR");
    if (given != nullptr && *given != '\0') previous_ = given;
    std::string templ = (previous_ ? *previous_ : std::string("/tmp")) + "/connector-conformance.XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) return; // the plugin then gets the runner's own TMPDIR
    path_ = templ;
    ::setenv("TMPDIR", path_.c_str(), 1);
}

ScratchTmpdir::~ScratchTmpdir() {
    if (path_.empty()) return;
    if (previous_) ::setenv("TMPDIR", previous_->c_str(), 1);
    else ::unsetenv("TMPDIR");
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

SimProcess::SimProcess(const SimOptions &opts) {
    if (opts.binary.empty()) fail("scim-sim not found (give --sim-binary PATH or set SCIM_SIM)");
    std::vector<std::string> args = {opts.binary, "--port", "0", "--token", opts.token,
                                     "--seed", std::to_string(opts.seed),
                                     "--seed-users", std::to_string(opts.users),
                                     "--seed-groups", std::to_string(opts.groups),
                                     "--seed-members", std::to_string(opts.members)};
    if (opts.latency_ms > 0) {
        args.push_back("--latency-ms");
        args.push_back(std::to_string(opts.latency_ms));
    }
    args.insert(args.end(), opts.extra_args.begin(), opts.extra_args.end());
    std::vector<char *> argv;
    for (auto &a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) fail("pipe failed");
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) fail("fork failed");
    if (pid == 0) {
        // Only async-signal-safe calls until exec.
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (::getppid() != parent) ::_exit(127);
        ::dup2(fds[1], 1);
        int devnull = ::open("/dev/null", O_WRONLY);
        if (devnull >= 0) ::dup2(devnull, 2);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    pid_ = pid;
    ::close(fds[1]);
    out_fd_ = fds[0];
    std::string line;
    auto start = std::chrono::steady_clock::now();
    while (true) {
        pollfd p{out_fd_, POLLIN, 0};
        int left = 20000 - static_cast<int>(ms_since(start));
        if (left <= 0 || ::poll(&p, 1, left) <= 0) {
            stop();
            fail("scim-sim did not print LISTENING within 20 s");
        }
        char c;
        ssize_t n = ::read(out_fd_, &c, 1);
        if (n <= 0) {
            stop();
            fail("scim-sim exited before it was ready (is " + opts.binary + " a scim-sim?)");
        }
        if (c != '\n') {
            line += c;
            continue;
        }
        if (line.rfind("LISTENING ", 0) == 0) break;
        line.clear();
    }
    url_ = line.substr(10);
    size_t scheme = url_.find("://");
    size_t slash = url_.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    admin_ = slash == std::string::npos ? url_ : url_.substr(0, slash);
    int fd = out_fd_;
    drain_ = std::thread([fd] {
        char buf[4096];
        while (::read(fd, buf, sizeof buf) > 0) {
        }
    });
}

SimProcess::~SimProcess() { stop(); }

void SimProcess::stop() {
    if (pid_ > 0) {
        ::kill(pid_, SIGTERM);
        int status = 0;
        bool gone = false;
        for (int i = 0; i < 500 && !gone; ++i) {
            if (::waitpid(pid_, &status, WNOHANG) == pid_) gone = true;
            else std::this_thread::sleep_for(10ms);
        }
        if (!gone) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
        }
        pid_ = -1;
    }
    if (drain_.joinable()) drain_.join();
    if (out_fd_ >= 0) ::close(out_fd_);
    out_fd_ = -1;
}

uint64_t sim_requests(const std::string &admin) {
    httplib::Client client(admin);
    client.set_connection_timeout(5, 0);
    auto res = client.Get("/_admin/stats");
    if (!res || res->status != 200) fail("cannot read the simulator's request counters at " + admin + "/_admin/stats");
    rapidjson::Document doc;
    doc.Parse(res->body.data(), res->body.size());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("total_requests") || !doc["total_requests"].IsUint64())
        fail("the simulator's /_admin/stats has no total_requests");
    return doc["total_requests"].GetUint64();
}

Truth fetch_truth(const std::string &admin) {
    httplib::Client client(admin);
    client.set_connection_timeout(5, 0);
    client.set_read_timeout(30, 0);
    auto res = client.Get("/_admin/state");
    if (!res) fail("cannot read the simulator's truth at " + admin + "/_admin/state");
    if (res->status != 200) fail("the simulator's truth answered HTTP " + std::to_string(res->status));
    rapidjson::Document d;
    d.Parse(res->body.data(), res->body.size());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("users") || !d["users"].IsArray() ||
        !d.HasMember("groups") || !d["groups"].IsArray())
        fail("the simulator's truth is not the expected JSON");
    auto s = [](const rapidjson::Value &o, const char *k) {
        return o.HasMember(k) && o[k].IsString() ? std::string(o[k].GetString(), o[k].GetStringLength()) : std::string();
    };
    Truth t;
    for (const auto &u : d["users"].GetArray()) {
        Truth::User user{s(u, "id"), s(u, "userName"), s(u, "displayName"), true};
        if (u.HasMember("active") && u["active"].IsBool()) user.active = u["active"].GetBool();
        t.users.push_back(std::move(user));
    }
    for (const auto &g : d["groups"].GetArray()) {
        Truth::Group group{s(g, "id"), s(g, "displayName"), {}};
        if (g.HasMember("members") && g["members"].IsArray())
            for (const auto &m : g["members"].GetArray())
                if (m.IsString()) group.members.emplace_back(m.GetString(), m.GetStringLength());
        t.groups.push_back(std::move(group));
    }
    return t;
}

// ---- Recorder ----------------------------------------------------------------------------------------------------

struct RecorderCallbacks {
    static Recorder &r(void *ctx) { return *static_cast<Recorder *>(ctx); }

    static void check_str(Recorder &rec, conn_str s, const char *what) {
        if (s.data == nullptr && s.size > 0) rec.problems.push_back(std::string(what) + " has NULL data and size > 0");
        else if (!valid_utf8(std::string_view(s.data == nullptr ? "" : s.data, s.size)))
            rec.problems.push_back(std::string(what) + " is not valid UTF-8");
    }

    static int32_t on_resource(void *ctx, const conn_resource *res) {
        Recorder &rec = r(ctx);
        std::lock_guard lock(rec.mu);
        rec.note_sink_call("on_resource");
        if (res == nullptr) {
            rec.problems.push_back("on_resource called with NULL");
            return rec.answer(SinkKind::resource);
        }
        if (res->struct_size < sizeof(conn_resource)) rec.problems.push_back("conn_resource.struct_size too small");
        check_str(rec, res->type, "resource type");
        check_str(rec, res->id, "resource id");
        check_str(rec, res->display_name, "resource display_name");
        if (res->attr_count > 0 && res->attrs == nullptr) rec.problems.push_back("resource attrs NULL with attr_count > 0");
        for (size_t i = 0; res->attrs != nullptr && i < res->attr_count; ++i) {
            check_str(rec, res->attrs[i].key, "attribute key");
            if (res->attrs[i].kind == CONN_ATTR_STRING) check_str(rec, res->attrs[i].str, "attribute value");
        }
        rec.resources.push_back(Record{str(res->type), str(res->id), str(res->display_name)});
        return rec.answer(SinkKind::resource);
    }
    static int32_t on_entitlement(void *ctx, const conn_entitlement *e) {
        Recorder &rec = r(ctx);
        std::lock_guard lock(rec.mu);
        rec.note_sink_call("on_entitlement");
        if (e == nullptr) {
            rec.problems.push_back("on_entitlement called with NULL");
            return rec.answer(SinkKind::entitlement);
        }
        if (e->struct_size < sizeof(conn_entitlement)) rec.problems.push_back("conn_entitlement.struct_size too small");
        check_str(rec, e->id, "entitlement id");
        check_str(rec, e->slug, "entitlement slug");
        check_str(rec, e->display_name, "entitlement display_name");
        std::string expect = str(e->resource_type) + ":" + str(e->resource_id) + ":" + str(e->slug);
        if (str(e->id) != expect)
            rec.problems.push_back("entitlement id " + printable(str(e->id)) + " is not <type>:<rid>:<slug> (" + printable(expect) + ")");
        rec.entitlement_ids.push_back(str(e->id));
        return rec.answer(SinkKind::entitlement);
    }
    static int32_t on_grant(void *ctx, const conn_grant *g) {
        Recorder &rec = r(ctx);
        std::lock_guard lock(rec.mu);
        rec.note_sink_call("on_grant");
        if (g == nullptr) {
            rec.problems.push_back("on_grant called with NULL");
            return rec.answer(SinkKind::grant);
        }
        if (g->struct_size < sizeof(conn_grant)) rec.problems.push_back("conn_grant.struct_size too small");
        check_str(rec, g->id, "grant id");
        check_str(rec, g->entitlement_id, "grant entitlement_id");
        check_str(rec, g->principal_type, "grant principal_type");
        check_str(rec, g->principal_id, "grant principal_id");
        std::string expect = str(g->entitlement_id) + ":" + str(g->principal_type) + ":" + str(g->principal_id);
        if (str(g->id) != expect)
            rec.problems.push_back("grant id " + printable(str(g->id)) + " is not <entitlement>:<ptype>:<pid>");
        rec.grants.emplace_back(str(g->id), str(g->entitlement_id), str(g->principal_type), str(g->principal_id));
        return rec.answer(SinkKind::grant);
    }
    static int32_t on_checkpoint(void *ctx, conn_str token) {
        Recorder &rec = r(ctx);
        std::lock_guard lock(rec.mu);
        rec.note_sink_call("on_checkpoint");
        ++rec.checkpoint_calls;
        check_str(rec, token, "checkpoint token");
        CheckpointSeen cp;
        cp.size = token.size;
        if (token.data != nullptr) cp.token.assign(token.data, std::min(token.size, CheckpointSeen::kMaxKeptToken));
        cp.resources = rec.resources.size();
        cp.entitlements = rec.entitlement_ids.size();
        cp.grants = rec.grants.size();
        if (!rec.progress_phases.empty()) cp.phase = rec.progress_phases.back();
        rec.checkpoints.push_back(std::move(cp));
        return rec.answer(SinkKind::checkpoint);
    }
    static int32_t on_warning(void *ctx, conn_str code, conn_str message) {
        Recorder &rec = r(ctx);
        std::lock_guard lock(rec.mu);
        rec.note_sink_call("on_warning");
        ++rec.warning_calls;
        check_str(rec, code, "warning code");
        check_str(rec, message, "warning message");
        rec.warnings.emplace_back(str(code), str(message));
        return rec.answer(SinkKind::warning);
    }
    static int32_t is_cancelled(void *ctx) {
        Recorder &rec = r(ctx);
        std::lock_guard lock(rec.mu);
        ++rec.cancel_polls;
        if (!rec.in_op_) {
            ++rec.late_calls;
            rec.late_what = "is_cancelled";
        }
        return rec.cancel.load() ? 1 : 0;
    }
    static void progress(void *ctx, const conn_progress *p) {
        Recorder &rec = r(ctx);
        std::lock_guard lock(rec.mu);
        if (!rec.in_op_) {
            ++rec.late_calls;
            rec.late_what = "progress";
        }
        if (p == nullptr) {
            rec.problems.push_back("progress called with NULL");
            return;
        }
        if (p->struct_size < sizeof(conn_progress)) rec.problems.push_back("conn_progress.struct_size too small");
        check_str(rec, p->phase, "progress phase");
        conn_progress copy = *p;
        copy.phase = conn_str{nullptr, 0};
        rec.progress.push_back(copy);
        rec.progress_phases.push_back(str(p->phase));
    }
    static void log(void *ctx, int32_t level, conn_str message) {
        Recorder &rec = r(ctx);
        std::lock_guard lock(rec.mu);
        if (level < CONN_LOG_ERROR || level > CONN_LOG_TRACE) rec.problems.push_back("log level out of range: " + std::to_string(level));
        check_str(rec, message, "log message");
        rec.logs.push_back(str(message));
    }
};

Recorder::Recorder() = default;

const char *sink_kind_name(SinkKind kind) {
    switch (kind) {
    case SinkKind::resource: return "on_resource";
    case SinkKind::entitlement: return "on_entitlement";
    case SinkKind::grant: return "on_grant";
    case SinkKind::warning: return "on_warning";
    case SinkKind::checkpoint: return "on_checkpoint";
    case SinkKind::count: break;
    }
    return "?";
}

void Recorder::note_sink_call(const char *what) {
    ++sink_calls;
    if (!in_op_) {
        ++late_calls;
        late_what = what;
    } else if (std::this_thread::get_id() != op_thread_) {
        problems.push_back(std::string(what) + " called on a thread other than the operation's");
    }
    if (stop_answered && calls_after_stop++ == 0) first_after_stop = what;
}

int32_t Recorder::answer(SinkKind kind) {
    const auto k = static_cast<size_t>(kind);
    ++kind_calls[k];
    uint64_t limit = stop_after.load();
    const bool kind_stop = (stop_kind.load() == static_cast<int>(kind) && kind_calls[k] >= stop_kind_after.load()) ||
                           (stop_kind.load() >= 0 && stop_answered);
    if (kind_stop || (limit != 0 && sink_calls >= limit)) {
        stop_answered = true;
        return CONN_SINK_STOP;
    }
    return CONN_SINK_CONTINUE;
}

void Recorder::begin() {
    std::lock_guard lock(mu);
    in_op_ = true;
    op_thread_ = std::this_thread::get_id();
}

void Recorder::end() {
    std::lock_guard lock(mu);
    in_op_ = false;
}

conn_sink Recorder::sink(uint32_t struct_size) {
    conn_sink s{};
    s.struct_size = struct_size;
    s.ctx = this;
    s.on_resource = &RecorderCallbacks::on_resource;
    s.on_entitlement = &RecorderCallbacks::on_entitlement;
    s.on_grant = &RecorderCallbacks::on_grant;
    s.on_checkpoint = &RecorderCallbacks::on_checkpoint;
    s.on_warning = &RecorderCallbacks::on_warning;
    return s;
}

conn_call Recorder::call(uint32_t struct_size) {
    conn_call c{};
    c.struct_size = struct_size;
    c.ctx = this;
    c.is_cancelled = &RecorderCallbacks::is_cancelled;
    c.progress = &RecorderCallbacks::progress;
    return c;
}

conn_host Recorder::host(uint32_t struct_size) {
    conn_host h{};
    h.struct_size = struct_size;
    h.ctx = this;
    h.log = &RecorderCallbacks::log;
    return h;
}

}  // namespace conformance
