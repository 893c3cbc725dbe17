// The --out destination: atomic temp-and-rename for regular files, direct streaming for devices and FIFOs,
// refusal for everything else (host_services.hpp, "the --out destination").
#include "connector_host/cli/host_services.hpp"

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace connector_host::cli {

namespace fs = std::filesystem;

namespace {

std::string temp_prefix(const fs::path &target) { return "." + target.filename().string() + ".tmp-"; }

fs::path dir_of(const fs::path &target) {
    fs::path dir = target.parent_path();
    return dir.empty() ? fs::path(".") : dir;
}

// The pid in "<pid>-XXXXXX", or 0.
pid_t pid_in(std::string_view rest) {
    size_t dash = rest.find('-');
    if (dash == 0 || dash == std::string_view::npos || dash > 9) return 0;
    pid_t pid = 0;
    for (char c : rest.substr(0, dash)) {
        if (c < '0' || c > '9') return 0;
        pid = pid * 10 + (c - '0');
    }
    return pid;
}

bool process_alive(pid_t pid) { return ::kill(pid, 0) == 0 || errno == EPERM; }

// The file to replace keeps its mode and owner (the owner only when we may set it); a new file is 0600.
void take_mode_and_owner(int fd, const fs::path &target) {
    struct stat st {};
    if (::lstat(target.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
        ::fchmod(fd, 0600);
        return;
    }
    if (st.st_uid != ::geteuid() || st.st_gid != ::getegid()) {
        if (::fchown(fd, st.st_uid, st.st_gid) != 0) (void)::fchown(fd, static_cast<uid_t>(-1), st.st_gid);
    }
    ::fchmod(fd, st.st_mode & 07777); // after fchown, which may clear set-id bits
}

// A path that does not exist, reached through symlinks: the path they finally name.
fs::path follow_dangling(fs::path p) {
    for (int hops = 0; hops < 40; ++hops) {
        struct stat st {};
        if (::lstat(p.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return p;
        std::error_code ec;
        fs::path to = fs::read_symlink(p, ec);
        if (ec) return p;
        p = to.is_absolute() ? to : p.parent_path() / to;
    }
    throw std::runtime_error("cannot write " + p.string() + ": too many levels of symbolic links");
}

std::string refused_kind(mode_t mode) {
    if (S_ISDIR(mode)) return "is a directory";
    if (S_ISSOCK(mode)) return "is a socket";
    if (S_ISBLK(mode)) return "is a block device";
    return "is not a regular file";
}

}  // namespace

size_t remove_stale_temp_files(const fs::path &target) {
    const std::string prefix = temp_prefix(target);
    std::error_code ec;
    size_t removed = 0;
    for (const auto &e : fs::directory_iterator(dir_of(target), ec)) {
        const std::string name = e.path().filename().string();
        if (name.rfind(prefix, 0) != 0) continue;
        pid_t pid = pid_in(std::string_view(name).substr(prefix.size()));
        if (pid <= 0 || pid == ::getpid() || process_alive(pid)) continue;
        struct stat st {};
        if (::lstat(e.path().c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::unlink(e.path().c_str()) == 0) ++removed;
    }
    return removed;
}

AtomicOutputFile::AtomicOutputFile(const fs::path &target) : target_(target) {
    remove_stale_temp_files(target);
    const fs::path dir = dir_of(target);
    std::string pattern = (dir / (temp_prefix(target) + std::to_string(::getpid()) + "-XXXXXX")).string();
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    int fd = ::mkostemp(buf.data(), O_CLOEXEC); // 0600
    if (fd < 0)
        throw std::runtime_error("cannot create a temporary file in " + dir.string() + ": " + std::strerror(errno));
    temp_ = buf.data();
    register_temp_file(temp_);
    ::fchmod(fd, 0600);
    file_ = ::fdopen(fd, "wb");
    if (file_ == nullptr) {
        ::close(fd);
        ::unlink(temp_.c_str());
        unregister_temp_file();
        throw std::runtime_error("cannot open the temporary output file");
    }
}

AtomicOutputFile::~AtomicOutputFile() {
    if (file_ != nullptr) std::fclose(file_);
    if (!committed_) ::unlink(temp_.c_str());
    unregister_temp_file();
}

void AtomicOutputFile::commit() {
    if (std::fflush(file_) != 0 || std::ferror(file_) != 0 || ::fsync(::fileno(file_)) != 0)
        throw OutputWriteError("cannot write " + target_.string(), errno != 0 ? errno : EIO);
    take_mode_and_owner(::fileno(file_), target_);
    if (std::fclose(file_) != 0) {
        file_ = nullptr;
        throw OutputWriteError("cannot write " + target_.string(), errno);
    }
    file_ = nullptr;
    if (::rename(temp_.c_str(), target_.c_str()) != 0)
        throw std::runtime_error("cannot rename the output into place at " + target_.string() + ": " +
                                 std::strerror(errno));
    committed_ = true;
    unregister_temp_file();
}

// ---- the --out destination -----------------------------------------------------------------------------------
void SyncOutput::check_destination(const std::string &arg) {
    struct stat st {};
    if (arg.empty() || arg == "-" || ::stat(arg.c_str(), &st) != 0) return;
    if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode))
        throw OutputRefused("--out " + arg + " " + refused_kind(st.st_mode) +
                            ": only a regular file (replaced atomically), a new file, a character device (such as "
                            "/dev/null) or a FIFO can be written");
}

std::unique_ptr<SyncOutput> SyncOutput::open(const std::string &arg) {
    std::unique_ptr<SyncOutput> out(new SyncOutput());
    if (arg.empty() || arg == "-") {
        out->stream_ = stdout;
        return out;
    }
    struct stat st {};
    if (::stat(arg.c_str(), &st) != 0) {
        if (errno != ENOENT) throw std::runtime_error("cannot write --out " + arg + ": " + std::strerror(errno));
        out->atomic_ = std::make_unique<AtomicOutputFile>(follow_dangling(arg));
        return out;
    }
    if (S_ISREG(st.st_mode)) {
        char real[PATH_MAX];
        if (::realpath(arg.c_str(), real) == nullptr)
            throw std::runtime_error("cannot resolve --out " + arg + ": " + std::strerror(errno));
        out->atomic_ = std::make_unique<AtomicOutputFile>(fs::path(real));
        return out;
    }
    check_destination(arg);
    // A FIFO: open waits for a reader (a signal interrupts it: EINTR).
    int fd = ::open(arg.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("cannot open --out " + arg + ": " + std::strerror(errno));
    out->stream_ = ::fdopen(fd, "wb");
    if (out->stream_ == nullptr) {
        ::close(fd);
        throw std::runtime_error("cannot open --out " + arg);
    }
    return out;
}

SyncOutput::~SyncOutput() {
    if (stream_ != nullptr && stream_ != stdout) std::fclose(stream_);
}

std::FILE *SyncOutput::file() const noexcept { return atomic_ ? atomic_->file() : stream_; }

void SyncOutput::commit() {
    if (atomic_) {
        atomic_->commit();
        return;
    }
    if (std::fflush(stream_) != 0 || std::ferror(stream_) != 0)
        throw OutputWriteError("cannot write the output", errno != 0 ? errno : EIO);
}

}  // namespace connector_host::cli
