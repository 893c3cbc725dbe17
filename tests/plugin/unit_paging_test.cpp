// The paging planner against an in-memory list server with the quirks of real ones: page caps, short pages,
// a first page repeated past the end, the page size in totalResults, no total, no progress, drift.
#include <doctest/doctest.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "scim/paging_planner.hpp"

using namespace ce::scim;

namespace {

struct FakeList {
    std::vector<std::string> ids;
    int64_t cap = 100;
    bool repeat_first_past_end = false;
    bool total_is_page_size = false;
    bool no_total = false;
    bool ignore_start_index = false;
    int64_t total_cap = -1;  // totalResults reported at most this (a stale or capped total)
    int short_every = 0;  // every n-th answer (not at the end) returns one resource less
    std::function<void(FakeList &, int64_t start)> before_request;
    int answers = 0;

    struct Answer {
        int64_t total;
        std::vector<std::string> ids;
    };
    Answer serve(int64_t start, int64_t count) {
        if (before_request) before_request(*this, start);
        ++answers;
        const int64_t size = static_cast<int64_t>(ids.size());
        int64_t n = std::min(count, cap);
        if (ignore_start_index) start = 1;
        int64_t s = start - 1;
        if (s >= size && repeat_first_past_end) s = 0;
        Answer a;
        if (short_every && answers % short_every == 0 && s + n < size && n > 1) --n;
        for (int64_t i = s; i < std::min(size, s + n); ++i) a.ids.push_back(ids[static_cast<size_t>(i)]);
        a.total = no_total ? -1 : total_is_page_size ? static_cast<int64_t>(a.ids.size()) : size;
        if (total_cap >= 0 && a.total > total_cap) a.total = total_cap;
        return a;
    }
};

struct WalkResult {
    std::vector<std::string> delivered;  // in delivery order
    uint64_t requests = 0;
    unsigned passes = 0;
    bool stuck = false;
    bool settled = false;
    std::string doubt;
};

// Drives a planner like the SCIM client does, answering outstanding requests in FIFO or LIFO order (LIFO
// imitates concurrent requests completing out of order).
WalkResult walk(FakeList &server, int64_t page_size, size_t slots, bool lifo, unsigned max_passes = 3,
               std::mt19937_64 *random_order = nullptr, int64_t limit_after_first = 0) {
    PagePlanner planner(page_size, max_passes);
    std::set<std::string> seen;
    std::deque<PageRequest> pending;
    WalkResult r;
    int guard = 0;
    while (!planner.done()) {
        if (++guard > 100000) {
            r.stuck = true;
            break;
        }
        for (auto &req : planner.take(slots > pending.size() ? slots - pending.size() : 0)) pending.push_back(req);
        if (pending.empty()) {
            r.stuck = true;
            break;
        }
        PageRequest req;
        if (random_order) {  // any outstanding request may be served next
            const size_t k = static_cast<size_t>((*random_order)() % pending.size());
            req = pending[k];
            pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(k));
        } else {
            req = lifo ? pending.back() : pending.front();
            if (lifo) pending.pop_back();
            else pending.pop_front();
        }
        auto answer = server.serve(req.start_index, req.count);
        PageResult res;
        res.total_results = answer.total;
        res.returned = answer.ids.size();
        if (!answer.ids.empty()) res.first_id = answer.ids.front();
        for (const auto &id : answer.ids) res.ids.push_back(id);
        for (auto &id : answer.ids)
            if (!seen.count(id)) ++res.fresh;
        // What a walker does once the first answer told it what a page costs (group pages with their members).
        if (limit_after_first > 0 && req.start_index == 1) planner.limit_page_size(limit_after_first);
        if (planner.complete(req, res))
            for (auto &id : answer.ids)
                if (seen.insert(id).second) r.delivered.push_back(id);
    }
    r.requests = planner.requests();
    r.passes = planner.passes();
    r.settled = planner.settled();
    r.doubt = planner.doubt();
    return r;
}

std::vector<std::string> make_ids(size_t n, const std::string &prefix = "u") {
    std::vector<std::string> v;
    for (size_t i = 0; i < n; ++i) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%s%06zu", prefix.c_str(), i);
        v.emplace_back(buf);
    }
    return v;
}

