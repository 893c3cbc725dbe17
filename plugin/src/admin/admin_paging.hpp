// The Admin API's two paging styles, followed exactly as documented and checked as they go
// (../shared/docs/claude-admin-api.md):
//   A, id cursors (members, invites): after_id=<last_id> while has_more is true. A page that says more follows
//      but gives no row or no last_id, or a last_id that is not its last row's id, cannot be followed: an error,
//      never "the end".
//   B, opaque cursors (groups, group members, roles): page=<next_page> verbatim while next_page is not null; a
//      short page (even an empty one) with a cursor is not the end. has_more true with a null next_page cannot be
//      followed: the walk ends and says so (WalkEnd::contradicted), so the caller can warn that the list may be
//      incomplete.
// Either way, a cursor that comes back (a loop) and a run of kMaxEmptyPages empty pages (an endless list) fail,
// with one allowance: an empty paging-B page whose next_page is the cursor it was asked with made no progress
// yet, and is asked again, at most kMaxSameCursorPages times in a row (the simulator's short pages do this; a
// service whose scan ran out of time may too). A page with rows that hands back a cursor already used is a loop.
// Every page asks limit=kPageLimit: under the API's rate limit the request count is the speed.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "admin/admin_client.hpp"

namespace ce::admin {

inline constexpr unsigned kMaxEmptyPages = 64;
inline constexpr unsigned kMaxSameCursorPages = 3;

enum class WalkEnd { complete, contradicted };

// A walk that can be resumed: it starts at `cursor` (an after_id for paging A, a next_page for paging B; "" = the
// list's start) and, after each page is handed over while more follow, tells `at_page_end` the cursor of the page
// that follows (what a resumed walk starts from).
struct WalkResume {
    std::string cursor;
    std::function<void(const std::string &next)> at_page_end;
};

namespace detail {

inline void require_fresh_cursor(std::unordered_set<std::string> &seen, const std::string &cursor,
                                 const Client &client, std::string_view what) {
    if (!seen.insert(cursor).second)
        throw client.malformed(what, "a page cursor came back (the service pages in a loop)", 200);
}

inline void count_empty(unsigned &empty_run, bool empty, const Client &client, std::string_view what) {
    empty_run = empty ? empty_run + 1 : 0;
    if (empty_run >= kMaxEmptyPages)
        throw client.malformed(what, std::to_string(kMaxEmptyPages) + " empty pages in a row (an endless list)",
                               200);
}

}  // namespace detail

template <typename T>
WalkEnd walk_cursor_pages(const Client &client, const std::string &path, CursorPage<T> (*parse)(std::string &),
                          std::string_view what, const std::function<void(std::vector<T> &)> &on_page,
                          const Query &filters = {}, const WalkResume &resume = {}) {
    std::unordered_set<std::string> seen;
    std::string after = resume.cursor;
    unsigned empty_run = 0;
    for (;;) {
        Query q{{"limit", std::to_string(kPageLimit)}};
        q.insert(q.end(), filters.begin(), filters.end());
        if (!after.empty()) q.emplace_back("after_id", after);
        CursorPage<T> page = *client.get<CursorPage<T>>(client.url(path, q), what, parse);
        detail::count_empty(empty_run, page.data.empty(), client, what);
        if (page.has_more) {
            if (page.data.empty() || page.last_id.empty())
                throw client.malformed(what, "a page says more follow but gives no last_id to continue from", 200);
            if (page.last_id != page.data.back().id)
                throw client.malformed(what, "a page's last_id is not the id of its last row", 200);
            detail::require_fresh_cursor(seen, page.last_id, client, what);
            after = page.last_id;
        }
        on_page(page.data);
        if (!page.has_more) return WalkEnd::complete;
        if (resume.at_page_end) resume.at_page_end(after);
    }
}

template <typename T>
WalkEnd walk_token_pages(const Client &client, const std::string &path, TokenPage<T> (*parse)(std::string &),
                         std::string_view what, const std::function<void(std::vector<T> &)> &on_page,
                         const WalkResume &resume = {}) {
    std::unordered_set<std::string> seen;
    std::string cursor = resume.cursor;
    unsigned empty_run = 0, same_cursor_run = 0;
    for (;;) {
        Query q{{"limit", std::to_string(kPageLimit)}};
        if (!cursor.empty()) q.emplace_back("page", cursor);
        TokenPage<T> page = *client.get<TokenPage<T>>(client.url(path, q), what, parse);
        if (page.next_page) {
            if (page.next_page->empty()) throw client.malformed(what, "a page's next_page is empty", 200);
            detail::count_empty(empty_run, page.data.empty(), client, what);
            const bool no_progress = page.data.empty() && *page.next_page == cursor;
            same_cursor_run = no_progress ? same_cursor_run + 1 : 0;
            if (same_cursor_run > kMaxSameCursorPages)
                throw client.malformed(what, "the same page cursor came back with no row " +
                                                 std::to_string(same_cursor_run) + " times (the service pages in a loop)",
                                       200);
            if (!no_progress) detail::require_fresh_cursor(seen, *page.next_page, client, what);
            cursor = *page.next_page;
        }
        on_page(page.data);
        if (!page.next_page) return page.has_more ? WalkEnd::contradicted : WalkEnd::complete;
        if (resume.at_page_end) resume.at_page_end(cursor);
    }
}

}  // namespace ce::admin
