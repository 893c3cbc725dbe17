#include "provision/account_fields.hpp"

namespace ce::provision {
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

}  // namespace ce::provision
