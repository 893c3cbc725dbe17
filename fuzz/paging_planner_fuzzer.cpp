// Fuzz target: the paging planner (plugin/src/scim/paging_planner.cpp) driven by a simulated SCIM server.
//
// The input describes a server and its answers. The first bytes configure it: the client's page size,
// max passes and concurrency, the server's page cap (or that it ignores `count`), how it reports
// totalResults (honest, absent, or the page size in its place), how many users it holds, whether the
// collection drifts (inserts, deletes, both) and whether its last misbehaviour repeats forever once the
// input runs out. Then each answer consumes bytes: which outstanding request is answered (out of order),
// a drift step, and an answer mode (honest, or a lie: empty page, short page, the first page again, a
// stale page from elsewhere, a duplicate inside the page, more than asked, a huge/absent/random total).
// With the input exhausted the server answers honestly (unless sticky), so every walk should end.
//
// Invariants, always:
//  - every request has startIndex >= 1, count >= 1 and a pass below max_passes; passes never go back;
//  - outstanding() equals the requests really in flight;
//  - the planner never stalls (not done, nothing outstanding, and nothing to ask);
//  - it terminates: at most kRequestCap requests for a collection of a few hundred ids (the harness
//    stops there and reports a runaway walk); only PagingError may escape;
//  - a page it tells the caller to ignore never holds an id not seen before (no data dropped).
// With true totals and pages larger than 16, under any drift in any pass: a walk that ends settled() delivered
// every id that existed throughout.
// And when the server is honest and stable (every total is the truth, or absent, or the page size while
// `count` is honoured), or honest with only inserts or only deletes during the first pass (or both, when its
// pages are larger than 16 and overlap for the edge check), a second pass allowed and true totals:
//  - no PagingError, the walk is done, and every id that existed throughout the walk was delivered;
//  - when stable: exactly one pass, no page ignored, no doubt(), and not many more requests than pages.
// A stable server whose totalResults is a steady fraction of the truth (stale or capped) counts as stable: the
// walk must read past the total and deliver every id.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <exception>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "fuzz_check.hpp"
#include "scim/paging_planner.hpp"

namespace {

using namespace ce::scim;

constexpr uint64_t kRequestCap = 200'000;

class Bytes {
public:
    Bytes(const uint8_t *d, size_t n) : d_(d), n_(n) {}
    bool empty() const { return i_ >= n_; }
    uint8_t next() { return i_ < n_ ? d_[i_++] : 0; }
    uint64_t next64() {
        uint64_t v = 0;
        for (int k = 0; k < 8; ++k) v = (v << 8) | next();
        return v;
    }

private:
    const uint8_t *d_;
    size_t n_;
    size_t i_ = 0;
};

enum class TotalMode { honest, absent, page_size };
enum class Drift { none, inserts, deletes, both };

struct Answer {
    std::vector<std::string> ids;
    int64_t total = -1;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Bytes in(data, size);

    // The client.
    const uint8_t ps = in.next();
    const int64_t page_size = ps == 255 ? 1000 : 1 + ps % 24;
    // Odd multiples of 24 in that byte: the client limits its pages to half the page size once the first page has
    // answered, as the group-page walk does when the first page shows what a group costs (limit_page_size).
    const int64_t page_limit = ps != 255 && (ps / 24) % 2 == 1 ? std::max<int64_t>(1, page_size / 2) : 0;
    const unsigned max_passes = 1 + in.next() % 4;
    const size_t concurrency = 1 + in.next() % 6;
    // The server.
    const uint8_t cap_byte = in.next();
    const bool ignores_count = (cap_byte & 0x80) != 0;
    const int64_t cap = cap_byte % 32;  // 0: honours count (no cap)
    const uint8_t mode_byte = in.next();
    const auto total_mode = static_cast<TotalMode>(mode_byte % 3);
    const auto drift = static_cast<Drift>((mode_byte >> 2) % 4);
    // FUZZ_PLANNER_NO_STICKY=1 (exploring only): no sticky liars, to look past the known runaway walk
    // (fuzz/regressions/paging_planner/runaway_huge_total_stale_pages).
    static const bool no_sticky = std::getenv("FUZZ_PLANNER_NO_STICKY") != nullptr;
    const bool sticky = (mode_byte & 0x40) != 0 && !no_sticky;
    // Bit 7 with honest totals: the total is stale or capped, a steady fraction (1/5 to 4/5) of the first size.
    const bool capped_total = total_mode == TotalMode::honest && (mode_byte & 0x80) != 0;
    const size_t n_lo = in.next();
    const size_t n0 = n_lo | (static_cast<size_t>(in.next() % 2) << 8);  // up to 511 users

    std::vector<std::string> coll;
    for (size_t i = 0; i < n0; ++i) coll.push_back("u" + std::to_string(i));
    uint64_t next_id = n0;
    std::set<std::string> deleted;  // ids that did not exist throughout
    std::set<std::string> initial(coll.begin(), coll.end());
    const int64_t total_cap = static_cast<int64_t>(n0) * (1 + ((mode_byte >> 4) & 3)) / 5;

