#include "sync/checkpoint/journal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>

#include "common/errors.hpp"
#include "sync/checkpoint/resume_token.hpp"
#include "sync/store/spill_file.hpp"

namespace ce::sync::checkpoint {
namespace {

constexpr std::string_view kFilePrefix = "claude-enterprise-sync-";
constexpr std::string_view kFileSuffix = ".journal";
constexpr size_t kBufferBytes = size_t{64} << 10;
constexpr auto kStaleAge = std::chrono::hours(24 * 7);
constexpr uint64_t kHashSeed = 0xcbf29ce484222325ull;

std::string dir_or_default(const std::string &dir) { return dir.empty() ? store::SpillFile::default_dir() : dir; }

std::string journal_path(const std::string &dir, std::string_view name) {
    return dir + "/" + std::string(kFilePrefix) + std::string(name) + std::string(kFileSuffix);
}

std::string random_name() {
    std::random_device rd;
    std::string name;
    for (int i = 0; i < 4; ++i) {
        uint32_t v = rd();
        for (int d = 0; d < 8; ++d, v >>= 4) name.push_back("0123456789abcdef"[v & 15u]);
    }
    return name;
}

// Journals of syncs never resumed, once a week old, owned by this user.
void remove_stale(const std::string &dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const auto now = fs::file_time_type::clock::now();
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string file = it->path().filename().string();
        if (file.rfind(kFilePrefix, 0) != 0 || file.size() < kFileSuffix.size() ||
            file.compare(file.size() - kFileSuffix.size(), kFileSuffix.size(), kFileSuffix) != 0)
            continue;
        struct stat st {};
        std::error_code age_ec;
        const auto written = fs::last_write_time(it->path(), age_ec);
        if (age_ec || now - written < kStaleAge) continue;
        if (::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == ::geteuid())
            fs::remove(it->path(), age_ec);
    }
}

void put_u32(std::string &out, uint32_t v) {
    for (int i = 0; i < 4; ++i, v >>= 8) out.push_back(static_cast<char>(v & 0xffu));
}

uint64_t get_le(std::string_view in, size_t at, int bytes) {
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(in[at + static_cast<size_t>(i)]);
    return v;
}

struct ReadFd {
    int fd;
    ~ReadFd() {
        if (fd >= 0) ::close(fd);
    }
};

[[noreturn]] void refuse(const std::string &why) {
    throw Error::invalid_argument("resume_from", "the interrupted sync's journal " + why +
                                                     "; run a full sync (without resume_from)");
}

// Hands every whole record at the front of `pending` to replay and drops it; returns false when the record at the
// front is not whole yet. Throws on a record no journal holds.
bool replay_one(std::string &pending, size_t &at, JournalReplay &replay, std::vector<std::string> &ancestors) {
    const std::string_view in(pending);
    if (at >= in.size()) return false;
    const char tag = in[at];
    if (tag == kUserTag || tag == kGroupTag || tag == kRoleTag || tag == kInviteTag) {
        if (in.size() - at < 9) return false;
        replay.replay_fingerprint(tag, get_le(in, at + 1, 8));
        at += 9;
        return true;
    }
    if (tag != kQueuedTag && tag != kScimQueuedTag && tag != kScimPairTag && tag != kCursorTag && tag != kAncestorTag)
        refuse("holds a record no journal of this plugin holds");
    if (in.size() - at < 13) return false;
    const uint64_t a = get_le(in, at + 1, 4), b = get_le(in, at + 5, 4), c = get_le(in, at + 9, 4);
    if (in.size() - at - 13 < a + b + c) return false;
    scim::Group g;
    g.id = std::string(in.substr(at + 13, a));
    g.display_name = std::string(in.substr(at + 13 + a, b));
    g.external_id = std::string(in.substr(at + 13 + a + b, c));
    if (tag == kAncestorTag) ancestors.push_back(std::move(g.id));
    else replay.replay_strings(tag, std::move(g));
    at += 13 + a + b + c;
    return true;
}

}  // namespace

Journal::Journal(std::string dir, std::string name, int fd)
    : dir_(std::move(dir)), name_(std::move(name)), fd_(fd), hash_(kHashSeed) {
    buffer_.reserve(kBufferBytes);
}

