// Unit tests of the conformance runner's machinery.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "support.hpp"

#include <algorithm>

using namespace conformance;

namespace {
std::string fixture(const std::string &name) { return std::string(CONFORMANCE_FIXTURE_DIR) + "/conformance-fixture-" + name + ".so"; }
}  // namespace

TEST_SUITE("unit") {
    TEST_CASE("the ELF reader lists exactly the exported, defined symbols") {
        auto good = exported_symbols(fixture("good"));
        CHECK(good == std::vector<std::string>{"connector_plugin_entry"});
        auto extra = exported_symbols(fixture("extra-exports"));
        CHECK(std::find(extra.begin(), extra.end(), "fixture_debug_dump") != extra.end());
        CHECK(std::find(extra.begin(), extra.end(), "connector_plugin_entry") != extra.end());
        auto none = exported_symbols(fixture("no-entry"));
        CHECK(std::find(none.begin(), none.end(), "connector_plugin_entry") == none.end());
        CHECK(std::find(none.begin(), none.end(), "connector_plugin_entry_v1") != none.end());
        CHECK_THROWS_AS(exported_symbols(CONFORMANCE_FIXTURE_DIR "/no-such-file.so"), TestFailure);
        CHECK_THROWS_AS(exported_symbols("/proc/self/status"), TestFailure); // not ELF
    }

    TEST_CASE("the context survives the trip to a child, secrets and odd bytes included") {
        Context c;
        c.plugin_path = "/x/y.so";
        c.config = {{"scim-url", "http://127.0.0.1:1/a"}, {"scim-token", "t\"o\\k\nen"}};
        c.secrets = {"t\"o\\k\nen"};
        c.sim = true;
        c.sim_admin = "http://127.0.0.1:5";
        c.url_field = "scim-url";
        c.secret_field = "scim-token";
        c.allow_writes = true;
        c.seed = 77;
        c.timeout_s = 12.5;
        Context d = Context::from_json(c.to_json());
        CHECK(d.plugin_path == c.plugin_path);
        CHECK(d.config == c.config);
        CHECK(d.secrets == c.secrets);
        CHECK(d.sim);
        CHECK_FALSE(d.config_from_user);
        CHECK(d.sim_admin == c.sim_admin);
        CHECK(d.url_field == "scim-url");
        CHECK(d.secret_field == "scim-token");
        CHECK(d.allow_writes);
        CHECK(d.seed == 77);
        CHECK(d.timeout_s == doctest::Approx(12.5));
        CHECK_THROWS(Context::from_json("not json"));
    }

    TEST_CASE("scrubbing replaces every occurrence of every secret") {
        CHECK(scrub("a SECRET b SECRET", {"SECRET"}) == "a [redacted] b [redacted]");
        CHECK(scrub("nothing here", {"SECRET", ""}) == "nothing here");
        CHECK(scrub("xx", {}) == "xx");
        CHECK(scrub("a t in text", {"t"}) == "a t in text"); // secrets under 4 bytes are not scrubbed
    }

    TEST_CASE("printable text is quoted, escaped, truncated and always valid UTF-8") {
        CHECK(printable("a\"b\n") == "\"a\\\"b\\x0a\"");
        CHECK(printable("abcdef", 3) == "\"abc...\"");
        CHECK(printable("caf\xc3\xa9") == "\"caf\xc3\xa9\"");
        std::string bad = printable("x\xff\xfe");
        CHECK(bad == "\"x\\xff\\xfe\"");
        CHECK(valid_utf8(bad));
    }

    TEST_CASE("config synthesis and the URL/secret rule read only the descriptor") {
        const conn_field url{sizeof(conn_field), CONN_FIELD_REQUIRED, CONN_FIELD_URL, 0, "endpoint", "E", "d", nullptr, nullptr};
        const conn_field tok{sizeof(conn_field), CONN_FIELD_REQUIRED | CONN_FIELD_SECRET, CONN_FIELD_STRING, 0, "key", "K", "d", nullptr, nullptr};
        const conn_field n{sizeof(conn_field), CONN_FIELD_REQUIRED, CONN_FIELD_INT, 0, "n", "N", "d", nullptr, nullptr};
        const conn_field opt{sizeof(conn_field), 0, CONN_FIELD_INT, 0, "opt", "O", "d", "3", nullptr};
        const conn_field def{sizeof(conn_field), CONN_FIELD_REQUIRED, CONN_FIELD_STRING, 0, "mode", "M", "d", "fast", nullptr};
        const conn_field *fields[] = {&n, &url, &tok, &opt, &def};
        auto d = conn::make<conn_descriptor>();
        d.config_field_count = 5;
        d.config_fields = fields;
        auto [u, s] = service_fields(d);
        CHECK(u == "endpoint");
        CHECK(s == "key");
        ConfigEntries cfg = synthesise_config(d, "S3CRET");
        CHECK(cfg == ConfigEntries{{"n", "1"}, {"endpoint", "http://127.0.0.1:9/conformance"}, {"key", "S3CRET"}});
        CHECK(with_value(cfg, "n", "2")[0].second == "2");
        CHECK(with_value(cfg, "new", "v").back() == std::pair<std::string, std::string>{"new", "v"});
        CHECK(without(cfg, "key").size() == 2);
        OwnedConfig oc(cfg);
        CHECK(oc.config.struct_size == sizeof(conn_config));
        CHECK(oc.config.entry_count == 3);
        CHECK(str(oc.config.entries[2].value) == "S3CRET");
    }

    TEST_CASE("the recorder flags late, foreign-thread and malformed callbacks and answers STOP") {
        Recorder rec;
        conn_sink sink = rec.sink();
        auto r = conn::make<conn_resource>();
        r.type = conn::str("user");
        r.id = conn::str("u1");
        CHECK(sink.on_resource(sink.ctx, &r) == CONN_SINK_CONTINUE); // outside an operation: late
        CHECK(rec.late_calls == 1);
        rec.begin();
        rec.stop_after = 2;
        CHECK(sink.on_resource(sink.ctx, &r) == CONN_SINK_STOP);
        std::thread([&] { sink.on_resource(sink.ctx, &r); }).join();
        auto g = conn::make<conn_grant>();
        g.id = conn::str("group:g1:member:user:u2");
        g.entitlement_id = conn::str("group:g1:member");
        g.principal_type = conn::str("user");
        g.principal_id = conn::str("u1");
        sink.on_grant(sink.ctx, &g);
        rec.end();
        CHECK(rec.calls_after_stop == 2);
        CHECK(rec.problems.size() == 2); // a foreign thread and a malformed grant id
        CHECK(rec.resources.size() == 3);
    }

    TEST_CASE("the recorder keeps each checkpoint's token, the records before it and the phase, and stops at the n-th") {
        Recorder rec;
        conn_sink sink = rec.sink();
        conn_call call = rec.call();
        rec.stop_kind = static_cast<int>(SinkKind::checkpoint);
        rec.stop_kind_after = 2;
        rec.begin();
        auto r = conn::make<conn_resource>();
        r.type = conn::str("user");
        r.id = conn::str("u1");
        sink.on_resource(sink.ctx, &r);
        auto p = conn::make<conn_progress>();
        p.phase = conn::str("users");
        call.progress(call.ctx, &p);
        CHECK(sink.on_checkpoint(sink.ctx, conn::str("tok-1")) == CONN_SINK_CONTINUE);
        sink.on_resource(sink.ctx, &r);
        CHECK(sink.on_checkpoint(sink.ctx, conn::str("tok-2")) == CONN_SINK_STOP);
        rec.end();
        REQUIRE(rec.checkpoints.size() == 2);
        CHECK(rec.checkpoints[0].token == "tok-1");
        CHECK(rec.checkpoints[0].size == 5);
        CHECK(rec.checkpoints[0].resources == 1);
        CHECK(rec.checkpoints[0].phase == "users");
        CHECK(rec.checkpoints[1].resources == 2);
        CHECK(rec.checkpoints[1].grants == 0);
        CHECK(rec.problems.empty());
    }
}
