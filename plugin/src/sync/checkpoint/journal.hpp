// The journal of a sync that gives checkpoints: what a resumed sync must know of the records delivered before its
// checkpoint, and what no token could hold (it grows with the organisation): the fingerprint of every user and
// group delivered, and the groups waiting for their members to be read (id, name, external id). It is a named
// file in spill-dir, readable by its owner only (0600), appended to as records are delivered and written to disk
// (fdatasync) at every checkpoint, whose token then records the journal's length and hash: a resumed sync reads
// exactly that prefix, checks its hash, and copies it into a journal of its own (so every token of the
// interrupted sync stays usable), or refuses the token.
//
// A sync that completes removes its journal and every one it descends from (resumes of resumes); a sync that fails after a checkpoint
// leaves its journal for the resume; one that fails before any checkpoint removes it. Journals left over (syncs
// never resumed) are removed by the next sync that starts a journal in that directory once they are 7 days old.
// A journal holds fingerprints of ids, group names and ids, and the Admin API's page cursors (a member id, or the
// service's opaque next_page), never a token or key.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "scim/scim_json.hpp"

namespace ce::sync::checkpoint {

// Record tags: fingerprints of users (U), groups (G) and roles (R) delivered; groups queued for their members
// (Q; T: queued to be read through SCIM by an Admin API sync); SCIM id -> member id pairs (S, in id and
// display_name).
inline constexpr char kUserTag = 'U', kGroupTag = 'G', kRoleTag = 'R';
inline constexpr char kQueuedTag = 'Q', kScimQueuedTag = 'T', kScimPairTag = 'S';
// Admin API: fingerprints of invites delivered (I); where an interrupted list goes on (C: the cursor in id, the
// list in display_name), noted at each checkpoint taken in the middle of a list.
inline constexpr char kInviteTag = 'I', kCursorTag = 'C';
// A journal this one was copied from (its name, in id), and the ones that was copied from: a completed sync
// removes them all.
inline constexpr char kAncestorTag = 'A';

// What a journal replays on resume, in the order it was written.
class JournalReplay {
public:
    virtual ~JournalReplay() = default;
    virtual void replay_fingerprint(char tag, uint64_t fp) = 0;
    virtual void replay_strings(char tag, scim::Group g) = 0;
};

class Journal {
public:
    struct Mark {
        uint64_t bytes = 0;
        uint64_t hash = 0;
    };

    // A new, empty journal in dir ("" = spill-dir's default), created exclusively with mode 0600.
    static Journal create(const std::string &dir);
    // Replays the first `mark.bytes` of journal `name` in dir, checks their hash, and returns a new journal that
    // starts with them. Throws Error(invalid_argument, "resume_from") when the journal is gone, shorter, or
    // differs.
    static Journal resume(const std::string &dir, const std::string &name, Mark mark, JournalReplay &replay);

    Journal(Journal &&other) noexcept;
    Journal &operator=(Journal &&) = delete;
    Journal(const Journal &) = delete;
    ~Journal();

    void add_fingerprint(char tag, uint64_t fp);
    // Three strings (a group's id, name and external id, or a pair in the first two).
    void add_strings(char tag, const scim::Group &g);
    // Writes what is buffered and syncs it to disk; the mark a token records.
    Mark commit();
    // The sync completed: this journal and the one it resumed from are removed.
    void complete();
    const std::string &name() const { return name_; }

private:
    Journal(std::string dir, std::string name, int fd);
    void append(std::string_view bytes);
    void flush();
    [[noreturn]] void fail(const char *doing, int err) const;
    std::string path() const;

    std::string dir_;
    std::string name_;
    int fd_ = -1;
    std::string buffer_;
    uint64_t bytes_ = 0;  // written and buffered
    uint64_t hash_;
    bool committed_ = false;  // a token names it: kept if the sync fails
    std::vector<std::string> ancestors_;  // the journals this one descends from, removed on completion
};

}  // namespace ce::sync::checkpoint
