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

}  // namespace

SyncRun::SyncRun(const scim::Client &client, const config::Config &config, const CallContext &ctx, RecordSink &sink,
                 SyncStats &stats, const LogFn &log)
    : client_(client),
      config_(config),
      ctx_(ctx),
      sink_(sink),
      stats_(stats),
      log_(log),
      // The group list is written once and read once, in order: spilling it costs one sequential write and read,
      // so it keeps less in memory than the id indexes, which are searched.
      groups_(std::min(index_memory_bytes(), store::GroupList::kDefaultMemoryBytes), config.spill_dir) {}

SyncRun::~SyncRun() { count_requests(); }

// The sets of ids keep at most index-memory-kb each in memory and the group list at most 256 KiB, the rest in a
// temporary file (store/id_index.hpp, store/group_list.hpp): a sync's memory does not grow with the organisation.
size_t SyncRun::index_memory_bytes() const { return config_.index_memory_kb * kKiB; }

void SyncRun::run() {
    list_users();
    if (config_.members_from_group_pages()) walk_group_pages();
    else list_groups();
    read_memberships();
    log(LogLevel::info, "sync: " + std::to_string(stats_.resources) + " resources, " +
                            std::to_string(stats_.entitlements) + " entitlements, " + std::to_string(stats_.grants) +
                            " grants, " + std::to_string(stats_.requests) + " requests (" +
                            std::to_string(stats_.retries) + " retries)");
}

// Walks one list (at most kMaxPasses times while it changes), hands every resource never seen before to
// `deliver` page by page, says so when the listing cannot prove it is complete, and returns the ids it saw.
template <typename T, typename Deliver>
store::IdIndex SyncRun::walk(const std::string &url, const char *excluded, scim::ListPage<T> (*parse)(std::string &),
                             const char *noun, std::string_view phase, Deliver deliver) {
    scim::ListWalker<T> walker(
        client_, url, {{"excludedAttributes", excluded}}, config_.page_size, config_.concurrency, kMaxPasses, parse,
        std::string("listing ") + noun + "s",
        [&](std::vector<T> &fresh, const scim::PagePlanner &planner) {
            ++stats_.pages;
            for (auto &r : fresh) deliver(r);
            report(phase, static_cast<uint64_t>(planner.total_hint()));
        },
        store::IdIndex(index_memory_bytes(), config_.spill_dir));
    walker.run();
    warn_incomplete(walker.planner(), noun);
    passes_ = walker.planner().passes();
    store::IdIndex seen = std::move(walker.seen());
    seen.freeze();
    return seen;
}

// 1. Users, streamed page by page, without the groups each user is in (the member lists say that, and the users'
// side would make the pages half as large again: bench/MEMBERS.md).
void SyncRun::list_users() {
    user_ids_ = walk<scim::User>(client_.users_url(), "groups", &scim::parse_user_page, "user", "users",
                                 [this](const scim::User &u) {
                                     if (!sink_.resource(scim::user_resource(u))) throw Error::stopped();
                                     ++stats_.resources;
                                 });
    const std::string spilled = " KiB in " + std::to_string(user_ids_.spills()) + " spills)";
    log(LogLevel::info, "sync: " + std::to_string(user_ids_.size()) + " users in " + std::to_string(passes_) +
                            " pass(es)" +
                            (user_ids_.spilled() ? "; their ids spilled to a temporary file (" +
                                                       std::to_string(user_ids_.disk_bytes() / kKiB) + spilled
                                                 : std::string()));
}

// 2. Groups without their members; an entitlement per group now, the group itself once its members are known.
void SyncRun::list_groups() {
    group_ids_ = walk<scim::Group>(client_.groups_url(), "members", &scim::parse_group_page, "group", "groups",
                                   [this](const scim::Group &g) {
                                       if (!sink_.entitlement(scim::member_entitlement(g.id, g.display_name)))
                                           throw Error::stopped();
                                       ++stats_.entitlements;
                                       groups_.push(g);
                                   });
}

