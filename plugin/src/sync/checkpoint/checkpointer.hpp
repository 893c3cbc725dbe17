// A sync's checkpoints: the journal (when the host takes checkpoints, or the sync resumes), the interval, and the
// tokens given to the sink. The sync run says where it stands; this says when a checkpoint is due and gives it:
// the journal written to disk first, then the token naming its length and hash, so that a token never names
// state that is not on disk.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/records.hpp"
#include "sync/checkpoint/journal.hpp"
#include "sync/checkpoint/resume_token.hpp"

namespace ce::sync::checkpoint {

// How long after the last checkpoint the next is due, `elapsed` into the sync: a tenth of the time the sync has
// run (an interruption loses at most ~10% of it), never more than `interval` (checkpoint-interval-ms) and never
// less than kMinCheckpointSpacing (unless `interval` is smaller still: 0 = every page or group).
inline constexpr std::chrono::milliseconds kMinCheckpointSpacing{250};
std::chrono::steady_clock::duration checkpoint_spacing(std::chrono::steady_clock::duration elapsed,
                                                       std::chrono::steady_clock::duration interval);

class Checkpointer {
public:
    Checkpointer(RecordSink &sink, TokenScope scope, std::chrono::milliseconds interval, std::string journal_dir);

    // Where the sync starts: the token's point (its journal replayed into `replay`, after every check), or the
    // start of a full sync. Throws Error(invalid_argument, "resume_from") for a token this sync cannot use.
    ResumePoint begin(std::string_view resume_from, JournalReplay &replay);
    bool resumed() const { return resumed_; }

    void user(uint64_t fp) { note(kUserTag, fp); }
    void group(uint64_t fp) { note(kGroupTag, fp); }
    void queued(const scim::Group &g) { note(kQueuedTag, g); }
    void note(char tag, uint64_t fp) {
        if (journal_) journal_->add_fingerprint(tag, fp);
    }
    void note(char tag, const scim::Group &g) {
        if (journal_) journal_->add_strings(tag, g);
    }

    // A checkpoint is due (checkpoint_spacing has passed since the last one) and someone takes it.
    bool due() const;
    // Gives a checkpoint at `point` (its journal fields are filled here). Throws Error::stopped() when the sink
    // answers STOP.
    void give(ResumePoint point);
    uint64_t given() const { return given_; }
    // The sync completed: its journal (and the one it resumed from) are removed.
    void complete();

private:
    using Clock = std::chrono::steady_clock;

    RecordSink &sink_;
    TokenScope scope_;
    Clock::duration interval_;
    std::string journal_dir_;
    std::optional<Journal> journal_;
    Clock::time_point started_ = Clock::now();
    Clock::time_point last_ = started_;
    uint64_t given_ = 0;
    bool resumed_ = false;
};

}  // namespace ce::sync::checkpoint
