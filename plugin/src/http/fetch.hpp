// One request run to its end and its answer read, the way every service client does it: a status listed as
// "absent" gives nullopt, any other non-2xx answer throws what error_for(response) returns, and a 2xx body goes to
// read(response); a ParseErrorT thrown by read is retried while the engine allows (a GET within its retry
// budget), then thrown as malformed(what, why, status). Not to be called from inside a completion.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <string>

#include "common/errors.hpp"
#include "http/http_engine.hpp"

namespace ce::http {

template <typename T, typename ParseErrorT, typename Read, typename ErrorFor, typename Malformed>
std::optional<T> fetch(Engine &engine, Request request, std::initializer_list<long> absent, const Read &read,
                       const ErrorFor &error_for, const Malformed &malformed) {
    std::optional<T> out;
    std::optional<Error> err;
    bool is_absent = false;
    engine.submit(std::move(request), [&](Response &r) {
        if (r.failure == Failure::none && std::find(absent.begin(), absent.end(), r.status) != absent.end()) {
            is_absent = true;
            return Disposition::done;
        }
        if (!r.ok()) {
            err = error_for(r);
            return Disposition::done;
        }
        try {
            out = read(r);
        } catch (const ParseErrorT &e) {
            if (r.can_retry) return Disposition::retry;
            err = malformed(e.what(), r.status);
        }
        return Disposition::done;
    });
    engine.run();
    if (err) throw *err;
    if (is_absent) return std::nullopt;
    if (!out) throw Error::internal("no response");
    return out;
}

}  // namespace ce::http
