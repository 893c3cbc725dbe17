#include "sync/admin_sync_run.hpp"

#include <algorithm>
#include <unordered_set>
#include <vector>

#include "admin/admin_records.hpp"
#include "common/errors.hpp"
#include "common/text.hpp"
#include "common/units.hpp"
#include "scim/list_walker.hpp"
#include "sync/store/id_set.hpp"

namespace ce::sync {
namespace {

// How often a group read answering `role_ids: null` ("temporarily unavailable") is read again.
constexpr unsigned kRoleIdsRereads = 2;
// SCIM walks a list at most this many times while it changes (as sync_run.cpp).
constexpr unsigned kMaxScimPasses = 3;

// The GroupList keeps three strings a group: the source type rides in the external id's place.
scim::Group stored(const admin::Group &g) { return scim::Group{g.id, g.name, g.source_type}; }
admin::Group restored(scim::Group g) {
    return admin::Group{std::move(g.id), std::move(g.display_name), std::move(g.external_id), {}};
}

// The e-mail a SCIM user is known by here: its userName when it is an address (the service's convention),
// else its primary e-mail.
std::string scim_email(const scim::User &u) {
    if (text::looks_like_email(u.user_name)) return text::ascii_lower(u.user_name);
    for (const auto &e : u.emails)
        if (e.primary) return text::ascii_lower(e.value);
    return u.emails.empty() ? std::string() : text::ascii_lower(u.emails.front().value);
}

}  // namespace

AdminSyncRun::AdminSyncRun(const admin::Client &client, const scim::Client *scim, const config::Config &config,
                           const CallContext &ctx, RecordSink &sink, SyncCounts &stats, const LogFn &log,
                           std::string_view resume_from, checkpoint::TokenScope scope)
    : client_(client),
      scim_(scim),
      config_(config),
      stats_(stats),
      out_(sink, stats, ctx, log, {&client.engine(), scim ? &scim->engine() : nullptr}),
      user_ids_(config.index_memory_kb * kKiB, config.spill_dir),
      role_ids_(store::IdIndex::kDefaultMemoryBytes / 8, config.spill_dir),
      group_ids_(store::IdIndex::kDefaultMemoryBytes / 8, config.spill_dir),
      invite_ids_(store::IdIndex::kDefaultMemoryBytes / 8, config.spill_dir),
      groups_(store::GroupList::kDefaultMemoryBytes, config.spill_dir),
      scim_inactive_ids_(store::IdIndex::kDefaultMemoryBytes / 8, config.spill_dir),
      scim_routed_(store::GroupList::kDefaultMemoryBytes, config.spill_dir),
      checkpoints_(sink, std::move(scope), std::chrono::milliseconds(config.checkpoint_interval_ms), config.spill_dir),
      resume_from_(resume_from) {}

AdminSyncRun::~AdminSyncRun() { out_.count_requests(); }

void AdminSyncRun::run() {
    begin();
    if (scim_) read_scim_ids();
    if (scim_) read_scim_groups();
    if (runs(checkpoint::kStart)) {
        emit_org_roles();
        list_roles();
        checkpoint_at(Phase::admin_members);
    }
    if (runs(Phase::admin_members)) {
        list_members();
        checkpoint_at(Phase::admin_groups);
    }
    if (runs(Phase::admin_groups)) {
        list_groups();
        checkpoint_at(Phase::admin_group_members);
    }
    if (runs(Phase::admin_group_members)) {
        read_group_members(resume_.phase == Phase::admin_group_members ? resume_.groups_done : 0);
        checkpoint_at(Phase::admin_scim_members);
    }
    if (runs(Phase::admin_scim_members) && scim_) {
        read_scim_group_members(resume_.phase == Phase::admin_scim_members ? resume_.groups_done : 0);
        checkpoint_at(Phase::admin_invites);
    }
    list_invites();
    checkpoints_.complete();
    out_.log(LogLevel::info, "sync (Admin API): " + std::to_string(stats_.resources) + " resources, " +
                            std::to_string(stats_.entitlements) + " entitlements, " + std::to_string(stats_.grants) +
                            " grants, " + std::to_string(stats_.requests) + " requests (" +
                            std::to_string(stats_.retries) + " retries)");
}

// Where the run starts; a resumed run's journal replayed, the sets of the phases it skips closed.
void AdminSyncRun::begin() {
    resume_ = checkpoints_.begin(resume_from_, *this);
    if (!checkpoints_.resumed()) return;
    anchor_ = resume_.anchor;
    if (!runs(checkpoint::kStart)) role_ids_.freeze();
    if (!runs(Phase::admin_members)) user_ids_.freeze();
    const bool counted = resume_.phase == Phase::admin_group_members || resume_.phase == Phase::admin_scim_members;
    const size_t queue = resume_.phase == Phase::admin_group_members ? groups_.size() : scim_routed_.size();
    if (counted && resume_.groups_done > queue)
        throw Error::invalid_argument("resume_from", "the resume token counts more groups done than its journal "
                                                     "holds; run a full sync (without resume_from)");
    if (!runs(Phase::admin_members) || (resume_.phase == Phase::admin_members && resume_.position > 0))
        check_same_organisation();
    out_.log(LogLevel::info, "sync (Admin API): resuming from a checkpoint: " + std::to_string(role_ids_.size()) +
                            " roles and " + std::to_string(user_ids_.size()) + " members were delivered before it, " +
                            std::to_string(groups_.size() + scim_routed_.size()) + " groups wait for their members");
}

// The key must reach the organisation the checkpoint was taken in: its first member is the one seen then.
void AdminSyncRun::check_same_organisation() {
    const std::string what = "checking the organisation of a resumed sync";
    const auto page = client_.get<admin::CursorPage<admin::Member>>(client_.url("users", {{"limit", "1"}}), what,
                                                                   &admin::parse_member_page);
    const uint64_t first = page && !page->data.empty() ? store::IdSet::fingerprint(page->data.front().id) : 0;
    if (first != anchor_)
        throw Error::invalid_argument("resume_from", "the organisation's first member is not the one it had at the "
                                                     "checkpoint: another organisation's key, or the member left; "
                                                     "run a full sync (without resume_from)");
}

void AdminSyncRun::checkpoint_at(Phase next, uint64_t groups_done, uint64_t list_pages) {
    checkpoint::ResumePoint p;
    p.phase = next;
    p.groups_done = groups_done;
    p.position = static_cast<int64_t>(list_pages);
    p.anchor = anchor_;
    checkpoints_.give(p);
}

bool AdminSyncRun::checkpoint_due() { return checkpoints_.due(); }

void AdminSyncRun::at_rest(size_t groups_done) { checkpoint_at(Phase::admin_scim_members, groups_done); }

void AdminSyncRun::replay_fingerprint(char tag, uint64_t fp) {
    if (tag == checkpoint::kUserTag) user_ids_.insert_fingerprint(fp);
    if (tag == checkpoint::kRoleTag) role_ids_.insert_fingerprint(fp);
    if (tag == checkpoint::kGroupTag) group_ids_.insert_fingerprint(fp);
    if (tag == checkpoint::kInviteTag) invite_ids_.insert_fingerprint(fp);
}

void AdminSyncRun::replay_strings(char tag, scim::Group g) {
    if (tag == checkpoint::kQueuedTag) groups_.push(g);
    if (tag == checkpoint::kScimQueuedTag) scim_routed_.push(g);
    if (tag == checkpoint::kCursorTag) {
        resume_cursor_ = std::move(g.id);
        resume_cursor_list_ = std::move(g.display_name);
    }
    if (tag == checkpoint::kScimPairTag) {
        auto [it, fresh] = user_by_scim_id_.emplace(std::move(g.id), g.display_name);
        if (!fresh && it->second != g.display_name) it->second.clear();
    }
}

// With SCIM configured: the SCIM id of each e-mail, so that a member provisioned through SCIM shows both ids.
// An e-mail that two SCIM users share names neither (kept as "").
void AdminSyncRun::read_scim_ids() {
    scim::ListWalker<scim::User> walker(
        *scim_, scim_->users_url(), {{"excludedAttributes", "groups"}}, config_.page_size, config_.concurrency,
        kMaxScimPasses, &scim::parse_user_page, "listing SCIM users (for scim_id)",
        [this](std::vector<scim::User> &fresh, const scim::PagePlanner &) {
            ++stats_.pages;
            for (const auto &u : fresh) {
                if (!u.active) scim_inactive_ids_.insert(u.id);
                const std::string email = scim_email(u);
                if (email.empty()) continue;
                auto [it, fresh_email] = scim_id_by_email_.emplace(email, u.id);
                if (!fresh_email && it->second != u.id) it->second.clear();
            }
            out_.report("scim_users");
        },
        store::IdIndex(config_.index_memory_kb * kKiB, config_.spill_dir));
    walker.hold_at_most(config_.max_response_mb * kMiB);
    walker.run();
    if (!walker.planner().doubt().empty() || !walker.planner().settled())
        warn("incomplete_scim_ids", "the SCIM user list may be incomplete (" + walker.planner().doubt() +
                                        "): some users may lack their scim_id");
    scim_user_ids_ = std::move(walker.seen());
    scim_user_ids_.freeze();
    scim_inactive_ids_.freeze();
}

// With SCIM configured: the SCIM group of each name, so that a `scim` group's members can be read through SCIM.
// A name two SCIM groups share names neither (kept as ""): such a group is read through the Admin API.
void AdminSyncRun::read_scim_groups() {
    scim::ListWalker<scim::Group> walker(
        *scim_, scim_->groups_url(), {{"excludedAttributes", "members"}}, config_.page_size, config_.concurrency,
        kMaxScimPasses, &scim::parse_group_page, "listing SCIM groups (for their members)",
        [this](std::vector<scim::Group> &fresh, const scim::PagePlanner &) {
            ++stats_.pages;
            for (const auto &g : fresh) {
                auto [it, fresh_name] = scim_group_by_name_.emplace(g.display_name, g.id);
                if (!fresh_name && it->second != g.id) it->second.clear();
            }
            out_.report("scim_groups");
        },
        store::IdIndex(store::IdIndex::kDefaultMemoryBytes / 8, config_.spill_dir));
    walker.hold_at_most(config_.max_response_mb * kMiB);
    walker.run();
    // A SCIM group the walk may have missed only means its Admin API twin is read through the Admin API.
    scim_group_ids_ = std::move(walker.seen());
    scim_group_ids_.freeze();
}

// The member a SCIM user id stands for, when their e-mails match (an id two members would share names neither).
void AdminSyncRun::note_scim_id(const admin::Member &m, const std::string &scim_id) {
    if (scim_id.empty()) return;
    auto [it, fresh] = user_by_scim_id_.emplace(scim_id, m.id);
    if (!fresh && it->second != m.id) it->second.clear();
    checkpoints_.note(checkpoint::kScimPairTag, scim::Group{scim_id, m.id, {}});
}

// A `scim` group whose name names exactly one SCIM group is read through SCIM (its own budget, many requests at
// once); true when it was set aside for that.
bool AdminSyncRun::route_through_scim(const admin::Group &g) {
    if (!scim_ || g.source_type != "scim") return false;
    const auto it = scim_group_by_name_.find(g.name);
    if (it == scim_group_by_name_.end() || it->second.empty()) return false;
    scim_routed_.push(scim::Group{it->second, g.name, g.id});
    checkpoints_.note(checkpoint::kScimQueuedTag, scim::Group{it->second, g.name, g.id});
    return true;
}

void AdminSyncRun::read_scim_group_members(size_t done) {
    if (scim_routed_.size() == 0) return;
    out_.log(LogLevel::info, "sync (Admin API): the members of " + std::to_string(scim_routed_.size()) +
                            " scim groups are read through SCIM");
    MembershipFetcher fetcher(*scim_, scim_routed_, scim_user_ids_, scim_group_ids_, config_.concurrency, *this);
    fetcher.run(done);
}

// A member of a group read through SCIM: the member with that SCIM user's e-mail; none for a deactivated SCIM
// user (it holds no seat, so the service counts it in no group); else an unresolved grant.
void AdminSyncRun::member(const scim::Group &group, const char *principal_type, std::string_view id, bool resolved) {
    const std::string &gid = group.external_id;
    std::string uid;
    const bool user = std::string_view(principal_type) == "user";
    if (resolved && user && scim_inactive_ids_.contains(id)) {
        ++skipped_by_group_[group.id];
        return;
    }
    if (resolved && user) {
        const auto it = user_by_scim_id_.find(std::string(id));
        if (it != user_by_scim_id_.end()) uid = it->second;
    }
    if (uid.empty()) {
        ++stats_.unresolved;
        warn("unresolved_member", "group " + gid + " has a SCIM member " + principal_type + " " +
                                      text::one_line(id, 80) +
                                      " that no member of the Admin API matches by e-mail; the grant is flagged "
                                      "unresolved");
        out_.grant(admin::make_grant(admin::group_entitlement_id(gid), principal_type, std::string(id), true));
        return;
    }
    out_.grant(admin::make_grant(admin::group_entitlement_id(gid), "user", uid, false));
}

void AdminSyncRun::group_done(const scim::Group &group, size_t members) {
    if (const auto it = skipped_by_group_.find(group.id); it != skipped_by_group_.end()) {
        members -= std::min(members, it->second);
        skipped_by_group_.erase(it);
    }
    out_.resource(admin::group_resource(admin::Group{group.external_id, group.display_name, "scim", {}},
                                   static_cast<int64_t>(members)));
    ++stats_.pages;
    out_.report("memberships", groups_.size() + scim_routed_.size());
}

void AdminSyncRun::emit_org_roles() {
    for (const auto &r : admin::kOrgRoles) {
        out_.resource(admin::org_role_resource(r));
        out_.entitlement(admin::org_role_entitlement(r));
    }
}

void AdminSyncRun::list_roles() {
    const auto end = admin::walk_token_pages<admin::Role>(
        client_, "rbac_roles", &admin::parse_role_page, "listing roles", [this](std::vector<admin::Role> &page) {
            ++stats_.pages;
            for (const auto &r : page) {
                if (!role_ids_.insert(r.id)) continue;  // listed twice
                checkpoints_.note(checkpoint::kRoleTag, store::IdSet::fingerprint(r.id));
                out_.resource(admin::role_resource(r));
                out_.entitlement(admin::role_entitlement(r));
            }
            out_.report("roles");
        });
    warn_if_contradicted(end, "role");
    role_ids_.freeze();
}

// The cursor a resumed walk of `list` starts from: the journal's, when the token was given in the middle of it.
std::string AdminSyncRun::mid_list_cursor(Phase phase, const char *list) const {
    if (!checkpoints_.resumed() || resume_.phase != phase || resume_.position == 0) return {};
    if (resume_cursor_.empty() || resume_cursor_list_ != list)
        throw Error::invalid_argument("resume_from", std::string("the journal holds no cursor for the ") + list +
                                                         " list the token was given in; run a full sync (without "
                                                         "resume_from)");
    return resume_cursor_;
}

template <typename Walk>
admin::WalkEnd AdminSyncRun::walk_list(Phase phase, const char *list, Walk walk) {
    admin::WalkResume from{mid_list_cursor(phase, list), [this, phase, list](const std::string &next) {
                               ++list_pages_;
                               if (!checkpoints_.due()) return;
                               checkpoints_.note(checkpoint::kCursorTag, scim::Group{next, list, {}});
                               checkpoint_at(phase, 0, list_pages_);
                           }};
    list_pages_ = 0;
    if (from.cursor.empty()) return walk(from);
    try {
        return walk(from);
    } catch (const Error &e) {
        const long status = e.http_status();
        const bool refused = status == 400 || status == 404 || status == 410 || status == 422;
        if (list_pages_ > 0 || !refused) throw;
    }
    out_.log(LogLevel::info, std::string("sync (Admin API): the service refused the cursor the ") + list +
                                 " list was interrupted at: it is read again from its start; what was delivered "
                                 "before is not delivered again");
    from.cursor.clear();
    list_pages_ = 0;
    return walk(from);
}

void AdminSyncRun::list_members() {
    const auto end = walk_list(Phase::admin_members, "members", [this](const admin::WalkResume &from) {
        return admin::walk_cursor_pages<admin::Member>(
            client_, "users", &admin::parse_member_page, "listing members",
            [this](std::vector<admin::Member> &page) { deliver_members(page); }, {}, from);
    });
    warn_if_contradicted(end, "member");
    user_ids_.freeze();
}

// Each member not delivered before: the user, with its scim_id when SCIM knows the e-mail, and its org role grant.
void AdminSyncRun::deliver_members(const std::vector<admin::Member> &page) {
    ++stats_.pages;
    for (const auto &m : page) {
        if (!user_ids_.insert(m.id)) continue;
        if (anchor_ == 0) anchor_ = store::IdSet::fingerprint(m.id);
        checkpoints_.note(checkpoint::kUserTag, store::IdSet::fingerprint(m.id));
        const auto scim = scim_id_by_email_.find(text::ascii_lower(m.email));
        const std::string scim_id = scim == scim_id_by_email_.end() ? "" : scim->second;
        note_scim_id(m, scim_id);
        out_.resource(admin::user_resource(m, scim_id));
        const bool known = admin::is_org_role(m.role);
        if (!known) ++stats_.unresolved;
        if (!known)
            warn("unknown_org_role", "member " + m.id + " holds the organisation role \"" +
                                         text::one_line(m.role, 64) +
                                         "\", which is not an Enterprise role; its grant is flagged unresolved");
        out_.grant(admin::make_grant(admin::org_role_entitlement_id(m.role.empty() ? "unknown" : m.role), "user", m.id,
                                     !known));
    }
    out_.report("users");
}

void AdminSyncRun::list_groups() {
    const auto end = walk_list(Phase::admin_groups, "groups", [this](const admin::WalkResume &from) {
        return admin::walk_token_pages<admin::Group>(
            client_, "rbac_groups", &admin::parse_group_page, "listing groups",
            [this](std::vector<admin::Group> &page) { deliver_groups(page); }, from);
    });
    warn_if_contradicted(end, "group");
    group_ids_.freeze();
}

// Each group not delivered before: its entitlement and role grants now; queued for its members (through SCIM, or
// through the Admin API).
void AdminSyncRun::deliver_groups(std::vector<admin::Group> &page) {
    ++stats_.pages;
    for (auto &g : page) {
        if (!group_ids_.insert(g.id)) continue;  // listed twice, or delivered before the checkpoint
        checkpoints_.note(checkpoint::kGroupTag, store::IdSet::fingerprint(g.id));
        out_.entitlement(admin::group_entitlement(g));
        grant_roles(g);
        if (route_through_scim(g)) continue;
        groups_.push(stored(g));
        checkpoints_.note(checkpoint::kQueuedTag, stored(g));
    }
    out_.report("groups");
}

// The roles a group holds. `role_ids: null` means the service could not say: read again, then warn (never "no
// roles").
void AdminSyncRun::grant_roles(const admin::Group &listed) {
    std::optional<std::vector<std::string>> role_ids = listed.role_ids;
    for (unsigned i = 0; !role_ids && i < kRoleIdsRereads; ++i) {
        const auto again = client_.get_group(listed.id);
        if (!again) break;  // deleted meanwhile: its members will say the rest
        role_ids = again->role_ids;
    }
    if (!role_ids) {
        warn("incomplete_group_roles", "the roles of group " + listed.id + " (" + text::one_line(listed.name, 80) +
                                           ") were unavailable (role_ids: null after " +
                                           std::to_string(kRoleIdsRereads + 1) +
                                           " reads): its role grants may be missing; sync again");
        return;
    }
    std::unordered_set<std::string> seen;
    for (const auto &rid : *role_ids) {
        if (!seen.insert(rid).second) continue;
        const bool known = role_ids_.contains(rid);
        if (!known) ++stats_.unresolved;
        if (!known)
            warn("unresolved_role", "group " + listed.id + " holds role " + rid +
                                        ", which the role list did not name; the grant is flagged unresolved");
        out_.grant(admin::make_grant(admin::role_entitlement_id(rid), "group", listed.id, !known));
    }
}

// From the group after the first `done` (a resumed run), with a checkpoint between two groups when one is due.
void AdminSyncRun::read_group_members(size_t done) {
    const size_t total = groups_.size();
    for (size_t i = 0; i < done; ++i) groups_.next();
    for (size_t i = done; i < total; ++i) {
        if (checkpoints_.due()) checkpoint_at(Phase::admin_group_members, i);
        read_members_of(restored(groups_.next()));
    }
}

void AdminSyncRun::read_members_of(const admin::Group &group) {
    std::unordered_set<uint64_t> seen;  // fingerprints of this group's members (a repeated row counts once)
    const std::string what = "listing the members of group " + group.id;
    const auto end = admin::walk_token_pages<admin::GroupMember>(
        client_, "rbac_groups/" + admin::path_segment(group.id) + "/members", &admin::parse_group_member_page, what,
        [&](std::vector<admin::GroupMember> &page) {
            for (const auto &m : page) {
                if (!m.group_id.empty() && m.group_id != group.id)
                    throw client_.malformed(what, "a member row names another group (" +
                                                      text::one_line(m.group_id, 80) + ")", 200);
                if (!seen.insert(store::IdSet::fingerprint(m.user_id)).second) continue;
                const bool known = user_ids_.contains(m.user_id);
                if (!known) {
                    ++stats_.unresolved;
                    warn("unresolved_member", "group " + group.id + " has a member user " + m.user_id +
                                                  " that names no user of this sync; the grant is flagged unresolved");
                }
                out_.grant(admin::make_grant(admin::group_entitlement_id(group.id), "user", m.user_id, !known));
            }
        });
    warn_if_contradicted(end, "group member");
    out_.resource(admin::group_resource(group, static_cast<int64_t>(seen.size())));
    ++stats_.pages;
    out_.report("memberships", groups_.size() + scim_routed_.size());
}

void AdminSyncRun::list_invites() {
    const auto end = walk_list(Phase::admin_invites, "invites", [this](const admin::WalkResume &from) {
        return admin::walk_cursor_pages<admin::Invite>(
            client_, "invites", &admin::parse_invite_page, "listing invites",
            [this](std::vector<admin::Invite> &page) { deliver_invites(page); }, {}, from);
    });
    warn_if_contradicted(end, "invite");
}

void AdminSyncRun::deliver_invites(const std::vector<admin::Invite> &page) {
    ++stats_.pages;
    for (const auto &i : page) {
        if (!invite_ids_.insert(i.id)) continue;  // listed twice, or delivered before the checkpoint
        checkpoints_.note(checkpoint::kInviteTag, store::IdSet::fingerprint(i.id));
        out_.resource(admin::invite_resource(i));
    }
    out_.report("invites");
}

void AdminSyncRun::warn(std::string_view code, const std::string &message) { out_.warn(code, message); }

void AdminSyncRun::warn_if_contradicted(admin::WalkEnd end, const char *what) {
    if (end == admin::WalkEnd::complete) return;
    warn("incomplete_listing", std::string("the ") + what +
                                   " list may be incomplete: a page said more follow (has_more) but gave no next_page "
                                   "to continue from");
}

}  // namespace ce::sync
