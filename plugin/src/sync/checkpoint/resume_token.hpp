// The checkpoint token of a SCIM sync: where the sync stood when every record delivered before it was done, as a
// short, printable, checksummed string (at most kMaxTokenBytes, whatever the organisation's size). It names the
// sync's journal (sync/checkpoint/journal.hpp), which holds what the sync must remember of the records already
// delivered (their id fingerprints, the groups waiting for their members), and the journal's length and hash at
// that moment, so that a resumed sync uses exactly that state or none. It holds no secret: the config is
// represented by a fingerprint of its non-secret fields (the token and key are not in it), the ids by 64-bit
// fingerprints.
//
// Format: "ce1." + base64url(payload) + "." + 16 hex digits (FNV-1a 64 of the payload). The payload is
// "key=value" pairs joined by ';'. Every field is required; a token whose checksum, version, plugin version or
// config fingerprint differs, or whose values are out of range, is refused with invalid_argument naming
// resume_from, and nothing of it is used.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ce::sync::checkpoint {

inline constexpr size_t kMaxTokenBytes = 1024;

enum class Phase : uint8_t { users = 1, groups = 2, memberships = 3 };

// What a token says. Positions are the server's (1-based startIndex).
struct ResumePoint {
    Phase phase = Phase::users;
    unsigned pass = 0;             // the pass of the list walk in progress (0: the first)
    int64_t position = 0;          // the walk had every resource in [1, position] of that pass (0: none yet)
    uint64_t position_fp = 0;      // fingerprint of the id found at `position`
    bool pass_changed = false;     // the list moved during that pass before the checkpoint
    uint64_t longest_listed = 0;   // group pages: the most members any group listed so far (the cut-list check)
    uint64_t groups_done = 0;      // memberships: groups of the queue whose members are delivered
    std::string journal;           // the journal's name (32 hex digits)
    uint64_t journal_bytes = 0;    // its length at the checkpoint
    uint64_t journal_hash = 0;     // FNV-1a 64 of those bytes
};

// Who may use a token: the same plugin version and the same non-secret config.
struct TokenScope {
    std::string plugin_version;
    uint64_t config_fp = 0;
};

std::string encode_token(const ResumePoint &point, const TokenScope &scope);
// Throws Error(invalid_argument, field "resume_from") with a one-line reason.
ResumePoint decode_token(std::string_view token, const TokenScope &scope);

// FNV-1a 64, the checksum of tokens and journals.
uint64_t fnv1a64(std::string_view bytes, uint64_t hash = 0xcbf29ce484222325ull);

}  // namespace ce::sync::checkpoint