Journal::Journal(Journal &&o) noexcept
    : dir_(std::move(o.dir_)),
      name_(std::move(o.name_)),
      fd_(o.fd_),
      buffer_(std::move(o.buffer_)),
      bytes_(o.bytes_),
      hash_(o.hash_),
      committed_(o.committed_),
      ancestors_(std::move(o.ancestors_)) {
    o.fd_ = -1;
}

Journal::~Journal() {
    if (fd_ < 0) return;
    ::close(fd_);
    if (!committed_) ::unlink(path().c_str());
}

std::string Journal::path() const { return journal_path(dir_, name_); }

Journal Journal::create(const std::string &dir_in) {
    const std::string dir = dir_or_default(dir_in);
    remove_stale(dir);
    for (int attempt = 0; attempt < 8; ++attempt) {
        std::string name = random_name();
        const int fd = ::open(journal_path(dir, name).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) return Journal(dir, std::move(name), fd);
        if (errno != EEXIST)
            throw Error::internal("cannot create the sync's journal in " + dir + ": " + std::strerror(errno),
                                  "spill-dir");
    }
    throw Error::internal("cannot create the sync's journal in " + dir + ": every name tried exists", "spill-dir");
}

Journal Journal::resume(const std::string &dir_in, const std::string &name, Mark mark, JournalReplay &replay) {
    const std::string dir = dir_or_default(dir_in);
    const ReadFd in{::open(journal_path(dir, name).c_str(), O_RDONLY | O_CLOEXEC)};
    if (in.fd < 0) refuse("is gone from " + dir + " (spill-dir)");
    Journal out = create(dir);
    std::string pending, chunk(kBufferBytes, '\0');
    uint64_t left = mark.bytes;
    while (left > 0) {
        const ssize_t n = ::read(in.fd, chunk.data(), static_cast<size_t>(std::min<uint64_t>(left, chunk.size())));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) refuse(n == 0 ? "is shorter than the token says" : "cannot be read");
        left -= static_cast<uint64_t>(n);
        out.append(std::string_view(chunk.data(), static_cast<size_t>(n)));
        pending.append(chunk.data(), static_cast<size_t>(n));
        size_t at = 0;
        while (replay_one(pending, at, replay, out.ancestors_)) {}
        pending.erase(0, at);
    }
    if (!pending.empty() || out.hash_ != mark.hash) refuse("differs from the one the token was written with");
    out.ancestors_.push_back(name);
    out.add_strings(kAncestorTag, scim::Group{name, {}, {}});
    return out;
}

void Journal::add_fingerprint(char tag, uint64_t fp) {
    std::array<char, 9> rec{};
    rec[0] = tag;
    for (size_t i = 0; i < 8; ++i, fp >>= 8) rec[1 + i] = static_cast<char>(fp & 0xffu);
    append(std::string_view(rec.data(), rec.size()));
}

void Journal::add_strings(char tag, const scim::Group &g) {
    std::string rec(1, tag);
    put_u32(rec, static_cast<uint32_t>(g.id.size()));
    put_u32(rec, static_cast<uint32_t>(g.display_name.size()));
    put_u32(rec, static_cast<uint32_t>(g.external_id.size()));
    rec += g.id;
    rec += g.display_name;
    rec += g.external_id;
    append(rec);
}

void Journal::append(std::string_view bytes) {
    hash_ = fnv1a64(bytes, hash_);
    bytes_ += bytes.size();
    buffer_.append(bytes);
    if (buffer_.size() >= kBufferBytes) flush();
}

void Journal::flush() {
    size_t done = 0;
    while (done < buffer_.size()) {
        const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) fail("write", n < 0 ? errno : ENOSPC);
        done += static_cast<size_t>(n);
    }
    buffer_.clear();
}

Journal::Mark Journal::commit() {
    flush();
    if (::fdatasync(fd_) != 0 && errno != EINVAL) fail("sync", errno);
    committed_ = true;
    return {bytes_, hash_};
}

void Journal::complete() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    ::unlink(path().c_str());
    for (const auto &name : ancestors_)
        if (name.size() == 32 && name.find_first_not_of("0123456789abcdef") == std::string::npos)
            ::unlink(journal_path(dir_, name).c_str());
}

void Journal::fail(const char *doing, int err) const {
    throw Error::internal(std::string("cannot ") + doing + " the sync's journal in " + dir_ + ": " +
                              std::strerror(err),
                          "spill-dir");
}

}  // namespace ce::sync::checkpoint
