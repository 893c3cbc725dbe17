#include "connector_host/plugin_loader.hpp"

#include <boost/dll/shared_library.hpp>

#include <algorithm>
#include <sys/stat.h>
#include <array>
#include <cctype>
#include <cstring>
#include <fstream>
#include <system_error>

#if !defined(_WIN32)
#include <dlfcn.h>
#endif

namespace connector_host {

namespace fs = std::filesystem;

std::string_view to_string(LoadErrorKind kind) {
    switch (kind) {
    case LoadErrorKind::file_missing: return "file_missing";
    case LoadErrorKind::not_a_library: return "not_a_library";
    case LoadErrorKind::no_entry_symbol: return "no_entry_symbol";
    case LoadErrorKind::unsupported_abi: return "unsupported_abi";
    case LoadErrorKind::bad_entry: return "bad_entry";
    case LoadErrorKind::init_failed: return "init_failed";
    case LoadErrorKind::no_connector_interface: return "no_connector_interface";
    case LoadErrorKind::bad_descriptor: return "bad_descriptor";
    }
    return "unknown";
}

struct LoadedPlugin::Library {
    boost::dll::shared_library lib;
};

namespace {

// Copies a plugin-owned struct whose first member is its size into a zero-filled struct of our size:
// the receiver reads min(their size, our size) and treats the missing tail as zero.
template <typename T>
bool copy_sized(const T *src, T &dst, size_t minimum) {
    dst = T{};
    if (src == nullptr) return false;
    uint32_t size = 0;
    std::memcpy(&size, src, sizeof size);
    if (size < minimum) return false;
    std::memcpy(&dst, src, std::min<size_t>(size, sizeof(T)));
    dst.struct_size = static_cast<uint32_t>(sizeof(T));
    return true;
}

// Marks a loaded library RTLD_NODELETE: later dlcloses (Boost.DLL's) leave its code mapped until exit.
void pin_in_memory(const fs::path &path) {
#if defined(_WIN32)
    (void)path; // the host is built for POSIX only today
#else
    if (void *again = ::dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE); again != nullptr)
        ::dlclose(again); // the extra reference; the flag stays
#endif
}

std::string file_kind_hint(const fs::path &path) {
    std::ifstream in(path, std::ios::binary);
    std::array<char, 4> magic{};
    in.read(magic.data(), magic.size());
    if (in.gcount() == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' && magic[3] == 'F')
        return "an ELF file the dynamic loader refused";
    if (in.gcount() >= 2 && magic[0] == 'M' && magic[1] == 'Z') return "a PE (Windows) file";
    return "not a shared library";
}

std::string file_type_name(mode_t mode) {
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISDIR(mode)) return "a directory";
    return "not a regular file";
}

std::string loader_detail([[maybe_unused]] const fs::path &path) {
#if !defined(_WIN32)
    // Boost.DLL clears dlerror(); ask the loader once more only for its words.
    void *handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle != nullptr) {
        ::dlclose(handle);
        return {};
    }
    const char *text = ::dlerror();
    return text != nullptr ? std::string(text) : std::string{};
#else
    return {};
#endif
}

bool descriptor_strings_ok(const conn_descriptor &d, std::string &why) {
    auto nonempty_utf8 = [&](const char *s, const char *what) {
        if (s == nullptr || *s == '\0') {
            why = std::string("descriptor field '") + what + "' is empty";
            return false;
        }
        if (!is_valid_utf8(s)) {
            why = std::string("descriptor field '") + what + "' is not valid UTF-8";
            return false;
        }
        return true;
    };
    return nonempty_utf8(d.id, "id") && nonempty_utf8(d.name, "name") && nonempty_utf8(d.version, "version");
}

}  // namespace

