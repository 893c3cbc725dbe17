// A SCIM 2.0 client for one endpoint: request building (bearer token, SCIM media types), error mapping from
// HTTP to ErrorKind with messages a person can act on, and the single-resource operations the connector
// needs. It knows SCIM and nothing of the connector ABI. List walking lives in list_walker.hpp.
#pragma once

#include <algorithm>
#include <exception>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "common/errors.hpp"
#include "http/fetch.hpp"
#include "http/http_engine.hpp"
#include "scim/members_reader.hpp"
#include "scim/scim_json.hpp"

namespace ce::scim {

// A group's member list read as it arrives (see members_reader.hpp): set it as Request::stream. on_reset (optional)
// runs when an attempt starts over: whatever the members seen so far fed must be forgotten. Members are not known
// good until reader().finish() has returned: keep them until then. A part of the answer past the reader's limits
// fails the request with Error(invalid_config) naming the setting (never retried). What the caller keeps for the
// answer meanwhile (held_elsewhere) counts with what the reader holds against the engine's budget.
class MembersStream : public http::BodyStream {
public:
    explicit MembersStream(GroupMembersReader::OnMember on_member, std::function<void()> on_reset = {},
                           GroupMembersReader::Limits limits = {})
        : reader_(std::move(on_member), std::move(limits)), on_reset_(std::move(on_reset)) {}
    void reset() override {
        reader_.reset();
        if (on_reset_) on_reset_();
    }
    void write(std::string_view bytes) override {
        try {
            reader_.feed(bytes);
        } catch (const LimitError &e) {
            throw Error::invalid_config(e.field(), std::string("while reading the members of a group: ") + e.what())
                .with_http(200);
        }
    }
    size_t held_bytes() const override { return reader_.held_bytes() + (held_elsewhere_ ? held_elsewhere_() : 0); }
    void set_held_elsewhere(std::function<size_t()> held) { held_elsewhere_ = std::move(held); }
    GroupMembersReader &reader() { return reader_; }
    // The transfer has ended with a 2xx status: throws what write() threw, or ParseError unless the whole answer
    // was valid. Only then may the members it handed over be trusted.
    // An answer that names another group than expect_id() (when it names one) is not valid either.
    void finish(const http::Response &response) {
        if (response.stream_error) std::rethrow_exception(response.stream_error);
        reader_.finish();
        if (!expected_id_.empty() && !reader_.resource_id().empty() && reader_.resource_id() != expected_id_)
            throw ParseError("the answer describes another group than the one asked for");
    }
    void expect_id(std::string id) { expected_id_ = std::move(id); }

private:
    GroupMembersReader reader_;
    std::function<void()> on_reset_;
    std::string expected_id_;
    std::function<size_t()> held_elsewhere_;
};

// The answer to a userName lookup. `user` is the one user whose userName matches what was asked, if any. When none
// matches, `proven_absent` says whether the answer proves it: false when the server evidently ignored the filter
// (it listed users of other names) and its page did not hold the whole collection.
struct UserLookup {
    std::optional<User> user;
    bool proven_absent = false;
};

// What a membership filter's answer says, once checked: `absent` (no group listed), `listed` (exactly the group
// asked for is listed: a hint only, since the members are not in the answer), `unusable` (refused, or other groups
// listed: the filter was ignored).
enum class FilterAnswer { absent, listed, unusable };

// What reading a member list may cost: the whole list (read as it arrives, never held, so it may be far larger
// than the engine's cap on the bodies it holds; 0 = the engine's cap) and the setting that names it, and what the
// reader may hold (one member, the document around the list).
struct MemberListLimits {
    size_t list_bytes = 0;
    std::string list_field;
    GroupMembersReader::Limits reader;
};

class Client {
public:
    Client(http::Engine &engine, std::string base_url, std::string token, MemberListLimits member_limits = {});

    http::Engine &engine() const { return engine_; }
    http::Request make(http::Method method, std::string url, std::string body = {}) const;
    // GET /Groups/{id}?attributes=members, its body streamed to `stream` and capped at the member-list limit
    // (a too-large answer names MemberListLimits::list_field).
    http::Request member_list_request(std::string_view group_id, std::shared_ptr<MembersStream> stream) const;

