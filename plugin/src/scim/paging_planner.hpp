// The paging planner: which list pages (startIndex, count) to request, and when a walk is complete.
// Pure logic, no I/O: the SCIM client feeds it what each page returned and issues what it asks for.
//
// Rules (from the SCIM notes on pagination):
//  - startIndex is 1-based; count is a request, not a promise; the walk advances by the resources actually
//    returned, never by page numbers.
//  - The first page of a pass tells the total and the server's real page size; the remaining pages are then
//    planned at once so that several can be in flight. A short page in the middle means the gap is asked for
//    again. A page that comes back empty ends the walk at that index.
//  - A total that is missing, or no larger than the first page (some servers put the page size there), means
//    an unknown total: pages are then walked one after another until an empty page.
//  - Guards: a page past the first that repeats the first page (same first id, nothing new) counts as the end; where
//    the total says there is more (the server ignores startIndex), the walk says so (doubt());
//    a walk that issues far more requests than the total can need throws PagingError (no endless loop);
//    so do a totalResults above 2^40, 32 pages in a row of the first pass holding only resources already
//    seen, and a re-walk issuing far more requests than the resources delivered can need.
//  - A total is believed only as far as the pages agree: a full page reaching the total or past it (a stale or
//    capped totalResults) makes the rest of the list be read one page after another until an empty page (for a
//    total that is a whole number of full pages, that is one request more).
//  - Drift: when totalResults changes during a pass (or pages came back short or empty before the total), the
//    collection moved under the walk: another pass is made (at most max_passes), so that every resource that
//    existed throughout is seen. An answer reporting fewer resources
//    than the one before it (deletions between the two) has the range just before its page asked for again,
//    since the deletions may have shifted resources across that page's start edge into a page already read. Re-walks overlap consecutive pages (a quarter page, at least 16, at most half;
//    pages of 16 or fewer are re-walked one at a time), so that insertions while pages are served out of order cannot push a resource
//    across a page edge unseen. The caller de-duplicates by id across passes.
//  - Edges: a deletion behind the cursor balanced by an insertion leaves every total unchanged, yet slides a
//    resource back across a page edge into a page already read. So consecutive planned pages (when the server's
//    page is larger than 16) always overlap: by one resource in the first pass (about 1% more requests at 100 a
//    page), by the re-walk's overlap after it. The position where the next page starts is then seen by both
//    neighbouring answers; if they name different ids there, the collection moved between the two, and the pass
//    counts as changed (another pass, or, in the last one, the walk ends unsettled). Servers list in a stable
//    order: a resource that existed throughout cannot pass the one at the edge.
//  - settled(): the last pass saw no change (totals and edges). For an honest server with pages larger than 16,
//    a settled walk has delivered every resource that existed throughout (the planner fuzzer checks this).
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/errors.hpp"

namespace ce::scim {

// A listing that does not advance or cannot be real (transient: the next sync may fare better).
class PagingError : public Error {
public:
    explicit PagingError(std::string what) : Error(ErrorKind::transient, std::move(what)) {}
};

struct PageRequest {
    int64_t start_index = 1;
    int64_t count = 0;
    unsigned pass = 0;
    bool recheck = false;  // asks again for a range that deletions may have shifted (never itself re-checked)
    bool planned = false;  // a page of the pass's plan (page 1 and the pages after it), not a gap or a re-check
};

struct PageResult {
    int64_t total_results = -1;  // -1 when absent
    size_t returned = 0;         // resources in the page
    size_t fresh = 0;            // of those, ids never seen before in this walk
    std::string first_id;        // id of the first resource, "" when empty
    std::vector<std::string_view> ids;  // every resource's id in order (views, valid during complete())
};

class PagePlanner {
public:
    explicit PagePlanner(int64_t page_size, unsigned max_passes = 3);

