#include "rel_support.hpp"

#include <cctype>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char **environ;

namespace rel {

size_t count_hits(const std::string &hay, const std::string &needle) {
    if (needle.empty()) return 0;
    size_t n = 0;
    for (size_t pos = hay.find(needle); pos != std::string::npos; pos = hay.find(needle, pos + 1)) ++n;
    return n;
}

const char *plugin_path() { return CLAUDE_PLUGIN_PATH; }

const conn_connector_v1 &plugin() {
    static std::unique_ptr<connector_host::LoadedPlugin> loaded = connector_host::LoadedPlugin::load(plugin_path());
    return loaded->connector();
}

// ---- text capture ----------------------------------------------------------------------------------------------

void TextLog::add(const std::string &s) {
    std::lock_guard<std::mutex> lock(mu_);
    text_ += s;
    text_ += '\n';
}

std::string TextLog::all() const {
    std::lock_guard<std::mutex> lock(mu_);
    return text_;
}

namespace {

using plugin_test::str;

void add_err(TextLog &t, const conn_error &err) {
    t.add(plugin_test::text(err.message));
    t.add(plugin_test::text(err.field));
}

// The operation's is_cancelled answers true once controls.cancel is set (always present, as a host would).
struct CallCtx {
    plugin_test::CallHandlers handlers;
    explicit CallCtx(Controls controls) {
        handlers.cancelled = [cancel = controls.cancel] { return cancel != nullptr && cancel->load(); };
    }
    conn_call call() { return plugin_test::make_call(handlers); }
};

void add_record_texts(TextLog &t, const Record &r) {
    t.add(r.type + " " + r.id + " " + r.display_name);
    for (const auto &[k, v] : r.attrs) t.add(k + "=" + v);
}

}  // namespace

// ---- instances and operations -----------------------------------------------------------------------------------

void Instance::on_log(void *ctx, int32_t level, conn_str message) {
    auto *self = static_cast<Instance *>(ctx);
    std::string line = std::to_string(level) + " " + str(message);
    self->texts_.add(line);
    std::lock_guard<std::mutex> lock(self->mu_);
    self->log_.push_back(std::move(line));
}

conn_status Instance::create(const Entries &config, conn_error &err) {
    conn_status st = plugin_test::create_instance(plugin(), config, host_, this, &Instance::on_log, inst_, err);
    if (st != CONN_OK) add_err(texts_, err);
    return st;
}

std::vector<std::string> Instance::log_lines() const {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
}

namespace {
// What a sink records, for a sync (run), a created account (created) or a grant (granted); every text goes to texts.
struct SinkCtx {
    plugin_test::SinkHandlers handlers;
    SinkCtx(SyncRun *run, Record *created, GrantRec *granted, TextLog *texts) {
        handlers.resource = [=](Record &&rec) {
            add_record_texts(*texts, rec);
            if (run != nullptr)
                run->resources.push_back(std::move(rec));
            else if (created != nullptr)
                *created = std::move(rec);
            return CONN_SINK_CONTINUE;
        };
        handlers.entitlement = [=](plugin_test::EntRec &&e) {
            texts->add(e.id + " " + e.display_name);
            if (run != nullptr) run->entitlements.push_back(e.id);
            return CONN_SINK_CONTINUE;
        };
        handlers.grant = [=](GrantRec &&rec) {
            texts->add(rec.id);
            if (run != nullptr) run->grants.push_back(rec);
            if (granted != nullptr) *granted = rec;
            return CONN_SINK_CONTINUE;
        };
        handlers.warning = [=](const std::string &code, const std::string &message) {
            texts->add(code + " " + message);
            if (run != nullptr) run->warnings.emplace_back(code, message);
            return CONN_SINK_CONTINUE;
        };
    }
    // Checkpoints into run->checkpoints; STOP from number `stop_at`.
    void take_checkpoints(SyncRun *run, int stop_at) {
        handlers.checkpoint = [run, stop_at](const std::string &token) {
            run->checkpoints.push_back({token, run->resources.size(), run->grants.size()});
            return static_cast<int>(run->checkpoints.size()) - 1 == stop_at ? CONN_SINK_STOP : CONN_SINK_CONTINUE;
        };
    }
    SinkCtx(const SinkCtx &) = delete;
    SinkCtx &operator=(const SinkCtx &) = delete;
    conn_sink sink() { return plugin_test::make_sink(handlers); }
};
}  // namespace

SyncRun sync(Instance &in, Controls controls) {
    SyncRun run;
    SinkCtx sctx{&run, nullptr, nullptr, &in.texts()};
    if (controls.take_checkpoints) sctx.take_checkpoints(&run, controls.stop_at_checkpoint);
    CallCtx cctx{controls};
    run.status = plugin_test::run_sync(plugin(), in.get(), cctx.call(), sctx.sink(), run.result, run.err, controls.resume_from);
    if (run.status != CONN_OK) add_err(in.texts(), run.err);
    return run;
}

OpResult create_account(Instance &in, const Entries &fields, Controls controls) {
    OpResult r;
    SinkCtx sctx{nullptr, &r.resource, nullptr, &in.texts()};
    CallCtx cctx{controls};
    r.status = plugin_test::run_create_account(plugin(), in.get(), cctx.call(), fields, sctx.sink(), r.outcome, r.err);
    if (r.status != CONN_OK) add_err(in.texts(), r.err);
    return r;
}

OpResult delete_resource(Instance &in, const std::string &type, const std::string &id, Controls controls) {
    OpResult r;
    CallCtx cctx{controls};
    r.status = plugin_test::run_delete_resource(plugin(), in.get(), cctx.call(), type, id, r.outcome, r.err);
    if (r.status != CONN_OK) add_err(in.texts(), r.err);
    return r;
}

OpResult grant(Instance &in, const std::string &entitlement, const std::string &ptype, const std::string &pid,
               Controls controls) {
    OpResult r;
    SinkCtx sctx{nullptr, nullptr, &r.grant, &in.texts()};
    CallCtx cctx{controls};
    r.status = plugin_test::run_grant(plugin(), in.get(), cctx.call(), entitlement, ptype, pid, sctx.sink(), r.outcome,
                                      r.err);
    if (r.status != CONN_OK) add_err(in.texts(), r.err);
    return r;
}

OpResult revoke(Instance &in, const std::string &entitlement, const std::string &ptype, const std::string &pid,
                Controls controls) {
    OpResult r;
    CallCtx cctx{controls};
    r.status = plugin_test::run_revoke(plugin(), in.get(), cctx.call(), entitlement, ptype, pid, r.outcome, r.err);
    if (r.status != CONN_OK) add_err(in.texts(), r.err);
    return r;
}

conn_status check(Instance &in, conn_check_result &result, conn_error &err, Controls controls) {
    CallCtx cctx{controls};
    conn_status st = plugin_test::run_check(plugin(), in.get(), cctx.call(), result, err);
    in.texts().add(plugin_test::text(result.message));
    if (st != CONN_OK) add_err(in.texts(), err);
    return st;
}

// ---- truth -----------------------------------------------------------------------------------------------------

std::vector<std::string> diff_sync_truth(const SyncRun &run, const Truth &truth,
                                         const std::function<bool(const std::string &)> &skip_user) {
    std::vector<std::string> d;
    auto skipped = [&](const std::string &user_name) { return skip_user && skip_user(user_name); };
    std::set<std::string> skipped_ids;
    for (const auto &[id, u] : truth.users)
        if (skipped(u.user_name)) skipped_ids.insert(id);

    std::map<std::string, const Record *> users, groups;
    for (const auto &r : run.resources) {
        auto &into = r.type == "user" ? users : groups;
        if (r.type != "user" && r.type != "group") {
            d.push_back("a resource of unknown type '" + r.type + "'");
            continue;
        }
        if (!into.emplace(r.id, &r).second) d.push_back("duplicate " + r.type + " " + r.id);
    }
    for (const auto &[id, u] : truth.users) {
        if (skipped_ids.count(id)) continue;
        auto it = users.find(id);
        if (it == users.end()) {
            d.push_back("missing user " + id + " (" + u.user_name + ")");
            continue;
        }
        const Record &r = *it->second;
        auto attr = [&](const char *k) { auto a = r.attrs.find(k); return a == r.attrs.end() ? std::string("<none>") : a->second; };
        if (attr("login") != u.user_name) d.push_back("user " + id + ": login '" + attr("login") + "' != '" + u.user_name + "'");
        if (r.display_name != u.display_name)
            d.push_back("user " + id + ": display name '" + r.display_name + "' != '" + u.display_name + "'");
        const std::string want = u.active ? "active" : "disabled";
        if (attr("status") != want) d.push_back("user " + id + ": status '" + attr("status") + "' != '" + want + "'");
    }
    for (const auto &[id, r] : users) {
        if (truth.users.count(id)) continue;
        auto a = r->attrs.find("login");
        if (a != r->attrs.end() && skipped(a->second)) continue;
        d.push_back("extra user " + id);
    }
    std::set<std::string> want_ents;
    for (const auto &[id, g] : truth.groups) {
        want_ents.insert("group:" + id + ":member");
        auto it = groups.find(id);
        if (it == groups.end()) {
            d.push_back("missing group " + id);
            continue;
        }
        if (it->second->display_name != g.display_name)
            d.push_back("group " + id + ": display name '" + it->second->display_name + "' != '" + g.display_name + "'");
        auto mc = it->second->attrs.find("member_count");
        if (mc != it->second->attrs.end() && mc->second != std::to_string(g.members.size()))
            d.push_back("group " + id + ": member_count " + mc->second + " != " + std::to_string(g.members.size()));
    }
    for (const auto &[id, r] : groups)
        if (!truth.groups.count(id)) d.push_back("extra group " + id);
    std::set<std::string> got_ents;
    for (const auto &e : run.entitlements)
        if (!got_ents.insert(e).second) d.push_back("duplicate entitlement " + e);
    if (got_ents != want_ents)
        d.push_back("entitlements differ: " + std::to_string(got_ents.size()) + " delivered, " +
                    std::to_string(want_ents.size()) + " expected");

    std::set<std::string> want_grants, got_grants;
    for (const auto &[gid, g] : truth.groups)
        for (const auto &m : g.members) {
            if (skipped_ids.count(m)) continue;
            const std::string ptype = truth.users.count(m) ? "user" : "group";
            want_grants.insert("group:" + gid + ":member:" + ptype + ":" + m);
        }
    for (const auto &g : run.grants) {
        if (g.id != g.entitlement_id + ":" + g.principal_type + ":" + g.principal_id)
            d.push_back("grant id '" + g.id + "' does not follow its parts");
        if (g.principal_type == "user" && !truth.users.count(g.principal_id)) {
            // a drift user deleted during the sync is tolerated only when it is skipped
            auto it = users.find(g.principal_id);
            bool drift = it != users.end() && it->second->attrs.count("login") && skipped(it->second->attrs.at("login"));
            if (drift) continue;
        }
        if (g.principal_type == "user" && skipped_ids.count(g.principal_id)) continue;
        if (!got_grants.insert(g.id).second) d.push_back("duplicate grant " + g.id);
    }
    for (const auto &g : want_grants)
        if (!got_grants.count(g)) d.push_back("missing grant " + g);
    for (const auto &g : got_grants)
        if (!want_grants.count(g)) d.push_back("extra grant " + g);

    if (run.result.resources != run.resources.size() || run.result.entitlements != run.entitlements.size() ||
        run.result.grants != run.grants.size())
        d.push_back("conn_sync_result counts (" + std::to_string(run.result.resources) + "/" +
                    std::to_string(run.result.entitlements) + "/" + std::to_string(run.result.grants) +
                    ") differ from the records delivered (" + std::to_string(run.resources.size()) + "/" +
                    std::to_string(run.entitlements.size()) + "/" + std::to_string(run.grants.size()) + ")");
    return d;
}

std::string percent_decode(const std::string &s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
            out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::string query_param(const std::string &target, const std::string &name) {
    const size_t q = target.find('?');
    if (q == std::string::npos) return {};
    std::string rest = target.substr(q + 1);
    size_t pos = 0;
    while (pos <= rest.size()) {
        size_t amp = rest.find('&', pos);
        if (amp == std::string::npos) amp = rest.size();
        const std::string kv = rest.substr(pos, amp - pos);
        const size_t eq = kv.find('=');
        if (percent_decode(kv.substr(0, eq)) == name) return eq == std::string::npos ? "" : percent_decode(kv.substr(eq + 1));
        pos = amp + 1;
    }
    return {};
}

// ---- files, CA, processes --------------------------------------------------------------------------------------

TempDir::TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "connector-rel-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::string slurp(const std::filesystem::path &p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void spit(const std::filesystem::path &p, const std::string &text) {
    std::ofstream out(p, std::ios::binary);
    out << text;
}

namespace {
void sh(const std::string &cmd) {
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("command failed: " + cmd);
}
}  // namespace

TestCa make_test_ca(const std::filesystem::path &dir) {
    const std::string d = dir.string();
    const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    spit(dir / "server.ext",
         "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
         "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n");
    for (const char *name : {"ca", "other-ca"})
        sh("openssl req -x509 " + ec + " -keyout '" + d + "/" + name + ".key' -out '" + d + "/" + name +
           ".pem' -days 2 -subj '/CN=connector reliability test " + name +
           "' -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null");
    sh("openssl req " + ec + " -keyout '" + d + "/server.key' -out '" + d + "/server.csr' -subj '/CN=127.0.0.1' 2>/dev/null");
    sh("openssl x509 -req -in '" + d + "/server.csr' -CA '" + d + "/ca.pem' -CAkey '" + d + "/ca.key' -CAcreateserial -out '" +
       d + "/server.pem' -days 2 -extfile '" + d + "/server.ext' 2>/dev/null");
    spit(dir / "wrong.ext",
         "subjectAltName=DNS:wrong.example.com\nbasicConstraints=CA:FALSE\n"
         "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n");
    sh("openssl req " + ec + " -keyout '" + d + "/wrong.key' -out '" + d + "/wrong.csr' -subj '/CN=wrong.example.com' 2>/dev/null");
    sh("openssl x509 -req -in '" + d + "/wrong.csr' -CA '" + d + "/ca.pem' -CAkey '" + d + "/ca.key' -CAcreateserial -out '" +
       d + "/wrong.pem' -days 2 -extfile '" + d + "/wrong.ext' 2>/dev/null");
    return TestCa{dir / "ca.pem", dir / "server.pem", dir / "server.key", dir / "other-ca.pem", dir / "wrong.pem", dir / "wrong.key"};
}

Child::Child(std::vector<std::string> argv, const std::filesystem::path &capture_dir, std::map<std::string, std::string> env) {
    static std::atomic<int> counter{0};
    const int n = ++counter;
    out_ = capture_dir / ("stdout-" + std::to_string(n));
    err_ = capture_dir / ("stderr-" + std::to_string(n));
    std::vector<std::string> envs;
    for (char **e = environ; *e != nullptr; ++e) {
        std::string kv = *e;
        if (env.count(kv.substr(0, kv.find('='))) == 0) envs.push_back(kv);
    }
    for (const auto &[k, v] : env) envs.push_back(k + "=" + v);
    std::vector<char *> cargv, cenv;
    for (auto &a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    for (auto &e : envs) cenv.push_back(e.data());
    cenv.push_back(nullptr);
    const std::string out = out_.string(), err = err_.string();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int i = ::open("/dev/null", O_RDONLY);
        ::dup2(o, 1);
        ::dup2(e, 2);
        ::dup2(i, 0);
        ::execve(cargv[0], cargv.data(), cenv.data());
        ::_exit(127);
    }
}

Child::~Child() {
    if (pid_ > 0 && !reaped_) {
        ::kill(pid_, SIGKILL);
        int st = 0;
        ::waitpid(pid_, &st, 0);
    }
}

void Child::signal(int sig) { ::kill(pid_, sig); }

ProcResult Child::wait(std::chrono::seconds bound) {
    ProcResult r;
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (true) {
        if (::waitpid(pid_, &status, WNOHANG) == pid_) break;
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    reaped_ = true;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = slurp(out_);
    r.err = slurp(err_);
    return r;
}

ProcResult run(std::vector<std::string> argv, const std::filesystem::path &capture_dir,
               std::map<std::string, std::string> env) {
    Child c(std::move(argv), capture_dir, std::move(env));
    return c.wait();
}

}  // namespace rel
