#include "scim/scim_url.hpp"

#include <cstdio>

#include "common/text.hpp"

namespace ce::scim {
namespace {
// '.' is encoded too, so that an id of "." or ".." can never become a dot segment.
std::string encoded(std::string_view s) { return text::percent_encode(s, text::Dot::encode); }
}  // namespace

std::string join_path(std::string_view base, std::string_view segment) {
    while (!base.empty() && base.back() == '/') base.remove_suffix(1);
    while (!segment.empty() && segment.front() == '/') segment.remove_prefix(1);
    std::string out(base);
    out += '/';
    out += segment;
    return out;
}

std::string resource_url(std::string_view base, std::string_view collection, std::string_view id) {
    return join_path(join_path(base, collection), encoded(id));
}

std::string with_query(std::string url, const std::vector<std::pair<std::string, std::string>> &query) {
    char sep = url.find('?') == std::string::npos ? '?' : '&';
    for (const auto &[k, v] : query) {
        url += sep;
        url += encoded(k);
        url += '=';
        url += encoded(v);
        sep = '&';
    }
    return url;
}

std::string filter_string_literal(std::string_view value) {
    std::string out = "\"";
    for (unsigned char c : value) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
            if (c < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    out += '"';
    return out;
}

std::string filter_eq(std::string_view attribute, std::string_view value) {
    std::string out(attribute);
    out += " eq ";
    out += filter_string_literal(value);
    return out;
}

}  // namespace ce::scim
