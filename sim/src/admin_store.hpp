// The Admin API's view of the organisation (Claude Enterprise Admin API): members, invites, rbac groups, roles.
// It lives beside the SCIM resources in the same Store, under the same lock: every active SCIM user is a member,
// every SCIM group an rbac group with `source_type: "scim"`, kept in step by hooks the Store calls on each change.
#pragma once

#include <atomic>

#include "store.hpp"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace scim_sim::detail {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// An error of the Admin API: rendered as {"type":"error","error":{"type","message"},"request_id"}.
struct AdminError : std::runtime_error {
    int status;
    std::string type;
    AdminError(int st, std::string kind, const std::string &message)
        : std::runtime_error(message), status(st), type(std::move(kind)) {}
};

struct AdminConfig {
    uint64_t seed = 1;
    bool legacy = false;         // older field generation: `roles` only, `group_id` only, `name` only
    bool scim_managed = false;   // the IdP provisions: invites and member removal are refused
    bool idp_roles = false;      // the IdP manages roles: role changes are refused
    bool clamp_limit = false;    // out-of-range `limit` is clamped to 1..1000 instead of refused
    bool withdrawn_404 = false;  // a withdrawn invite is gone (404) instead of reading `status: "deleted"`
    double role_ids_null = 0;    // that fraction of group reads answer `role_ids: null`
    double short_pages = 0;      // that fraction of paging-B pages hold fewer rows than there are
    size_t direct_users = 0, direct_groups = 0, roles = 0, invites = 0;  // seeding
};

// What a list request asked for (both paging styles).
struct PageQuery {
    long long limit = 20;
    std::string after_id, before_id, page;
    std::string email;
    std::vector<std::string> roles, statuses;
};

struct Member {
    std::string id, email, email_norm, name, role;
    int64_t added_at = 0;
    User *scim = nullptr;          // the SCIM user it stands for, if SCIM-provisioned
    std::set<std::string> groups;  // rbac groups holding it
};

struct GroupLink {
    std::string user_id;
    int64_t created_at = 0;
};

struct RbacGroup {
    std::string id, name;
    Group *scim = nullptr;  // the SCIM group it mirrors (source_type scim), or none (direct)
    std::vector<std::string> role_ids;
    int64_t created_at = 0, updated_at = 0;
    uint64_t next_seq = 1;
    std::map<uint64_t, GroupLink> links;              // oldest first
    std::unordered_map<std::string, uint64_t> seq_of;  // user id -> key in links
};

struct Role {
    std::string id, name;
    bool built_in = false;
    bool foreign = false;  // of another organisation of the enterprise: named by groups, 404 for this key
    int64_t created_at = 0;
    size_t n_perms = 0;
    uint64_t perm_seed = 0;
};

struct Invite {
    std::string id, email, role, status;  // status as stored: pending, accepted, deleted (expiry is computed)
    int64_t invited_at = 0, expires_at = 0, accepted_at = 0;
    std::vector<std::string> group_ids;
};

// "<prefix>01" + 22 base58 characters; ids of one counter sort in the counter's order.
std::string base58_id(const char *prefix, uint64_t counter, uint64_t salt);
std::string normalise_email(const std::string &email);  // lower case, "+tag" of the local part dropped

class AdminView {
public:
    // Paging-B cursors handed out before this are refused from now on (400 "page cursor expired").
    void rotate_cursors() { ++cursor_generation_; }
    AdminView(Store &store, AdminConfig cfg);

