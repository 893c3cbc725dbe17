#include "sync/checkpoint/checkpointer.hpp"

#include "common/errors.hpp"

#include <algorithm>

namespace ce::sync::checkpoint {

std::chrono::steady_clock::duration checkpoint_spacing(std::chrono::steady_clock::duration elapsed,
                                                       std::chrono::steady_clock::duration interval) {
    const std::chrono::steady_clock::duration floor = std::min<std::chrono::steady_clock::duration>(kMinCheckpointSpacing, interval);
    return std::clamp<std::chrono::steady_clock::duration>(elapsed / 10, floor, interval);
}

Checkpointer::Checkpointer(RecordSink &sink, TokenScope scope, std::chrono::milliseconds interval, std::string journal_dir)
    : sink_(sink),
      scope_(std::move(scope)),
      interval_(interval),
      journal_dir_(std::move(journal_dir)) {}

ResumePoint Checkpointer::begin(std::string_view resume_from, JournalReplay &replay) {
    started_ = last_ = Clock::now();
    if (resume_from.empty()) {
        if (sink_.takes_checkpoints()) journal_.emplace(Journal::create(journal_dir_));
        return ResumePoint{};
    }
    ResumePoint point = decode_token(resume_from, scope_);
    journal_.emplace(Journal::resume(journal_dir_, point.journal, {point.journal_bytes, point.journal_hash}, replay));
    resumed_ = true;
    return point;
}

bool Checkpointer::due() const {
    if (!journal_ || !sink_.takes_checkpoints()) return false;
    const Clock::time_point now = Clock::now();
    return now - last_ >= checkpoint_spacing(now - started_, interval_);
}

void Checkpointer::give(ResumePoint point) {
    if (!journal_ || !sink_.takes_checkpoints()) return;
    const Journal::Mark mark = journal_->commit();
    point.journal = journal_->name();
    point.journal_bytes = mark.bytes;
    point.journal_hash = mark.hash;
    last_ = Clock::now();
    ++given_;
    if (!sink_.checkpoint(encode_token(point, scope_))) throw Error::stopped();
}

void Checkpointer::complete() {
    if (journal_) journal_->complete();
    journal_.reset();
}

}  // namespace ce::sync::checkpoint
