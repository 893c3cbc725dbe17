#include "connector/account_fields.hpp"

namespace ce::connector {
namespace {
bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
}  // namespace

SplitName split_display_name(std::string_view s) {
    SplitName out;
    bool pending_space = false;
    for (unsigned char c : s) {
        if (is_space(c)) {
            pending_space = !out.full.empty();
            continue;
        }
        if (pending_space) out.full += ' ';
        pending_space = false;
        out.full += static_cast<char>(c);
    }
    const auto sp = out.full.find(' ');
    if (sp == std::string::npos) {
        out.given = out.full;
    } else {
        out.given = out.full.substr(0, sp);
        out.family = out.full.substr(sp + 1);
    }
    return out;
}

bool looks_like_email(std::string_view s) {
    if (s.empty() || s.size() > 254) return false;
    for (unsigned char c : s)
        if (c <= 0x20 || c == 0x7f) return false;
    const auto at = s.find('@');
    if (at == std::string_view::npos || at == 0 || s.find('@', at + 1) != std::string_view::npos) return false;
    std::string_view domain = s.substr(at + 1);
    const auto dot = domain.find('.');
    return dot != std::string_view::npos && dot > 0 && domain.back() != '.';
}

}  // namespace ce::connector
