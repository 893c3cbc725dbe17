// The second and third phases of a sync in one walk: the group list with each group's members in the same pages
// (GET /Groups?startIndex&count, members included, as SCIM servers list them by default), so that one request
// carries the members of many groups instead of one request a group. Pages are planned and checked by the paging
// planner like every list, read as they arrive (scim/group_page_reader.hpp: no page held whole, no DOM), and
// delivered once the whole page is known valid: until then a page keeps only its groups' member ids (compactly,
// store::MemberBuffer), within a budget per page.
//
// A group whose members a page cannot vouch for is read on its own afterwards (GET /Groups/{id}, by
// MembershipFetcher), decided by what the page showed, never silently (the counts are logged):
//  - its object has no members list (a server that omits members in lists while a single GET returns them, or an
//    empty group: a GET tells them apart);
//  - a member is a group, or names nobody known yet (groups are resolved once the walk has seen every group);
//  - its members would pass the page's budget (a group too large for a page);
//  - it lists at least as many members as any group before it in the walk: the only groups a server that cuts
//    member lists short (at some fixed count) could have cut. A few requests (about ln(groups)) buy that proof.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "http/http_engine.hpp"
#include "scim/list_walker.hpp"
#include "scim/paging_planner.hpp"
#include "scim/scim_client.hpp"
#include "sync/membership_fetcher.hpp"
#include "sync/store/group_list.hpp"
#include "sync/store/id_index.hpp"

namespace ce::sync {

// Where the walk's results go (the sync run): every group once, then (for the groups read from their page) its
// members and group_done through MembershipSink.
class GroupPageSink : public MembershipSink {
public:
    // A group seen for the first time in this walk (before any of its members).
    virtual void listed(const scim::Group &group) = 0;
    // A page was delivered: where it lay in the list.
    virtual void page_done(const scim::PagePlanner &planner, const scim::PageSpan &span) = 0;
    // A group was queued to be read on its own (after listed()).
    virtual void queued(const scim::Group &) {}
};

// Why the groups read on their own were.
struct GroupPageCounts {
    uint64_t from_pages = 0;     // groups whose members came with their page
    uint64_t not_listed = 0;     // no members list in the page
    uint64_t nested = 0;         // a member that is a group or names nobody known yet
    uint64_t too_large = 0;      // members past the page's budget
    uint64_t longest = 0;        // as many members as any group before it (the cut-list check)
};

class GroupPageWalk {
public:
    struct Settings {
        int64_t page_size = 100;
        unsigned window = 1;
        unsigned max_passes = 3;
        size_t page_budget_bytes = 4u << 20;  // member ids one page may keep until it is delivered
        size_t index_memory_bytes = 2u << 20;
        std::string spill_dir;
        int64_t first_position = 1;   // a resumed walk begins there (see ListWalker::start_at)
        uint64_t longest_listed = 0;  // a resumed walk's cut-list check goes on from there
    };

    // `fallback` receives the groups to read on their own (in walk order). `users`: every user of the sync.
    GroupPageWalk(const scim::Client &client, Settings settings, const store::IdIndex &users,
                  store::GroupList &fallback, GroupPageSink &out, store::IdIndex seen = store::IdIndex());
    ~GroupPageWalk();
    GroupPageWalk(const GroupPageWalk &) = delete;
    GroupPageWalk &operator=(const GroupPageWalk &) = delete;

    void run();
    // The ids of every group seen (for resolving the fallback groups' members).
    store::IdIndex &seen() { return seen_; }
    const scim::PagePlanner &planner() const { return planner_; }
    const GroupPageCounts &counts() const { return counts_; }
    uint64_t longest_listed() const { return longest_listed_; }

private:
    class PageStream;
    struct PageGroup;

    void pump();
    http::Disposition on_page(const scim::PageRequest &req, PageStream &page, http::Response &r);
    scim::PageResult result_of(const std::vector<PageGroup> &groups, const scim::ListSummary &summary) const;
    scim::PageSpan span_of(const scim::PageRequest &req, const std::vector<PageGroup> &groups) const;
    void learn_page_cost(const scim::PageRequest &req, const PageStream &page);
    void deliver(PageGroup &g);
    // Decides, once a group's object is read, whether its page can vouch for its members.
    void classify(PageGroup &g, uint64_t listed_members, bool members_listed, bool over_budget);

    const scim::Client &client_;
    Settings settings_;
    const store::IdIndex &users_;
    store::GroupList &fallback_;
    GroupPageSink &out_;
    scim::PagePlanner planner_;
    store::IdIndex seen_;
    GroupPageCounts counts_;
    uint64_t longest_listed_ = 0;  // the most members any group listed so far
    int64_t offset_ = 0;           // server position = planner position + offset_
    bool page_cost_learnt_ = false;
};

}  // namespace ce::sync
