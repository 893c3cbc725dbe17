// The commands that ask questions of a snapshot (host/SNAPSHOT.md): resources, entitlements, grants, access,
// members, stats, diff. Each returns the exit code; diff returns 0 with no change and 1 with changes.
#pragma once

#include "connector_host/cli/host_services.hpp"

#include <optional>
#include <string>

namespace connector_host::cli {

struct QueryOptions {
    std::string snapshot;
    std::string format; // empty: table on a terminal, else json
    std::optional<long long> run;
    // resources
    std::string type, filter, search;
    // entitlements
    std::string resource;
    // grants
    std::string entitlement, principal;
    // access (principal) and members (target)
    std::string target;
    // diff: a second snapshot (the new one); empty: the last two runs of `snapshot`
    std::string other;
};

enum class Question { resources, entitlements, grants, access, members, stats };

int run_question(Console &console, Question question, const QueryOptions &q);
int run_diff(Console &console, const QueryOptions &q);

}  // namespace connector_host::cli
