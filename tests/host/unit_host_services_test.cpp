// The ABI call wrappers: validating sinks, the operation's cancellation, the console and plugin log, and
// the atomic output file.
#include <doctest/doctest.h>

#include <connector_host/cli/host_services.hpp>
#include <connector/connector_abi.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <sys/stat.h>
#include <unistd.h>

using namespace connector_host::cli;
namespace fs = std::filesystem;

namespace {


std::string read_all(std::FILE *f) {
    std::fflush(f);
    std::rewind(f);
    std::string out;
    char buf[1024];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    return out;
}

std::string slurp(const fs::path &p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

TEST_CASE("validating sink: passes good records, refuses garbage, late and foreign-thread calls") {
    int resources = 0, grants = 0;
    std::string warning;
    ValidatingSink::Handlers h;
    h.resource = [&](const conn_resource &) { ++resources; };
    h.grant = [&](const conn_grant &) { ++grants; };
    h.warning = [&](std::string_view c, std::string_view m) { warning = std::string(c) + ":" + std::string(m); };
    conn_resource good{sizeof(conn_resource), 0, conn::str("user"), conn::str("u1"), conn::str("U"), nullptr, 0};

    SUBCASE("good records") {
        ValidatingSink sink({"user"}, h);
        const conn_sink *s = sink.open();
        CHECK(s->on_resource(s->ctx, &good) == CONN_SINK_CONTINUE);
        CHECK(s->on_warning(s->ctx, conn::str("code"), conn::str("msg")) == CONN_SINK_CONTINUE);
        CHECK(s->on_entitlement(s->ctx, nullptr) == CONN_SINK_STOP); // NULL record: refused
        sink.close();
        CHECK(resources == 1);
        CHECK(warning == "code:msg");
        REQUIRE(sink.plugin_violation().has_value());
        CHECK(sink.plugin_violation()->find("entitlement") != std::string::npos);
    }
    SUBCASE("garbage stops the stream and later records are refused too") {
        ValidatingSink sink({"user"}, h);
        const conn_sink *s = sink.open();
        conn_resource bad = good;
        bad.id = conn::str("\xff");
        CHECK(s->on_resource(s->ctx, &bad) == CONN_SINK_STOP);
        CHECK(s->on_resource(s->ctx, &good) == CONN_SINK_STOP);
        CHECK(resources == 0);
        CHECK(sink.plugin_violation()->find("UTF-8") != std::string::npos);
    }
    SUBCASE("a callback after the operation returned") {
        ValidatingSink sink({"user"}, h);
        const conn_sink *s = sink.open();
        sink.close();
        CHECK(s->on_resource(s->ctx, &good) == CONN_SINK_STOP);
        CHECK(resources == 0);
        CHECK(sink.plugin_violation()->find("after the operation returned") != std::string::npos);
    }
    SUBCASE("a callback from another thread") {
        ValidatingSink sink({"user"}, h);
        const conn_sink *s = sink.open();
        int32_t answer = -1;
        std::thread t([&] { answer = s->on_resource(s->ctx, &good); });
        t.join();
        CHECK(answer == CONN_SINK_STOP);
        CHECK(resources == 0);
        CHECK(sink.plugin_violation()->find("another thread") != std::string::npos);
    }
    SUBCASE("a handler that throws is a host failure, not a plugin violation") {
        ValidatingSink::Handlers failing;
        failing.resource = [](const conn_resource &) { throw std::runtime_error("disk full"); };
        ValidatingSink sink({"user"}, failing);
        const conn_sink *s = sink.open();
        CHECK(s->on_resource(s->ctx, &good) == CONN_SINK_STOP);
        CHECK_FALSE(sink.plugin_violation().has_value());
        REQUIRE(sink.host_failure().has_value());
        CHECK(*sink.host_failure() == "disk full");
    }
}

TEST_CASE("operation: is_cancelled answers true once the timeout passes; progress is recorded") {
    std::FILE *err = std::tmpfile();
    Console console(err, false);
    Operation op(console, std::chrono::milliseconds(1), true, "test");
    const conn_call *call = op.call();
    REQUIRE(call->struct_size == sizeof(conn_call));
    auto p = conn::make<conn_progress>();
    p.phase = conn::str("users");
    p.pages = 3;
    p.resources = 42;
    call->progress(call->ctx, &p);
    CHECK(op.progress().phase == "users");
    CHECK(op.progress().resources == 42);
    CHECK(op.progress().pages == 3);
    // Poll as a plugin would (bounded, so a broken monitor fails instead of hanging).
    bool cancelled = false;
    for (int i = 0; i < 500 && !cancelled; ++i) {
        cancelled = call->is_cancelled(call->ctx) != 0;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    CHECK(cancelled);
    CHECK(op.cancel_reason() == Operation::CancelReason::timeout);
    op.finished();
    CHECK(read_all(err).empty()); // not a terminal: no progress line
    std::fclose(err);
}

TEST_CASE("operation without timeout is not cancelled") {
    std::FILE *err = std::tmpfile();
    Console console(err, false);
    Operation op(console, std::chrono::milliseconds(0), false, "test");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK(op.call()->is_cancelled(op.call()->ctx) == 0);
    CHECK(op.cancel_reason() == Operation::CancelReason::none);
    op.finished();
    std::fclose(err);
}

TEST_CASE("console and plugin log: format, level filter, scrubbing, printable") {
    std::FILE *err = std::tmpfile();
    Console console(err, false);
    console.set_level(CONN_LOG_INFO);
    console.add_secret("hunter2-secret");
    PluginLog log(console, "my-plugin");
    const conn_host *h = log.host();
    REQUIRE(static_cast<bool>(h->log));
    h->log(h->ctx, CONN_LOG_WARN, conn::str("token hunter2-secret leaked\nsecond line \x1b[2J"));
    h->log(h->ctx, CONN_LOG_DEBUG, conn::str("too chatty"));
    h->log(h->ctx, CONN_LOG_INFO, conn_str{nullptr, 0});
    console.warning("host warning");
    console.error("host error");
    std::string out = read_all(err);
    CHECK(out == "[warn] my-plugin: token [redacted] leaked second line  [2J\n"
                 "[info] my-plugin: \n"
                 "connector-host: warning: host warning\n"
                 "connector-host: error: host error\n");
    std::fclose(err);
    CHECK(parse_log_level("debug") == CONN_LOG_DEBUG);
    CHECK(parse_log_level("warning") == CONN_LOG_WARN);
    CHECK_THROWS_AS(parse_log_level("loud"), std::invalid_argument);
}

TEST_CASE("atomic output file: renamed into place on commit, existing file untouched otherwise") {
    fs::path dir = fs::temp_directory_path() / ("host-atomic-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    fs::path target = dir / "out.json";
    {
        std::ofstream(target) << "ORIGINAL";
    }
    {
        AtomicOutputFile f(target);
        std::fputs("partial", f.file());
        CHECK(fs::exists(f.temp_path()));
        CHECK(fs::path(f.temp_path()).parent_path() == dir);
    } // not committed
    CHECK(slurp(target) == "ORIGINAL");
    CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}) == 1);
    {
        AtomicOutputFile f(target);
        std::fputs("NEW", f.file());
        f.commit();
    }
    CHECK(slurp(target) == "NEW");
    CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}) == 1);
    CHECK_THROWS_AS(AtomicOutputFile(dir / "missing" / "x.json"), std::runtime_error);
    fs::remove_all(dir);
}

