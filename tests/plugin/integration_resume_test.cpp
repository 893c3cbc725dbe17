// Resumable syncs (issue 19) against the real simulator: a sync stopped at any of its checkpoints, then resumed
// from that token, delivers together with what came before the checkpoint exactly the simulator's truth, each
// record once, in every membership mode, with faults and with drift; tokens that cannot be used are refused with
// INVALID_ARGUMENT before anything is delivered; a resumed sync skips the work done before the checkpoint; the
// journal is 0600, kept only while a sync can be resumed.
#include <doctest/doctest.h>
#include <scim_sim/server.hpp>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "plugin_harness.hpp"

using namespace harness;

namespace {

scim_sim::Options small_org(uint64_t seed = 31) {
    scim_sim::Options o;
    o.token = kToken;
    o.seed_users = 230;
    o.seed_groups = 24;
    o.seed_members = 900;
    o.seed = seed;
    o.max_page_size = 20;
    return o;
}

// A directory of its own for journals, removed afterwards.
struct JournalDir {
    std::filesystem::path path;
    JournalDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "ce-resume-XXXXXX").string();
        path = ::mkdtemp(tmpl.data());
    }
    ~JournalDir() { std::filesystem::remove_all(path); }
    std::vector<std::filesystem::path> journals() const {
        std::vector<std::filesystem::path> out;
        for (const auto &e : std::filesystem::directory_iterator(path)) out.push_back(e.path());
        return out;
    }
};

Entries resume_config(const scim_sim::Server &sim, const JournalDir &dir, const char *mode, Entries extra = {}) {
    extra.push_back({"membership-reads", mode});
    extra.push_back({"checkpoint-interval-ms", "0"});
    extra.push_back({"spill-dir", dir.path.string()});
    extra.push_back({"concurrency", "4"});
    return config_for(sim.base_url(), kToken, extra);
}

SyncRun run_sync(const Entries &config, SyncControls controls) {
    Instance in;
    in.open(config);
    controls.take_checkpoints = true;
    return sync(in, controls);
}


// Stops a sync at checkpoint `at`, resumes it, and checks the union against the truth.
SyncRun stop_and_resume(scim_sim::Server &sim, const Entries &config, size_t at) {
    SyncControls stop;
    stop.stop_at_checkpoint = static_cast<int>(at);
    const SyncRun stopped = run_sync(config, stop);
    REQUIRE_MESSAGE(stopped.status == CONN_ERR_STOPPED, stopped.err.message);
    REQUIRE(stopped.checkpoints.size() == at + 1);
    SyncControls resume;
    resume.resume_from = stopped.checkpoints.back().token;
    const SyncRun resumed = run_sync(config, resume);
    CAPTURE(at);
    expect_sync_equals_truth(joined_at(stopped, at, resumed), parse_truth(sim.state_json()));
    return resumed;
}

// The checkpoints to try: the first, the last, and some between (every one when few).
std::vector<size_t> points_of(size_t count) {
    std::vector<size_t> out;
    const size_t step = count <= 12 ? 1 : count / 10;
    for (size_t i = 0; i < count; i += step) out.push_back(i);
    if (out.back() != count - 1) out.push_back(count - 1);
    return out;
}

}  // namespace

TEST_CASE("a sync stopped at any checkpoint and resumed delivers exactly the truth, in every membership mode") {
    for (const char *mode : {"auto", "per-group"}) {
        CAPTURE(mode);
        scim_sim::Server sim(small_org());
        sim.start();
        JournalDir dir;
        const Entries config = resume_config(sim, dir, mode);
        const SyncRun full = run_sync(config, {});
        expect_sync_equals_truth(full, parse_truth(sim.state_json()));
        REQUIRE(full.checkpoints.size() >= 10);
        CHECK(dir.journals().empty());  // a completed sync leaves no journal
        for (size_t at : points_of(full.checkpoints.size())) stop_and_resume(sim, config, at);
    }
}

