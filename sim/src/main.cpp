// scim-sim: the SCIM 2.0 service simulator as a command-line server.
// Prints exactly one line "LISTENING <base-url>" on stdout when ready; stops cleanly on SIGINT/SIGTERM (exit 0).
#include "scim_sim/server.hpp"

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <pthread.h>
#include <sstream>

namespace {
bool is_loopback(const std::string &host) {
    return host.rfind("127.", 0) == 0 || host == "::1" || host == "localhost";
}
std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
    size_t b = 0;
    while (b < s.size() && (s[b] == ' ' || s[b] == '\t')) ++b;
    return s.substr(b);
}
// The Admin API's flags (see sim/README.md).
void add_admin_options(CLI::App &app, scim_sim::Options &o, std::string &key_file, std::string &scopes) {
    auto *key = app.add_option("--admin-key", o.admin_key, "serve the Admin API (/v1/organizations/...) with this key");
    auto *keyf = app.add_option("--admin-key-file", key_file, "read the Admin API key from this file");
    key->excludes(keyf);
    app.add_option("--admin-scopes", scopes, "comma-separated scopes of the key (default: all five)");
    app.add_flag("--admin-scim-managed", o.admin_scim_managed, "the IdP provisions: invites and member removal get 400");
    app.add_flag("--admin-idp-roles", o.admin_idp_roles, "the IdP manages roles: role changes get 400");
    app.add_flag("--admin-legacy", o.admin_legacy, "older generation: beta header needed; roles/group_id/name only");
    app.add_flag("--admin-no-retry-after", o.admin_no_retry_after, "429s of the Admin API carry no retry-after");
    app.add_flag("--admin-clamp-limit", o.admin_clamp_limit, "clamp an out-of-range limit instead of answering 400");
    app.add_option("--admin-page-cap", o.admin_page_cap, "at most N rows an Admin API page, whatever limit asks (0: no cap)");
    app.add_flag("--admin-withdrawn-404", o.admin_withdrawn_404, "a withdrawn invite reads 404 instead of status deleted");
    app.add_option("--admin-rate-limit", o.admin_rate_limit, "Admin API requests per minute (sliding; 0 = off)")
        ->capture_default_str();
    app.add_option("--admin-invite-rate-limit", o.admin_invite_rate_limit, "invite creations per hour (0 = off)")
        ->capture_default_str();
    app.add_option("--admin-role-ids-null", o.admin_role_ids_null, "fraction of group reads with role_ids: null")
        ->check(CLI::Range(0.0, 1.0));
    app.add_option("--admin-short-pages", o.admin_short_pages, "fraction of paging-B pages cut short while more follow")
        ->check(CLI::Range(0.0, 1.0));
    app.add_option("--seed-direct-users", o.seed_direct_users, "members not in SCIM (owners, admins, managed, users)");
    app.add_option("--seed-direct-groups", o.seed_direct_groups, "direct rbac groups, members drawn from all members");
    app.add_option("--seed-roles", o.seed_roles, "custom roles, attached to groups through role_ids");
    app.add_option("--seed-invites", o.seed_invites, "invites: pending, accepted and expired");
}

// Reads --admin-key-file and splits --admin-scopes; false (after a message) when the key file is unusable.
bool finish_admin_options(scim_sim::Options &o, const std::string &key_file, const std::string &scopes) {
    if (!key_file.empty()) {
        std::ifstream in(key_file, std::ios::binary);
        std::stringstream ss;
        if (in) ss << in.rdbuf();
        o.admin_key = trim(ss.str());
        if (!in || o.admin_key.empty()) {
            std::cerr << "scim-sim: cannot read an Admin API key from --admin-key-file " << key_file << "\n";
            return false;
        }
    }
    for (size_t pos = 0; !scopes.empty() && pos <= scopes.size();) {
        size_t comma = std::min(scopes.find(',', pos), scopes.size());
        if (comma > pos) o.admin_scopes.push_back(trim(scopes.substr(pos, comma - pos)));
        pos = comma + 1;
    }
    return true;
}

}  // namespace