// ---- Issue 15 (trust nothing) --------------------------------------------------------------------------
TEST_CASE("plugin log: past 100 lines of one level they are counted, not printed; the count is printed at the end") {
    std::FILE *err = std::tmpfile();
    Console console(err, false);
    {
        PluginLog log(console, "noisy");
        const conn_host *h = log.host();
        for (int i = 0; i < 1000; ++i) h->log(h->ctx, CONN_LOG_WARN, conn::str("member x names no user"));
        h->log(h->ctx, CONN_LOG_ERROR, conn::str("one error"));
    }
    std::string out = read_all(err);
    std::fclose(err);
    CHECK(std::count(out.begin(), out.end(), '\n') == 102);
    CHECK(out.find("[error] noisy: one error") != std::string::npos);
    CHECK(out.find("900 more warn lines from noisy") != std::string::npos);
}

TEST_CASE("warning tally: a hundred per code are shown, the rest counted exactly") {
    WarningTally tally(100);
    int shown = 0;
    for (int i = 0; i < 1000000; ++i) shown += tally.note("unresolved_member") ? 1 : 0;
    for (int i = 0; i < 5; ++i) shown += tally.note("other") ? 1 : 0;
    CHECK(shown == 105);
    auto lines = tally.summary_lines();
    REQUIRE(lines.size() == 1);
    CHECK(lines[0] == "\xE2\x80\xA6 and 999,900 more `unresolved_member` warnings");
    CHECK(tally.count("unresolved_member") == 1000000);
}

TEST_CASE("bounded file reads: regular files of at most 1 MiB; devices, FIFOs, directories refused") {
    fs::path dir = fs::temp_directory_path() / ("host-bounded-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::string why;
    CHECK_FALSE(read_small_file("/dev/zero", why).has_value());
    CHECK(why == "/dev/zero is not a regular file");
    CHECK_FALSE(read_small_file(dir.string(), why).has_value());
    CHECK(why == dir.string() + " is a directory");
    { std::ofstream(dir / "big") << std::string((size_t{1} << 20) + 1, 'x'); }
    CHECK_FALSE(read_small_file((dir / "big").string(), why).has_value());
    CHECK(why == (dir / "big").string() + " is larger than 1 MiB");
    { std::ofstream(dir / "ok") << std::string(size_t{1} << 20, 'y'); }
    CHECK(read_small_file((dir / "ok").string(), why)->size() == (size_t{1} << 20));
    fs::create_symlink(dir / "ok", dir / "link");
    CHECK(read_small_file((dir / "link").string(), why).has_value());
    REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
    CHECK_FALSE(read_small_file((dir / "fifo").string(), why).has_value());
    CHECK(why.find("is not a regular file") != std::string::npos);
    CHECK_FALSE(read_small_file((dir / "absent").string(), why).has_value());
    CHECK(why.find("No such file") != std::string::npos);
    fs::remove_all(dir);
}

TEST_CASE("atomic output file: temp named .<name>.tmp-<pid>-XXXXXX, 0600; the replaced file's mode is kept") {
    fs::path dir = fs::temp_directory_path() / ("host-atomic2-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    fs::path target = dir / "out.json";
    { std::ofstream(target) << "OLD"; }
    fs::permissions(target, fs::perms(0640));
    {
        AtomicOutputFile f(target);
        CHECK(fs::path(f.temp_path()).filename().string().rfind(".out.json.tmp-" + std::to_string(::getpid()) + "-", 0) == 0);
        CHECK((fs::status(f.temp_path()).permissions() & fs::perms::all) == fs::perms(0600));
        std::fputs("NEW", f.file());
        f.commit();
    }
    CHECK((fs::status(target).permissions() & fs::perms::all) == fs::perms(0640));
    {
        AtomicOutputFile f(dir / "new.json");
        f.commit();
    }
    CHECK((fs::status(dir / "new.json").permissions() & fs::perms::all) == fs::perms(0600));
    fs::remove_all(dir);
}