void check_exact(const WalkResult &r, const std::vector<std::string> &expected) {
    CHECK_FALSE(r.stuck);
    std::set<std::string> got(r.delivered.begin(), r.delivered.end());
    CHECK(got.size() == r.delivered.size());  // each once
    CHECK(got == std::set<std::string>(expected.begin(), expected.end()));
}

}  // namespace

TEST_CASE("page sizes 1, 2 and the cap, totals at and around multiples, in and out of order") {
    for (int64_t cap : {1, 2, 100}) {
        for (int64_t page : {1, 2, 100, 250}) {
            for (size_t total : {0u, 1u, 2u, 3u, 99u, 100u, 101u, 199u, 200u, 201u, 250u}) {
                for (size_t slots : {1u, 8u}) {
                    for (bool lifo : {false, true}) {
                        CAPTURE(cap);
                        CAPTURE(page);
                        CAPTURE(total);
                        CAPTURE(slots);
                        CAPTURE(lifo);
                        FakeList s;
                        s.ids = make_ids(total);
                        s.cap = cap;
                        auto r = walk(s, page, slots, lifo);
                        check_exact(r, s.ids);
                        const int64_t step = std::min(page, cap);
                        const auto pages = static_cast<uint64_t>((static_cast<int64_t>(total) + step - 1) / step);
                        CHECK(r.requests <= pages + 2);  // no page walked twice on a stable list
                        CHECK(r.passes == 1);
                    }
                }
            }
        }
    }
}

TEST_CASE("a capped server: the first page tells the real page size and the rest is planned at once") {
    FakeList s;
    s.ids = make_ids(1000);
    s.cap = 100;
    PagePlanner p(500);
    auto first = p.take(8);
    REQUIRE(first.size() == 1);
    CHECK(first[0].start_index == 1);
    CHECK(first[0].count == 500);
    CHECK(p.take(8).empty());  // nothing more until the first page answers
    auto a = s.serve(1, 500);
    PageResult first_page{a.total, a.ids.size(), a.ids.size(), a.ids.front(), {}};
    for (const auto &id : a.ids) first_page.ids.push_back(id);
    CHECK(p.complete(first[0], first_page));
    auto next = p.take(8);
    REQUIRE(next.size() == 8);
    for (size_t i = 0; i < next.size(); ++i) {
        // Pages of the server's real size, each starting on the previous one's last resource (the edge check).
        CHECK(next[i].start_index == 100 + static_cast<int64_t>(i) * 99);
        CHECK(next[i].count == 100);
    }
    CHECK(p.total_hint() == 1000);
}

TEST_CASE("short pages in the middle: the gap is asked for again") {
    for (bool lifo : {false, true}) {
        FakeList s;
        s.ids = make_ids(537);
        s.cap = 50;
        s.short_every = 3;
        auto r = walk(s, 50, 4, lifo);
        check_exact(r, s.ids);
    }
}

TEST_CASE("a server returning page 1 again past the end, with the page size as totalResults") {
    FakeList s;
    s.ids = make_ids(230);
    s.cap = 100;
    s.repeat_first_past_end = true;
    s.total_is_page_size = true;
    auto r = walk(s, 100, 8, false);
    check_exact(r, s.ids);
    CHECK(r.requests <= 4);
}

TEST_CASE("no totalResults: walked one page after another until an empty page") {
    FakeList s;
    s.ids = make_ids(205);
    s.no_total = true;
    s.cap = 100;
    auto r = walk(s, 100, 8, false);
    check_exact(r, s.ids);
    CHECK(r.requests == 4);  // 100, 100, 5, then an empty page
    FakeList exact;
    exact.ids = make_ids(100);
    exact.cap = 100;
    r = walk(exact, 100, 8, false);  // total == a full page: one more request proves the end
    check_exact(r, exact.ids);
    CHECK(r.requests == 2);
}

TEST_CASE("a server ignoring startIndex makes no progress and the walk ends") {
    FakeList s;
    s.ids = make_ids(1000);
    s.cap = 100;
    s.ignore_start_index = true;
    auto r = walk(s, 100, 8, false);
    CHECK_FALSE(r.stuck);
    CHECK(r.delivered.size() == 100);
    CHECK(r.requests < 30);
    FakeList seq = s;
    seq.no_total = true;  // sequential mode: the repeated first page ends it
    r = walk(seq, 100, 8, false);
    CHECK_FALSE(r.stuck);
    CHECK(r.requests == 2);
}

