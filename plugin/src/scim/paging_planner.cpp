#include "scim/paging_planner.hpp"

#include <algorithm>

namespace ce::scim {

namespace {
// Pages this small (or smaller) are re-walked one at a time, and their edges are not checked (a page of the first
// pass then does not overlap the next one).
constexpr int64_t kSmallPage = 16;
// How far consecutive pages of a re-walk overlap: a quarter page, at least this many, at most half a page.
constexpr int64_t kMinRewalkOverlap = 16;
// A re-walk's request bound follows the resources really delivered: an honest total is about that many, at most
// this many times that with growth, plus slack.
constexpr int64_t kRewalkGrowth = 2;
constexpr int64_t kRewalkResourceSlack = 16;
// No directory holds 2^40 resources: a larger totalResults is a malformed answer (and planning with it would
// overflow the arithmetic below).
constexpr int64_t kMaxTotal = int64_t{1} << 40;
// Pages of the first pass that hold only resources already seen, in a row: past this the server is answering with
// old pages instead of advancing (an insertion during the walk makes a page repeat at most the few resources it
// pushed across the edge, and the one-resource overlap of checked edges, not whole pages again and again).
constexpr unsigned kMaxStalePages = 32;
// Pages in a row that bring nothing new in a walk of unknown total: past this the server is not advancing.
constexpr unsigned kMaxStaleSequentialPages = 3;
// Requests a pass may make per page the total can need (every page twice plus every gap), plus slack.
constexpr uint64_t kRequestsPerPlannedPage = 3;
constexpr uint64_t kRequestSlack = 16;
// A walk of unknown total is bounded by the stale-page guard, not by a count: this only stops a runaway.
constexpr uint64_t kSequentialRequestLimit = 1'000'000;
}  // namespace

PagePlanner::PagePlanner(int64_t page_size, unsigned max_passes)
    : page_size_(std::max<int64_t>(1, page_size)), max_passes_(std::max(1u, max_passes)) {}

void PagePlanner::limit_page_size(int64_t limit) {
    if (limit < 1) return;
    page_limit_ = page_limit_ > 0 ? std::min(page_limit_, limit) : limit;
    page_size_ = std::min(page_size_, page_limit_);
}

void PagePlanner::start_pass() {
    first_pending_ = true;
    first_done_ = false;
    sequential_ = false;
    changed_ = false;
    total_ = -1;
    first_total_ = -1;
    server_page_ = 0;
    step_ = 0;
    check_edges_ = false;
    edges_.clear();
    next_start_ = 1;
    end_ = INT64_MAX;
    first_id_.clear();
    gaps_.clear();
    pass_requests_ = 0;
    stale_pages_ = 0;
    last_total_ = -1;
    total_contradicted_ = false;
}

void PagePlanner::doubt(std::string why) {
    if (doubt_.empty()) doubt_ = std::move(why);
}

void PagePlanner::read_past_total(int64_t next) {
    total_contradicted_ = true;
    sequential_ = true;
    next_start_ = std::max(next_start_, next);
}

std::vector<PageRequest> PagePlanner::take(size_t slots) {
    std::vector<PageRequest> out;
    if (done_) return out;
    auto emit = [&](PageRequest r) {
        r.pass = pass_;
        ++outstanding_;
        ++requests_;
        ++pass_requests_;
        // Generous: every page twice plus every gap, plus slack. Past it the server is not making progress.
        // A re-walk reads resources already seen, so "nothing new" proves nothing there: its bound follows the
        // resources really delivered (an honest total is about that many, at most twice that with growth).
        int64_t plan_total = total_;
        if (pass_ > 0) plan_total = std::min(plan_total, kRewalkGrowth * (distinct_ + server_page_) + kRewalkResourceSlack);
        const int64_t pages = plan_total > 0 ? plan_total / std::max<int64_t>(1, step_) + 1 : 0;
        const uint64_t limit = static_cast<uint64_t>(std::max<int64_t>(pages, 0)) * kRequestsPerPlannedPage +
                               kRequestSlack + (sequential_ ? kSequentialRequestLimit : 0);
        if (pass_requests_ > limit)
            throw PagingError("paging made no progress (the server kept answering without advancing after " +
                              std::to_string(pass_requests_) + " requests)");
        out.push_back(r);
    };
    if (first_pending_) {
        if (slots == 0) return out;
        first_pending_ = false;
        emit({.start_index = 1, .count = page_size_, .pass = pass_, .planned = true});
        return out;
    }
    if (!first_done_) return out;
    while (out.size() < slots && !gaps_.empty()) {
        emit(gaps_.front());
        gaps_.pop_front();
    }
    if (sequential_) {
        if (outstanding_ == 0 && out.empty() && slots > 0 && next_start_ < end_)
            emit({.start_index = next_start_, .count = page_size_, .pass = pass_});
        return out;
    }
    if (pass_ > 0 && server_page_ <= kSmallPage) {
        // A re-walk with tiny pages: one page at a time, which no insertion can make skip a resource.
        if (outstanding_ == 0 && out.empty() && slots > 0 && next_start_ <= total_ && next_start_ < end_) {
            emit({.start_index = next_start_, .count = server_page_, .pass = pass_});
            next_start_ += server_page_;
        }
        return out;
    }
    // A page is planned while it holds a position not yet planned (its first one is the previous page's last
    // when the pages overlap).
    while (out.size() < slots && next_start_ + first_pass_overlap() <= total_ && next_start_ < end_) {
        // Always a full page, also for the last one: resources pushed past the expected end by insertions
        // during the walk are then still inside the request.
        emit({.start_index = next_start_, .count = server_page_, .pass = pass_, .planned = true});
        next_start_ += step_;
    }
    return out;
}

bool PagePlanner::complete(const PageRequest &req, const PageResult &res) {
    if (outstanding_ > 0) --outstanding_;
    if (done_ || req.pass != pass_) {
        // A page from an earlier pass: its resources are still good (dedupe by id is the caller's).
        return req.pass == pass_ ? false : true;
    }
    if (res.total_results > kMaxTotal)
        throw PagingError("the service sent a malformed response: totalResults " + std::to_string(res.total_results) +
                          " is beyond any directory (more than 2^40)");
    distinct_ = std::min<int64_t>(kMaxTotal, distinct_ + static_cast<int64_t>(std::min<size_t>(res.fresh, kMaxTotal)));
    if (req.start_index == 1 && !first_done_) {
        complete_first(req, res);
    } else if (!complete_later(req, res)) {
        maybe_finish_pass();
        return false;
    }
    maybe_finish_pass();
    return true;
}

void PagePlanner::complete_first(const PageRequest &req, const PageResult &res) {
    const auto returned = static_cast<int64_t>(res.returned);
    first_done_ = true;
    first_id_ = res.first_id;
    first_total_ = res.total_results;
    total_ = res.total_results;
    last_total_ = res.total_results;
    if (returned == 0) {
        end_ = 1;
    } else if (total_ < 0 || total_ <= returned) {
        // No total, or one no larger than the first page: it cannot be trusted to say "the end" (some servers put
        // the page size there, and a page shorter than asked may be the server's cap), so an empty page must: one
        // request more for a list that fits in one page.
        sequential_ = true;
        next_start_ = 1 + returned;
    } else {
        plan_pass(req, res);
    }
}

void PagePlanner::plan_pass(const PageRequest &req, const PageResult &res) {
    const auto returned = static_cast<int64_t>(res.returned);
    server_page_ = returned < req.count ? returned : req.count;
    if (returned > req.count) server_page_ = returned;
    // A page limit asks for smaller pages; a server that returns more than asked ignores count, and its pages
    // stay what it returns.
    if (page_limit_ > 0 && returned <= req.count) server_page_ = std::min(server_page_, page_limit_);
    // The first pass's pages overlap by one resource (pages larger than kSmallPage) so that their edges can be
    // checked. A re-walk (the collection moved during the last pass) overlaps consecutive pages by more (a quarter
    // page, at least kMinRewalkOverlap, at most half a page), so that resources shifted by insertions while pages
    // are served out of order still fall inside a page; duplicates are removed by id. Small pages are re-walked one
    // at a time instead.
    const int64_t overlap = std::min(server_page_ / 2, std::max<int64_t>(server_page_ / 4, kMinRewalkOverlap));
    check_edges_ = server_page_ > kSmallPage;
    step_ = pass_ == 0                   ? server_page_ - first_pass_overlap()
            : server_page_ <= kSmallPage ? server_page_
                                         : server_page_ - overlap;
    // Page 2 starts one step after page 1, like every page after it (overlapping it when checked). Page 1 may hold
    // several steps (a page limit set after it was asked for): page 2 then starts at the last step it holds.
    next_start_ = check_edges_ ? 1 + std::max<int64_t>(1, (returned - 1) / step_) * step_ : 1 + returned;
    check_page_edges(req, res);
}

// A pass that began with a trusted total keeps watching it after the pages contradicted it.
void PagePlanner::watch_total(const PageRequest &req, const PageResult &res) {
    const bool total_trusted = !sequential_ || total_contradicted_;
    if (!total_trusted) return;
    if (res.total_results != first_total_) {
        changed_ = true;
        // Follow a growing collection within this pass, but only so far (a collection growing as fast as it is
        // read must not be chased forever): the bounded re-walk covers the rest.
        if (res.total_results > total_) total_ = std::min(res.total_results, growth_ceiling());
    }
    if (res.total_results < 0) return;
    // Fewer resources than the answer before this one reported: resources were deleted between the two. Those
    // behind this page shifted its first resources down across its start edge, possibly into a page read before
    // the deletion: ask again for the range just before this page (as many as were deleted), so that no resource
    // that existed throughout falls between the pages. (Insertions only push resources into the next page, which
    // reads them again; duplicates are removed by id.) One re-check per page at most: the answer to a re-check
    // does not ask again (under steady deletions that would chase the shrinking collection page after page); the
    // next pass covers what moved then.
    if (!req.recheck && last_total_ >= 0 && res.total_results < last_total_ && req.start_index > 1) {
        const int64_t from = std::max<int64_t>(1, req.start_index - (last_total_ - res.total_results));
        gaps_.push_back({.start_index = from, .count = req.start_index - from, .pass = pass_, .recheck = true});
    }
    last_total_ = res.total_results;
}

bool PagePlanner::complete_later(const PageRequest &req, const PageResult &res) {
    const auto returned = static_cast<int64_t>(res.returned);
    const int64_t previous_total = last_total_;  // of the answer before this one in this pass (-1: none)
    watch_total(req, res);
    const bool repeat_of_first = req.start_index > 1 && returned > 0 && res.fresh == 0 && !first_id_.empty() &&
                                 res.first_id == first_id_;
    if (repeat_of_first) {
        end_ = std::min(end_, req.start_index);
        // Past the end some servers answer the first page again; inside the total that is a server ignoring
        // startIndex, and what lies beyond page 1 cannot be read.
        const int64_t announced = std::max(total_, res.total_results);
        if (req.start_index <= announced)
            doubt("the service answered the page at index " + std::to_string(req.start_index) + " of " +
                  std::to_string(announced) + " with its first page again (it seems to ignore startIndex)");
        return false;
    }
    check_page_edges(req, res);
    if (returned == 0) {
        end_ = std::min(end_, req.start_index);
        if (!sequential_ && req.start_index <= total_) changed_ = true;  // fewer resources than announced
    } else if (sequential_) {
        complete_sequential(req, res);
    } else {
        complete_planned(req, res, previous_total);
    }
    return true;
}

void PagePlanner::complete_sequential(const PageRequest &req, const PageResult &res) {
    const auto returned = static_cast<int64_t>(res.returned);
    // A page planned before the walk turned sequential may come back short behind the cursor: ask for its rest.
    if (returned < req.count && req.start_index + returned < next_start_)
        gaps_.push_back({.start_index = req.start_index + returned, .count = req.count - returned, .pass = pass_});
    next_start_ = std::max(next_start_, req.start_index + returned);
    // Reading past a contradicted total while the total moves: drift, followed only so far (as in planned pages).
    if (total_contradicted_ && changed_ && next_start_ > growth_ceiling()) end_ = std::min(end_, next_start_);
    // Pages that bring nothing new, again and again: the server is not advancing.
    stale_pages_ = res.fresh == 0 ? stale_pages_ + 1 : 0;
    if (stale_pages_ >= kMaxStaleSequentialPages) {
        end_ = std::min(end_, next_start_);
        doubt("the service's pages stopped bringing anything new at index " + std::to_string(req.start_index) +
              " before an empty page ended the list");
    }
}

void PagePlanner::complete_planned(const PageRequest &req, const PageResult &res, int64_t previous_total) {
    const auto returned = static_cast<int64_t>(res.returned);
    if (pass_ == 0) {
        // A page of resources already seen while the total grew is explained by insertions before it (they
        // push seen resources forward into it): not counted. Only pages that repeat without growth are.
        const bool grew = previous_total >= 0 && res.total_results > previous_total;
        if (res.fresh > 0) stale_pages_ = 0;
        else if (!grew) ++stale_pages_;
        if (stale_pages_ >= kMaxStalePages)
            throw PagingError("the service sent a malformed response: " + std::to_string(stale_pages_) +
                              " pages in a row held only resources already seen (totalResults " +
                              std::to_string(total_) + "); the listing does not advance");
    }
    if (returned < req.count && req.start_index + returned <= total_) {
        // A short page before the end: ask for the rest of its range again.
        gaps_.push_back({.start_index = req.start_index + returned, .count = req.count - returned, .pass = pass_});
    } else if (!changed_ && returned >= req.count && req.start_index + returned - 1 >= total_) {
        // A full page that reaches a steady total or goes past it: the total cannot tell where the list ends.
        // (A total that moved is drift: followed up to growth_ceiling(), the re-walk covers the rest.)
        read_past_total(req.start_index + returned);
    }
}

void PagePlanner::check_page_edges(const PageRequest &req, const PageResult &res) {
    if (!check_edges_ || !req.planned || res.returned == 0 || res.ids.size() != res.returned) return;
    // The page's first position is an edge with the page before it (page 1 has none); the position where the
    // next page starts is an edge with that one.
    if (req.start_index > 1) check_edge(req.start_index, res.ids.front());
    // The next planned page starts one step on; after page 1, where the plan made it start (see plan_pass).
    const int64_t next = req.start_index == 1 ? next_start_ : req.start_index + step_;
    const int64_t offset = next - req.start_index;
    if (offset > 0 && static_cast<int64_t>(res.returned) > offset)
        check_edge(next, res.ids[static_cast<size_t>(offset)]);
}

void PagePlanner::check_edge(int64_t position, std::string_view id) {
    const auto [it, first] = edges_.emplace(position, std::string(id));
    if (first) return;
    if (it->second != id) changed_ = true;  // the collection moved at this edge between the two answers
    edges_.erase(it);
}

void PagePlanner::maybe_finish_pass() {
    if (outstanding_ > 0 || !gaps_.empty() || !first_done_) return;
    if (sequential_) {
        if (next_start_ < end_) return;  // keep walking until an empty (or repeated) page
    } else if (next_start_ + first_pass_overlap() <= total_ && next_start_ < end_) {
        return;
    }
    if (changed_ && pass_ + 1 < max_passes_) {
        ++pass_;
        start_pass();
        return;
    }
    settled_ = !changed_;
    done_ = true;
}

}  // namespace ce::scim