    bool lied = false;            // any answer not the truth
    bool drifted_late = false;    // a drift step after the first pass
    bool drifted = false;
    uint8_t last_lie = 0;

    // FUZZ_TRACE=1: print the walk (to read a crash input).
    static const bool trace = std::getenv("FUZZ_TRACE") != nullptr;
    if (trace)
        std::fprintf(stderr, "page_size %lld, max_passes %u, concurrency %zu, cap %lld%s, totals %d, drift %d%s, %zu users\n",
                     static_cast<long long>(page_size), max_passes, concurrency, static_cast<long long>(cap),
                     ignores_count ? " (ignores count)" : "", static_cast<int>(total_mode), static_cast<int>(drift),
                     sticky ? ", sticky" : "", n0);
    PagePlanner planner(page_size, max_passes);
    std::vector<PageRequest> inflight;
    std::unordered_set<std::string> seen;
    uint64_t requests = 0;
    unsigned last_pass = 0;
    bool ignored_any = false;
    bool paging_error = false;

    // The window an honest server returns for a request.
    auto honest_ids = [&](int64_t start, int64_t count) {
        int64_t k = ignores_count && cap > 0 ? cap : (cap > 0 ? std::min(count, cap) : count);
        std::vector<std::string> out;
        for (int64_t i = start - 1; i >= 0 && i < static_cast<int64_t>(coll.size()) && k > 0; ++i, --k)
            out.push_back(coll[static_cast<size_t>(i)]);
        return out;
    };

    try {
        for (;;) {
            const size_t slots = concurrency > inflight.size() ? concurrency - inflight.size() : 0;
            for (const PageRequest &r : planner.take(slots)) {
                ++requests;
                FUZZ_CHECK(r.start_index >= 1, "a request for startIndex < 1");
                FUZZ_CHECK(r.count >= 1, "a request for count < 1");
                FUZZ_CHECK(r.pass < max_passes, "a request in a pass beyond max_passes");
                FUZZ_CHECK(r.pass >= last_pass, "a request for an earlier pass");
                last_pass = r.pass;
                inflight.push_back(r);
            }
            FUZZ_CHECK(planner.outstanding() == inflight.size(), "outstanding() differs from the requests in flight");
            FUZZ_CHECK(planner.requests() == requests, "requests() differs from the requests issued");
            if (inflight.empty()) {
                FUZZ_CHECK(planner.done(), "the planner stalled: not done, nothing outstanding, nothing to ask");
                break;
            }
            if (requests > kRequestCap) FUZZ_CHECK(false, "runaway walk: more than 200000 requests for a few hundred ids");

            // Which request the server answers now.
            const size_t pick = in.next() % inflight.size();
            const PageRequest req = inflight[pick];
            inflight.erase(inflight.begin() + static_cast<std::ptrdiff_t>(pick));

            // Drift before answering.
            const uint8_t d = in.next();
            if (drift != Drift::none && !in.empty() && (d & 3) == 0) {
                const bool insert = drift == Drift::inserts || (drift == Drift::both && (d & 4));
                const size_t at = in.next();
                if (insert) {
                    coll.insert(coll.begin() + static_cast<std::ptrdiff_t>(at % (coll.size() + 1)),
                                "n" + std::to_string(next_id++));
                } else if (!coll.empty()) {
                    const size_t k = at % coll.size();
                    deleted.insert(coll[k]);
                    coll.erase(coll.begin() + static_cast<std::ptrdiff_t>(k));
                }
                drifted = true;
                if (req.pass > 0 || planner.passes() > 1) drifted_late = true;
            }

            // The answer.
            Answer a;
            a.ids = honest_ids(req.start_index, req.count);
            switch (total_mode) {
            case TotalMode::honest:
                a.total = static_cast<int64_t>(coll.size());
                if (capped_total) a.total = std::min(a.total, total_cap);
                break;
            case TotalMode::absent: a.total = -1; break;
            case TotalMode::page_size: a.total = static_cast<int64_t>(a.ids.size()); break;
            }
            uint8_t op = in.empty() && sticky ? last_lie : in.next();
            if (op >= 0xF0) {
                last_lie = op;
                lied = true;
                switch (op & 0x0F) {
                case 0: a.ids.clear(); break;
                case 1: a.ids.resize(a.ids.size() / 2); break;
                case 2: a.ids = honest_ids(1, req.count); break;  // the first page again
                case 3: a.ids = honest_ids(1 + static_cast<int64_t>(in.next()) % std::max<int64_t>(1, static_cast<int64_t>(coll.size())), req.count); break;
                case 4: if (!a.ids.empty()) a.ids.push_back(a.ids.front()); break;
                case 5: a.ids = honest_ids(req.start_index, req.count + 1 + in.next() % 8); break;
                case 6: a.total = INT64_MAX; break;
                case 7: a.total = -1; break;
                case 8: {
                    const auto v = static_cast<int64_t>(in.next64() >> 1);
                    a.total = v;
                    break;
                }
                case 9: a.total = static_cast<int64_t>(a.ids.size()); break;
                case 10: a.total = std::max<int64_t>(0, a.total - 1 - in.next()); break;
                case 11: a.total = a.total + 1 + in.next(); break;
                case 12: a.total = INT64_MAX; a.ids = honest_ids(2, req.count); break;  // huge total, stale page 2
                default: a.ids = honest_ids(req.start_index + 1, req.count); break;  // off by one
                }
            }

            PageResult res;
            res.total_results = a.total;
            res.returned = a.ids.size();
            if (!a.ids.empty()) res.first_id = a.ids.front();
            for (const auto &id : a.ids) res.ids.push_back(id);
            for (const auto &id : a.ids)
                if (!seen.count(id)) ++res.fresh;
            if (page_limit > 0 && req.start_index == 1 && req.pass == 0) planner.limit_page_size(page_limit);
            const bool deliver = planner.complete(req, res);
            if (trace && requests < 200)
                std::fprintf(stderr, "  #%llu pass %u start %lld count %lld -> %zu ids (%zu new, first %s), total %lld, op 0x%02x%s\n",
                             static_cast<unsigned long long>(requests), req.pass, static_cast<long long>(req.start_index),
                             static_cast<long long>(req.count), res.returned, res.fresh, res.first_id.c_str(),
                             static_cast<long long>(res.total_results), op, deliver ? "" : " (ignored)");
            if (deliver) {
                for (const auto &id : a.ids) seen.insert(id);
            } else {
                ignored_any = true;
                FUZZ_CHECK(res.fresh == 0, "a page holding new ids was ignored (data dropped)");
            }
        }
    } catch (const PagingError &) {
        paging_error = true;
    }
    FUZZ_CHECK(planner.passes() <= max_passes, "more passes than max_passes");

