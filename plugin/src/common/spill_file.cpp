#include "common/spill_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/errors.hpp"

namespace ce {

std::string SpillFile::default_dir() {
    const char *t = std::getenv("TMPDIR");
    return t && *t ? std::string(t) : std::string("/tmp");
}

SpillFile::SpillFile(const std::string &dir) : dir_(dir.empty() ? default_dir() : dir) {
#ifdef O_TMPFILE
    fd_ = ::open(dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
#endif
    if (fd_ < 0) {
        // No O_TMPFILE here (or not on this file system): a unique name, unlinked at once.
        std::string templ = dir_ + "/claude-enterprise-spill-XXXXXX";
        std::vector<char> name(templ.begin(), templ.end());
        name.push_back('\0');
        fd_ = ::mkostemp(name.data(), O_CLOEXEC);
        if (fd_ < 0) fail("create", errno);
        ::unlink(name.data());  // mkostemp made it 0600
    }
}

SpillFile::~SpillFile() {
    if (fd_ >= 0) ::close(fd_);
}

void SpillFile::fail(const char *doing, int err) const {
    throw Error(ErrorKind::internal, std::string("could not ") + doing + " the sync's temporary index file in " + dir_ +
                                         " (spill-dir): " + std::strerror(err),
                0, 0, "spill-dir");
}

void SpillFile::write_at(uint64_t offset, const void *data, size_t n) {
    const char *p = static_cast<const char *>(data);
    uint64_t at = offset;
    while (n > 0) {
        const ssize_t w = ::pwrite(fd_, p, n, static_cast<off_t>(at));
        if (w < 0) {
            if (errno == EINTR) continue;
            fail("write", errno);
        }
        if (w == 0) fail("write", ENOSPC);
        p += w;
        at += static_cast<uint64_t>(w);
        n -= static_cast<size_t>(w);
    }
    if (at > size_) size_ = at;
}

void SpillFile::read_at(uint64_t offset, void *data, size_t n) const {
    char *p = static_cast<char *>(data);
    uint64_t at = offset;
    while (n > 0) {
        const ssize_t r = ::pread(fd_, p, n, static_cast<off_t>(at));
        if (r < 0) {
            if (errno == EINTR) continue;
            fail("read", errno);
        }
        if (r == 0) fail("read", EIO);  // shorter than what was written: the file was tampered with
        p += r;
        at += static_cast<uint64_t>(r);
        n -= static_cast<size_t>(r);
    }
}

uint64_t SpillFile::append(const void *data, size_t n) {
    const uint64_t at = size_;
    write_at(at, data, n);
    return at;
}

void SpillFile::clear() {
    if (::ftruncate(fd_, 0) != 0) fail("truncate", errno);
    size_ = 0;
}

}  // namespace ce
