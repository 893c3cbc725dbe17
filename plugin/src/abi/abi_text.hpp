// Text and error helpers of the ABI glue: UTF-8-safe copies into fixed-capacity buffers and the mapping of
// the connector's ErrorKind to conn_status. None of these throw.
#pragma once

#include <connector/connector_abi.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "common/errors.hpp"

namespace ce::abi {

// Replaces every byte that is not part of a well-formed UTF-8 sequence with '?', and control characters
// (other than none) with ' '.
std::string sanitize_utf8(std::string_view s);

// Copies s into dst (capacity bytes), always NUL-terminated, cut on a UTF-8 character boundary.
void copy_text(char *dst, size_t capacity, std::string_view s) noexcept;

conn_status status_for(ErrorKind kind) noexcept;

// Writes a conn_error honouring the caller's struct_size (only min(struct_size, sizeof) bytes are written).
// `message` and `field` are already scrubbed.
void fill_error(conn_error *err, conn_status status, long http_status, int64_t retry_after_ms, std::string_view field,
                std::string_view message) noexcept;

}  // namespace ce::abi