TEST_CASE("a resumed sync does not repeat the work before its checkpoint") {
    scim_sim::Server sim(small_org());
    sim.start();
    JournalDir dir;
    const Entries config = resume_config(sim, dir, "auto");
    uint64_t before = sim.stats().total_requests;
    const SyncRun full = run_sync(config, {});
    const uint64_t full_requests = sim.stats().total_requests - before;
    const size_t late = full.checkpoints.size() * 3 / 4;
    SyncControls stop;
    stop.stop_at_checkpoint = static_cast<int>(late);
    const SyncRun stopped = run_sync(config, stop);
    before = sim.stats().total_requests;
    SyncControls resume;
    resume.resume_from = stopped.checkpoints.back().token;
    const SyncRun resumed = run_sync(config, resume);
    const uint64_t resumed_requests = sim.stats().total_requests - before;
    expect_sync_equals_truth(joined_at(stopped, late, resumed), parse_truth(sim.state_json()));
    CAPTURE(full_requests);
    CAPTURE(resumed_requests);
    CHECK(resumed_requests * 2 < full_requests);
    CHECK(resumed.resources.size() * 2 < full.resources.size());
}

TEST_CASE("resuming under faults and under drift stays exact") {
    auto o = small_org(7);
    o.fail_rate = 0.1;
    o.drop_rate = 0.05;
    o.garbage_rate = 0.05;
    o.drift = true;
    scim_sim::Server sim(o);
    sim.start();
    JournalDir dir;
    const Entries config = resume_config(sim, dir, "auto", {{"retry-budget-ms", "60000"}});
    const SyncRun full = run_sync(config, {});
    REQUIRE_MESSAGE(full.status == CONN_OK, full.err.message);
    const auto drift = [](const std::string &login) { return login.rfind("drift-", 0) == 0; };
    // Retries and drift change how many checkpoints a sync gives: a sync that ends before the one asked for is
    // compared with the truth as it is, and at least two resumes must have happened.
    int resumes = 0;
    for (size_t at : {size_t{2}, full.checkpoints.size() / 3, full.checkpoints.size() * 2 / 3}) {
        CAPTURE(at);
        SyncControls stop;
        stop.stop_at_checkpoint = static_cast<int>(at);
        const SyncRun stopped = run_sync(config, stop);
        if (stopped.status == CONN_OK) {
            expect_sync_equals_truth(stopped, parse_truth(sim.state_json()), drift);
            continue;
        }
        REQUIRE_MESSAGE(stopped.status == CONN_ERR_STOPPED, stopped.err.message);
        ++resumes;
        SyncControls resume;
        resume.resume_from = stopped.checkpoints.back().token;
        const SyncRun resumed = run_sync(config, resume);
        expect_sync_equals_truth(joined_at(stopped, at, resumed), parse_truth(sim.state_json()), drift);
    }
    CHECK(resumes >= 2);
}

