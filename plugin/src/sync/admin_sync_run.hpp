// One sync through the Admin API (issue 14; README "What each source sees"): the fixed organisation roles, the
// custom roles, every member (with a grant of their organisation role), every group (an entitlement now, the
// role grants from its role_ids, the group itself once its members are read), the members of each group, then
// the invites. Every record streams to the sink as its page arrives. Kept meanwhile: the ids of users and roles
// (store/id_index.hpp, bounded memory) and the groups waiting for their members (store/group_list.hpp); with SCIM
// also configured, the SCIM ids by e-mail (for the users' scim_id) and the SCIM groups by name, read first through
// SCIM's own budget. Admin API requests go out one at a time: under the API's per-minute limit the pacing, not
// latency, sets the speed. So with SCIM configured, the members of each `scim` group whose name names exactly one
// SCIM group are read through SCIM (sync/membership_fetcher.hpp, SCIM's larger budget, concurrently) and joined to
// the members by e-mail; every other group's members through the Admin API (README "What each source sees").
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

#include "admin/admin_client.hpp"
#include "admin/admin_paging.hpp"
#include "common/call_context.hpp"
#include "common/log.hpp"
#include "common/records.hpp"
#include "config/config.hpp"
#include "scim/scim_client.hpp"
#include "sync/checkpoint/checkpointer.hpp"
#include "sync/delivery.hpp"
#include "sync/membership_fetcher.hpp"
#include "sync/store/group_list.hpp"
#include "sync/store/id_index.hpp"

namespace ce::sync {

// Checkpoints (plugin/README.md, "Resuming an interrupted sync"): at every phase boundary and, while the groups'
// members are read, every checkpoint-interval-ms between two groups. A resumed run reads the SCIM lists again
// (maps no token holds, read through SCIM's budget), checks that the key reaches the same organisation (its first
// member), replays the journal (the ids of the roles, members, groups and invites delivered, the SCIM id pairs, the
// groups waiting for their members, the cursor of an interrupted list) and goes on at the phase and group the token
// names. The lists of members, groups and invites checkpoint between their pages too: a resumed walk starts at the
// cursor the journal noted with that checkpoint (the roles list, a page or two, is read again whole).
class AdminSyncRun : private MembershipSink, private checkpoint::JournalReplay {
public:
    // `scim` may be null (no SCIM configured): users then carry no scim_id.
    AdminSyncRun(const admin::Client &client, const scim::Client *scim, const config::Config &config,
                 const CallContext &ctx, RecordSink &sink, SyncCounts &stats, const LogFn &log,
                 std::string_view resume_from = {}, checkpoint::TokenScope scope = {});
    ~AdminSyncRun() override;
    AdminSyncRun(const AdminSyncRun &) = delete;
    AdminSyncRun &operator=(const AdminSyncRun &) = delete;

    void run();

private:
    using Phase = checkpoint::Phase;
    void begin();
    bool runs(Phase phase) const { return resume_.phase <= phase; }
    // The phase boundary checkpoint before `next`.
    void checkpoint_at(Phase next, uint64_t groups_done = 0, uint64_t list_pages = 0);
    void check_same_organisation();
    bool checkpoint_due() override;
    void at_rest(size_t groups_done) override;
    void replay_fingerprint(char tag, uint64_t fp) override;
    void replay_strings(char tag, scim::Group g) override;
    void read_scim_ids();
    void read_scim_groups();
    void note_scim_id(const admin::Member &m, const std::string &scim_id);
    bool route_through_scim(const admin::Group &g);
    void read_scim_group_members(size_t done);
    // MembershipSink: the members of the groups read through SCIM, named by SCIM ids.
    void member(const scim::Group &group, const char *principal_type, std::string_view id, bool resolved) override;
    void group_done(const scim::Group &group, size_t members) override;
    void emit_org_roles();
    void list_roles();
    void list_members();
    void deliver_members(const std::vector<admin::Member> &page);
    void list_groups();
    void deliver_groups(std::vector<admin::Group> &page);
    void grant_roles(const admin::Group &group);
    void read_group_members(size_t done);
    void read_members_of(const admin::Group &group);
    void list_invites();
    void deliver_invites(const std::vector<admin::Invite> &page);
    // A list walk that checkpoints between its pages and, resumed in its phase, starts at the journal's cursor
    // (the list read again from its start when the service refuses that cursor: nothing is delivered twice).
    template <typename Walk>
    admin::WalkEnd walk_list(Phase phase, const char *list, Walk walk);
    std::string mid_list_cursor(Phase phase, const char *list) const;

    void warn(std::string_view code, const std::string &message) override;
    void warn_if_contradicted(admin::WalkEnd end, const char *what);

    const admin::Client &client_;
    const scim::Client *scim_;
    const config::Config &config_;
    SyncCounts &stats_;
    Delivery out_;
    store::IdIndex user_ids_;
    store::IdIndex role_ids_;
    store::IdIndex group_ids_;   // groups listed (a group listed twice counts once; replayed on resume)
    store::IdIndex invite_ids_;  // invites listed (likewise)
    store::GroupList groups_;
    std::unordered_map<std::string, std::string> scim_id_by_email_;  // lower-case e-mail -> SCIM id ("" if shared)
    // With SCIM configured: what reading the `scim` groups' members through SCIM needs.
    store::IdIndex scim_user_ids_;
    store::IdIndex scim_group_ids_;
    store::IdIndex scim_inactive_ids_;  // deactivated SCIM users: no seat, so not members of any group here
    std::unordered_map<std::string, size_t> skipped_by_group_;  // SCIM group id -> its deactivated members
    std::unordered_map<std::string, std::string> scim_group_by_name_;  // displayName -> SCIM id ("" if shared)
    std::unordered_map<std::string, std::string> user_by_scim_id_;    // SCIM id -> member id ("" if shared)
    store::GroupList scim_routed_;  // {SCIM id, name, Admin API id} of the groups read through SCIM

    checkpoint::Checkpointer checkpoints_;
    checkpoint::ResumePoint resume_;  // where this run starts
    uint64_t anchor_ = 0;             // fingerprint of the organisation's first member
    std::string resume_cursor_, resume_cursor_list_;  // the journal's last cursor (kCursorTag) and its list
    uint64_t list_pages_ = 0;         // pages of the list being walked handed over with more to follow
    std::string resume_from_;
};

}  // namespace ce::sync
