// How far a list walk has come, as a checkpoint can say it: the longest prefix [1, position] of the list that the
// pages of the current pass, answered in any order, cover without a hole, and the fingerprint of the id found at
// `position` (the last resource of the page that reached it). A resumed walk starts at `position` again (one
// resource of overlap): finding the same id there proves that no resource slid from the part behind the frontier
// into the part ahead of it (servers list in a stable order; see scim/paging_planner.hpp, "Edges").
// Pure logic.
#pragma once

#include <cstdint>
#include <map>

namespace ce::sync::checkpoint {

class PageFrontier {
public:
    // A delivered page of pass `pass`: `returned` resources from server position `start`, the last with id
    // fingerprint last_fp. Pages of an earlier pass are ignored; a later pass starts a new frontier.
    void completed(unsigned pass, int64_t start, int64_t returned, uint64_t last_fp) {
        if (returned <= 0 || pass < pass_) return;
        if (pass > pass_) {
            pass_ = pass;
            position_ = 0;
            position_fp_ = 0;
            pending_.clear();
        }
        auto &slot = pending_[start];
        if (start + returned - 1 > slot.end) slot = {start + returned - 1, last_fp};
        advance();
    }
    // Where a resumed walk begins: the frontier of an earlier run (position, its id), in pass `pass`.
    void start_at(unsigned pass, int64_t position, uint64_t fp) {
        pass_ = pass;
        position_ = position;
        position_fp_ = fp;
        pending_.clear();
    }
    unsigned pass() const { return pass_; }
    int64_t position() const { return position_; }
    uint64_t position_fp() const { return position_fp_; }

private:
    struct Reach {
        int64_t end = 0;
        uint64_t fp = 0;
    };
    void advance() {
        while (!pending_.empty() && pending_.begin()->first <= position_ + 1) {
            const Reach r = pending_.begin()->second;
            pending_.erase(pending_.begin());
            if (r.end > position_) {
                position_ = r.end;
                position_fp_ = r.fp;
            }
        }
    }

    unsigned pass_ = 0;
    int64_t position_ = 0;
    uint64_t position_fp_ = 0;
    std::map<int64_t, Reach> pending_;  // answered pages beyond the frontier, by start position
};

}  // namespace ce::sync::checkpoint