    // Asks for at most `limit` resources a page from now on (pages already planned keep their size): what a page of
    // this list costs to hold was learnt from an answer. Applied before complete() of a pass's first page, it sizes
    // that pass's plan; page 1 itself then holds several planned pages (the plan starts at the last one it holds).
    void limit_page_size(int64_t limit);
    int64_t page_size() const { return page_size_; }
    // Up to `slots` requests to issue now (may be empty while the first page of a pass is awaited).
    std::vector<PageRequest> take(size_t slots);
    // Reports the result of a request obtained from take(). Returns false when the page must be ignored
    // (a repeated first page); its resources are then not delivered.
    bool complete(const PageRequest &request, const PageResult &result);
    bool done() const { return done_; }
    // Done, and the last pass saw the collection hold still (or the walk could not tell: no totals). False when
    // it was still moving in the last pass allowed: a resource that existed throughout may then be missing.
    bool settled() const { return done_ && settled_; }
    // Why the walk cannot prove it saw every resource, "" when it can: the server answered a page inside the total
    // with its first page again (it ignores startIndex), or its pages stopped advancing. Such a walk ends (more
    // requests would bring the same answers), and whoever reports it must say the list may be incomplete.
    const std::string &doubt() const { return doubt_; }
    // True when the pages held more than totalResults said (or exactly as much, in full pages): the rest of the
    // list was then read one page after another until an empty page.
    bool total_contradicted() const { return total_contradicted_; }

    unsigned passes() const { return pass_ + 1; }
    // The collection moved during the current pass (another pass will follow, if one is left).
    bool changing() const { return changed_; }
    int64_t total_hint() const { return total_ > 0 ? total_ : 0; }
    size_t outstanding() const { return outstanding_; }
    uint64_t requests() const { return requests_; }

private:
    void start_pass();
    // complete() of the first page of a pass, and of any other page (false: ignore the page).
    void complete_first(const PageRequest &req, const PageResult &res);
    bool complete_later(const PageRequest &req, const PageResult &res);
    // The first page of a pass gave a trusted total: the server's page size, the step between pages.
    void plan_pass(const PageRequest &req, const PageResult &res);
    // The total an answer reports: drift (changed_), growth followed, deletions re-checked.
    void watch_total(const PageRequest &req, const PageResult &res);
    void maybe_finish_pass();
    // The edges of a planned page of a pass that checks them (see "Edges" above).
    void check_page_edges(const PageRequest &req, const PageResult &res);
    // Records the id one answer holds at an edge position, or compares it with the neighbour's.
    void check_edge(int64_t position, std::string_view id);
    // A full page reached totalResults or past it: read on sequentially from `next` (see total_contradicted()).
    void read_past_total(int64_t next);
    // The handling of a page past the first, by the mode of the pass.
    void complete_sequential(const PageRequest &req, const PageResult &res);
    void complete_planned(const PageRequest &req, const PageResult &res, int64_t previous_total);
    void doubt(std::string why);
    // How far a pass follows a growing total: the first total again (at least a page) beyond it.
    int64_t growth_ceiling() const { return first_total_ + std::max(first_total_, server_page_); }
    // 1 in a first pass whose pages overlap by one resource (for the edge check), else 0.
    int64_t first_pass_overlap() const { return pass_ == 0 && check_edges_ ? 1 : 0; }

    int64_t page_size_;
    int64_t page_limit_ = 0;  // limit_page_size(); 0: none
    unsigned max_passes_;
    unsigned pass_ = 0;
    bool done_ = false;
    bool settled_ = false;
    bool total_contradicted_ = false;  // in this pass: the pages hold more than the total says
    std::string doubt_;

    // State of the current pass.
    bool first_pending_ = true;   // page 1 not yet issued
    bool first_done_ = false;     // page 1 answered
    bool sequential_ = false;     // total unknown: one page at a time until an empty page
    bool changed_ = false;        // the collection moved during this pass
    int64_t total_ = -1;          // totalResults from page 1 (largest seen in the pass for scheduling)
    int64_t first_total_ = -1;
    int64_t server_page_ = 0;     // the server's real page size
    int64_t step_ = 0;            // distance between planned page starts (server_page_ less the overlap)
    bool check_edges_ = false;    // planned pages overlap: compare the ids at their edges
    int64_t next_start_ = 1;
    int64_t end_ = INT64_MAX;     // first index known to hold nothing
    std::string first_id_;
    std::deque<PageRequest> gaps_;
    std::map<int64_t, std::string> edges_;  // edge position -> id seen there by the first of its two pages
    size_t outstanding_ = 0;
    uint64_t requests_ = 0;
    uint64_t pass_requests_ = 0;
    unsigned stale_pages_ = 0;
    int64_t last_total_ = -1;     // totalResults of the last answer of this pass (completion order)
    int64_t distinct_ = 0;        // resources never seen before, summed over every page of the walk
};

}  // namespace ce::scim
