// The simulator's data store and SCIM resource logic (no HTTP here: server.cpp adapts it).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace scim_sim::detail {

// A SCIM error: thrown by the store, rendered as an Error message by the server.
struct ScimError : std::runtime_error {
    int status;
    std::string scim_type;
    ScimError(int st, std::string type, const std::string &detail)
        : std::runtime_error(detail), status(st), scim_type(std::move(type)) {}
};

enum class MemberKind : uint8_t { User, Group };

struct User {
    std::string id, user_name, user_name_lc, given_name, family_name, display_name, email, external_id;
    bool has_external_id = false;
    bool active = true;
    bool drift = false;  // created by --drift
    std::string member_id;  // its Admin API member (user_...), while it is one (Admin API enabled and active)
    int64_t created = 0, modified = 0;
    std::set<std::string> groups;  // ids of the groups that list this user as a direct member
    // The default JSON representation, built on first read and dropped (under the exclusive lock) by any change
    // that alters it: the user itself, its memberships, the name of one of its groups.
    // Filled under the shared store lock plus a striped cache mutex; dropped under the exclusive store lock.
    mutable std::shared_ptr<const std::string> json_cache;
    void touch() { json_cache.reset(); }
};

struct Group {
    std::string id, display_name, external_id;
    bool has_external_id = false;
    int64_t created = 0, modified = 0;
    std::map<std::string, MemberKind> members;  // member id -> kind (ordered: deterministic output)
    std::set<std::string> parents;              // groups that list this group as a member
};

// Which attributes a response carries (RFC 7644 3.4.2.5). Names are compared case-insensitively and by their
// top-level part ("name.givenName" selects "name").
struct AttrSel {
    std::set<std::string> include, exclude;  // lower case
    static AttrSel parse(const std::string &attributes, const std::string &excluded);
    bool want(std::string_view attr_lc) const;
    bool is_default() const { return include.empty() && exclude.empty(); }
};

// Parsed filter: clauses joined by `and`, each `<attr> eq <value>`.
struct Clause {
    std::string attr;  // lower case
    std::string value;
    bool is_bool = false;
    bool bool_value = false;
};
std::vector<Clause> parse_filter(std::string_view text);  // throws ScimError 400 invalidFilter

struct Reply {
    int status = 200;
    std::string body;
    std::string location;
};

struct ListQuery {
    std::string filter, attributes, excluded;
    long long start_index = 1;
    long long count = -1;  // -1: absent
};

class AdminView;
struct AdminConfig;

struct SeedSpec {
    uint64_t seed = 1;
    size_t users = 0, groups = 0, members = 0;
};

class Store {
public:
    Store(uint64_t seed, size_t max_page_size, bool soft_delete, int patch_response);
    // How GET /Groups lists members, for modelling other servers: omitted (a single GET still returns them), or cut
    // to at most `cap` a group (0: all, as WorkOS and most servers list them).
    void set_list_members(bool omit, size_t cap) {
        list_omits_members_ = omit;
        list_members_cap_ = cap;
    }
    ~Store();

    // The Admin API view of the same organisation (admin_store.cpp); before seeding. admin() is null without it.
    void enable_admin(const AdminConfig &cfg);
    AdminView *admin() const { return admin_.get(); }

    void set_base_url(std::string url) { base_url_ = std::move(url); }
    void seed(const SeedSpec &spec);
    void load_file(const std::string &path);  // throws std::runtime_error

    // SCIM operations. `body` is the raw request body. Throw ScimError.
    Reply list_users(const ListQuery &q);
    Reply get_user(const std::string &id, const AttrSel &sel);
    Reply create_user(const std::string &body);
    Reply replace_user(const std::string &id, const std::string &body);
    Reply patch_user(const std::string &id, const std::string &body);
    Reply delete_user(const std::string &id);

    Reply list_groups(const ListQuery &q);
    Reply get_group(const std::string &id, const AttrSel &sel);
    Reply create_group(const std::string &body);
    Reply replace_group(const std::string &id, const std::string &body);
    Reply patch_group(const std::string &id, const std::string &body);
    Reply delete_group(const std::string &id);

    std::string service_provider_config() const;
    std::string resource_types(const std::string &which) const;  // "" = list
    std::string schemas(const std::string &which) const;         // "" = list

    // --drift: one step before a GET /Users list request that starts at `start_index`.
    struct DriftResult { int created = 0, deleted = 0; };
    DriftResult drift_step(long long start_index);

    std::string state_json() const;
    size_t user_count() const;
    size_t group_count() const;
    size_t membership_count() const;
    std::vector<std::string> user_ids() const;
    std::vector<std::string> group_ids() const;
    std::string find_user(const std::string &user_name) const;
    std::vector<std::string> group_members(const std::string &group_id) const;

private:
    friend class AdminView;
    // All private helpers expect the caller to hold mu_ (shared or exclusive as appropriate).
    User *user_ptr(const std::string &id) const;
    Group *group_ptr(const std::string &id) const;
    std::string new_id();
    User &insert_user(std::unique_ptr<User> u);
    Group &insert_group(std::unique_ptr<Group> g);
    void erase_user(const std::string &id);
    void erase_group(const std::string &id);
    void add_member(Group &g, const std::string &member_id, MemberKind kind);
    void remove_member(Group &g, const std::string &member_id);
    void rename_user(User &u, const std::string &new_name);
    std::string user_json(const User &u, const AttrSel &sel) const;
    std::shared_ptr<const std::string> cached_user_json(const User &u) const;
    void touch_members(const Group &g);
    std::string group_json(const Group &g, const AttrSel &sel) const;
    template <class W> void write_user(W &w, const User &u, const AttrSel &sel) const;
    // member_cap: at most that many members (0: all).
    template <class W> void write_group(W &w, const Group &g, const AttrSel &sel, size_t member_cap = 0) const;
    template <class W> void write_meta(W &w, const char *type, const std::string &path, int64_t created,
                                       int64_t modified) const;

    mutable std::shared_mutex mu_;
    mutable std::array<std::mutex, 64> cache_mu_;  // striped by user address: guards User::json_cache fills
    std::unordered_map<std::string, std::unique_ptr<User>> users_;
    std::vector<User *> user_order_;  // sorted by id
    std::unordered_map<std::string, User *> by_name_;  // lower-case userName -> user
    std::unordered_map<std::string, std::unique_ptr<Group>> groups_;
    std::vector<Group *> group_order_;  // sorted by id
    size_t memberships_ = 0;

    uint64_t id_state_;
    uint64_t drift_state_;
    uint64_t drift_serial_ = 0;
    std::vector<std::string> drift_ids_;  // live drift users
    std::string base_url_;
    std::unique_ptr<AdminView> admin_;
    size_t max_page_size_;
    bool list_omits_members_ = false;
    size_t list_members_cap_ = 0;
    bool soft_delete_;
    int patch_response_;
};

// Small deterministic PRNG (splitmix64).
inline uint64_t splitmix64(uint64_t &state) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
inline double unit_double(uint64_t x) { return static_cast<double>(x >> 11) * 0x1.0p-53; }

std::string to_lower(std::string_view s);
std::string iso8601(int64_t epoch_seconds);
int64_t now_seconds();
std::string error_json(int status, const std::string &scim_type, const std::string &detail);

}  // namespace scim_sim::detail
