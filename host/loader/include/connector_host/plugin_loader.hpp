// The host's plugin loader: loads a connector plugin with Boost.DLL (RTLD_NOW | RTLD_LOCAL), negotiates
// the ABI version, initialises the plugin and hands out its connector.v1 vtable. Knows the ABI, not any
// particular plugin. Every refusal is a PluginLoadError with a kind a caller can act on and a one-line
// message; nothing here crashes on a bad file.
#pragma once

#include <connector/connector_abi.h>
#include <connector/connector_abi.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace connector_host {

enum class LoadErrorKind {
    file_missing,          // no such file
    not_a_library,         // the file exists but the dynamic loader refused it
    no_entry_symbol,       // a library without connector_plugin_entry
    unsupported_abi,       // the plugin answered NULL for our ABI major, or an entry of another major
    bad_entry,             // the entry or vtable is malformed (NULL functions, struct too small)
    init_failed,           // the plugin's init returned an error
    no_connector_interface,// get_interface("connector.v1") answered NULL
    bad_descriptor,        // describe() returned NULL or a malformed descriptor
};

std::string_view to_string(LoadErrorKind kind);

class PluginLoadError : public std::runtime_error {
public:
    PluginLoadError(LoadErrorKind kind, const std::string &message)
        : std::runtime_error(message), kind_(kind) {}
    LoadErrorKind kind() const noexcept { return kind_; }

private:
    LoadErrorKind kind_;
};

// What destroying a LoadedPlugin does to the library's code once deinit has returned.
enum class Unmap {
    on_destroy, // dlclose: the code is unmapped (a validator checks that unloading is safe)
    never,      // pinned (RTLD_NODELETE): a process that exits soon gains nothing from unmapping, and a
                // plugin that broke the rules (a thread, an atexit or TLS destructor left behind) would
                // otherwise crash the host at exit, in code that is gone
};

// A loaded and initialised plugin. Destroying it calls deinit and unloads the library (see Unmap);
// every instance created through connector() must be destroyed first.
class LoadedPlugin {
public:
    // Loads, negotiates (host speaks CONN_ABI_VERSION_MAJOR.CONN_ABI_VERSION_MINOR), inits, and checks
    // the connector.v1 vtable and descriptor. Throws PluginLoadError.
    static std::unique_ptr<LoadedPlugin> load(const std::filesystem::path &path, Unmap unmap = Unmap::on_destroy);

    ~LoadedPlugin();
    LoadedPlugin(const LoadedPlugin &) = delete;
    LoadedPlugin &operator=(const LoadedPlugin &) = delete;

    const std::filesystem::path &path() const noexcept { return path_; }
    // The negotiated minor (the lower of the host's and the plugin's).
    uint32_t abi_minor() const noexcept { return negotiated_minor_; }
    // Copies of the plugin's structs, zero-extended to this host's sizeof: fields a smaller (older)
    // plugin did not know are NULL/zero.
    const conn_plugin_entry &entry() const noexcept { return entry_; }
    const conn_connector_v1 &connector() const noexcept { return connector_; }
    const conn_descriptor &descriptor() const noexcept { return descriptor_; }

private:
    LoadedPlugin() = default;
    struct Library;
    std::unique_ptr<Library> library_;
    std::filesystem::path path_;
    uint32_t negotiated_minor_ = 0;
    bool initialised_ = false;
    conn_plugin_entry entry_{};
    conn_connector_v1 connector_{};
    conn_descriptor descriptor_{};
};

// True for names a plugin may have on this platform (.so, .dll, .dylib).
bool has_plugin_extension(const std::filesystem::path &path);

struct DiscoveredPlugin {
    std::filesystem::path path;
    std::string id, name, version;
    uint32_t abi_major = 0, abi_minor = 0;
};

struct SkippedFile {
    std::filesystem::path path;
    std::string reason;
};

struct DiscoveryResult {
    std::vector<DiscoveredPlugin> plugins; // sorted by id
    std::vector<SkippedFile> skipped;      // files with a plugin extension that did not load
};

// Loads every file with a plugin extension in `dir` (not recursive), reads its descriptor, unloads it.
// Throws std::runtime_error when the directory cannot be read.
DiscoveryResult discover_plugins(const std::filesystem::path &dir, Unmap unmap = Unmap::on_destroy);

// Where a program at `executable` looks for plugins when it is told nothing (host/CLI.md, "--plugins-dir"):
// for <prefix>/bin/<program>, <prefix>/lib/connector/plugins when that directory exists (an installed tree:
// `cmake --install`, the Debian package), else <prefix>/plugins (a build tree: <build>/plugins); for a program
// anywhere else, plugins/ beside it. The environment variable CONNECTOR_PLUGINS_DIR is the caller's to apply.
std::filesystem::path default_plugins_dir(const std::filesystem::path &executable);

// The running program's own file (/proc/self/exe); empty when it cannot be read.
std::filesystem::path running_executable();

// Views of ABI strings (NULL reads as empty): the C++ companion's.
using conn::view;

// Strict UTF-8 validation (no overlongs, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view s) noexcept;

}  // namespace connector_host
