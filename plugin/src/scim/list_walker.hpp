// Walks a SCIM list endpoint (/Users, /Groups) with the paging planner: the first page, then the remaining
// pages with up to `concurrency` requests in flight on the engine, de-duplicated by id across pages and
// passes. Each page's new resources are delivered (on the calling thread) as soon as the page arrives, so
// nothing but the set of seen ids (a store::IdIndex: bounded memory, the rest on disk) is held for the whole walk.
#pragma once

#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "sync/store/id_index.hpp"
#include "scim/paging_planner.hpp"
#include "scim/scim_client.hpp"
#include "scim/scim_url.hpp"

namespace ce::scim {

// Where a delivered page lay in the server's list (positions are startIndex values), for checkpoints.
struct PageSpan {
    unsigned pass = 0;
    int64_t start = 0;
    int64_t returned = 0;
    uint64_t first_fp = 0;  // fingerprints (store::IdSet::fingerprint) of its first and last ids
    uint64_t last_fp = 0;
};

template <typename T>
class ListWalker {
public:
    using Delivered = std::function<void(const PageSpan &span)>;
    using Parser = ListPage<T> (*)(std::string &);
    // Called with the page's resources never seen before in this walk (may be empty).
    using Deliver = std::function<void(std::vector<T> &fresh, const PagePlanner &planner)>;

    ListWalker(const Client &client, std::string collection_url, std::vector<std::pair<std::string, std::string>> query,
               int64_t page_size, unsigned concurrency, unsigned max_passes, Parser parse, std::string what,
               Deliver deliver, store::IdIndex seen = store::IdIndex())
        : client_(client),
          url_(std::move(collection_url)),
          query_(std::move(query)),
          concurrency_(concurrency ? concurrency : 1),
          planner_(page_size, max_passes),
          parse_(parse),
          what_(std::move(what)),
          deliver_(std::move(deliver)),
          seen_(std::move(seen)) {}

    void run() {
        pump();
        client_.engine().run();
        if (!planner_.done()) throw Error::internal("the walk while " + what_ + " ended early");
    }

    // The walk begins at server position `first` (the planner's position 1 is that one): a resumed walk. Totals
    // the server reports are then read as counting from there.
    void start_at(int64_t first) { offset_ = std::max<int64_t>(first, 1) - 1; }
    // Called after each page's resources are delivered.
    void on_delivered(Delivered f) { delivered_ = std::move(f); }
    // Every answer in flight together may hold at most `bytes` (the engine fails the one that passes it: the
    // setting max-response-mb). The first page tells what a resource costs; later pages then ask for no more than
    // three quarters of bytes / concurrency worth of them (the margin: resources differ in size), so that a
    // server allowing big pages cannot make a sync with a small limit fail. 0: no limit (the default).
    void hold_at_most(size_t bytes) { page_budget_bytes_ = bytes / 4 * 3 / concurrency_; }

    store::IdIndex &seen() { return seen_; }
    const PagePlanner &planner() const { return planner_; }

private:
    void pump() {
        const size_t slots = concurrency_ > planner_.outstanding() ? concurrency_ - planner_.outstanding() : 0;
        for (const PageRequest &req : planner_.take(slots)) {
            auto q = query_;
            q.emplace_back("startIndex", std::to_string(req.start_index + offset_));
            q.emplace_back("count", std::to_string(req.count));
            client_.engine().submit(client_.make(http::Method::get, with_query(url_, q)),
                                    [this, req](http::Response &r) { return on_page(req, r); });
        }
    }

    http::Disposition on_page(const PageRequest &req, http::Response &r) {
        if (!r.ok()) throw client_.error_for(r, what_);
        const size_t body_bytes = r.body.size();
        ListPage<T> page;
        try {
            page = parse_(r.body);
        } catch (const ParseError &e) {
            if (r.can_retry) return http::Disposition::retry;
            throw client_.malformed(what_, e.what(), r.status);
        }
        learn_page_cost(req, body_bytes, page.resources.size());
        PageResult result;
        result.total_results = page.total_results < 0 ? -1 : std::max<int64_t>(0, page.total_results - offset_);
        result.returned = page.resources.size();
        if (!page.resources.empty()) result.first_id = page.resources.front().id;
        result.ids.reserve(page.resources.size());
        for (const auto &res : page.resources) result.ids.push_back(res.id);
        for (const auto &res : page.resources)
            if (!seen_.contains(res.id)) ++result.fresh;
        // Size the id table once from the server's count (within its memory budget): no growth (and no old and
        // new table side by side) on the way. An overstated count costs address space only (the table's pages
        // are touched as ids land).
        if (!reserved_ && result.total_results > 0) {
            reserved_ = true;
            seen_.reserve(static_cast<size_t>(std::min<int64_t>(result.total_results, kMaxReserve)));
        }
        if (planner_.complete(req, result)) {
            const PageSpan span = span_of(req, page.resources);
            std::vector<T> fresh;
            fresh.reserve(result.fresh);
            for (auto &res : page.resources)
                if (seen_.insert(res.id)) fresh.push_back(std::move(res));
            deliver_(fresh, planner_);
            if (delivered_) delivered_(span);
        }
        pump();
        return http::Disposition::done;
    }

    // Before complete() of the first page, so that the pass's plan is sized by it (PagePlanner::limit_page_size).
    void learn_page_cost(const PageRequest &req, size_t body_bytes, size_t returned) {
        if (page_budget_bytes_ == 0 || page_cost_learnt_ || req.start_index != 1 || req.pass != 0 || returned == 0) return;
        page_cost_learnt_ = true;
        const size_t per_resource = std::max<size_t>(1, body_bytes / returned);
        const auto fits = static_cast<int64_t>(std::max<size_t>(1, page_budget_bytes_ / per_resource));
        if (fits < req.count) planner_.limit_page_size(fits);
    }

    PageSpan span_of(const PageRequest &req, const std::vector<T> &resources) const {
        PageSpan span{req.pass, req.start_index + offset_, static_cast<int64_t>(resources.size()), 0, 0};
        if (!resources.empty()) {
            span.first_fp = store::IdSet::fingerprint(resources.front().id);
            span.last_fp = store::IdSet::fingerprint(resources.back().id);
        }
        return span;
    }

    const Client &client_;
    std::string url_;
    std::vector<std::pair<std::string, std::string>> query_;
    size_t concurrency_;
    PagePlanner planner_;
    Parser parse_;
    std::string what_;
    Deliver deliver_;
    Delivered delivered_;
    int64_t offset_ = 0;
    size_t page_budget_bytes_ = 0;  // hold_at_most(); 0: none
    bool page_cost_learnt_ = false;
    static constexpr int64_t kMaxReserve = 4'000'000;

    store::IdIndex seen_;
    bool reserved_ = false;
};

}  // namespace ce::scim