    // Guarantees for honest servers.
    const bool counted_total_ok = total_mode != TotalMode::page_size || (cap == 0 && !ignores_count);
    const bool stable = !lied && !drifted && counted_total_ok;
    // Inserts and deletes together can leave every total unchanged; the first pass's edge checks catch the
    // shift when its pages overlap (a server page of more than 16, and more than a page of users).
    const int64_t asked = page_limit > 0 ? page_limit : page_size;  // the pages after the first
    // A server ignoring count returns its cap whatever is asked: a page limit does not change its pages when the
    // first page held more than asked (the planner then keeps the server's size), and does when it held less.
    const int64_t ignored_page = page_limit > 0 && cap <= page_size ? std::min<int64_t>(cap, page_limit) : cap;
    const int64_t server_page = cap > 0 ? (ignores_count ? ignored_page : std::min<int64_t>(cap, asked)) : asked;
    const bool edges_checked = server_page > 16 && static_cast<int64_t>(n0) > server_page + 1;
    const bool first_pass_drift = !lied && drifted && !drifted_late && (drift != Drift::both || edges_checked) &&
                                  total_mode == TotalMode::honest && !capped_total && max_passes >= 2;
    if (stable || first_pass_drift) {
        FUZZ_CHECK(!paging_error, "PagingError from an honest server");
        FUZZ_CHECK(planner.done(), "an honest walk did not finish");
        for (const auto &id : initial)
            if (!deleted.count(id)) FUZZ_CHECK(seen.count(id) == 1, "an id that existed throughout was never delivered");
    }
    // An honest server with true totals and pages larger than 16: whatever drifted, in whichever pass, a walk that
    // ends settled (no change seen in its last pass) delivered every id that existed throughout. A walk that
    // did not settle is reported so by the connector (incomplete_listing_changed).
    if (!lied && total_mode == TotalMode::honest && !capped_total && edges_checked && !paging_error && planner.settled())
        for (const auto &id : initial)
            if (!deleted.count(id)) FUZZ_CHECK(seen.count(id) == 1, "a settled walk missed an id that existed throughout");
    if (stable) {
        FUZZ_CHECK(planner.passes() == 1, "a second pass over a stable collection");
        FUZZ_CHECK(planner.doubt().empty(), "a stable honest server's walk doubts its own completeness");
        FUZZ_CHECK(!ignored_any, "a page of a stable honest server was ignored");
        FUZZ_CHECK(seen.size() == coll.size(), "ids delivered that the server does not hold");
        const int64_t eff = cap > 0 ? std::min<int64_t>(cap, asked) : asked;
        const uint64_t pages = static_cast<uint64_t>(static_cast<int64_t>(coll.size()) / std::max<int64_t>(1, eff)) + 1;
        FUZZ_CHECK(requests <= 2 * pages + 2 * concurrency + 4, "far more requests than pages for a stable collection");
    }
    return 0;
}
