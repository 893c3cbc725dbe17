// One sync, as an object: users, then groups with their members from the group list pages
// (sync/group_page_walk.hpp), then the members of each group those pages could not vouch for (or of every group,
// with membership-reads=per-group: sync/membership_fetcher.hpp),
// every record streamed to the sink as soon as it is known, with progress per page. A run keeps only the sets
// of user and group ids and the list of groups (store/), in bounded memory.
//
// Checkpoints (sync/checkpoint/): at every phase boundary, and every checkpoint-seconds after a page is
// delivered (lists) or once the groups in flight are done (memberships). A resumed run replays the journal into
// its sets and list, then walks the interrupted list on from the checkpoint's frontier; if the list moved there
// (the id at the frontier is not the one the checkpoint saw, or the pass was already moving), the list is walked
// again from its start, delivering only what was not delivered before (plugin/README.md, "Resuming").
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
#include "sync/checkpoint/checkpointer.hpp"
#include "sync/checkpoint/page_frontier.hpp"
#include "sync/delivery.hpp"
#include "sync/group_page_walk.hpp"
#include "sync/membership_fetcher.hpp"
#include "sync/store/group_list.hpp"
#include "sync/store/id_index.hpp"

namespace ce::sync {

using SyncStats = SyncCounts;

class SyncRun final : private GroupPageSink, private checkpoint::JournalReplay {
public:
    // resume_from: a checkpoint token of an earlier run ("" for a full sync), usable with `scope`.
    SyncRun(const scim::Client &client, const config::Config &config, const CallContext &ctx, RecordSink &sink,
            SyncStats &stats, const LogFn &log, std::string_view resume_from = {},
            checkpoint::TokenScope scope = {});
    // The engine's counts (every attempt) reach the stats on every way out, failures included.
    ~SyncRun() override;
    SyncRun(const SyncRun &) = delete;
    SyncRun &operator=(const SyncRun &) = delete;

    void run();

private:
    void begin();
    using Phase = checkpoint::Phase;
    // Where one walk of a list begins: at server position `first` (1: the start), for at most `passes` passes
    // numbered from `pass_base`.
    struct WalkStart {
        int64_t first = 1;
        unsigned passes = 3;
        unsigned pass_base = 0;
    };

    // A list endpoint and how its pages are read.
    template <typename T>
    struct ListSpec {
        std::string url;
        const char *excluded;
        scim::ListPage<T> (*parse)(std::string &);
        const char *noun;
        std::string_view phase;
    };
    // One walk of a list; `last`: its incompleteness is reported; `exact`: it proved it saw the whole list.
    template <typename T, typename Deliver>
    store::IdIndex walk(const ListSpec<T> &list, const WalkStart &start, store::IdIndex seen, Deliver deliver,
                        bool last, bool &exact);
    // Runs the walks of a phase from where the resume point left it: `run_walk(start, seen, last, exact)`.
    template <typename RunWalk>
    store::IdIndex walk_phase(Phase phase, store::IdIndex seen, RunWalk run_walk);
    void list_users();
    void list_groups();
    // Groups and their members from the group pages; the groups the pages cannot vouch for wait in groups_.
    void walk_group_pages();
    store::IdIndex walk_group_pages_from(const WalkStart &start, store::IdIndex seen, bool last, bool &exact);
    void read_memberships();

    // Checkpoints.
    void on_page(const scim::PageSpan &span, const scim::PagePlanner &planner);
    void checkpoint_walk(const scim::PagePlanner &planner);
    void checkpoint_boundary(Phase next);
    bool checkpoint_due() override;
    void at_rest(size_t groups_done) override;
    void replay_fingerprint(char tag, uint64_t fp) override;
    void replay_strings(char tag, scim::Group g) override;
    store::IdIndex new_index() const;

    void member(const scim::Group &group, const char *principal_type, std::string_view id, bool resolved) override;
    void group_done(const scim::Group &group, size_t members) override;
    void listed(const scim::Group &group) override;
    void page_done(const scim::PagePlanner &planner, const scim::PageSpan &span) override;
    void queued(const scim::Group &group) override;
    void log_group_pages(const GroupPageCounts &counts);
    void warn(std::string_view code, const std::string &message) override;
    void warn_incomplete(const scim::PagePlanner &planner, const char *what);
    size_t index_memory_bytes() const;

    const scim::Client &client_;
    const config::Config &config_;
    SyncStats &stats_;
    Delivery out_;
    store::IdIndex user_ids_;
    store::IdIndex group_ids_;
    store::GroupList groups_;
    unsigned passes_ = 0;  // of the last list walked
    bool walking_pages_ = false;  // in walk_group_pages()

    checkpoint::Checkpointer checkpoints_;
    checkpoint::ResumePoint resume_;     // where this run starts
    Phase phase_ = Phase::users;         // the phase running
    checkpoint::PageFrontier frontier_;  // of the list walk running
    WalkStart walk_start_;               // of the list walk running
    bool moved_ = false;                 // a resumed walk found another id at its frontier
    const GroupPageWalk *group_walk_ = nullptr;  // while walking the group pages
    store::IdIndex replayed_users_, replayed_groups_;  // what the journal says was delivered
    uint64_t longest_listed_ = 0;  // the group pages' cut-list check, carried across walks
    std::string resume_from_;
};

}  // namespace ce::sync
