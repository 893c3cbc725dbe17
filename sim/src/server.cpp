// HTTP adapter over the store: cpp-httplib server (or SSLServer), bearer auth, routing, fault injection, stats and
// the /_admin truth endpoints.
#include "scim_sim/server.hpp"

#include "admin_api.hpp"
#include "admin_store.hpp"
#include "store.hpp"

#include <httplib.h>
#include <arpa/inet.h>
#include <csignal>
#include <netinet/in.h>
#include <sys/socket.h>

#include <filesystem>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace scim_sim {

using detail::ScimError;
using detail::to_lower;

namespace {

// The Admin API's answers. With a charset parameter, because cpp-httplib compresses exactly "application/json"
// with brotli at its highest quality when a client accepts br (libcurl's default list does): ~0.7 s of server CPU
// for a 200 KB page of group members on a 2-core machine, which made the simulator, not the client, the slowest
// part of an Admin API sync (bench/admin.sh). The SCIM surface (application/scim+json) is not compressed either.
constexpr const char *kAdminApiContentType = "application/json; charset=utf-8";

constexpr const char *kScimType = "application/scim+json";

// Fault kinds: each draws from its own deterministic stream, indexed by the request's sequence number.
enum class Draw : uint64_t { Fail = 1, Drop = 2, Garbage = 3, GarbageShape = 4 };

bool ieq_prefix(const std::string &s, const std::string &prefix) {
    if (s.size() < prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i) {
        char a = s[i], b = prefix[i];
        if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
        if (a != b) return false;
    }
    return true;
}

std::string percent_decode(std::string_view s) {
    auto hexval = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out += static_cast<char>(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

bool constant_time_equal(const std::string &a, const std::string &b) {
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    size_t n = std::max(a.size(), b.size());
    for (size_t i = 0; i < n; ++i) {
        unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
        unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
        diff = static_cast<unsigned char>(diff | (x ^ y));
    }
    return diff == 0;
}

bool is_loopback_addr(const std::string &addr) {
    return addr.rfind("127.", 0) == 0 || addr == "::1" || addr.rfind("::ffff:127.", 0) == 0;
}

std::string host_for_url(const std::string &bind) {
    if (bind == "0.0.0.0" || bind.empty()) return "127.0.0.1";
    if (bind == "::") return "[::1]";
    if (bind.find(':') != std::string::npos) return "[" + bind + "]";
    return bind;
}

}  // namespace

struct Server::Impl {
    Options opt;
    detail::Store store;
    std::unique_ptr<httplib::Server> http;
    std::thread listener;
    std::mutex lifecycle_mu;
    bool started = false;
    bool tls = false;
    uint16_t port = 0;
    std::string base_url, admin_url;
    double seed_secs = 0;
    std::atomic<int> listen_fd{-1};

    std::atomic<uint64_t> seq{0};
    std::atomic<int64_t> in_flight{0};

    std::mutex bucket_mu;
    double tokens = 0;
    std::chrono::steady_clock::time_point refill_at{};

    mutable std::mutex stats_mu;
    Stats st;

    std::unique_ptr<detail::AdminApi> admin_api;  // set when Options::admin_key is

    explicit Impl(Options o)
        : opt(std::move(o)), store(opt.seed, opt.max_page_size, opt.soft_delete, opt.patch_response) {
        store.set_list_members(opt.list_omits_members, opt.list_members_cap);
    }

    double draw(uint64_t n, Draw kind) const {
        uint64_t s = opt.seed ^ (static_cast<uint64_t>(kind) * 0xA24BAED4963EE407ULL) ^ (n * 0x9FB21C651E98DF25ULL);
        return detail::unit_double(detail::splitmix64(s));
    }

    void count_fault(const char *kind, uint64_t n = 1) {
        std::lock_guard lock(stats_mu);
        st.faults[kind] += n;
    }

    // "1" (seconds), or an IMF-fixdate about two seconds ahead (RFC 9110 allows both forms).
    std::string retry_after() const {
        if (!opt.retry_after_http_date) return "1";
        std::time_t t = static_cast<std::time_t>(detail::now_seconds() + 2);
        std::tm tm{};
        gmtime_r(&t, &tm);
        static const char *days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
        static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        char buf[64];
        std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
                      months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
        return buf;
    }

    bool take_token() {
        std::lock_guard lock(bucket_mu);
        auto now = std::chrono::steady_clock::now();
        double cap = std::max(1.0, opt.rate_limit);
        if (refill_at.time_since_epoch().count() == 0) {
            tokens = cap;
        } else {
            double dt = std::chrono::duration<double>(now - refill_at).count();
            tokens = std::min(cap, tokens + dt * opt.rate_limit);
        }
        refill_at = now;
        if (tokens >= 1.0) {
            tokens -= 1.0;
            return true;
        }
        return false;
    }

    static void send_json(httplib::Response &res, int status, std::string body, const char *type = kScimType) {
        res.status = status;
        res.set_content(std::move(body), type);
    }

    static void send_error(httplib::Response &res, int status, const std::string &scim_type, const std::string &detail) {
        send_json(res, status, detail::error_json(status, scim_type, detail));
    }

    void logger(const httplib::Request &req, const httplib::Response &res) {
        size_t header_bytes = 17 + 2;  // "HTTP/1.1 200 OK\r\n" and the blank line (close enough)
        for (auto &h : res.headers) header_bytes += h.first.size() + h.second.size() + 4;
        std::lock_guard lock(stats_mu);
        if (req.path.rfind("/_admin", 0) == 0) {
            ++st.admin_requests;
            return;
        }
        if (admin_api && detail::AdminApi::is_admin_path(req.path)) {
            ++st.admin_api_requests;
            ++st.admin_api_by_status[req.method][res.status];
            if (res.status == 429) ++st.admin_api_rate_limited;
            return;
        }
        ++st.total_requests;
        ++st.requests[req.method][res.status];
        st.bytes_sent += header_bytes + res.body.size();
    }

    detail::ListQuery list_query(const httplib::Request &req) {
        detail::ListQuery q;
        for (const auto &param : req.params) {
            // Plain references, not a structured binding: the lambda below captures them (C++20 P1091, which
            // clang 14 lacks).
            const std::string &k = param.first;
            const std::string &v = param.second;
            std::string key = to_lower(k);
            auto number = [&](long long &out) {
                try {
                    size_t used = 0;
                    out = std::stoll(v, &used);
                    if (used != v.size()) throw std::invalid_argument(k);
                } catch (const std::exception &) {
                    throw ScimError(400, "invalidValue", "'" + k + "' must be an integer");
                }
            };
            if (key == "filter") q.filter = v;
            else if (key == "attributes") q.attributes = v;
            else if (key == "excludedattributes") q.excluded = v;
            else if (key == "startindex") number(q.start_index);
            else if (key == "count") {
                number(q.count);
                if (q.count < 0) q.count = 0;
            }
        }
        return q;
    }

    std::string param_ci(const httplib::Request &req, const char *name) {
        for (auto &[k, v] : req.params) {
            if (to_lower(k) == name) return v;
        }
        return {};
    }

    // The SCIM surface proper (after faults and auth). `rest` is the raw (still percent-encoded) path after the base
    // path: "/Users", "/Users/<id>", ...; each segment is decoded on its own so that ids may contain '/', '?', '%'.
    detail::Reply route(const httplib::Request &req, const std::string &rest) {
        std::string_view r(rest);
        while (r.size() > 1 && r.back() == '/') r.remove_suffix(1);
        std::string collection, id;
        {
            std::string_view t = r.substr(1);
            auto slash = t.find('/');
            collection = to_lower(percent_decode(t.substr(0, slash)));
            if (slash != std::string_view::npos) {
                std::string_view raw_id = t.substr(slash + 1);
                if (raw_id.find('/') != std::string_view::npos) throw ScimError(404, "", "no such resource");
                id = percent_decode(raw_id);
            }
        }
        const std::string &m = req.method;
        auto bad_method = [&]() -> detail::Reply {
            throw ScimError(405, "", "method " + m + " is not supported on " + std::string(r));
        };
        if (collection == "users" || collection == "groups") {
            bool users = collection == "users";
            if (id.empty()) {
                if (m == "GET") {
                    auto q = list_query(req);
                    if (users && opt.drift && q.filter.empty()) {
                        auto d = store.drift_step(q.start_index);
                        if (d.created) count_fault("drift_created", static_cast<uint64_t>(d.created));
                        if (d.deleted) count_fault("drift_deleted", static_cast<uint64_t>(d.deleted));
                    }
                    return users ? store.list_users(q) : store.list_groups(q);
                }
                if (m == "POST") return users ? store.create_user(req.body) : store.create_group(req.body);
                return bad_method();
            }
            if (m == "GET") {
                auto sel = detail::AttrSel::parse(param_ci(req, "attributes"), param_ci(req, "excludedattributes"));
                return users ? store.get_user(id, sel) : store.get_group(id, sel);
            }
            if (m == "PUT") return users ? store.replace_user(id, req.body) : store.replace_group(id, req.body);
            if (m == "PATCH") return users ? store.patch_user(id, req.body) : store.patch_group(id, req.body);
            if (m == "DELETE") return users ? store.delete_user(id) : store.delete_group(id);
            return bad_method();
        }
        if (m != "GET") return bad_method();
        if (collection == "serviceproviderconfig" && id.empty()) return {200, store.service_provider_config(), {}};
        if (collection == "resourcetypes") return {200, store.resource_types(id), {}};
        if (collection == "schemas") return {200, store.schemas(id), {}};
        throw ScimError(404, "", "no such endpoint: " + std::string(r));
    }

    void handle(const httplib::Request &req, httplib::Response &res) {
        if (req.path == "/_admin" || req.path.rfind("/_admin/", 0) == 0) return admin(req, res);
        if (admin_api && detail::AdminApi::is_admin_path(req.path)) return admin_api_request(req, res);
        const std::string &base = opt.base_path;
        std::string raw = req.target.substr(0, req.target.find('?'));
        std::string rest;
        if (raw.size() > base.size() && raw.compare(0, base.size(), base) == 0 && raw[base.size()] == '/') {
            rest = raw.substr(base.size());
        } else {
            return send_error(res, 404, "", "no such endpoint");
        }

        struct InFlight {
            Impl &s;
            int64_t now;
            explicit InFlight(Impl &i) : s(i), now(++i.in_flight) {
                std::lock_guard lock(s.stats_mu);
                if (static_cast<uint64_t>(now) > s.st.max_concurrent_seen) s.st.max_concurrent_seen = static_cast<uint64_t>(now);
            }
            ~InFlight() { --s.in_flight; }
        } guard(*this);
        uint64_t n = seq++;

        if (opt.max_concurrent && guard.now > static_cast<int64_t>(opt.max_concurrent)) {
            count_fault("max_concurrent");
            res.set_header("Retry-After", retry_after());
            return send_error(res, 503, "", "too many concurrent requests");
        }
        if (opt.rate_limit > 0 && !take_token()) {
            count_fault("rate_limit");
            res.set_header("Retry-After", retry_after());
            return send_error(res, 429, "", "rate limit exceeded");
        }
        if (opt.latency_ms) {
            count_fault("latency");
            std::this_thread::sleep_for(std::chrono::milliseconds(opt.latency_ms));
        }
        if (opt.fail_rate > 0 && draw(n, Draw::Fail) < opt.fail_rate) {
            count_fault("fail");
            return send_error(res, 503, "", "injected failure (--fail-rate)");
        }
        auto auth = req.get_header_value("Authorization");
        if (!ieq_prefix(auth, "Bearer ") || !constant_time_equal(auth.substr(7), opt.token) || opt.token.empty()) {
            res.set_header("WWW-Authenticate", "Bearer realm=\"scim-sim\"");
            return send_error(res, 401, "", "missing or invalid bearer token");
        }

        detail::Reply reply;
        auto t0 = std::chrono::steady_clock::now();
        try {
            reply = route(req, rest);
        } catch (const ScimError &e) {
            return send_error(res, e.status, e.scim_type, e.what());
        }
        {
            auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
            std::lock_guard lock(stats_mu);
            st.server_time_ns += static_cast<uint64_t>(ns);
            ++st.server_time_requests;
        }
        if (!reply.location.empty()) res.set_header("Location", reply.location);
        if (reply.body.empty()) {
            res.status = reply.status;
            return;
        }
        deliver(res, reply.status, std::move(reply.body), n, kScimType);
    }

    // A successful answer, unless --drop-rate cuts it or --garbage-rate spoils it (errors are never faulted).
    void deliver(httplib::Response &res, int status, std::string body, uint64_t n, const char *type) {
        bool ok = status == 200 || status == 201;
        if (ok && opt.drop_rate > 0 && draw(n, Draw::Drop) < opt.drop_rate) {
            // Headers with the full Content-Length, then half of the body, then the connection is closed.
            count_fault("drop");
            auto shared = std::make_shared<std::string>(std::move(body));
            size_t cut = std::max<size_t>(1, shared->size() / 2);
            res.status = status;
            res.set_header("X-Sim-Fault", "drop");
            res.set_content_provider(shared->size(), type,
                                     [shared, cut](size_t offset, size_t, httplib::DataSink &sink) {
                                         if (offset >= cut) return false;
                                         sink.write(shared->data() + offset, cut - offset);
                                         return true;
                                     });
            std::lock_guard lock(stats_mu);
            st.bytes_sent += cut;
            return;
        }
        if (ok && opt.garbage_rate > 0 && draw(n, Draw::Garbage) < opt.garbage_rate) {
            count_fault("garbage");
            switch (static_cast<int>(draw(n, Draw::GarbageShape) * 3)) {
                case 0: body.resize(std::max<size_t>(1, body.size() / 2)); break;  // truncated
                case 1: body.insert(body.size() / 2, "\"}]{,,"); break;               // malformed in the middle
                default: body = "<html><body>502 Bad Gateway</body></html>"; break;  // not JSON at all
            }
            rapidjson::Document check;  // an insertion can land right after a backslash: make sure it is broken
            check.Parse(body.data(), body.size());
            if (!check.HasParseError()) body.resize(body.size() - 1);
            res.set_header("X-Sim-Fault", "garbage");
        }
        send_json(res, status, std::move(body), type);
    }

    // The Admin API: key, version and rate limit first (per organisation), then latency and failures like SCIM,
    // then the request; a request-id header on every answer.
    void admin_api_request(const httplib::Request &req, httplib::Response &res) {
        uint64_t n = seq++;
        std::string rid = admin_api->request_id();
        res.set_header("request-id", rid);
        auto answer = admin_api->admit(req, rid);
        if (!answer && opt.latency_ms) {
            count_fault("latency");
            std::this_thread::sleep_for(std::chrono::milliseconds(opt.latency_ms));
        }
        if (!answer && opt.fail_rate > 0 && draw(n, Draw::Fail) < opt.fail_rate) {
            count_fault("fail");
            bool overloaded = draw(n, Draw::GarbageShape) < 0.5;
            answer = detail::AdminApi::error(overloaded ? 529 : 500, overloaded ? "overloaded_error" : "api_error",
                                             "injected failure (--fail-rate)", rid);
        }
        if (!answer) answer = admin_api->serve(req, n, rid);
        for (auto &[k, v] : answer->headers) res.set_header(k, v);
        if (answer->status != 200) return send_json(res, answer->status, std::move(answer->body), kAdminApiContentType);
        deliver(res, answer->status, std::move(answer->body), n, kAdminApiContentType);
    }

    void admin(const httplib::Request &req, httplib::Response &res) {
        if (!is_loopback_addr(req.remote_addr)) {
            return send_json(res, 403, R"({"error":"the admin endpoints answer loopback clients only"})",
                             "application/json");
        }
        if (req.method == "GET" && req.path == "/_admin/state") return send_json(res, 200, store.state_json(), "application/json");
        if (req.method == "GET" && req.path == "/_admin/stats") return send_json(res, 200, stats_json(), "application/json");
        if (req.method == "POST" && req.path == "/_admin/reset-stats") {
            reset_stats();
            return send_json(res, 200, R"({"reset":true})", "application/json");
        }
        if (req.method == "POST" && store.admin() && req.path.rfind("/_admin/invites/", 0) == 0) return invite_action(req, res);
        send_json(res, 404, R"({"error":"no such admin endpoint"})", "application/json");
    }

    // POST /_admin/invites/{id}/accept (the invitee joins) or /expire (the invite lapses).
    void invite_action(const httplib::Request &req, httplib::Response &res) {
        std::string rest = req.path.substr(std::string("/_admin/invites/").size());
        auto slash = rest.find('/');
        std::string id = rest.substr(0, slash), action = slash == std::string::npos ? "" : rest.substr(slash + 1);
        try {
            detail::Reply r;
            if (action == "accept") r = store.admin()->accept_invite(id);
            else if (action == "expire") r = store.admin()->expire_invite(id);
            else return send_json(res, 404, R"({"error":"no such admin endpoint"})", "application/json");
            send_json(res, r.status, std::move(r.body), "application/json");
        } catch (const detail::AdminError &e) {
            send_json(res, e.status, detail::AdminApi::error(e.status, e.type, e.what(), "").body, "application/json");
        }
    }

    void reset_stats() {
        std::lock_guard lock(stats_mu);
        st = Stats{};
    }

    template <class W>
    static void write_by_status(W &w, const std::map<std::string, std::map<int, uint64_t>> &requests) {
        w.StartObject();
        for (auto &[method, by_status] : requests) {
            w.Key(method.c_str());
            w.StartObject();
            for (auto &[status, count] : by_status) {
                w.Key(std::to_string(status).c_str());
                w.Uint64(count);
            }
            w.EndObject();
        }
        w.EndObject();
    }

    std::string stats_json() const {
        Stats s;
        {
            std::lock_guard lock(stats_mu);
            s = st;
        }
        rapidjson::StringBuffer sb;
        rapidjson::Writer<rapidjson::StringBuffer> w(sb);
        w.StartObject();
        w.Key("requests");
        write_by_status(w, s.requests);
        w.Key("total_requests");
        w.Uint64(s.total_requests);
        w.Key("admin_requests");
        w.Uint64(s.admin_requests);
        w.Key("max_concurrent");
        w.Uint64(s.max_concurrent_seen);
        w.Key("bytes_sent");
        w.Uint64(s.bytes_sent);
        w.Key("server_time_ns");
        w.Uint64(s.server_time_ns);
        w.Key("server_time_requests");
        w.Uint64(s.server_time_requests);
        w.Key("faults");
        w.StartObject();
        for (auto &[kind, count] : s.faults) {
            w.Key(kind.c_str());
            w.Uint64(count);
        }
        w.EndObject();
        w.Key("admin");
        w.StartObject();
        w.Key("total_requests");
        w.Uint64(s.admin_api_requests);
        w.Key("rate_limited");
        w.Uint64(s.admin_api_rate_limited);
        w.Key("requests");
        write_by_status(w, s.admin_api_by_status);
        w.EndObject();
        w.EndObject();
        return {sb.GetString(), sb.GetSize()};
    }
};

Server::Server(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Server::~Server() { stop(); }

namespace {
// The Admin API's view and surface (before seeding, so that seeded SCIM resources get their members).
void prepare_admin(Server::Impl &s) {
    const Options &o = s.opt;
    if (o.admin_key.empty()) {
        if (o.seed_direct_users || o.seed_direct_groups || o.seed_roles || o.seed_invites) {
            throw std::runtime_error("scim-sim: --seed-direct-users/-groups, --seed-roles and --seed-invites need --admin-key");
        }
        return;
    }
    for (const auto &scope : o.admin_scopes) {
        if (!detail::AdminApi::all_scopes().count(scope)) throw std::runtime_error("scim-sim: unknown admin scope " + scope);
    }
    detail::AdminConfig cfg;
    cfg.seed = o.seed;
    cfg.legacy = o.admin_legacy;
    cfg.scim_managed = o.admin_scim_managed;
    cfg.idp_roles = o.admin_idp_roles;
    cfg.clamp_limit = o.admin_clamp_limit;
    cfg.withdrawn_404 = o.admin_withdrawn_404;
    cfg.role_ids_null = o.admin_role_ids_null;
    cfg.short_pages = o.admin_short_pages;
    cfg.direct_users = o.seed_direct_users;
    cfg.direct_groups = o.seed_direct_groups;
    cfg.roles = o.seed_roles;
    cfg.invites = o.seed_invites;
    s.store.enable_admin(cfg);
    detail::AdminApiOptions api;
    api.key = o.admin_key;
    api.scopes.insert(o.admin_scopes.begin(), o.admin_scopes.end());
    api.legacy = o.admin_legacy;
    api.clamp_limit = o.admin_clamp_limit;
    api.page_cap = o.admin_page_cap;
    api.no_retry_after = o.admin_no_retry_after;
    api.rate_limit = o.admin_rate_limit;
    api.invite_rate_limit = o.admin_invite_rate_limit;
    api.seed = o.seed;
    s.admin_api = std::make_unique<detail::AdminApi>(api, *s.store.admin());
}
}  // namespace

void Server::start() {
    Impl &s = *impl_;
    std::lock_guard lock(s.lifecycle_mu);
    if (s.started) throw std::runtime_error("scim-sim: server already started");
    if (s.opt.base_path.empty() || s.opt.base_path.front() != '/') s.opt.base_path = "/" + s.opt.base_path;
    while (s.opt.base_path.size() > 1 && s.opt.base_path.back() == '/') s.opt.base_path.pop_back();
    if (s.opt.patch_response != 200 && s.opt.patch_response != 204) {
        throw std::runtime_error("scim-sim: patch_response must be 200 or 204");
    }

    prepare_admin(s);
    auto t0 = std::chrono::steady_clock::now();
    if (s.opt.seed_users || s.opt.seed_groups || s.opt.seed_members) {
        s.store.seed({s.opt.seed, s.opt.seed_users, s.opt.seed_groups, s.opt.seed_members});
    }
    if (!s.opt.seed_file.empty()) s.store.load_file(s.opt.seed_file);
    if (s.store.admin()) s.store.admin()->seed();
    s.seed_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    s.tls = !s.opt.tls_cert.empty() || !s.opt.tls_key.empty();
    if (s.tls) {
        if (s.opt.tls_cert.empty() || s.opt.tls_key.empty()) {
            throw std::runtime_error("scim-sim: TLS needs both a certificate and a key");
        }
        // OpenSSL writes with write(2): a client that hangs up mid-response would raise SIGPIPE and kill the whole
        // process (plain HTTP uses send(MSG_NOSIGNAL)). Ignore SIGPIPE unless the program installed its own handler.
        struct sigaction current {};
        if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) ::signal(SIGPIPE, SIG_IGN);
        auto ssl = std::make_unique<httplib::SSLServer>(s.opt.tls_cert.c_str(), s.opt.tls_key.c_str());
        if (!ssl->is_valid()) throw std::runtime_error("scim-sim: cannot load the TLS certificate or key");
        s.http = std::move(ssl);
    } else {
        s.http = std::make_unique<httplib::Server>();
    }
    httplib::Server &h = *s.http;
    size_t threads = s.opt.threads ? s.opt.threads : 128;
    h.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    h.set_keep_alive_max_count(1000000);
    h.set_keep_alive_timeout(5);
    h.set_tcp_nodelay(true);
    h.set_payload_max_length(s.opt.max_body_bytes);
    h.set_socket_options([&s](int sock) {
        int yes = 1;
        ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        s.listen_fd = sock;
    });
    // Counted just before the response is written (a post-routing handler runs for every response, 413 included),
    // so a client that reads /_admin/stats right after a response sees that response counted.
    h.set_post_routing_handler([&s](const httplib::Request &req, httplib::Response &res) { s.logger(req, res); });
    h.set_exception_handler([](const httplib::Request &, httplib::Response &res, std::exception_ptr ep) {
        std::string what = "internal error";
        try {
            if (ep) std::rethrow_exception(ep);
        } catch (const std::exception &e) {
            what = std::string("internal error: ") + e.what();
        } catch (...) {
        }
        Impl::send_error(res, 500, "", what);
    });
    auto handler = [&s](const httplib::Request &req, httplib::Response &res) { s.handle(req, res); };
    h.Get(".*", handler);
    h.Post(".*", handler);
    h.Put(".*", handler);
    h.Patch(".*", handler);
    h.Delete(".*", handler);

    int port = -1;
    if (s.opt.port == 0) {
        port = h.bind_to_any_port(s.opt.bind);
    } else if (h.bind_to_port(s.opt.bind, s.opt.port)) {
        port = s.opt.port;
    }
    if (port <= 0) {
        throw std::runtime_error("scim-sim: cannot listen on " + s.opt.bind + ":" + std::to_string(s.opt.port));
    }
    // cpp-httplib listens with a backlog of 5; raise it so that bursts of 64+ connections are not refused/retried.
    if (s.listen_fd >= 0) ::listen(s.listen_fd, 1024);
    s.port = static_cast<uint16_t>(port);
    std::string host = host_for_url(s.opt.bind);
    std::string origin = std::string(s.tls ? "https://" : "http://") + host + ":" + std::to_string(s.port);
    s.base_url = origin + s.opt.base_path;
    s.admin_url = origin + "/_admin";
    s.store.set_base_url(s.base_url);
    s.listener = std::thread([&h] { h.listen_after_bind(); });
    while (!h.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    s.started = true;
}

namespace {
// cpp-httplib's worker waits for the next request on an idle keep-alive connection for the whole keep-alive
// timeout without looking at the stop flag, so stop() would hang up to 5 s per idle client connection. After the
// listener is closed, shut down the read side of this server's accepted connections (found in /proc/self/fd: TCP
// sockets whose local port is ours and that have a peer): idle workers see end-of-file and leave at once, while a
// request in progress can still write its response.
void shutdown_accepted_connections(uint16_t port) {
    std::error_code ec;
    for (const auto &entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
        int fd = -1;
        try {
            fd = std::stoi(entry.path().filename().string());
        } catch (const std::exception &) {
            continue;
        }
        sockaddr_storage local{}, peer{};
        socklen_t ll = sizeof local, pl = sizeof peer;
        if (::getsockname(fd, reinterpret_cast<sockaddr *>(&local), &ll) != 0) continue;
        uint16_t lport = 0;
        if (local.ss_family == AF_INET) lport = ntohs(reinterpret_cast<sockaddr_in *>(&local)->sin_port);
        else if (local.ss_family == AF_INET6) lport = ntohs(reinterpret_cast<sockaddr_in6 *>(&local)->sin6_port);
        else continue;
        if (lport != port) continue;
        if (::getpeername(fd, reinterpret_cast<sockaddr *>(&peer), &pl) != 0) continue;  // not a connection
        ::shutdown(fd, SHUT_RD);
    }
}
}  // namespace

void Server::stop() {
    if (!impl_) return;
    Impl &s = *impl_;
    std::lock_guard lock(s.lifecycle_mu);
    if (!s.listener.joinable()) return;
    s.http->stop();
    shutdown_accepted_connections(s.port);
    s.listener.join();
}

uint16_t Server::port() const { return impl_->port; }
std::string Server::base_url() const { return impl_->base_url; }
std::string Server::admin_url() const { return impl_->admin_url; }
std::string Server::state_json() const { return impl_->store.state_json(); }
std::string Server::stats_json() const { return impl_->stats_json(); }
Stats Server::stats() const {
    std::lock_guard lock(impl_->stats_mu);
    return impl_->st;
}
void Server::reset_stats() { impl_->reset_stats(); }
size_t Server::user_count() const { return impl_->store.user_count(); }
size_t Server::group_count() const { return impl_->store.group_count(); }
size_t Server::membership_count() const { return impl_->store.membership_count(); }
std::vector<std::string> Server::user_ids() const { return impl_->store.user_ids(); }
std::vector<std::string> Server::group_ids() const { return impl_->store.group_ids(); }
std::string Server::find_user(const std::string &user_name) const { return impl_->store.find_user(user_name); }
std::vector<std::string> Server::group_members(const std::string &group_id) const {
    return impl_->store.group_members(group_id);
}
void Server::rotate_admin_cursors() {
    if (impl_->store.admin()) impl_->store.admin()->rotate_cursors();
}
size_t Server::member_count() const { return impl_->store.admin() ? impl_->store.admin()->member_count() : 0; }
double Server::seed_seconds() const { return impl_->seed_secs; }

}  // namespace scim_sim