TEST_CASE("drift: resources created and deleted during the walk; everything that existed throughout is seen") {
    for (uint64_t seed = 1; seed <= 20; ++seed) {
        for (int64_t cap : {1, 2, 7, 100}) {
            for (bool lifo : {false, true}) {
                CAPTURE(seed);
                CAPTURE(cap);
                FakeList s;
                s.ids = make_ids(150, "s");
                const auto stable = s.ids;
                s.cap = cap;
                std::mt19937_64 rng(seed);
                int serial = 0;
                // Like scim-sim --drift: before each list request, maybe delete a drift user not reached yet,
                // then create one or two drift users anywhere (shifting later pages).
                s.before_request = [&](FakeList &l, int64_t start) {
                    std::vector<size_t> drift_ahead;
                    for (size_t i = static_cast<size_t>(std::max<int64_t>(0, start - 1)); i < l.ids.size(); ++i)
                        if (l.ids[i].rfind("drift", 0) == 0) drift_ahead.push_back(i);
                    if (!drift_ahead.empty() && rng() % 2 == 0)
                        l.ids.erase(l.ids.begin() + static_cast<std::ptrdiff_t>(drift_ahead[rng() % drift_ahead.size()]));
                    const int create = 1 + static_cast<int>(rng() % 2);
                    for (int k = 0; k < create && serial < 64; ++k) {  // bounded, like the simulator's drift
                        auto pos = l.ids.begin() + static_cast<std::ptrdiff_t>(rng() % (l.ids.size() + 1));
                        l.ids.insert(pos, "drift" + std::to_string(++serial));
                    }
                };
                auto r = walk(s, 100, 8, lifo);
                CHECK_FALSE(r.stuck);
                std::set<std::string> got(r.delivered.begin(), r.delivered.end());
                CHECK(got.size() == r.delivered.size());
                for (const auto &id : stable) CHECK(got.count(id) == 1);
                CHECK(r.passes >= 1);
                CHECK(r.passes <= 3);
            }
        }
    }
}

TEST_CASE("a shrinking total ends the pass early and triggers a bounded re-walk") {
    FakeList s;
    s.ids = make_ids(300);
    s.cap = 100;
    int calls = 0;
    s.before_request = [&](FakeList &l, int64_t) {
        if (++calls == 2) l.ids.resize(150);  // half the collection disappears after page 1
    };
    auto r = walk(s, 100, 8, false);
    CHECK_FALSE(r.stuck);
    std::set<std::string> got(r.delivered.begin(), r.delivered.end());
    for (size_t i = 0; i < 150; ++i) CHECK(got.count(s.ids[i]) == 1);
    CHECK(r.passes == 2);
}

TEST_CASE("a collection growing faster than it is read: the walk still ends, with every original resource") {
    FakeList s;
    s.ids = make_ids(40, "s");
    const auto stable = s.ids;
    s.cap = 1;
    int serial = 0;
    s.before_request = [&](FakeList &l, int64_t) {
        l.ids.push_back("new" + std::to_string(++serial));
        l.ids.push_back("new" + std::to_string(++serial));
    };
    auto r = walk(s, 1, 4, false);
    CHECK_FALSE(r.stuck);
    std::set<std::string> got(r.delivered.begin(), r.delivered.end());
    for (const auto &id : stable) CHECK(got.count(id) == 1);
    CHECK(r.passes == 3);
    CHECK(r.requests < 5000);  // bounded: each pass follows growth only so far
    CHECK_FALSE(r.settled);    // still growing in the last pass: the connector warns (incomplete_listing_changed)
}