int main(int argc, char **argv) {
    scim_sim::Options o;
    std::string token_file;
    bool allow_remote = false;
    uint16_t port = 0;
    CLI::App app{"scim-sim: a SCIM 2.0 service provider simulator (Claude Enterprise / WorkOS-like)"};
    app.add_option("--port", port, "TCP port (0: the OS picks one)")->capture_default_str();
    app.add_option("--bind", o.bind, "address to listen on (loopback only unless --allow-remote)")->capture_default_str();
    app.add_flag("--allow-remote", allow_remote, "allow --bind to a non-loopback address");
    auto *tok = app.add_option("--token", o.token, "bearer token clients must present");
    auto *tokf = app.add_option("--token-file", token_file, "read the bearer token from this file");
    tok->excludes(tokf);
    app.add_option("--base-path", o.base_path, "path prefix of the SCIM surface")->capture_default_str();
    app.add_option("--max-page-size", o.max_page_size, "cap on count per list page")->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_flag("--list-omits-members", o.list_omits_members,
                 "GET /Groups lists no members (a single GET /Groups/{id} still returns them)");
    app.add_option("--list-members-cap", o.list_members_cap,
                   "GET /Groups lists at most this many members a group (0: all; a single GET returns all)");
    app.add_flag("--soft-delete", o.soft_delete, "DELETE /Users/{id} deactivates the user and keeps it (WorkOS-like)");
    app.add_option("--patch-response", o.patch_response, "status of a successful PATCH: 200 (resource) or 204")
        ->capture_default_str()->check(CLI::IsMember({200, 204}));
    app.add_option("--seed-users", o.seed_users, "number of generated users");
    app.add_option("--seed-groups", o.seed_groups, "number of generated groups");
    app.add_option("--seed-members", o.seed_members, "number of generated memberships (exact; refused when it cannot fit)");
    app.add_option("--seed", o.seed, "seed of the generator and of every fault")->capture_default_str();
    app.add_option("--seed-file", o.seed_file, "JSON file with users and groups to load")->check(CLI::ExistingFile);
    app.add_option("--latency-ms", o.latency_ms, "delay added to every SCIM request");
    app.add_option("--fail-rate", o.fail_rate, "fraction of requests answered 503")->check(CLI::Range(0.0, 1.0));
    app.add_option("--rate-limit", o.rate_limit, "requests per second (token bucket); excess gets 429")
        ->check(CLI::NonNegativeNumber);
    app.add_flag("--retry-after-date", o.retry_after_http_date,
                 "send Retry-After as an HTTP date (about 2 s ahead) instead of seconds");
    app.add_option("--max-concurrent", o.max_concurrent, "concurrent requests allowed; excess gets 503 + Retry-After");
    app.add_option("--drop-rate", o.drop_rate, "fraction of responses cut mid-body")->check(CLI::Range(0.0, 1.0));
    app.add_option("--garbage-rate", o.garbage_rate, "fraction of 200 responses with malformed JSON")
        ->check(CLI::Range(0.0, 1.0));
    app.add_flag("--drift", o.drift, "create and delete drift-* users between GET /Users list requests");
    app.add_option("--tls-cert", o.tls_cert, "PEM certificate: serve HTTPS")->check(CLI::ExistingFile);
    app.add_option("--tls-key", o.tls_key, "PEM private key")->check(CLI::ExistingFile);
    app.add_option("--threads", o.threads, "worker threads (0: enough for 64+ connections)");
    app.add_option("--max-body-bytes", o.max_body_bytes, "larger request bodies get 413")->capture_default_str();
    std::string admin_key_file, admin_scopes;
    add_admin_options(app, o, admin_key_file, admin_scopes);
    CLI11_PARSE(app, argc, argv);
    o.port = port;
    if (!finish_admin_options(o, admin_key_file, admin_scopes)) return 2;

    if (!token_file.empty()) {
        std::ifstream in(token_file, std::ios::binary);
        if (!in) {
            std::cerr << "scim-sim: cannot read --token-file " << token_file << "\n";
            return 2;
        }
        std::stringstream ss;
        ss << in.rdbuf();
        o.token = trim(ss.str());
    }
    if (o.token.empty()) {
        std::cerr << "scim-sim: a bearer token is required (--token or --token-file)\n";
        return 2;
    }
    if (!is_loopback(o.bind) && !allow_remote) {
        std::cerr << "scim-sim: refusing to listen on non-loopback address " << o.bind
                  << " (pass --allow-remote to do it anyway)\n";
        return 2;
    }
    if (o.bind == "localhost") o.bind = "127.0.0.1";
    if (o.tls_cert.empty() != o.tls_key.empty()) {
        std::cerr << "scim-sim: --tls-cert and --tls-key go together\n";
        return 2;
    }

    // Block the stop signals in every thread; the main thread waits for them with sigwait.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    scim_sim::Server server(o);
    try {
        server.start();
    } catch (const std::exception &e) {
        std::cerr << e.what() << "\n";
        return 1;
    }
    std::cerr << "scim-sim: " << server.user_count() << " users, " << server.group_count() << " groups, "
              << server.membership_count() << " memberships, " << server.member_count()
              << " Admin API members (seeded in " << server.seed_seconds() << " s); admin at "
              << server.admin_url() << "\n";
    std::cout << "LISTENING " << server.base_url() << std::endl;  // flushes

    int sig = 0;
    sigwait(&stop_signals, &sig);
    std::cerr << "scim-sim: signal " << sig << ", stopping\n";
    server.stop();
    return 0;
}
