// The pure parts of resumable syncs: the checkpoint token (round trip, scope, every corruption refused) and the
// page frontier (pages answered in any order, passes).
#include <doctest/doctest.h>

#include <string>

#include "common/errors.hpp"
#include "sync/checkpoint/checkpointer.hpp"
#include "sync/checkpoint/page_frontier.hpp"
#include "sync/checkpoint/resume_token.hpp"

using namespace ce::sync::checkpoint;

namespace {

ResumePoint sample() {
    ResumePoint p;
    p.phase = Phase::groups;
    p.pass = 1;
    p.position = 4321;
    p.position_fp = 0xfedcba9876543210ull;
    p.pass_changed = true;
    p.longest_listed = 77;
    p.groups_done = 0;
    p.journal = "0123456789abcdef0123456789abcdef";
    p.journal_bytes = 123456;
    p.journal_hash = 42;
    return p;
}

const TokenScope kScope{"0.1.0", 0x1234};

void expect_refused(const std::string &token, const TokenScope &scope = kScope) {
    try {
        decode_token(token, scope);
        FAIL("accepted: ", token);
    } catch (const ce::Error &e) {
        CHECK(e.kind() == ce::ErrorKind::invalid_argument);
        CHECK(e.field() == "resume_from");
        CHECK(std::string(e.what()).find('\n') == std::string::npos);
    }
}

}  // namespace

TEST_CASE("a token says what it was given, is printable and short, and only for its scope") {
    const std::string token = encode_token(sample(), kScope);
    CHECK(token.size() <= kMaxTokenBytes);
    for (char c : token) CHECK((c > 0x20 && c < 0x7f));
    const ResumePoint p = decode_token(token, kScope);
    CHECK(p.phase == Phase::groups);
    CHECK(p.pass == 1);
    CHECK(p.position == 4321);
    CHECK(p.position_fp == 0xfedcba9876543210ull);
    CHECK(p.pass_changed);
    CHECK(p.longest_listed == 77);
    CHECK(p.journal == sample().journal);
    CHECK(p.journal_bytes == 123456);
    CHECK(p.journal_hash == 42);
    expect_refused(token, TokenScope{"0.2.0", 0x1234});
    expect_refused(token, TokenScope{"0.1.0", 0x1235});
}

TEST_CASE("every single-character change, truncation and extension of a token is refused") {
    const std::string token = encode_token(sample(), kScope);
    for (size_t i = 0; i < token.size(); ++i) {
        std::string t = token;
        t[i] = t[i] == 'x' ? 'y' : 'x';
        CAPTURE(i);
        expect_refused(t);
    }
    for (size_t n : {size_t{0}, size_t{3}, token.size() / 2, token.size() - 1}) expect_refused(token.substr(0, n));
    expect_refused(token + "A");
    expect_refused(std::string(5000, 'A'));
    expect_refused("ce1..0000000000000000");
}

TEST_CASE("the frontier is the longest prefix answered without a hole, in any order, per pass") {
    PageFrontier f;
    f.completed(0, 21, 20, 0xb);  // [21, 40] before [1, 20]
    CHECK(f.position() == 0);
    f.completed(0, 1, 20, 0xa);
    CHECK(f.position() == 40);
    CHECK(f.position_fp() == 0xb);
    f.completed(0, 40, 20, 0xc);  // overlapping by one
    CHECK(f.position() == 59);
    f.completed(0, 70, 5, 0xd);  // a hole at [60, 69]
    CHECK(f.position() == 59);
    f.completed(0, 60, 10, 0xe);
    CHECK(f.position() == 74);
    CHECK(f.position_fp() == 0xd);
    f.completed(0, 75, 0, 0);  // an empty page moves nothing
    CHECK(f.position() == 74);
    f.completed(1, 30, 10, 0xf);  // a new pass starts over
    CHECK(f.pass() == 1);
    CHECK(f.position() == 0);
    f.completed(0, 1, 100, 0x1);  // an earlier pass's page is ignored
    CHECK(f.position() == 0);
    PageFrontier resumed;
    resumed.start_at(2, 500, 0x5);
    resumed.completed(2, 500, 20, 0x6);
    CHECK(resumed.position() == 519);
    CHECK(resumed.pass() == 2);
}

TEST_CASE("checkpoint spacing: a tenth of the time run, between 250 ms and checkpoint-interval-ms") {
    using std::chrono::milliseconds;
    using std::chrono::seconds;
    const milliseconds interval{5000};
    CHECK(checkpoint_spacing(milliseconds(0), interval) == milliseconds(250));
    CHECK(checkpoint_spacing(seconds(2), interval) == milliseconds(250));
    CHECK(checkpoint_spacing(seconds(10), interval) == milliseconds(1000));
    CHECK(checkpoint_spacing(seconds(30), interval) == milliseconds(3000));
    CHECK(checkpoint_spacing(seconds(600), interval) == milliseconds(5000));
    // A shorter interval is the longest spacing, and below 250 ms it is also the shortest; 0 = every page.
    CHECK(checkpoint_spacing(seconds(600), milliseconds(1000)) == milliseconds(1000));
    CHECK(checkpoint_spacing(seconds(1), milliseconds(100)) == milliseconds(100));
    CHECK(checkpoint_spacing(seconds(600), milliseconds(0)) == milliseconds(0));
}