TEST_CASE("tokens that cannot be used are refused with INVALID_ARGUMENT before anything is delivered") {
    scim_sim::Server sim(small_org());
    sim.start();
    JournalDir dir;
    const Entries config = resume_config(sim, dir, "auto");
    SyncControls stop;
    stop.stop_at_checkpoint = 3;
    const SyncRun stopped = run_sync(config, stop);
    REQUIRE(stopped.status == CONN_ERR_STOPPED);
    const std::string token = stopped.checkpoints.back().token;
    CHECK(token.size() <= 1024);
    CHECK(token.find_first_of(" \t\r\n") == std::string::npos);
    REQUIRE(dir.journals().size() == 1);
    struct stat st {};
    REQUIRE(::stat(dir.journals()[0].c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    std::vector<std::pair<std::string, std::string>> bad = {
        {"garbage", "not-a-token"}, {"truncated", token.substr(0, token.size() - 3)}, {"appended", token + "A"}};
    for (size_t pos : {size_t{5}, token.size() / 2, token.size() - 1}) {
        std::string flipped = token;
        flipped[pos] = flipped[pos] == 'A' ? 'B' : 'A';
        bad.emplace_back("flipped at " + std::to_string(pos), flipped);
    }
    for (const auto &[what, t] : bad) {
        CAPTURE(what);
        SyncControls resume;
        resume.resume_from = t;
        const SyncRun r = run_sync(config, resume);
        CHECK(r.status == CONN_ERR_INVALID_ARGUMENT);
        CHECK(std::string(r.err.field) == "resume_from");
        CHECK(r.resources.empty());
        CHECK(r.entitlements.empty());
    }
    // Another config (page-size), another tenant (URL path): refused, and so is a token whose journal is gone.
    for (const auto &other : {resume_config(sim, dir, "auto", {{"page-size", "50"}}),
                              config_for(sim.base_url() + "/other", kToken,
                                         {{"checkpoint-interval-ms", "0"}, {"spill-dir", dir.path.string()}}),
                              resume_config(sim, dir, "per-group")}) {
        SyncControls resume;
        resume.resume_from = token;
        const SyncRun r = run_sync(other, resume);
        CHECK(r.status == CONN_ERR_INVALID_ARGUMENT);
        CHECK(std::string(r.err.message).find("configuration") != std::string::npos);
    }
    // A resume that stops leaves the token usable (a resume works on its own copy of the journal); the resume that
    // completes removes its journal and the one it came from, so the token is then refused as gone.
    SyncControls interrupted;
    interrupted.resume_from = token;
    interrupted.stop_after_resources = 3;
    CHECK(run_sync(config, interrupted).status == CONN_ERR_STOPPED);
    SyncControls resume;
    resume.resume_from = token;
    expect_sync_equals_truth(joined_at(stopped, 3, run_sync(config, resume)), parse_truth(sim.state_json()));
    CHECK(dir.journals().empty());  // the interrupted resume stopped before its first checkpoint: its copy went
    const SyncRun gone = run_sync(config, resume);
    CHECK(gone.status == CONN_ERR_INVALID_ARGUMENT);
    CHECK(std::string(gone.err.message).find("gone") != std::string::npos);
}

TEST_CASE("a sync whose host takes no checkpoints keeps no journal; one stopped before any checkpoint leaves none") {
    scim_sim::Server sim(small_org());
    sim.start();
    JournalDir dir;
    const Entries config = resume_config(sim, dir, "auto");
    Instance in;
    in.open(config);
    SyncControls plain;
    plain.stop_after_resources = 40;
    CHECK(sync(in, plain).status == CONN_ERR_STOPPED);
    CHECK(dir.journals().empty());
    SyncControls early;
    early.take_checkpoints = true;
    early.stop_after_resources = 1;
    CHECK(sync(in, early).status == CONN_ERR_STOPPED);
    CHECK(dir.journals().empty());
}

TEST_CASE("a list that moved while the sync was interrupted is walked again, and nothing slides past the frontier") {
    scim_sim::Server sim(small_org(11));
    sim.start();
    JournalDir dir;
    const Entries config = resume_config(sim, dir, "auto");
    SyncControls stop;
    stop.stop_at_checkpoint = 5;  // in the users phase: 6 pages of 20 (overlapping by one) delivered
    const SyncRun stopped = run_sync(config, stop);
    REQUIRE(stopped.status == CONN_ERR_STOPPED);
    REQUIRE(stopped.checkpoints.back().resources >= 80);
    // Three users before the frontier go while the sync is interrupted: every later user slides back by three.
    std::set<std::string> deleted;
    {
        Instance admin;
        admin.open(config_for(sim.base_url()));
        for (size_t i : {size_t{3}, size_t{40}, size_t{77}}) {
            const auto &u = stopped.resources.at(i);
            REQUIRE(delete_resource(admin, "user", u.id).status == CONN_OK);
            deleted.insert(u.attrs.at("login"));
        }
    }
    Instance in;
    in.open(config);
    SyncControls resume;
    resume.take_checkpoints = true;
    resume.resume_from = stopped.checkpoints.back().token;
    const SyncRun resumed = sync(in, resume);
    bool walked_again = false;
    for (const auto &line : in.log_lines()) walked_again |= line.find("walked again from its start") != std::string::npos;
    CHECK(walked_again);
    expect_sync_equals_truth(joined_at(stopped, 5, resumed), parse_truth(sim.state_json()),
                             [&](const std::string &login) { return deleted.count(login) > 0; });
}

TEST_CASE("a resumed sync's own checkpoints resume it again: three runs together are exactly the truth") {
    for (const char *mode : {"auto", "per-group"}) {
        CAPTURE(mode);
        scim_sim::Server sim(small_org(41));
        sim.start();
        JournalDir dir;
        const Entries config = resume_config(sim, dir, mode);
        SyncControls first;
        first.stop_at_checkpoint = 4;
        const SyncRun a = run_sync(config, first);
        REQUIRE(a.status == CONN_ERR_STOPPED);
        SyncControls second;
        second.resume_from = a.checkpoints.back().token;
        second.stop_at_checkpoint = 6;
        const SyncRun b = run_sync(config, second);
        REQUIRE_MESSAGE(b.status == CONN_ERR_STOPPED, b.err.message);
        SyncControls third;
        third.resume_from = b.checkpoints.back().token;
        const SyncRun c = run_sync(config, third);
        expect_sync_equals_truth(joined_at(a, 4, joined_at(b, 6, c)), parse_truth(sim.state_json()));
        CHECK(dir.journals().empty());
    }
}
