#include "http/retry_policy.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <ctime>
#include <string>

#include "common/text.hpp"

namespace ce::http {
namespace {

// RFC 850 dates give two-digit years: 70-99 are 19xx, 00-69 are 20xx.
constexpr int kTwoDigitYearPivot = 70;
constexpr int64_t kSecondsPerDay = int64_t{24} * 3600;
constexpr int64_t kMsPerSecond = 1000;
// A Retry-After longer than this is taken as this (a server asking for more is not waited for longer).
constexpr int64_t kMaxRetryAfterSeconds = kSecondsPerDay;

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
    return s;
}

int month_index(std::string_view m) {
    static constexpr std::array<std::string_view, 12> names{"jan", "feb", "mar", "apr", "may", "jun",
                                                            "jul", "aug", "sep", "oct", "nov", "dec"};
    for (size_t i = 0; i < names.size(); ++i)
        if (text::iequals(m, names[i])) return static_cast<int>(i);
    return -1;
}

bool to_int(std::string_view s, int &out) {
    if (s.empty()) return false;
    auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool parse_hms(std::string_view s, int &h, int &m, int &sec) {
    if (s.size() != 8 || s[2] != ':' || s[5] != ':') return false;
    return to_int(s.substr(0, 2), h) && to_int(s.substr(3, 2), m) && to_int(s.substr(6, 2), sec) && h < 24 &&
           m < 60 && sec <= 60;
}

// Days from 1970-01-01 to y-m-d (proleptic Gregorian), no time zone involved.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::optional<int64_t> parse_http_date(std::string_view v) {
    // Split on spaces and commas.
    std::array<std::string_view, 8> tok{};
    size_t n = 0;
    size_t i = 0;
    while (i < v.size() && n < tok.size()) {
        while (i < v.size() && (v[i] == ' ' || v[i] == ',')) ++i;
        size_t start = i;
        while (i < v.size() && v[i] != ' ' && v[i] != ',') ++i;
        if (i > start) tok[n++] = v.substr(start, i - start);
    }
    int day = 0, mon = -1, year = 0, h = 0, mi = 0, s = 0;
    if (n == 6 && (tok[5] == "GMT" || tok[5] == "UTC")) {
        // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
        if (!to_int(tok[1], day) || (mon = month_index(tok[2])) < 0 || !to_int(tok[3], year) ||
            !parse_hms(tok[4], h, mi, s))
            return std::nullopt;
    } else if (n == 4 && (tok[3] == "GMT" || tok[3] == "UTC")) {
        // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
        std::string_view d = tok[1];
        if (d.size() != 9 || d[2] != '-' || d[6] != '-') return std::nullopt;
        if (!to_int(d.substr(0, 2), day) || (mon = month_index(d.substr(3, 3))) < 0 || !to_int(d.substr(7, 2), year) ||
            !parse_hms(tok[2], h, mi, s))
            return std::nullopt;
        year += year < kTwoDigitYearPivot ? 2000 : 1900;
    } else if (n == 5) {
        // asctime: Sun Nov  6 08:49:37 1994
        if ((mon = month_index(tok[1])) < 0 || !to_int(tok[2], day) || !parse_hms(tok[3], h, mi, s) ||
            !to_int(tok[4], year))
            return std::nullopt;
    } else {
        return std::nullopt;
    }
    if (day < 1 || day > 31 || year < 1970) return std::nullopt;
    return days_from_civil(year, static_cast<unsigned>(mon + 1), static_cast<unsigned>(day)) * kSecondsPerDay +
           h * 3600 + mi * 60 + s;
}

}  // namespace

std::optional<int64_t> parse_retry_after(std::string_view value, int64_t now_unix) {
    value = trim(value);
    if (value.empty()) return std::nullopt;
    if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        int64_t secs = 0;
        auto r = std::from_chars(value.data(), value.data() + value.size(), secs);
        if (r.ec != std::errc()) return kMaxRetryAfterSeconds * kMsPerSecond;  // absurdly large: clamped
        secs = std::min<int64_t>(secs, kMaxRetryAfterSeconds);
        return secs * kMsPerSecond;
    }
    auto when = parse_http_date(value);
    if (!when) return std::nullopt;
    int64_t diff = *when - now_unix;
    if (diff <= 0) return 0;
    return std::min<int64_t>(diff, kMaxRetryAfterSeconds) * kMsPerSecond;
}

bool is_transient_status(long status) {
    if (status == 408 || status == 429) return true;
    if (status >= 500 && status <= 599) return status != 501 && status != 505;
    return false;
}

int64_t backoff_delay_ms(const BackoffSettings &settings, unsigned attempt, std::optional<int64_t> retry_after_ms,
                         std::mt19937_64 &rng) {
    int64_t cap = settings.base_ms;
    for (unsigned i = 0; i < attempt && cap < settings.max_ms; ++i) cap *= 2;
    cap = std::min(cap, settings.max_ms);
    std::uniform_int_distribution<int64_t> dist(0, std::max<int64_t>(cap, 0));
    int64_t delay = dist(rng);
    if (retry_after_ms) delay = std::max(delay, *retry_after_ms);
    return delay;
}

bool retry_fits_budget(const BackoffSettings &settings, int64_t elapsed_ms, int64_t delay_ms) {
    return elapsed_ms + delay_ms <= settings.budget_ms;
}

}  // namespace ce::http
