// One sync, as an object: users, then groups with their members from the group list pages
// (sync/group_page_walk.hpp), then the members of each group those pages could not vouch for (or of every group,
// with membership-reads=per-group: sync/membership_fetcher.hpp),
// every record streamed to the sink as soon as it is known, with progress per page. A run keeps only the sets
// of user and group ids and the list of groups (store/), in bounded memory.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/call_context.hpp"
#include "common/log.hpp"
#include "common/records.hpp"
#include "config/config.hpp"
#include "scim/paging_planner.hpp"
#include "scim/scim_client.hpp"
#include "sync/group_page_walk.hpp"
#include "sync/membership_fetcher.hpp"
#include "sync/store/group_list.hpp"
#include "sync/store/id_index.hpp"

namespace ce::sync {

using SyncStats = SyncCounts;

class SyncRun final : private GroupPageSink {
public:
    SyncRun(const scim::Client &client, const config::Config &config, const CallContext &ctx, RecordSink &sink,
            SyncStats &stats, const LogFn &log);
    // The engine's counts (every attempt) reach the stats on every way out, failures included.
    ~SyncRun() override;
    SyncRun(const SyncRun &) = delete;
    SyncRun &operator=(const SyncRun &) = delete;

    void run();

private:
    template <typename T, typename Deliver>
    store::IdIndex walk(const std::string &url, const char *excluded, scim::ListPage<T> (*parse)(std::string &),
                        const char *noun, std::string_view phase, Deliver deliver);
    void list_users();
    void list_groups();
    // Groups and their members from the group pages; the groups the pages cannot vouch for wait in groups_.
    void walk_group_pages();
    void read_memberships();

    void member(const scim::Group &group, const char *principal_type, std::string_view id, bool resolved) override;
    void group_done(const scim::Group &group, size_t members) override;
    void listed(const scim::Group &group) override;
    void page_done(const scim::PagePlanner &planner) override;
    void log_group_pages(const GroupPageCounts &counts);
    void warn(std::string_view code, const std::string &message) override;
    void warn_incomplete(const scim::PagePlanner &planner, const char *what);
    void report(std::string_view phase, uint64_t total_hint);
    void count_requests();
    void log(LogLevel level, const std::string &msg) const;
    size_t index_memory_bytes() const;

    const scim::Client &client_;
    const config::Config &config_;
    const CallContext &ctx_;
    RecordSink &sink_;
    SyncStats &stats_;
    const LogFn &log_;
    store::IdIndex user_ids_;
    store::IdIndex group_ids_;
    store::GroupList groups_;
    unsigned passes_ = 0;  // of the last list walked
    bool walking_pages_ = false;  // in walk_group_pages()
};

}  // namespace ce::sync
