// An anonymous temporary file that the sync's large indexes overflow into once they pass their memory budget
// (store/id_index.hpp, store/group_list.hpp). It has no name on disk while in use (O_TMPFILE, or a name
// unlinked at once where the file system lacks it), is readable by its owner only, and vanishes when closed,
// also when the process dies. It holds fingerprints of ids and group names, never the token.
//
// Reads and writes are positional (pread/pwrite): the file's pages stay in the kernel's page cache, which the
// system may write out and drop under pressure, instead of in the process. Every failure (disk full, I/O error)
// throws Error::internal naming the directory and the reason (field spill-dir).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ce::store {

// The least memory an index or list of the sync keeps before it spills (a smaller budget is raised to this).
inline constexpr size_t kMinMemoryBytes = 512;

class SpillFile {
public:
    // Opens a new empty file in dir ("" = $TMPDIR, else /tmp).
    explicit SpillFile(const std::string &dir);
    ~SpillFile();
    SpillFile(const SpillFile &) = delete;
    SpillFile &operator=(const SpillFile &) = delete;

    void write_at(uint64_t offset, const void *data, size_t n);
    // Reads exactly n bytes (throws if the file ends first).
    void read_at(uint64_t offset, void *data, size_t n) const;
    // Appends at the end; returns the offset written at.
    uint64_t append(const void *data, size_t n);
    // Drops everything (the file keeps no blocks).
    void clear();
    uint64_t size() const { return size_; }
    const std::string &dir() const { return dir_; }

    // The directory a SpillFile made with dir "" uses.
    static std::string default_dir();

private:
    [[noreturn]] void fail(const char *doing, int err) const;
    template <typename Byte, typename Op>
    uint64_t transfer(uint64_t offset, Byte *p, size_t n, const char *doing, int none, Op op) const;

    std::string dir_;
    int fd_ = -1;
    uint64_t size_ = 0;
};

}  // namespace ce::store
