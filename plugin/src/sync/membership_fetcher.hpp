// The third phase of a sync: the members of each group (GET /Groups/{id}?attributes=members), up to `window`
// groups in flight. Each member list is read as it arrives (never a whole body nor a DOM). A member that names a
// user or group of this sync becomes a grant at once; one that names nothing known waits in `pending` until the
// whole answer is known valid: a body corrupted in the middle can parse as a member that does not exist (an id cut
// short by a stray quote) before its error shows, and such an id names nothing (forging a real one would take a
// server that lies outright). The group resource, which carries the member count, follows its grants. A retried
// request starts `pending` afresh; `delivered` keeps the grants distinct (a bitmap over the user index once the
// group is large: store/member_set.hpp).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "http/http_engine.hpp"
#include "scim/scim_client.hpp"
#include "sync/store/group_list.hpp"
#include "sync/store/id_index.hpp"
#include "sync/store/member_buffer.hpp"

namespace ce::sync {

// Where the fetcher's results go (the sync run).
class MembershipSink {
public:
    virtual ~MembershipSink() = default;
    // A distinct member of `group`; resolved: it names a user or group of this sync.
    virtual void member(const scim::Group &group, const char *principal_type, std::string_view id, bool resolved) = 0;
    // Every member of `group` has been delivered.
    virtual void group_done(const scim::Group &group, size_t members) = 0;
    virtual void warn(std::string_view code, const std::string &message) = 0;
    // Whether a checkpoint is due: the fetcher then starts no group until those in flight are done, and calls
    // at_rest with the number of groups done (every group before it in the list, none after it).
    virtual bool checkpoint_due() { return false; }
    virtual void at_rest(size_t /*groups_done*/) {}
};

class MembershipFetcher {
public:
    MembershipFetcher(const scim::Client &client, store::GroupList &groups, const store::IdIndex &user_ids,
                      const store::IdIndex &group_ids, unsigned window, MembershipSink &out);

    // Reads every group's members from the group after the first `done` of the list (a resumed sync: the caller
    // has not taken them from the list); returns when the last group is done.
    void run(size_t done = 0);

private:
    struct Fetch;
    using Kind = store::MemberBuffer::Kind;
    // Whom a member names: the principal its type says (User, Group), else whichever set knows the id (users
    // first); unresolved when this sync saw no such user or group.
    struct Principal {
        const char *type;
        bool resolved;
    };

    Principal principal_of(std::string_view value, Kind kind) const;
    void on_member(Fetch &f, std::string_view value, std::string_view type);
    void deliver(Fetch &f, std::string_view value, Principal p);
    http::Disposition on_answer(Fetch &f, http::Response &r);
    // Starts fetches while the window has room (again from every completion).
    void fill();

    const scim::Client &client_;
    store::GroupList &groups_;
    const store::IdIndex &user_ids_;
    const store::IdIndex &group_ids_;
    unsigned window_;
    MembershipSink &out_;
    size_t next_ = 0;
    size_t in_flight_ = 0;
    bool draining_ = false;  // a checkpoint is due: the groups in flight finish first
};

}  // namespace ce::sync
