#include "sync/sync_run.hpp"

#include <algorithm>
#include <vector>

#include "common/errors.hpp"
#include "common/units.hpp"
#include "scim/list_walker.hpp"
#include "scim/scim_records.hpp"

namespace ce::sync {
namespace {

// How many times a list is walked at most while it keeps changing under the walk.
constexpr unsigned kMaxPasses = 3;
// The least a group page may keep until it is delivered, whatever max-response-mb and concurrency say.
constexpr size_t kMinPageBudget = 256 * kKiB;
// Group pages in flight at once (at most `concurrency`). A page of groups with their members is megabytes that
// the server renders and we parse: the work is bytes, not waiting, and pages are delivered in order. With 16 in
// flight they all finished together, late, and a sync could neither deliver nor checkpoint until the slowest
// early page came; with 4 they finish in order, and the 100k org's sync was as fast (3.09 s against 3.15-3.63 s,
// bench/resume.sh's org, same run) and checkpointed through the phase.
constexpr unsigned kGroupPageWindow = 4;

}  // namespace

SyncRun::SyncRun(const scim::Client &client, const config::Config &config, const CallContext &ctx, RecordSink &sink,
                 SyncStats &stats, const LogFn &log, std::string_view resume_from, checkpoint::TokenScope scope)
    : client_(client),
      config_(config),
      stats_(stats),
      out_(sink, stats, ctx, log, {&client.engine()}),
      // The group list is written once and read once, in order: spilling it costs one sequential write and read,
      // so it keeps less in memory than the id indexes, which are searched.
      groups_(std::min(index_memory_bytes(), store::GroupList::kDefaultMemoryBytes), config.spill_dir),
      checkpoints_(sink, std::move(scope), std::chrono::milliseconds(config.checkpoint_interval_ms), config.spill_dir),
      replayed_users_(new_index()),
      replayed_groups_(new_index()),
      resume_from_(resume_from) {}

SyncRun::~SyncRun() { out_.count_requests(); }

// The sets of ids keep at most index-memory-kb each in memory and the group list at most 256 KiB, the rest in a
// temporary file (store/id_index.hpp, store/group_list.hpp): a sync's memory does not grow with the organisation.
size_t SyncRun::index_memory_bytes() const { return config_.index_memory_kb * kKiB; }

store::IdIndex SyncRun::new_index() const { return store::IdIndex(index_memory_bytes(), config_.spill_dir); }

void SyncRun::run() {
    begin();
    if (resume_.phase == Phase::users) {
        list_users();
        checkpoint_boundary(Phase::groups);
    } else {
        user_ids_ = std::move(replayed_users_);
        user_ids_.freeze();
    }
    if (resume_.phase <= Phase::groups) {
        if (config_.members_from_group_pages()) walk_group_pages();
        else list_groups();
        checkpoint_boundary(Phase::memberships);
    } else {
        group_ids_ = std::move(replayed_groups_);
        group_ids_.freeze();
    }
    read_memberships();
    checkpoints_.complete();
    out_.log(LogLevel::info, "sync: " + std::to_string(stats_.resources) + " resources, " +
                            std::to_string(stats_.entitlements) + " entitlements, " + std::to_string(stats_.grants) +
                            " grants, " + std::to_string(stats_.requests) + " requests (" +
                            std::to_string(stats_.retries) + " retries)" +
                            (checkpoints_.given() ? ", " + std::to_string(checkpoints_.given()) + " checkpoints"
                                                  : std::string()));
}

// Where the run starts: from the start, or where the checkpoint token says (its journal replayed).
void SyncRun::begin() {
    resume_ = checkpoints_.begin(resume_from_, *this);
    if (!checkpoints_.resumed()) return;
    if (resume_.phase == Phase::memberships && resume_.groups_done > groups_.size())
        throw Error::invalid_argument("resume_from", "the resume token counts more groups done than its journal "
                                                     "holds; run a full sync (without resume_from)");
    static constexpr const char *kNames[] = {"", "users", "groups", "memberships"};
    out_.log(LogLevel::info, std::string("sync: resuming from a checkpoint in the ") +
                            kNames[static_cast<unsigned>(resume_.phase)] + " phase: " +
                            std::to_string(replayed_users_.size()) + " users and " +
                            std::to_string(replayed_groups_.size()) + " groups were delivered before it, " +
                            std::to_string(groups_.size()) + " groups wait for their members");
}

// Walks one list (at most start.passes times while it changes), hands every resource never seen before to
// `deliver` page by page, says so when the listing cannot prove it is complete (if `last`), and returns the ids
// it saw.
template <typename T, typename Deliver>
store::IdIndex SyncRun::walk(const ListSpec<T> &list, const WalkStart &start, store::IdIndex seen, Deliver deliver,
                             bool last, bool &exact) {
    scim::ListWalker<T> walker(
        client_, list.url, {{"excludedAttributes", list.excluded}}, config_.page_size, config_.concurrency,
        start.passes, list.parse, std::string("listing ") + list.noun + "s",
        [&](std::vector<T> &fresh, const scim::PagePlanner &planner) {
            ++stats_.pages;
            for (auto &r : fresh) deliver(r);
            out_.report(list.phase, static_cast<uint64_t>(planner.total_hint()));
        },
        std::move(seen));
    walker.start_at(start.first);
    walker.hold_at_most(config_.max_response_mb * kMiB);
    walker.on_delivered([&](const scim::PageSpan &span) { on_page(span, walker.planner()); });
    walker.run();
    exact = !moved_ && walker.planner().settled() && walker.planner().doubt().empty();
    if (last) warn_incomplete(walker.planner(), list.noun);
    passes_ = walker.planner().passes();
    return std::move(walker.seen());
}

// The walks of one list: a full walk; or, resuming in this phase, the rest of the interrupted pass from the
// checkpoint's frontier, then, unless that proved the list unmoved, the whole list again (what was delivered
// before is in `seen`: it is not delivered twice).
template <typename RunWalk>
store::IdIndex SyncRun::walk_phase(Phase phase, store::IdIndex seen, RunWalk run_walk) {
    phase_ = phase;
    bool exact = false;
    WalkStart full{1, kMaxPasses, 0};
    if (checkpoints_.resumed() && resume_.phase == phase) {
        full = {1, std::max(1u, kMaxPasses - std::min(kMaxPasses, resume_.pass + 1)), resume_.pass + 1};
        if (!resume_.pass_changed) {
            walk_start_ = {std::max<int64_t>(resume_.position, 1), 1, resume_.pass};
            frontier_.start_at(resume_.pass, resume_.position, resume_.position_fp);
            moved_ = false;
            seen = run_walk(walk_start_, std::move(seen), false, exact);
            if (exact) {
                seen.freeze();
                return seen;
            }
        }
        out_.log(LogLevel::info, "sync: the list moved while the sync was interrupted (or during the pass it stopped "
                            "in): it is walked again from its start; what was delivered before is not delivered again");
    }
    walk_start_ = full;
    frontier_ = {};
    moved_ = false;
    seen = run_walk(walk_start_, std::move(seen), true, exact);
    seen.freeze();
    return seen;
}

// 1. Users, streamed page by page, without the groups each user is in (the member lists say that, and the users'
// side would make the pages half as large again: bench/MEMBERS.md).
void SyncRun::list_users() {
    const ListSpec<scim::User> list{client_.users_url(), "groups", &scim::parse_user_page, "user", "users"};
    const auto deliver = [this](const scim::User &u) {
        out_.resource(scim::user_resource(u));
        checkpoints_.user(store::IdSet::fingerprint(u.id));
    };
    user_ids_ = walk_phase(Phase::users, std::move(replayed_users_),
                           [&](const WalkStart &start, store::IdIndex seen, bool last, bool &exact) {
                               return walk(list, start, std::move(seen), deliver, last, exact);
                           });
    const std::string spilled = " KiB in " + std::to_string(user_ids_.spills()) + " spills)";
    out_.log(LogLevel::info, "sync: " + std::to_string(user_ids_.size()) + " users in " + std::to_string(passes_) +
                            " pass(es)" +
                            (user_ids_.spilled() ? "; their ids spilled to a temporary file (" +
                                                       std::to_string(user_ids_.disk_bytes() / kKiB) + spilled
                                                 : std::string()));
}

// 2. Groups without their members; an entitlement per group now, the group itself once its members are known.
void SyncRun::list_groups() {
    const ListSpec<scim::Group> list{client_.groups_url(), "members", &scim::parse_group_page, "group", "groups"};
    const auto deliver = [this](const scim::Group &g) {
        out_.entitlement(scim::member_entitlement(g.id, g.display_name));
        groups_.push(g);
        checkpoints_.group(store::IdSet::fingerprint(g.id));
        checkpoints_.queued(g);
    };
    group_ids_ = walk_phase(Phase::groups, std::move(replayed_groups_),
                            [&](const WalkStart &start, store::IdIndex seen, bool last, bool &exact) {
                                return walk(list, start, std::move(seen), deliver, last, exact);
                            });
}

// 2 and 3 together: the groups with their members, a page at a time (sync/group_page_walk.hpp).
void SyncRun::walk_group_pages() {
    if (checkpoints_.resumed() && resume_.phase == Phase::groups) longest_listed_ = resume_.longest_listed;
    group_ids_ = walk_phase(Phase::groups, std::move(replayed_groups_),
                            [this](const WalkStart &start, store::IdIndex seen, bool last, bool &exact) {
                                return walk_group_pages_from(start, std::move(seen), last, exact);
                            });
}

store::IdIndex SyncRun::walk_group_pages_from(const WalkStart &start, store::IdIndex seen, bool last, bool &exact) {
    GroupPageWalk::Settings settings;
    settings.page_size = config_.page_size;
    settings.window = std::min(kGroupPageWindow, config_.concurrency);
    settings.max_passes = start.passes;
    // Half of what every answer in flight may hold together, shared by the pages in flight.
    settings.page_budget_bytes = std::max<size_t>(kMinPageBudget, config_.max_response_mb * kMiB / (2 * std::max(1u, settings.window)));
    settings.index_memory_bytes = index_memory_bytes();
    settings.spill_dir = config_.spill_dir;
    settings.first_position = start.first;
    settings.longest_listed = longest_listed_;
    GroupPageWalk walk(client_, settings, user_ids_, groups_, *this, std::move(seen));
    group_walk_ = &walk;
    walking_pages_ = true;
    walk.run();
    walking_pages_ = false;
    group_walk_ = nullptr;
    exact = !moved_ && walk.planner().settled() && walk.planner().doubt().empty();
    if (last) warn_incomplete(walk.planner(), "group");
    longest_listed_ = walk.longest_listed();
    log_group_pages(walk.counts());
    return std::move(walk.seen());
}

void SyncRun::log_group_pages(const GroupPageCounts &c) {
    const uint64_t alone = c.not_listed + c.nested + c.too_large + c.longest;
    out_.log(LogLevel::info, "sync: the members of " + std::to_string(c.from_pages) + " groups came with the group pages; " +
                            std::to_string(alone) + " groups are read on their own (" + std::to_string(c.not_listed) +
                            " listed without members, " + std::to_string(c.nested) +
                            " with members that are groups or unknown, " + std::to_string(c.too_large) +
                            " too large for a page, " + std::to_string(c.longest) +
                            " with the longest member lists so far, checked against a list cut short)");
}

void SyncRun::listed(const scim::Group &g) {
    out_.entitlement(scim::member_entitlement(g.id, g.display_name));
    checkpoints_.group(store::IdSet::fingerprint(g.id));
}

void SyncRun::queued(const scim::Group &g) { checkpoints_.queued(g); }

void SyncRun::page_done(const scim::PagePlanner &planner, const scim::PageSpan &span) {
    ++stats_.pages;
    out_.report("groups", static_cast<uint64_t>(planner.total_hint()));
    on_page(span, planner);
}

// 3. The members of each group left (sync/membership_fetcher.hpp).
void SyncRun::read_memberships() {
    phase_ = Phase::memberships;
    const bool resumed_here = checkpoints_.resumed() && resume_.phase == Phase::memberships;
    MembershipFetcher fetcher(client_, groups_, user_ids_, group_ids_, config_.concurrency, *this);
    fetcher.run(resumed_here ? static_cast<size_t>(resume_.groups_done) : 0);
    out_.report("memberships", groups_.size());
}

// A page of the list walk running was delivered: the frontier moves; a resumed walk checks that its first page
// begins with the id its checkpoint saw there.
void SyncRun::on_page(const scim::PageSpan &span, const scim::PagePlanner &planner) {
    if (walk_start_.first > 1 && span.pass == 0 && span.start == walk_start_.first &&
        (span.returned == 0 || span.first_fp != resume_.position_fp))
        moved_ = true;
    frontier_.completed(walk_start_.pass_base + span.pass, span.start, span.returned, span.last_fp);
    if (checkpoints_.due()) checkpoint_walk(planner);
}

void SyncRun::checkpoint_walk(const scim::PagePlanner &planner) {
    checkpoint::ResumePoint p;
    p.phase = phase_;
    p.pass = walk_start_.pass_base + planner.passes() - 1;
    if (frontier_.pass() == p.pass) {
        p.position = frontier_.position();
        p.position_fp = frontier_.position_fp();
    }
    p.pass_changed = planner.changing() || moved_;
    p.longest_listed = group_walk_ ? group_walk_->longest_listed() : longest_listed_;
    checkpoints_.give(p);
}

void SyncRun::checkpoint_boundary(Phase next) {
    checkpoint::ResumePoint p;
    p.phase = next;
    checkpoints_.give(p);
}

bool SyncRun::checkpoint_due() { return checkpoints_.due(); }

void SyncRun::at_rest(size_t groups_done) {
    checkpoint::ResumePoint p;
    p.phase = Phase::memberships;
    p.groups_done = groups_done;
    checkpoints_.give(p);
}

void SyncRun::replay_fingerprint(char tag, uint64_t fp) {
    if (tag == checkpoint::kUserTag) replayed_users_.insert_fingerprint(fp);
    if (tag == checkpoint::kGroupTag) replayed_groups_.insert_fingerprint(fp);
}

void SyncRun::replay_strings(char tag, scim::Group g) {
    if (tag == checkpoint::kQueuedTag) groups_.push(g);
}

void SyncRun::member(const scim::Group &group, const char *principal_type, std::string_view id, bool resolved) {
    const Grant gr = scim::member_grant(group.id, principal_type, std::string(id), !resolved);
    if (gr.unresolved) {
        ++stats_.unresolved;
        warn("unresolved_member", "group " + group.id + " has a member " + gr.principal_type + " " +
                                      gr.principal_id + " that names no " + gr.principal_type +
                                      " of this sync; the grant is flagged unresolved");
    }
    out_.grant(gr);
}

void SyncRun::group_done(const scim::Group &group, size_t members) {
    out_.resource(scim::group_resource(group, static_cast<int64_t>(members)));
    if (walking_pages_) return;  // the page it came with is counted and reported by page_done
    ++stats_.pages;
    out_.report("memberships", groups_.size());
}

void SyncRun::warn(std::string_view code, const std::string &message) { out_.warn(code, message); }

// A listing that cannot prove it saw everything says so, with a warning whose code begins with "incomplete_"
// (abi/ABI.md): a server that does not page (doubt()), or a listing still moving in its last pass.
void SyncRun::warn_incomplete(const scim::PagePlanner &planner, const char *what) {
    if (planner.total_contradicted())
        out_.log(LogLevel::info, std::string("sync: the ") + what + " pages held more than totalResults said; the rest "
                            "of the list was read until an empty page");
    if (!planner.doubt().empty()) {
        warn("incomplete_listing", std::string("the ") + what + " list may be incomplete: " + planner.doubt());
    } else if (!planner.settled()) {
        warn("incomplete_listing_changed",
             std::string("the ") + what + " list was still changing in the last of " +
                 std::to_string(planner.passes()) +
                 " passes: one that existed throughout the sync may be missing; sync again for an exact picture");
    }
}

}  // namespace ce::sync
