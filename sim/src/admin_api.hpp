// The Admin API's HTTP surface (/v1/organizations/...): key and version checks, scopes, the organisation's sliding
// rate limit, the invite limit, routing to the AdminView, and errors in the API's own shape.
#pragma once

#include "admin_store.hpp"

#include <httplib.h>

#include <chrono>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace scim_sim::detail {

struct AdminApiOptions {
    std::string key;
    std::set<std::string> scopes;  // those the key holds
    bool legacy = false;           // group and role paths need the beta header, else 404
    bool clamp_limit = false;
    uint32_t page_cap = 0;  // the most rows a page holds, whatever `limit` asks (0: none)
    bool no_retry_after = false;
    uint32_t rate_limit = 100;          // per minute, sliding; 0 = off
    uint32_t invite_rate_limit = 1200;  // invite creations per hour, sliding; 0 = off
    uint64_t seed = 1;
};

struct AdminAnswer {
    int status = 200;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

class AdminApi {
public:
    AdminApi(AdminApiOptions options, AdminView &view);

    static bool is_admin_path(const std::string &path);
    static const std::set<std::string> &all_scopes();
    std::string request_id();
    // The key, anthropic-version and the organisation's rate limit; an answer when the request ends there.
    std::optional<AdminAnswer> admit(const httplib::Request &req, const std::string &rid);
    // The request proper (after the server's latency and failure faults).
    AdminAnswer serve(const httplib::Request &req, uint64_t seq, const std::string &rid);
    static AdminAnswer error(int status, const std::string &type, const std::string &message, const std::string &rid);

private:
    struct Window {
        std::mutex mu;
        std::deque<std::chrono::steady_clock::time_point> hits;
    };
    // Takes one slot of `limit` per `span`; false (and the seconds until one frees) when none is free.
    static bool take(Window &w, uint32_t limit, std::chrono::seconds span, long long &retry_after);
    AdminAnswer limited(const char *what, long long retry_after, const std::string &rid) const;
    PageQuery page_query(const httplib::Request &req) const;
    void check_scope(const std::string &resource, const std::string &method, bool invite_groups) const;
    Reply route(const httplib::Request &req, const std::vector<std::string> &seg, uint64_t seq);
    Reply route_groups(const httplib::Request &req, const std::vector<std::string> &seg, uint64_t seq);
    Reply route_members_invites(const httplib::Request &req, const std::vector<std::string> &seg);
    Reply route_roles(const httplib::Request &req, const std::vector<std::string> &seg, uint64_t seq);

    AdminApiOptions opt_;
    AdminView &view_;
    std::mutex rid_mu_;
    uint64_t rid_counter_ = 0;
    Window org_, invites_;
};

}  // namespace scim_sim::detail