    // Admin API operations: lock the store themselves, throw AdminError. `seq` is the request's number (draws).
    Reply list_members(const PageQuery &q);
    Reply get_member(const std::string &id);
    Reply set_member_role(const std::string &id, const std::string &body);
    Reply remove_member(const std::string &id);
    Reply create_invite(const std::string &body);
    Reply list_invites(const PageQuery &q);
    Reply get_invite(const std::string &id);
    Reply delete_invite(const std::string &id);
    Reply list_groups(const PageQuery &q, uint64_t seq);
    Reply get_group(const std::string &id, uint64_t seq);
    Reply create_group(const std::string &body);
    Reply rename_group(const std::string &id, const std::string &body);
    Reply delete_group(const std::string &id);
    Reply list_group_members(const std::string &id, const PageQuery &q, uint64_t seq);
    Reply add_group_member(const std::string &id, const std::string &body);
    Reply remove_group_member(const std::string &id, const std::string &user_id);
    Reply list_roles(const PageQuery &q, uint64_t seq);
    Reply get_role(const std::string &id);
    Reply list_permissions(const std::string &id, const PageQuery &q, uint64_t seq);
    bool invite_has_groups(const std::string &body) const;  // does a create body name rbac groups?

    // Truth-side actions (/_admin): the invitee accepts; the invite lapses.
    Reply accept_invite(const std::string &id);
    Reply expire_invite(const std::string &id);

    // Hooks: the Store calls them with its lock held exclusively.
    void on_user_changed(User &u);  // created, replaced, patched, soft-deleted: active <=> member
    void on_user_erased(User &u);
    void on_group_added(Group &g);
    void on_group_changed(Group &g);
    void on_group_erased(Group &g);
    void on_link(Group &g, const std::string &user_id, bool added);
    void adopt_seeded(const std::vector<User *> &users, const std::vector<Group *> &groups);

    void seed();  // members not in SCIM, direct groups, roles, invites (lock taken)
    void write_state(JsonWriter &w) const;  // caller holds the store lock
    size_t member_count() const;

private:
    std::atomic<uint64_t> cursor_generation_{0};
    // seeding (admin_seed.cpp), in this order
    void seed_roles(uint64_t &rng);
    void seed_direct_users(uint64_t &rng);
    void seed_direct_groups(uint64_t &rng);
    void attach_roles(uint64_t &rng);
    void seed_invites(uint64_t &rng);
    Invite &add_invite(const std::string &email, const std::string &role, int64_t invited_at);
    Member *member_ptr(const std::string &id) const;
    RbacGroup *group_ptr(const std::string &id) const;
    RbacGroup &group_or_404(const std::string &id) const;
    Member &add_member(const std::string &email, const std::string &name, const std::string &role, User *scim,
                       int64_t at);
    void drop_member(Member &m);
    void set_email(Member &m, const std::string &email);
    void unindex_email(Member &m);
    void link(RbacGroup &g, Member &m, int64_t at);
    bool unlink(RbacGroup &g, const std::string &user_id);
    RbacGroup &add_group(const std::string &name, Group *scim, int64_t at);
    const Member *member_by_email(const std::string &email) const;
    const Invite *pending_invite(const std::string &email) const;
    std::string invite_status(const Invite &inv) const;
    std::string new_id(const char *prefix);
    bool draw(uint64_t seq, uint64_t kind, double p) const;
    void write_member(JsonWriter &w, const Member &m) const;
    void write_invite(JsonWriter &w, const Invite &inv) const;
    void write_group(JsonWriter &w, const RbacGroup &g, bool null_roles) const;
    void write_link(JsonWriter &w, const RbacGroup &g, const GroupLink &l) const;
    void write_role(JsonWriter &w, const Role &r) const;
    void write_permission(JsonWriter &w, const Role &r, size_t i) const;
    Reply group_reply(const RbacGroup &g) const;

    Store &store_;
    AdminConfig cfg_;
    uint64_t counter_ = 0;
    int64_t started_ = 0;
    std::map<std::string, std::unique_ptr<Member>> members_;  // by id: oldest first
    std::unordered_multimap<std::string, Member *> by_email_;  // normalised e-mail -> members
    std::map<std::string, std::unique_ptr<RbacGroup>> groups_;  // by id: oldest first
    std::unordered_map<const Group *, RbacGroup *> by_scim_group_;
    std::map<std::string, Role> roles_;  // own and foreign
    std::map<std::string, std::unique_ptr<Invite>> invites_;  // by id: oldest first
};

}  // namespace scim_sim::detail
