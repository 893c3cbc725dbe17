#include "sync/store/spill_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/errors.hpp"
#include "config/fields.hpp"

namespace ce::store {

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
    const std::string_view field = config::name_of<&config::Config::spill_dir>();
    throw Error::internal(std::string("could not ") + doing + " the sync's temporary index file in " + dir_ + " (" +
                              std::string(field) + "): " + std::strerror(err),
                          std::string(field));
}

// Runs a positional read or write until all n bytes are through, retrying on EINTR; returns the end offset.
// `none` is the errno for a call that moves no byte (a full disk for a write, a file shorter than written for a
// read: it was tampered with).
template <typename Byte, typename Op>
uint64_t SpillFile::transfer(uint64_t offset, Byte *p, size_t n, const char *doing, int none, Op op) const {
    uint64_t at = offset;
    while (n > 0) {
        const ssize_t done = op(fd_, p, n, static_cast<off_t>(at));
        if (done < 0) {
            if (errno == EINTR) continue;
            fail(doing, errno);
        }
        if (done == 0) fail(doing, none);
        p += done;
        at += static_cast<uint64_t>(done);
        n -= static_cast<size_t>(done);
    }
    return at;
}

void SpillFile::write_at(uint64_t offset, const void *data, size_t n) {
    const uint64_t end = transfer(offset, static_cast<const char *>(data), n, "write", ENOSPC, &::pwrite);
    if (end > size_) size_ = end;
}

void SpillFile::read_at(uint64_t offset, void *data, size_t n) const {
    transfer(offset, static_cast<char *>(data), n, "read", EIO, &::pread);
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

}  // namespace ce::store