    std::string users_url() const;
    std::string groups_url() const;
    std::string user_url(std::string_view id) const;
    std::string group_url(std::string_view id) const;
    const std::string &host() const { return host_; }
    const GroupMembersReader::Limits &member_limits() const { return member_limits_.reader; }
    // The cap on a streamed member list (0: the engine's cap) and the setting that names it.
    size_t member_list_bytes() const { return member_limits_.list_bytes; }
    const std::string &member_list_field() const { return member_limits_.list_field; }

    // The error for a response that is not a success (transport failure or non-2xx status). `what` names the
    // request in words ("listing users").
    Error error_for(const http::Response &response, std::string_view what) const;
    // The Error for a non-2xx status (error_for without a transport failure).
    Error status_error(const http::Response &response, const std::string &what) const;
    // The error for a 2xx body that could not be understood.
    Error malformed(std::string_view what, const std::string &why, long status) const;

    // Runs one GET to its end and reads the answer with `read` (a ParseError from it is retried within the retry
    // budget, then reported as transient). A status listed in `absent` gives nullopt; any other non-2xx answer
    // throws error_for(...).
    template <typename T>
    std::optional<T> get(http::Request request, std::string_view what,
                         const std::function<T(http::Response &)> &read, std::initializer_list<long> absent = {}) const;
    // get() of a URL whose body is parsed with `parse`, with no status taken as absent.
    template <typename T>
    T get_parsed(const std::string &url, std::string_view what, const std::function<T(std::string &)> &parse) const {
        return *get<T>(make(http::Method::get, url), what, [&parse](http::Response &r) { return parse(r.body); });
    }

    // GET /Users?startIndex=1&count=1: totalResults and the page length.
    ListSummary count_users() const;
    // GET /Users/{id}; nullopt on 404. An answer holding another user's id is a malformed answer (never taken).
    std::optional<User> get_user(std::string_view id) const;
    // GET /Users?filter=userName eq "…", every answer checked against what was asked: only a user whose userName
    // equals user_name (case-insensitively) is taken; several such users throw (failed_precondition).
    UserLookup find_user_by_user_name(std::string_view user_name) const;
    // GET /Groups?filter=displayName eq "…": the id of the one group of exactly that name (checked against what was
    // asked); nullopt when the answer proves there is none; several, or an ignored filter that cannot prove
    // absence, throw failed_precondition.
    std::optional<std::string> find_group_by_display_name(std::string_view name) const;
    // POST /Users: the raw response (the connector decides what 201 and 409 mean).
    http::Response post_user(const NewUser &user) const;
    // PATCH /Users/{id} active.
    void set_user_active(std::string_view id, bool active) const;
    // DELETE /Users/{id}: true when deleted, false on 404.
    bool delete_user(std::string_view id) const;
    // GET /Groups/{id}?excludedAttributes=members: whether the group exists.
    bool group_exists(std::string_view id) const;
    // GET /Groups?filter=id eq "<gid>" and members.value eq "<uid>"&excludedAttributes=members, checked against what
    // was asked (see FilterAnswer). unusable when the server refuses the filter (400/501) or evidently ignores it.
    FilterAnswer group_has_member(std::string_view group_id, std::string_view user_id) const;
    // GET /Groups/{id}?attributes=members, read as it arrives: whether user_id is among the members; nullopt when
    // the group does not exist (404). For servers that refuse the membership filter.
    std::optional<bool> group_lists_member(std::string_view group_id, std::string_view user_id) const;
    // PATCH /Groups/{id} with a PatchOp body; 200 (body not parsed) or 204 are success.
    void patch_group(std::string_view group_id, const std::string &body, std::string_view what) const;

private:
    http::Engine &engine_;
    std::string base_;
    std::string auth_header_;
    std::string host_;
    MemberListLimits member_limits_;
};

template <typename T>
std::optional<T> Client::get(http::Request request, std::string_view what,
                             const std::function<T(http::Response &)> &read, std::initializer_list<long> absent) const {
    return http::fetch<T, ParseError>(
        engine_, std::move(request), absent, read, [&](const http::Response &r) { return error_for(r, what); },
        [&](const std::string &why, long status) { return malformed(what, why, status); });
}

}  // namespace ce::scim
