// What the host hands the plugin, read the ABI way: structs as min(struct_size, sizeof) bytes with a missing tail
// (an older host) as zero, strings checked (a NULL pointer with a non-zero size is refused), key/value arrays
// copied, results written only as far as the host's struct reaches, and conn_call wrapped as a CallContext.
// Every refusal is Error::invalid_argument naming the argument.
#pragma once

#include <connector/connector_abi.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/call_context.hpp"
#include "common/errors.hpp"

namespace ce::abi {

inline std::string_view view(conn_str s) { return s.size ? std::string_view(s.data, s.size) : std::string_view(); }
inline conn_str cstr(std::string_view s) { return conn_str{s.data(), s.size()}; }
inline bool valid_str(conn_str s) { return s.data != nullptr || s.size == 0; }

inline void require_str(conn_str s, const char *field) {
    if (!valid_str(s)) throw Error::invalid_argument(field, "a string has a NULL pointer and a non-zero size");
}

template <typename T>
std::optional<T> read_struct(const T *p, const char *field, bool optional) {
    if (!p) {
        if (optional) return std::nullopt;
        throw Error::invalid_argument(field, "a required argument is NULL");
    }
    if (p->struct_size < sizeof(uint32_t)) throw Error::invalid_argument(field, "struct_size is too small");
    T out{};
    std::memcpy(static_cast<void *>(&out), p, std::min<size_t>(p->struct_size, sizeof(T)));
    return out;
}

template <typename T>
const T *ptr(const std::optional<T> &o) {
    return o ? &*o : nullptr;
}

// Writes a result struct: `full` (whose struct_size is the host's) truncated to what the host's struct holds;
// struct_size is left as the host set it.
template <typename T>
void write_result(T *result, const T &full) {
    std::memcpy(static_cast<void *>(result), &full, std::min<size_t>(result->struct_size, sizeof full));
    result->struct_size = full.struct_size;
}

// The counts a sync reports, into a conn_progress or a conn_sync_result.
template <typename T>
void copy_counts(T &out, const SyncCounts &c) {
    out.requests = c.requests;
    out.pages = c.pages;
    out.resources = c.resources;
    out.entitlements = c.entitlements;
    out.grants = c.grants;
}

// Key/value pairs from the host (config entries, account fields), every string checked; `field` names the
// argument in errors, `null_entries` is the message when the array is NULL with a non-zero count.
std::vector<std::pair<std::string, std::string>> read_kvs(const conn_kv *kvs, size_t count, const char *field,
                                                          const char *null_entries);

CallContext make_context(const conn_call *call);

}  // namespace ce::abi
