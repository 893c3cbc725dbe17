// What every operation is called with: the host's cancel predicate and progress callback, as plain C++ (the ABI
// glue wraps conn_call in it).
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

namespace ce {

// What a sync has done so far (every attempt counts as a request). Filled on every way out, failures included.
struct SyncCounts {
    uint64_t resources = 0, entitlements = 0, grants = 0, requests = 0, retries = 0, pages = 0, warnings = 0,
             unresolved = 0;
};

struct Progress {
    std::string_view phase;  // "users", "groups", "memberships"
    const SyncCounts &counts;
    uint64_t total_hint = 0;
};

struct CallContext {
    std::function<bool()> cancelled;                 // may be empty
    std::function<void(const Progress &)> progress;  // may be empty
};

}  // namespace ce