TEST_CASE("drift with requests served in random order: re-walks still see every resource that existed throughout") {
    int multi_pass = 0;
    for (uint64_t seed = 1; seed <= 60; ++seed) {
        for (int64_t cap : {2, 5, 16, 17, 20, 40, 100}) {
            CAPTURE(seed);
            CAPTURE(cap);
            FakeList s;
            s.ids = make_ids(120, "s");
            const auto stable = s.ids;
            s.cap = cap;
            std::mt19937_64 rng(seed), order(seed * 7919);
            int live_drift = 0;
            // Like scim-sim --drift (at most 12 drift users alive): delete a drift user not reached yet,
            // then create one or two anywhere.
            s.before_request = [&](FakeList &l, int64_t start) {
                std::vector<size_t> ahead;
                for (size_t i = static_cast<size_t>(std::max<int64_t>(0, start - 1)); i < l.ids.size(); ++i)
                    if (l.ids[i].rfind("drift", 0) == 0) ahead.push_back(i);
                if (!ahead.empty() && rng() % 2 == 0) {
                    l.ids.erase(l.ids.begin() + static_cast<std::ptrdiff_t>(ahead[rng() % ahead.size()]));
                    --live_drift;
                }
                const int create = 1 + static_cast<int>(rng() % 2);
                for (int k = 0; k < create && live_drift < 12; ++k, ++live_drift)
                    l.ids.insert(l.ids.begin() + static_cast<std::ptrdiff_t>(rng() % (l.ids.size() + 1)),
                                 "drift" + std::to_string(rng()));
            };
            auto r = walk(s, 100, 8, false, 3, &order);
            CHECK_FALSE(r.stuck);
            std::set<std::string> got(r.delivered.begin(), r.delivered.end());
            for (const auto &id : stable) CHECK(got.count(id) == 1);
            multi_pass += r.passes > 1;
        }
    }
    CHECK(multi_pass > 0);  // the drift did make re-walks happen
}

// Regressions from the paging_planner fuzzer (fuzz/regressions/paging_planner/).
namespace {
PageResult page_of(int64_t total, size_t returned, size_t fresh, std::string first) {
    PageResult r;
    r.total_results = total;
    r.returned = returned;
    r.fresh = fresh;
    r.first_id = std::move(first);
    return r;
}
}  // namespace

TEST_CASE("fuzz regression ub_ceiling_overflow_huge_first_total: a totalResults of 2^62 is malformed, no overflow") {
    PagePlanner p(10);
    auto first = p.take(4);
    REQUIRE(first.size() == 1);
    CHECK_THROWS_AS(p.complete(first[0], page_of(int64_t{1} << 62, 10, 10, "a")), PagingError);
    // Just above the bound is refused too, just at it is accepted.
    PagePlanner q(10);
    auto f2 = q.take(1);
    CHECK_THROWS_AS(q.complete(f2[0], page_of((int64_t{1} << 40) + 1, 10, 10, "a")), PagingError);
    PagePlanner r(10);
    auto f3 = r.take(1);
    CHECK_NOTHROW(r.complete(f3[0], page_of(int64_t{1} << 40, 10, 10, "a")));
}

TEST_CASE("fuzz regression ub_pages_overflow_huge_total_page_size_1: totalResults INT64_MAX with page size 1") {
    PagePlanner p(1);
    auto first = p.take(4);
    REQUIRE(first.size() == 1);
    std::string message;
    try {
        p.complete(first[0], page_of(INT64_MAX, 1, 1, "a"));
        (void)p.take(4);
    } catch (const PagingError &e) {
        message = e.what();
    }
    CHECK(message.find("totalResults") != std::string::npos);
}

