// A host built against the frozen ABI 1.0 header (tests/abi/frozen/1.0, first on the include path: this file
// never sees today's header) driving today's claude-enterprise plugin, over loopback against scim-sim: the plugin
// negotiates minor 0 and answers only what 1.0 defines. Re-creating a soft-deleted account, which a 1.1 host is
// told CONN_OUTCOME_REACTIVATED, must answer CONN_OUTCOME_ALREADY_EXISTS here, and every status and outcome must
// be one ABI 1.0 knows. Exit 0 on success; each failure is printed.
#include <connector/connector_abi.h>
#include <dlfcn.h>
#include <scim_sim/server.hpp>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

static_assert(CONN_ABI_VERSION_MINOR == 0, "this host must be built against the frozen ABI 1.0 header");

namespace {

int failures = 0;

void expect(bool ok, const std::string &what) {
    if (ok) return;
    ++failures;
    std::fprintf(stderr, "FAILED: %s\n", what.c_str());
}

conn_str str(const std::string &s) { return conn_str{s.data(), s.size()}; }

struct Created {
    conn_status status = -1;
    conn_outcome outcome = CONN_OUTCOME_NONE;
    std::string id;
};

int32_t CONN_CALL on_resource(void *ctx, const conn_resource *r) {
    static_cast<Created *>(ctx)->id.assign(r->id.data, r->id.size);
    return CONN_SINK_CONTINUE;
}

Created create(const conn_connector_v1 &v, conn_instance *in, const std::string &email) {
    Created c;
    const std::string name = "Old Host";
    const std::string k_email = "email", k_name = "display_name";
    conn_kv kvs[2] = {{str(k_email), str(email)}, {str(k_name), str(name)}};
    conn_account_request req{};
    req.struct_size = sizeof req;
    req.fields = kvs;
    req.field_count = 2;
    conn_sink sink{};
    sink.struct_size = sizeof sink;
    sink.ctx = &c;
    sink.on_resource = &on_resource;
    conn_error err{};
    err.struct_size = sizeof err;
    conn_call call{};
    call.struct_size = sizeof call;
    c.status = v.create_account(in, &call, &req, &sink, &c.outcome, &err);
    if (c.status != CONN_OK) std::fprintf(stderr, "create_account: %d %s\n", c.status, err.message);
    return c;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s <plugin.so>\n", argv[0]);
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        std::fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    using Entry = const conn_plugin_entry *(*)(uint32_t, uint32_t *);
    auto entry = reinterpret_cast<Entry>(dlsym(lib, CONN_ENTRY_SYMBOL));
    expect(entry != nullptr, "the entry symbol");
    if (!entry) return 1;
    uint32_t minor = CONN_ABI_VERSION_MINOR;
    const conn_plugin_entry *e = entry(CONN_ABI_VERSION_MAJOR, &minor);
    expect(e != nullptr && minor == 0, "negotiation: served, minor 0");
    if (!e) return 1;
    expect(e->init() == CONN_OK, "init");
    const auto *v = static_cast<const conn_connector_v1 *>(e->get_interface(CONN_IFACE_CONNECTOR_V1));
    expect(v != nullptr, "the connector.v1 vtable");
    if (!v) return 1;

    scim_sim::Options o;
    o.token = "old-host-test-token";
    o.soft_delete = true;
    scim_sim::Server sim(o);
    sim.start();
    const std::string url = sim.base_url();
    const std::string k_url = "scim-url", k_token = "scim-token";
    conn_kv cfg_kv[2] = {{str(k_url), str(url)}, {str(k_token), str(o.token)}};
    conn_config cfg{};
    cfg.struct_size = sizeof cfg;
    cfg.entries = cfg_kv;
    cfg.entry_count = 2;
    conn_instance *in = nullptr;
    conn_error err{};
    err.struct_size = sizeof err;
    expect(v->instance_create(&cfg, nullptr, &in, &err) == CONN_OK, std::string("instance_create: ") + err.message);
    if (!in) return 1;

    const std::string email = "old.host@example.com";
    const Created first = create(*v, in, email);
    expect(first.status == CONN_OK && first.outcome == CONN_OUTCOME_CREATED, "the first create: CREATED");
    conn_outcome deleted = CONN_OUTCOME_NONE;
    const std::string type = "user";
    conn_call call{};
    call.struct_size = sizeof call;
    expect(v->delete_resource(in, &call, str(type), str(first.id), &deleted, &err) == CONN_OK &&
               deleted == CONN_OUTCOME_DELETED,
           "delete (soft): DELETED");
    const Created again = create(*v, in, email);
    expect(again.status == CONN_OK, "re-creating the soft-deleted account succeeds");
    expect(again.outcome == CONN_OUTCOME_ALREADY_EXISTS,
           "re-creating it answers ALREADY_EXISTS to a 1.0 host (got " + std::to_string(again.outcome) + ")");
    expect(again.outcome <= CONN_OUTCOME_ALREADY_REVOKED, "an outcome ABI 1.0 knows");
    expect(again.id == first.id, "the same account");
    v->instance_destroy(in);
    e->deinit();
    if (failures == 0) std::printf("old host (ABI 1.0) and today's plugin: OK\n");
    return failures == 0 ? 0 : 1;
}