// 2 and 3 together: the groups with their members, a page at a time (sync/group_page_walk.hpp).
void SyncRun::walk_group_pages() {
    GroupPageWalk::Settings settings;
    settings.page_size = config_.page_size;
    settings.window = config_.concurrency;
    settings.max_passes = kMaxPasses;
    // Half of what every answer in flight may hold together, shared by the pages in flight.
    settings.page_budget_bytes = std::max<size_t>(kMinPageBudget, config_.max_response_mb * kMiB / (2 * std::max(1u, config_.concurrency)));
    settings.index_memory_bytes = index_memory_bytes();
    settings.spill_dir = config_.spill_dir;
    GroupPageWalk walk(client_, settings, user_ids_, groups_, *this);
    walking_pages_ = true;
    walk.run();
    walking_pages_ = false;
    warn_incomplete(walk.planner(), "group");
    group_ids_ = std::move(walk.seen());
    log_group_pages(walk.counts());
}

void SyncRun::log_group_pages(const GroupPageCounts &c) {
    const uint64_t alone = c.not_listed + c.nested + c.too_large + c.longest;
    log(LogLevel::info, "sync: the members of " + std::to_string(c.from_pages) + " groups came with the group pages; " +
                            std::to_string(alone) + " groups are read on their own (" + std::to_string(c.not_listed) +
                            " listed without members, " + std::to_string(c.nested) +
                            " with members that are groups or unknown, " + std::to_string(c.too_large) +
                            " too large for a page, " + std::to_string(c.longest) +
                            " with the longest member lists so far, checked against a list cut short)");
}

void SyncRun::listed(const scim::Group &g) {
    if (!sink_.entitlement(scim::member_entitlement(g.id, g.display_name))) throw Error::stopped();
    ++stats_.entitlements;
}

void SyncRun::page_done(const scim::PagePlanner &planner) {
    ++stats_.pages;
    report("groups", static_cast<uint64_t>(planner.total_hint()));
}

// 3. The members of each group left (sync/membership_fetcher.hpp).
void SyncRun::read_memberships() {
    MembershipFetcher fetcher(client_, groups_, user_ids_, group_ids_, config_.concurrency, *this);
    fetcher.run();
    report("memberships", groups_.size());
}

void SyncRun::member(const scim::Group &group, const char *principal_type, std::string_view id, bool resolved) {
    const Grant gr = scim::member_grant(group.id, principal_type, std::string(id), !resolved);
    if (gr.unresolved) {
        ++stats_.unresolved;
        warn("unresolved_member", "group " + group.id + " has a member " + gr.principal_type + " " +
                                      gr.principal_id + " that names no " + gr.principal_type +
                                      " of this sync; the grant is flagged unresolved");
    }
    if (!sink_.grant(gr)) throw Error::stopped();
    ++stats_.grants;
}

void SyncRun::group_done(const scim::Group &group, size_t members) {
    if (!sink_.resource(scim::group_resource(group, static_cast<int64_t>(members)))) throw Error::stopped();
    ++stats_.resources;
    if (walking_pages_) return;  // the page it came with is counted and reported by page_done
    ++stats_.pages;
    report("memberships", groups_.size());
}

void SyncRun::warn(std::string_view code, const std::string &message) {
    ++stats_.warnings;
    log(LogLevel::warn, message);
    if (!sink_.warning(code, message)) throw Error::stopped();
}

// A listing that cannot prove it saw everything says so, with a warning whose code begins with "incomplete_"
// (abi/ABI.md): a server that does not page (doubt()), or a listing still moving in its last pass.
void SyncRun::warn_incomplete(const scim::PagePlanner &planner, const char *what) {
    if (planner.total_contradicted())
        log(LogLevel::info, std::string("sync: the ") + what + " pages held more than totalResults said; the rest "
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

void SyncRun::count_requests() {
    stats_.requests = client_.engine().stats().requests;
    stats_.retries = client_.engine().stats().retries;
}

void SyncRun::report(std::string_view phase, uint64_t total_hint) {
    count_requests();
    if (ctx_.progress) ctx_.progress(Progress{.phase = phase, .counts = stats_, .total_hint = total_hint});
}

void SyncRun::log(LogLevel level, const std::string &msg) const {
    if (log_) log_(level, msg);
}

}  // namespace ce::sync
