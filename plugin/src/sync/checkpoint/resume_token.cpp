#include "sync/checkpoint/resume_token.hpp"

#include <array>
#include <charconv>
#include <map>

#include "common/errors.hpp"

namespace ce::sync::checkpoint {
namespace {

constexpr std::string_view kPrefix = "ce1.";
constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

[[noreturn]] void refuse(const std::string &why) {
    throw Error::invalid_argument("resume_from", "the resume token " + why + "; run a full sync (without resume_from)");
}

std::string base64url(std::string_view in) {
    std::string out;
    uint32_t acc = 0;
    int bits = 0;
    for (unsigned char c : in) {
        acc = (acc << 8) | c;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out.push_back(kAlphabet[(acc >> bits) & 63u]);
        }
    }
    if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 63u]);
    return out;
}

std::string unbase64url(std::string_view in) {
    std::string out;
    uint32_t acc = 0;
    int bits = 0;
    for (char c : in) {
        const size_t v = kAlphabet.find(c);
        if (v == std::string_view::npos) refuse("is not one this plugin wrote (a character outside its alphabet)");
        acc = (acc << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xffu));
        }
    }
    return out;
}

std::string hex64(uint64_t v) {
    std::array<char, 16> digits{};
    for (int i = 15; i >= 0; --i, v >>= 4) digits[static_cast<size_t>(i)] = "0123456789abcdef"[v & 15u];
    return std::string(digits.data(), digits.size());
}

uint64_t parse_u64(std::string_view s, int base, const char *what) {
    uint64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size()) refuse(std::string("has a malformed ") + what);
    return v;
}

uint64_t bounded(uint64_t v, uint64_t max, const char *what) {
    if (v > max) refuse(std::string("has a ") + what + " out of range");
    return v;
}

std::map<std::string, std::string, std::less<>> fields_of(std::string_view payload) {
    std::map<std::string, std::string, std::less<>> fields;
    for (size_t at = 0; at < payload.size();) {
        const size_t end = std::min(payload.find(';', at), payload.size());
        const std::string_view pair = payload.substr(at, end - at);
        const size_t eq = pair.find('=');
        if (eq == std::string_view::npos || !fields.emplace(pair.substr(0, eq), pair.substr(eq + 1)).second)
            refuse("is malformed");
        at = end + 1;
    }
    return fields;
}

std::string_view field(const std::map<std::string, std::string, std::less<>> &fields, std::string_view key) {
    const auto it = fields.find(key);
    if (it == fields.end()) refuse("lacks its " + std::string(key));
    return it->second;
}

std::string payload_of(const ResumePoint &p, const TokenScope &scope) {
    return "v=1;plugin=" + scope.plugin_version + ";config=" + hex64(scope.config_fp) +
           ";phase=" + std::to_string(static_cast<unsigned>(p.phase)) + ";pass=" + std::to_string(p.pass) +
           ";at=" + std::to_string(p.position) + ";at_id=" + hex64(p.position_fp) +
           ";changed=" + (p.pass_changed ? "1" : "0") + ";longest=" + std::to_string(p.longest_listed) +
           ";done=" + std::to_string(p.groups_done) + ";journal=" + p.journal +
           ";journal_bytes=" + std::to_string(p.journal_bytes) + ";journal_hash=" + hex64(p.journal_hash);
}

void check_scope(const std::map<std::string, std::string, std::less<>> &f, const TokenScope &scope) {
    if (field(f, "v") != "1") refuse("has a format version this plugin does not read");
    if (field(f, "plugin") != scope.plugin_version)
        refuse("was written by plugin version " + std::string(field(f, "plugin")).substr(0, 32) + ", not " +
               scope.plugin_version);
    if (field(f, "config") != hex64(scope.config_fp))
        refuse("belongs to another configuration (tenant URL, sources, page-size or membership-reads differ)");
}

}  // namespace

uint64_t fnv1a64(std::string_view bytes, uint64_t hash) {
    for (unsigned char c : bytes) hash = (hash ^ c) * 0x100000001b3ull;
    return hash;
}

std::string encode_token(const ResumePoint &point, const TokenScope &scope) {
    const std::string payload = payload_of(point, scope);
    return std::string(kPrefix) + base64url(payload) + "." + hex64(fnv1a64(payload));
}

ResumePoint decode_token(std::string_view token, const TokenScope &scope) {
    if (token.size() > kMaxTokenBytes) refuse("is longer than any this plugin writes");
    if (token.substr(0, kPrefix.size()) != kPrefix) refuse("is not one this plugin wrote");
    const size_t dot = token.rfind('.');
    if (dot < kPrefix.size() || token.size() - dot != 17) refuse("is malformed (no checksum)");
    const std::string payload = unbase64url(token.substr(kPrefix.size(), dot - kPrefix.size()));
    if (token.substr(kPrefix.size(), dot - kPrefix.size()) != base64url(payload) ||
        hex64(fnv1a64(payload)) != token.substr(dot + 1))
        refuse("is corrupted (its checksum does not match)");
    const auto f = fields_of(payload);
    check_scope(f, scope);
    ResumePoint p;
    const uint64_t phase = parse_u64(field(f, "phase"), 10, "phase");
    if (phase < 1 || phase > 3) refuse("names no phase of a sync");
    p.phase = static_cast<Phase>(phase);
    p.pass = static_cast<unsigned>(bounded(parse_u64(field(f, "pass"), 10, "pass"), 64, "pass"));
    p.position = static_cast<int64_t>(bounded(parse_u64(field(f, "at"), 10, "position"), 1ull << 40, "position"));
    p.position_fp = parse_u64(field(f, "at_id"), 16, "position id");
    p.pass_changed = parse_u64(field(f, "changed"), 10, "change flag") != 0;
    p.longest_listed = parse_u64(field(f, "longest"), 10, "member count");
    p.groups_done = parse_u64(field(f, "done"), 10, "group count");
    p.journal = std::string(field(f, "journal"));
    if (p.journal.size() != 32 || p.journal.find_first_not_of("0123456789abcdef") != std::string::npos)
        refuse("names no journal this plugin writes");
    p.journal_bytes = parse_u64(field(f, "journal_bytes"), 10, "journal length");
    p.journal_hash = parse_u64(field(f, "journal_hash"), 16, "journal hash");
    return p;
}

}  // namespace ce::sync::checkpoint
