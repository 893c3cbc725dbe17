// Version negotiation and the loader's refusals, with the minimal example plugin and bad files.
#include <doctest/doctest.h>

#include "connector_host/plugin_loader.hpp"

#include <boost/dll/shared_library.hpp>

#include <cstdlib>
#include <dlfcn.h>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
using connector_host::LoadErrorKind;
using connector_host::LoadedPlugin;
using connector_host::PluginLoadError;

namespace {
LoadErrorKind refusal_of(const fs::path &path, std::string *message = nullptr) {
    try {
        LoadedPlugin::load(path);
    } catch (const PluginLoadError &e) {
        if (message) *message = e.what();
        return e.kind();
    }
    FAIL("the loader accepted " << path);
    return LoadErrorKind::bad_entry;
}

fs::path temp_file(const std::string &name, const std::string &content) {
    auto dir = fs::temp_directory_path() / ("abi-tests-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    auto path = dir / name;
    std::ofstream(path) << content;
    return path;
}
}  // namespace

TEST_CASE("the entry negotiates: the lower minor wins, an unknown major is refused") {
    boost::dll::shared_library lib(EXAMPLE_PLUGIN_PATH,
                                   boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    auto &entry = lib.get<const conn_plugin_entry *(uint32_t, uint32_t *)>(CONN_ENTRY_SYMBOL);

    uint32_t minor = 7; // a newer host
    const conn_plugin_entry *e = entry(CONN_ABI_VERSION_MAJOR, &minor);
    REQUIRE(e != nullptr);
    CHECK(e->abi_major == CONN_ABI_VERSION_MAJOR);
    CHECK(minor == CONN_ABI_VERSION_MINOR);
    CHECK(entry(CONN_ABI_VERSION_MAJOR, nullptr) == e); // minor is optional

    minor = 0;
    CHECK(entry(CONN_ABI_VERSION_MAJOR + 1, &minor) == nullptr);
    CHECK(entry(0, &minor) == nullptr);

    REQUIRE(e->init() == CONN_OK);
    CHECK(e->init() == CONN_ERR_INVALID_STATE); // init twice is refused
    CHECK(e->get_interface("connector.v0") == nullptr);
    CHECK(e->get_interface("no.such.interface/1") == nullptr);
    CHECK(e->get_interface(CONN_IFACE_CONNECTOR_V1) != nullptr);
    e->deinit();
    CHECK(e->get_interface(CONN_IFACE_CONNECTOR_V1) == nullptr); // nothing after deinit
}

TEST_CASE("the loader loads a conforming plugin and reads its description") {
    auto plugin = LoadedPlugin::load(EXAMPLE_PLUGIN_PATH);
    CHECK(std::string(plugin->descriptor().id) == "example-minimal");
    CHECK(plugin->abi_minor() == CONN_ABI_VERSION_MINOR);
    CHECK(plugin->descriptor().resource_type_count == 1);
    CHECK((plugin->descriptor().capabilities & CONN_CAP_SYNC) != 0);

    // An instance streams what its config names; a missing field is named in the error.
    const auto &c = plugin->connector();
    auto err = conn::make<conn_error>();
    conn_config empty{sizeof(conn_config), 0, nullptr, 0};
    conn_instance *inst = nullptr;
    CHECK(c.instance_create(&empty, nullptr, &inst, &err) == CONN_ERR_INVALID_CONFIG);
    CHECK(std::string(err.field) == "users");
    CHECK(inst == nullptr);

    conn_kv kv{conn::str("users"), conn::str("alice,bob,carol")};
    conn_config cfg{sizeof(conn_config), 0, &kv, 1};
    REQUIRE(c.instance_create(&cfg, nullptr, &inst, &err) == CONN_OK);
    std::string seen;
    auto sink = conn::make<conn_sink>();
    sink.ctx = &seen;
    sink.on_resource = [](void *ctx, const conn_resource *r) -> int32_t {
        *static_cast<std::string *>(ctx) += std::string(connector_host::view(r->id)) + ";";
        return CONN_SINK_CONTINUE;
    };
    auto result = conn::make<conn_sync_result>();
    CHECK(c.sync(inst, nullptr, nullptr, &sink, &result, &err) == CONN_OK);
    CHECK(seen == "alice;bob;carol;");
    CHECK(result.resources == 3);
    CHECK(c.grant(inst, nullptr, {}, {}, {}, nullptr, nullptr, &err) == CONN_ERR_UNSUPPORTED);
    c.instance_destroy(inst);
}

TEST_CASE("the loader refuses what is not a conforming plugin, with a clear kind and message") {
    std::string message;
    CHECK(refusal_of("/nonexistent/dir/nothing.so", &message) == LoadErrorKind::file_missing);
    CHECK(message.find("nothing.so") != std::string::npos);

    CHECK(refusal_of(temp_file("junk.so", "this is not a library\n"), &message) == LoadErrorKind::not_a_library);
    CHECK(message.find("not a shared library") != std::string::npos);

    // A real shared library that is not a plugin: libc.
    fs::path libc;
    for (const char *candidate : {"/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6",
                                  "/lib64/libc.so.6", "/usr/lib/libc.so.6"})
        if (fs::exists(candidate)) libc = candidate;
    if (!libc.empty()) {
        CHECK(refusal_of(libc, &message) == LoadErrorKind::no_entry_symbol);
        CHECK(message.find(CONN_ENTRY_SYMBOL) != std::string::npos);
    }

    CHECK(refusal_of(FUTURE_MAJOR_PLUGIN_PATH, &message) == LoadErrorKind::unsupported_abi);
    CHECK(message.find("major") != std::string::npos);
}

TEST_CASE("discovery lists plugins and skips junk") {
    auto dir = fs::temp_directory_path() / ("abi-discovery-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    fs::copy_file(EXAMPLE_PLUGIN_PATH, dir / "example-minimal.so");
    std::ofstream(dir / "broken.so") << "junk";
    std::ofstream(dir / "README.txt") << "not considered";
    auto found = connector_host::discover_plugins(dir);
    REQUIRE(found.plugins.size() == 1);
    CHECK(found.plugins[0].id == "example-minimal");
    CHECK(found.plugins[0].version == "1.0.0");
    REQUIRE(found.skipped.size() == 1);
    CHECK(found.skipped[0].path.filename() == "broken.so");
    fs::remove_all(dir);
}

namespace {
bool still_mapped(const fs::path &path) {
    void *handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD);
    if (handle != nullptr) ::dlclose(handle);
    return handle != nullptr;
}
}  // namespace

TEST_CASE("a plugin is unmapped when destroyed, unless loaded with Unmap::never (the host's choice)") {
    // Copies, so that no other test's load of the same file keeps it mapped.
    auto dir = fs::temp_directory_path() / ("abi-unmap-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const fs::path unloaded = dir / "unloaded.so", pinned = dir / "pinned.so";
    fs::copy_file(EXAMPLE_PLUGIN_PATH, unloaded);
    fs::copy_file(EXAMPLE_PLUGIN_PATH, pinned);

    LoadedPlugin::load(unloaded).reset();
    CHECK_FALSE(still_mapped(unloaded));

    auto plugin = LoadedPlugin::load(pinned, connector_host::Unmap::never);
    CHECK(plugin->descriptor().id == std::string("example-minimal"));
    plugin.reset(); // deinit ran; the code stays
    CHECK(still_mapped(pinned));
    // Loading it again finds the same mapping and initialises it again.
    plugin = LoadedPlugin::load(pinned, connector_host::Unmap::never);
    CHECK(plugin->descriptor().id == std::string("example-minimal"));
    plugin.reset();
    fs::remove_all(dir);
}

TEST_CASE("UTF-8 validation is strict") {
    using connector_host::is_valid_utf8;
    CHECK(is_valid_utf8("plain ascii"));
    CHECK(is_valid_utf8("Jos\xC3\xA9 \xC3\x91\xC3\xBA\xC3\xB1\x65z"));
    CHECK(is_valid_utf8("\xF0\x9F\x98\x80"));
    CHECK_FALSE(is_valid_utf8("\xC3"));             // truncated
    CHECK_FALSE(is_valid_utf8("\xC0\xAF"));         // overlong
    CHECK_FALSE(is_valid_utf8("\xED\xA0\x80"));     // surrogate
    CHECK_FALSE(is_valid_utf8("\xF4\x90\x80\x80")); // above U+10FFFF
    CHECK_FALSE(is_valid_utf8("\xFF"));
}