std::unique_ptr<LoadedPlugin> LoadedPlugin::load(const fs::path &path, Unmap unmap) {
    // Only a regular file (after following symlinks) is opened: dlopen of a FIFO blocks for ever, of a device
    // reads it; a directory is no plugin file.
    struct stat file {};
    if (::stat(path.c_str(), &file) != 0 || S_ISDIR(file.st_mode))
        throw PluginLoadError(LoadErrorKind::file_missing, "no plugin file at " + path.string());
    if (!S_ISREG(file.st_mode))
        throw PluginLoadError(LoadErrorKind::not_a_library, path.string() + " is not a regular file (" +
                                                                 file_type_name(file.st_mode) + "): not loaded");

    std::unique_ptr<LoadedPlugin> plugin(new LoadedPlugin());
    plugin->path_ = path;
    plugin->library_ = std::make_unique<Library>();

    boost::dll::fs::error_code ec;
    plugin->library_->lib.load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
    if (ec || !plugin->library_->lib.is_loaded()) {
        std::string detail = loader_detail(path);
        throw PluginLoadError(LoadErrorKind::not_a_library,
                              path.string() + " cannot be loaded: " + file_kind_hint(path) +
                                  (detail.empty() ? std::string{} : " (" + detail + ")"));
    }
    if (unmap == Unmap::never) pin_in_memory(path);
    if (!plugin->library_->lib.has(CONN_ENTRY_SYMBOL))
        throw PluginLoadError(LoadErrorKind::no_entry_symbol,
                              path.string() + " is a shared library but not a connector plugin: it does not export " +
                                  CONN_ENTRY_SYMBOL);

    auto &entry_fn = plugin->library_->lib.get<const conn_plugin_entry *CONN_CALL(uint32_t, uint32_t *)>(
        CONN_ENTRY_SYMBOL);
    uint32_t minor = CONN_ABI_VERSION_MINOR;
    const conn_plugin_entry *entry = entry_fn(CONN_ABI_VERSION_MAJOR, &minor);
    if (entry == nullptr)
        throw PluginLoadError(LoadErrorKind::unsupported_abi,
                              path.string() + " does not support connector ABI major version " +
                                  std::to_string(CONN_ABI_VERSION_MAJOR));
    if (!copy_sized(entry, plugin->entry_, offsetof(conn_plugin_entry, get_interface) + sizeof(void *)))
        throw PluginLoadError(LoadErrorKind::bad_entry, path.string() + ": the plugin entry struct is too small");
    if (plugin->entry_.abi_major != CONN_ABI_VERSION_MAJOR)
        throw PluginLoadError(LoadErrorKind::unsupported_abi,
                              path.string() + " answered with ABI major " + std::to_string(plugin->entry_.abi_major) +
                                  " where " + std::to_string(CONN_ABI_VERSION_MAJOR) + " was asked for");
    if (plugin->entry_.init == nullptr || plugin->entry_.deinit == nullptr || plugin->entry_.get_interface == nullptr)
        throw PluginLoadError(LoadErrorKind::bad_entry, path.string() + ": the plugin entry has NULL functions");
    plugin->negotiated_minor_ = std::min<uint32_t>(minor, CONN_ABI_VERSION_MINOR);

    conn_status st = plugin->entry_.init();
    if (st != CONN_OK)
        throw PluginLoadError(LoadErrorKind::init_failed,
                              path.string() + ": plugin init failed (" + conn::status_text(st) + ")");
    plugin->initialised_ = true;

    const auto *vtable = static_cast<const conn_connector_v1 *>(plugin->entry_.get_interface(CONN_IFACE_CONNECTOR_V1));
    if (vtable == nullptr)
        throw PluginLoadError(LoadErrorKind::no_connector_interface,
                              path.string() + " does not offer the " CONN_IFACE_CONNECTOR_V1 " interface");
    if (!copy_sized(vtable, plugin->connector_, offsetof(conn_connector_v1, revoke) + sizeof(void *)))
        throw PluginLoadError(LoadErrorKind::bad_entry, path.string() + ": the connector.v1 vtable is too small");
    if (plugin->connector_.describe == nullptr || plugin->connector_.instance_create == nullptr ||
        plugin->connector_.instance_destroy == nullptr)
        throw PluginLoadError(LoadErrorKind::bad_entry,
                              path.string() + ": the connector.v1 vtable lacks describe/instance_create/instance_destroy");

    const conn_descriptor *desc = plugin->connector_.describe();
    if (!copy_sized(desc, plugin->descriptor_, offsetof(conn_descriptor, account_fields) + sizeof(void *)))
        throw PluginLoadError(LoadErrorKind::bad_descriptor, path.string() + ": describe() returned no usable descriptor");
    std::string why;
    if (!descriptor_strings_ok(plugin->descriptor_, why))
        throw PluginLoadError(LoadErrorKind::bad_descriptor, path.string() + ": " + why);
    return plugin;
}

LoadedPlugin::~LoadedPlugin() {
    if (initialised_ && entry_.deinit != nullptr) entry_.deinit();
    // library_ unloads when destroyed, after deinit.
}

bool has_plugin_extension(const fs::path &path) {
    auto ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return ext == ".so" || ext == ".dll" || ext == ".dylib";
}

fs::path default_plugins_dir(const fs::path &executable) {
    const fs::path dir = executable.parent_path();
    if (dir.filename() != "bin") return dir / "plugins";
    const fs::path prefix = dir.parent_path();
    std::error_code ec;
    if (fs::is_directory(prefix / "lib" / "connector" / "plugins", ec)) return prefix / "lib" / "connector" / "plugins";
    return prefix / "plugins";
}

fs::path running_executable() {
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path{} : exe;
}

DiscoveryResult discover_plugins(const fs::path &dir, Unmap unmap) {
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) throw std::runtime_error("cannot read plugins directory " + dir.string() + ": " + ec.message());
    std::vector<fs::path> files;
    DiscoveryResult result;
    for (const auto &e : it) {
        if (!has_plugin_extension(e.path())) continue;
        struct stat st {};
        if (::stat(e.path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) files.push_back(e.path());
        else if (::stat(e.path().c_str(), &st) == 0)
            result.skipped.push_back(SkippedFile{e.path(), "not a regular file (" + file_type_name(st.st_mode) + ")"});
    }
    std::sort(files.begin(), files.end());
    for (const auto &file : files) {
        try {
            auto plugin = LoadedPlugin::load(file, unmap);
            const auto &d = plugin->descriptor();
            result.plugins.push_back(DiscoveredPlugin{file, d.id, d.name, d.version, d.abi_major, d.abi_minor});
        } catch (const PluginLoadError &e) {
            result.skipped.push_back(SkippedFile{file, e.what()});
        }
    }
    std::stable_sort(result.plugins.begin(), result.plugins.end(),
                     [](const DiscoveredPlugin &a, const DiscoveredPlugin &b) { return a.id < b.id; });
    return result;
}

bool is_valid_utf8(std::string_view s) noexcept {
    const auto *p = reinterpret_cast<const unsigned char *>(s.data());
    size_t n = s.size(), i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c < 0x80) { ++i; continue; }
        size_t len;
        uint32_t cp;
        if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1Fu; }
        else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0Fu; }
        else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07u; }
        else return false;
        if (i + len > n) return false;
        for (size_t k = 1; k < len; ++k) {
            if ((p[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (p[i + k] & 0x3Fu);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return false;
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += len;
    }
    return true;
}

}  // namespace connector_host