TEST_CASE("fuzz regression runaway_huge_total_stale_pages: stale pages under a huge total end with an error") {
    // 511 users, a total of 10^9, and every page past the first answering ids already seen: the request bound
    // from the total would allow billions of requests; the stale-page bound ends the walk quickly.
    for (size_t slots : {size_t{1}, size_t{4}}) {
        CAPTURE(slots);
        PagePlanner p(100);
        std::deque<PageRequest> queue;
        uint64_t answered = 0;
        std::string error;
        try {
            for (auto &r : p.take(slots)) queue.push_back(r);
            while (!p.done() && !queue.empty() && answered < 10'000) {
                PageRequest r = queue.front();
                queue.pop_front();
                ++answered;
                const bool first = r.start_index == 1 && r.pass == 0 && answered == 1;
                p.complete(r, page_of(1'000'000'000, 100, first ? 100 : 0, first ? "u1" : "u7"));
                for (auto &n : p.take(slots > p.outstanding() ? slots - p.outstanding() : 0)) queue.push_back(n);
            }
        } catch (const PagingError &e) {
            error = e.what();
        }
        CHECK(answered < 100);
        CHECK(error.find("malformed") != std::string::npos);
        CHECK_FALSE(p.done());
    }
}

TEST_CASE("churn behind the cursor in every pass: every resource that existed throughout is delivered") {
    // tests/reliability "churn behind the cursor in every pass": one resource created when page 1 is asked and
    // one deleted before startIndex 11 is served, in every pass; with pages of 5 the deletion shifts u10 into
    // the page already read. The walk used to end after max_passes with u10 never delivered.
    for (size_t slots : {size_t{1}, size_t{4}}) {
        for (bool lifo : {false, true}) {
            CAPTURE(slots);
            CAPTURE(lifo);
            FakeList s;
            s.cap = 5;
            s.ids.push_back("t0");
            std::vector<std::string> stable;
            for (int i = 1; i <= 30; ++i) stable.push_back((i < 10 ? "u0" : "u") + std::to_string(i));
            s.ids.insert(s.ids.end(), stable.begin(), stable.end());
            int temp = 0;
            s.before_request = [&](FakeList &l, int64_t start) {
                if (start == 1 && l.ids.front()[0] != 't') l.ids.insert(l.ids.begin(), "t" + std::to_string(++temp));
                if (start == 11 && l.ids.front()[0] == 't') l.ids.erase(l.ids.begin());
            };
            const auto r = walk(s, 5, slots, lifo);
            CHECK_FALSE(r.stuck);
            std::set<std::string> got(r.delivered.begin(), r.delivered.end());
            for (const auto &id : stable) CHECK_MESSAGE(got.count(id) == 1, "missing " << id);
        }
    }
}

TEST_CASE("steady deletions: the re-check of a shifted range is not itself re-checked (no chase, no PagingError)") {
    // Found by the paging_planner fuzzer on the re-check above: pages of 17, 24 ids, one id deleted before every
    // answer (down to 4). Re-checking the answers to re-checks chased
    // the shrinking collection one index at a time until the request bound threw.
    for (size_t slots : {size_t{1}, size_t{4}}) {
        CAPTURE(slots);
        FakeList s;
        s.ids = make_ids(24);
        s.cap = 17;
        int answered = 0;
        std::set<std::string> deleted;
        s.before_request = [&](FakeList &l, int64_t) {
            if (++answered > 1 && l.ids.size() > 4) {
                deleted.insert(l.ids[l.ids.size() / 2]);
                l.ids.erase(l.ids.begin() + static_cast<std::ptrdiff_t>(l.ids.size() / 2));
            }
        };
        WalkResult r;
        CHECK_NOTHROW(r = walk(s, 17, slots, false));
        CHECK_FALSE(r.stuck);
        std::set<std::string> got(r.delivered.begin(), r.delivered.end());
        for (const auto &id : make_ids(24))
            if (!deleted.count(id)) CHECK_MESSAGE(got.count(id) == 1, "missing " << id);
    }
}

TEST_CASE("a deletion behind the cursor balanced by an insertion: the unchanged total hides it, the page edges do not") {
    // Between page 1 and page 2 one resource of page 1 is deleted and one is created at the end: every answer
    // reports the same total, but the resource that was first on page 2 slid back onto page 1, already read. The
    // first pass's pages overlap by one resource; the edge resource differs between the two answers, so the walk
    // makes a second pass and delivers it.
    for (int64_t cap : {17, 20, 100}) {
        for (size_t slots : {size_t{1}, size_t{3}, size_t{8}}) {
            CAPTURE(cap);
            CAPTURE(slots);
            FakeList s;
            s.ids = make_ids(static_cast<size_t>(cap) * 3);
            const auto stable_all = s.ids;
            s.cap = cap;
            int answers = 0;
            std::string removed;
            s.before_request = [&](FakeList &l, int64_t) {
                if (++answers == 2) {
                    removed = l.ids[3];
                    l.ids.erase(l.ids.begin() + 3);
                    l.ids.push_back("late");
                }
            };
            const auto r = walk(s, cap, slots, false);
            CHECK_FALSE(r.stuck);
            std::set<std::string> got(r.delivered.begin(), r.delivered.end());
            for (const auto &id : stable_all)
                if (id != removed) CHECK_MESSAGE(got.count(id) == 1, "missing " << id);
            CHECK(r.passes == 2);
            CHECK(r.settled);  // the second pass saw no change
        }
    }
}

TEST_CASE("a stable collection: first-pass pages overlap by one resource, a few percent more requests, one pass") {
    FakeList s;
    s.ids = make_ids(1000);
    s.cap = 100;
    const auto r = walk(s, 100, 8, false);
    check_exact(r, make_ids(1000));
    CHECK(r.passes == 1);
    CHECK(r.settled);
    CHECK(r.requests == 11);  // pages start at 1, 100, 199, ... 991: 1000 resources, 99 new a page after the first
    // Small pages (16 or fewer) do not overlap: an extra request per page would cost too much.
    FakeList small;
    small.ids = make_ids(160);
    small.cap = 16;
    const auto rs = walk(small, 16, 8, false);
    check_exact(rs, make_ids(160));
    // 160 / 16, edge to edge, and one more: the last page is full and ends exactly at the total, which only an
    // empty page after it proves (a capped or stale totalResults looks the same).
    CHECK(rs.requests == 11);
}

TEST_CASE("fuzz regression edge_overlap_page_past_a_whole_first_page: no overlapping page after a first page that holds all") {
    // The page size in totalResults and a first page holding every resource: an overlapping page starting on its
    // last resource came back with a total of 1 and made a second pass over a stable collection.
    FakeList s;
    s.ids = make_ids(292);
    s.cap = 1000;
    s.total_is_page_size = true;
    const auto r = walk(s, 1000, 3, false);
    check_exact(r, make_ids(292));
    CHECK(r.requests == 2);  // page 1, then the empty page that proves the end (a total of one page proves nothing)
    CHECK(r.passes == 1);
}

TEST_CASE("a balanced deletion and insertion during a re-walk: another pass, or an unsettled walk, never a silent miss") {
    for (unsigned max_passes : {2u, 3u}) {
        CAPTURE(max_passes);
        FakeList s;
        s.ids = make_ids(300);
        const auto original = s.ids;
        s.cap = 100;
        int firsts = 0, answers = 0, rewalk_answers = 0;
        std::string removed;
        s.before_request = [&](FakeList &l, int64_t start) {
            ++answers;
            if (answers == 2) l.ids.push_back("grown");  // the first pass sees the total change: a re-walk follows
            if (start == 1) ++firsts;
            if (firsts == 2 && ++rewalk_answers == 2) {
                // Between the re-walk's page 1 and page 2: one of page 1 deleted, one created at the end.
                removed = l.ids[5];
                l.ids.erase(l.ids.begin() + 5);
                l.ids.push_back("late");
            }
        };
        const auto r = walk(s, 100, 1, false, max_passes);
        CHECK_FALSE(r.stuck);
        REQUIRE_FALSE(removed.empty());
        std::set<std::string> got(r.delivered.begin(), r.delivered.end());
        bool all = true;
        for (const auto &id : original)
            if (id != removed && got.count(id) == 0) all = false;
        if (max_passes == 2) {
            CHECK(r.passes == 2);
            CHECK_FALSE(r.settled);  // the last pass saw its edge move: the connector warns
        } else {
            CHECK(r.passes == 3);
            CHECK(r.settled);
            CHECK(all);
        }
        // Never settled with a resource missing.
        if (r.settled) CHECK(all);
    }
}

TEST_CASE("fuzz regression inserts_before_the_cursor_at_every_answer_page_size_1: pages of old resources while the total grows are no stall") {
    // Pages of 1; before every answer a resource is created near the front, pushing a resource already read into
    // the page asked for: 40 pages in a row hold nothing new, yet the server is honest (its total grows each
    // time). The stall guard (32 pages of old resources) used to throw PagingError here.
    FakeList s;
    s.ids = make_ids(53);
    const auto original = s.ids;
    s.cap = 1;
    int answers = 0, created = 0;
    s.before_request = [&](FakeList &l, int64_t) {
        if (++answers >= 4 && answers < 45) l.ids.insert(l.ids.begin() + 1, "n" + std::to_string(++created));
    };
    WalkResult r;
    CHECK_NOTHROW(r = walk(s, 1, 1, false, 2));
    CHECK_FALSE(r.stuck);
    std::set<std::string> got(r.delivered.begin(), r.delivered.end());
    for (const auto &id : original) CHECK_MESSAGE(got.count(id) == 1, "missing " << id);
}

TEST_CASE("a server that ignores startIndex: the walk ends, and says it cannot prove the rest") {
    for (const size_t slots : {size_t{1}, size_t{8}}) {
        FakeList s;
        s.ids = make_ids(450);
        s.ignore_start_index = true;
        const auto r = walk(s, 100, slots, false);
        CHECK_FALSE(r.stuck);
        CHECK(r.delivered.size() == 100);
        CHECK(r.doubt.find("ignore startIndex") != std::string::npos);
    }
    // A first page repeated past the end (a documented quirk) is the end, with no doubt.
    FakeList past_end;
    past_end.ids = make_ids(150);
    past_end.repeat_first_past_end = true;
    const auto r = walk(past_end, 100, 4, false);
    check_exact(r, make_ids(150));
    CHECK(r.doubt.empty());
}

TEST_CASE("a stale or capped totalResults: full pages past it are read on until an empty page") {
    for (const int64_t cap : {int64_t{1}, int64_t{99}, int64_t{100}, int64_t{250}, int64_t{1090}, int64_t{2499}}) {
        for (const size_t slots : {size_t{1}, size_t{8}}) {
            CAPTURE(cap);
            CAPTURE(slots);
            FakeList s;
            s.ids = make_ids(2500);
            s.total_cap = cap;
            const auto r = walk(s, 100, slots, slots > 1);
            check_exact(r, make_ids(2500));
            CHECK(r.settled);
            CHECK(r.doubt.empty());
            CHECK(r.passes == 1);
        }
    }
    // The honest total of whole full pages: one request more than the pages, to see the empty page after them.
    FakeList exact;
    exact.ids = make_ids(298);
    const auto r = walk(exact, 100, 8, false);  // pages at 1, 100, 199: the last ends full at 298
    check_exact(r, make_ids(298));
    CHECK(r.requests == 4);
}

TEST_CASE("fuzz regression capped_total_equal_to_a_short_first_page: a first page holding the whole total is probed") {
    // 57 users, a server capping pages at 11 (below the 20 asked) and reporting totalResults 11: page 1 looked
    // like the whole list.
    FakeList s;
    s.ids = make_ids(57);
    s.cap = 11;
    s.total_cap = 11;
    const auto r = walk(s, 20, 3, false);
    check_exact(r, make_ids(57));
    CHECK(r.doubt.empty());
}

TEST_CASE("a page limit learnt from the first page: the plan starts at the last step page 1 holds") {
    FakeList s;
    s.ids = make_ids(3000);
    s.cap = 1000;
    PagePlanner p(1000);
    auto first = p.take(8);
    REQUIRE(first.size() == 1);
    auto a = s.serve(1, 1000);
    PageResult first_page{a.total, a.ids.size(), a.ids.size(), a.ids.front(), {}};
    for (const auto &id : a.ids) first_page.ids.push_back(id);
    p.limit_page_size(100);
    CHECK(p.complete(first[0], first_page));
    auto next = p.take(4);
    REQUIRE(next.size() == 4);
    for (size_t i = 0; i < next.size(); ++i) {
        CHECK(next[i].start_index == 1 + 10 * 99 + static_cast<int64_t>(i) * 99);
        CHECK(next[i].count == 100);
    }
}

TEST_CASE("page limits after the first page: exact under drift, in any order, whatever the limit") {
    std::mt19937_64 rng(7);
    for (int round = 0; round < 200; ++round) {
        FakeList s;
        const size_t n = 1 + rng() % 700;
        s.ids = make_ids(n);
        s.cap = 1 + static_cast<int64_t>(rng() % 300);
        const int64_t limit = 1 + static_cast<int64_t>(rng() % 120);
        const auto original = s.ids;
        int created = 0;
        const bool drift = rng() % 2 == 0;
        if (drift)
            s.before_request = [&](FakeList &list, int64_t) {
                if (rng() % 4 == 0) list.ids.insert(list.ids.begin() + static_cast<std::ptrdiff_t>(rng() % (list.ids.size() + 1)),
                                                    "new" + std::to_string(created++));
            };
        CAPTURE(round);
        CAPTURE(n);
        CAPTURE(s.cap);
        CAPTURE(limit);
        const WalkResult r = walk(s, 1000, 8, false, 3, &rng, limit);
        CHECK_FALSE(r.stuck);
        std::set<std::string> got(r.delivered.begin(), r.delivered.end());
        CHECK(got.size() == r.delivered.size());
        for (const auto &id : original) CHECK(got.count(id) == 1);
        if (!drift) {
            CHECK(r.settled);
            CHECK(r.passes == 1);
        }
    }
}
