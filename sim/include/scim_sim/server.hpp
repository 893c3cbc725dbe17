// scim-sim: an in-process SCIM 2.0 service provider for tests, the demo and the benchmarks.
//
// The server behaves like the Claude Enterprise (WorkOS) SCIM endpoint described in docs/scim-notes.md and can
// misbehave on purpose (latency, failures, rate limits, dropped connections, garbage bodies, drifting data).
// Every fault decision is drawn from a PRNG seeded with Options::seed, so a sequential client sees the same
// sequence of faults on every run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace scim_sim {

struct Options {
    std::string bind = "127.0.0.1";
    uint16_t port = 0;                       // 0: the OS picks a free port
    std::string base_path = "/scim/v2";
    std::string token;                       // bearer token required on the SCIM surface (never logged)
    size_t max_page_size = 100;              // cap on `count`; also the page size when `count` is absent
    bool list_omits_members = false;         // GET /Groups lists no members (GET /Groups/{id} still does)
    size_t list_members_cap = 0;             // GET /Groups lists at most this many members a group (0: all)
    bool soft_delete = false;                // WorkOS-like: DELETE /Users/{id} deactivates and keeps the user
    uint64_t seed = 1;                       // seeds the data generator, the id generator and every fault
    size_t seed_users = 0, seed_groups = 0, seed_members = 0;
    std::string seed_file;                   // JSON {"users":[...],"groups":[...]} loaded before start
    uint32_t latency_ms = 0;                 // added to every SCIM request (does not serialise requests)
    double fail_rate = 0, drop_rate = 0, garbage_rate = 0;
    double rate_limit = 0;                   // requests per second, 0 = off (token bucket, 429 + Retry-After)
    uint32_t max_concurrent = 0;             // 0 = off; excess requests get 503 + Retry-After: 1
    bool drift = false;                      // drift-* users created/deleted between GET /Users list requests
    std::string tls_cert, tls_key;           // PEM files: serve HTTPS
    size_t max_body_bytes = 2000 * 1024;     // larger request bodies get 413
    size_t threads = 0;                      // worker threads; 0 = enough for 64+ concurrent connections
    int patch_response = 204;                // status of a successful PATCH: 204 (no body) or 200 (resource)
    bool retry_after_http_date = false;      // Retry-After as an HTTP date (about 2 s ahead) instead of "1"

    // The Claude Enterprise Admin API (/v1/organizations/...) on the same port, over the same organisation.
    std::string admin_key;                   // non-empty: serve it; requests need x-api-key (or Bearer) = this
    std::vector<std::string> admin_scopes;   // scopes the key holds (empty: all five)
    bool admin_scim_managed = false;         // the IdP provisions: invites and member removal answer 400
    bool admin_idp_roles = false;            // the IdP manages roles: role changes answer 400
    bool admin_legacy = false;               // older generation: beta header needed, `roles`/`group_id`/`name` only
    bool admin_no_retry_after = false;       // 429s carry no retry-after
    bool admin_clamp_limit = false;          // out-of-range `limit` is clamped (default: 400)
    uint32_t admin_page_cap = 0;             // a page holds at most this many rows, whatever `limit` asks (0: no cap)
    bool admin_withdrawn_404 = false;        // a withdrawn invite reads 404 (default: status "deleted")
    uint32_t admin_rate_limit = 100;         // requests per minute per organisation, sliding 60 s; 0 = off
    uint32_t admin_invite_rate_limit = 1200; // invite creations per hour, sliding; 0 = off
    double admin_role_ids_null = 0;          // that fraction of group reads answer role_ids: null
    double admin_short_pages = 0;            // that fraction of paging-B pages are short while more follow
    size_t seed_direct_users = 0, seed_direct_groups = 0, seed_roles = 0, seed_invites = 0;
};

// Counters kept by the server (SCIM surface only; /_admin requests are counted apart).
struct Stats {
    std::map<std::string, std::map<int, uint64_t>> requests;  // method -> status -> count
    uint64_t total_requests = 0;
    uint64_t admin_requests = 0;
    uint64_t max_concurrent_seen = 0;
    uint64_t bytes_sent = 0;                                  // response bodies plus status line and headers
    uint64_t server_time_ns = 0;        // time spent in the SCIM handlers proper (store + serialisation), summed
    uint64_t server_time_requests = 0;  // requests that time covers (successful routing only)
    std::map<std::string, uint64_t> faults;                   // latency, fail, rate_limit, max_concurrent,
                                                              // drop, garbage, drift_created, drift_deleted
    // Admin API requests (/v1/organizations/...), counted apart from the SCIM ones above.
    uint64_t admin_api_requests = 0;
    uint64_t admin_api_rate_limited = 0;                                // 429s
    std::map<std::string, std::map<int, uint64_t>> admin_api_by_status;  // method -> status -> count
};

class Server {
public:
    explicit Server(Options options);
    ~Server();  // stops
    Server(const Server &) = delete;
    Server &operator=(const Server &) = delete;

    void start();  // seeds, binds and returns once listening; throws std::runtime_error on failure
    void stop();   // idempotent; joins the listener and worker threads
    uint16_t port() const;
    std::string base_url() const;   // e.g. "http://127.0.0.1:40123/scim/v2" ("https://" with TLS)
    std::string admin_url() const;  // e.g. "http://127.0.0.1:40123/_admin"
    std::string state_json() const; // same document as GET /_admin/state
    std::string stats_json() const; // same document as GET /_admin/stats
    Stats stats() const;
    void reset_stats();

    // Direct store access for tests (ids in the store's order, i.e. sorted by id).
    size_t user_count() const;
    size_t group_count() const;
    size_t membership_count() const;
    std::vector<std::string> user_ids() const;
    std::vector<std::string> group_ids() const;
    // Id of the user with that userName (case-insensitive), or "" when there is none.
    std::string find_user(const std::string &user_name) const;
    std::vector<std::string> group_members(const std::string &group_id) const;
    size_t member_count() const;
    // The Admin API refuses every paging-B cursor (next_page) it handed out before this call: 400 "page cursor
    // expired", as after a deploy of the service. No-op without an admin key.
    void rotate_admin_cursors();  // Admin API members (0 without an admin key)
    double seed_seconds() const;  // how long seeding took (for the benchmark)

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace scim_sim
