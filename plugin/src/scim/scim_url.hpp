// URL and query building for SCIM: the base URL is opaque (never parsed or rebuilt); resource paths are
// appended to it; ids are percent-encoded as one path segment, query keys and values percent-encoded
// (text::percent_encode, '.' included); filter values are JSON strings ('"' and '\' escaped) before the whole
// filter is URL-encoded.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ce::scim {

// "base" + "/" + segment, whatever trailing slashes the base has ("…/v2", "…/v2/" and "…/v2//" agree).
std::string join_path(std::string_view base, std::string_view segment);

// base/Users/<id> with the id percent-encoded as a single segment ("a/b" → "a%2Fb", ".." → "%2E%2E").
std::string resource_url(std::string_view base, std::string_view collection, std::string_view id);

// Appends "?k=v&k2=v2" with keys and values percent-encoded.
std::string with_query(std::string url, const std::vector<std::pair<std::string, std::string>> &query);

// A SCIM filter string literal: the value quoted and escaped as a JSON string.
std::string filter_string_literal(std::string_view value);

// `attribute eq "value"` (not URL-encoded yet: with_query encodes it).
std::string filter_eq(std::string_view attribute, std::string_view value);

}  // namespace ce::scim
