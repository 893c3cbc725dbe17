#include "connector_host/cli/checkpoint_file.hpp"

#include <connector_host/store/sort_spool.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <vector>

namespace connector_host::cli {

namespace fs = std::filesystem;

namespace {

constexpr const char *kMagic = "connector-host checkpoint 1";
constexpr size_t kMaxFileBytes = 64 * 1024;

std::string checkpoint_text(const CheckpointRecord &r) {
    const std::vector<std::pair<const char *, std::string>> fields = {
        {"plugin_id", r.plugin_id}, {"plugin_version", r.plugin_version},
        {"config_fingerprint", r.config_fingerprint}, {"format", r.format},
        {"spool", r.spool.string()}, {"token", r.token}};
    std::string text = std::string(kMagic) + "\n";
    for (const auto &[key, value] : fields) {
        if (value.find_first_of("\r\n") != std::string::npos)
            throw CheckpointFileError(std::string("cannot keep a checkpoint whose ") + key + " holds a line break");
        text += std::string(key) + "=" + value + "\n";
    }
    return text;
}

void write_all(int fd, const std::string &text, const fs::path &tmp) {
    size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int e = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            throw CheckpointFileError("cannot write the checkpoint " + tmp.string() + ": " + std::strerror(e));
        }
        done += static_cast<size_t>(n);
    }
}

std::string read_small(const fs::path &path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT)
        throw CheckpointFileError("there is no checkpoint " + path.string() + " to resume from");
    if (fd < 0) throw CheckpointFileError("cannot read the checkpoint " + path.string() + ": " + std::strerror(errno));
    std::string text;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0 && text.size() <= kMaxFileBytes) text.append(buf, static_cast<size_t>(n));
    ::close(fd);
    if (n < 0 || text.size() > kMaxFileBytes)
        throw CheckpointFileError("cannot read the checkpoint " + path.string() + " (unreadable or too large)");
    return text;
}

}  // namespace

fs::path spool_path_for(const fs::path &checkpoint_file) {
    return fs::absolute(fs::path(checkpoint_file.string() + ".spool")); // resumable from any directory
}

void write_checkpoint_file(const fs::path &path, const CheckpointRecord &record) {
    const std::string text = checkpoint_text(record);
    const fs::path tmp = path.string() + ".tmp";
    ::unlink(tmp.c_str());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) throw CheckpointFileError("cannot write the checkpoint " + tmp.string() + ": " + std::strerror(errno));
    write_all(fd, text, tmp);
    if (::fsync(fd) != 0 || ::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
        const int e = errno;
        ::unlink(tmp.c_str());
        throw CheckpointFileError("cannot write the checkpoint " + path.string() + ": " + std::strerror(e));
    }
}

CheckpointRecord read_checkpoint_file(const fs::path &path) {
    const std::string text = read_small(path);
    std::map<std::string, std::string> values;
    size_t start = 0;
    bool first = true;
    while (start < text.size()) {
        const size_t end = text.find('\n', start);
        const std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
        start = end == std::string::npos ? text.size() : end + 1;
        if (first && line != kMagic) throw CheckpointFileError(path.string() + " is not a checkpoint of connector-host");
        const size_t eq = line.find('=');
        if (!first && eq != std::string::npos) values[line.substr(0, eq)] = line.substr(eq + 1);
        first = false;
    }
    CheckpointRecord r{values["plugin_id"], values["plugin_version"], values["config_fingerprint"],
                       values["format"], values["spool"], values["token"]};
    if (first || r.plugin_id.empty() || r.format.empty() || r.spool.empty() || r.token.empty())
        throw CheckpointFileError(path.string() + " is not a complete checkpoint of connector-host");
    return r;
}

void remove_checkpoint(const fs::path &path, const fs::path &spool) noexcept {
    std::error_code ec;
    fs::remove(path, ec);
    fs::remove(path.string() + ".tmp", ec);
    store::SortSpool::remove_files(spool);
}

}  // namespace connector_host::cli
