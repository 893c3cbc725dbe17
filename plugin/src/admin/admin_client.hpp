// A client of Anthropic's Admin API for Claude Enterprise (../shared/docs/claude-admin-api.md): request building
// (x-api-key, anthropic-version, and the beta header the July 2026 generation needed, always sent since it is
// always accepted), error mapping from the API's error bodies to ErrorKind with messages a person can act on, and
// the reads and writes the connector makes. Every request goes through the connector's Admin API engine, which
// paces them under admin-api-rate-limit (http/request_pacer.hpp). Knows nothing of the connector ABI; paging is in
// admin_paging.hpp.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "admin/admin_json.hpp"
#include "common/errors.hpp"
#include "http/fetch.hpp"
#include "http/http_engine.hpp"

namespace ce::admin {

// The most rows a page may hold (the API's cap): the connector always asks for this many.
inline constexpr int kPageLimit = 1000;

using Query = std::vector<std::pair<std::string, std::string>>;

class Client {
public:
    Client(http::Engine &engine, std::string base_url, std::string key);

    http::Engine &engine() const { return engine_; }
    const std::string &host() const { return host_; }
    // base + "/v1/organizations/" + path (already encoded) + the query (encoded here).
    std::string url(std::string_view path, const Query &query = {}) const;
    http::Request make(http::Method method, std::string url, std::string body = {}) const;

    Error error_for(const http::Response &response, std::string_view what) const;
    Error malformed(std::string_view what, const std::string &why, long status) const;

    // Runs one GET to its end and parses the body (a ParseError is retried within the retry budget, then reported
    // as malformed). nullopt on 404 when `absent_on_404`; any other non-2xx answer throws error_for(...).
    template <typename T>
    std::optional<T> get(const std::string &url, std::string_view what, T (*parse)(std::string &),
                         bool absent_on_404 = false) const;

    // One row each of members, groups and roles: whether the key can read what a sync reads (check()); a 403
    // names the scopes missing.
    void probe_reads() const;
    // Single reads, each answer checked to be about what was asked (another id is a malformed answer); nullopt
    // on 404.
    std::optional<Group> get_group(std::string_view id) const;
    std::optional<Member> get_member(std::string_view id) const;
    std::optional<Invite> get_invite(std::string_view id) const;
    // GET users?email=: only members whose e-mail equals `email` (case-insensitively) are taken (the API also
    // matches plus-address variants); several such members throw failed_precondition.
    std::optional<Member> find_member_by_email(std::string_view email) const;
    // Whether user_id is among the group's members (every page read).
    bool group_lists_member(std::string_view group_id, std::string_view user_id) const;
    // Writes: the raw answer (the provisioner decides what each status means).
    http::Response send(http::Method method, const std::string &url, std::string body = {}) const;

private:
    http::Engine &engine_;
    std::string base_;
    std::vector<std::string> headers_;
    std::string host_;
};

// Encodes an id for a path segment (every byte but the unreserved ones).
std::string path_segment(std::string_view id);

template <typename T>
std::optional<T> Client::get(const std::string &url, std::string_view what, T (*parse)(std::string &),
                             bool absent_on_404) const {
    const auto read = [parse](http::Response &r) { return parse(r.body); };
    const auto fail = [&](const http::Response &r) { return error_for(r, what); };
    const auto bad = [&](const std::string &why, long status) { return malformed(what, why, status); };
    if (absent_on_404) return http::fetch<T, ParseError>(engine_, make(http::Method::get, url), {404}, read, fail, bad);
    return http::fetch<T, ParseError>(engine_, make(http::Method::get, url), {}, read, fail, bad);
}

}  // namespace ce::admin
