// The groups of a sync, kept from the moment they are listed until their members are read, in flat memory: a
// queue of records (three 32-bit lengths, then the id, the display name and the external id), about 70 bytes a
// group with a UUID id and a short name. Records collect in memory up to `memory_bytes`; past that they are
// appended to a SpillFile (store/spill_file.hpp) and read back in order, through a 64 KiB buffer, when the
// members are read. Groups are pushed while listing, then taken in the same order with next(); no push after
// the first next().
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "sync/store/spill_file.hpp"
#include "scim/scim_json.hpp"

namespace ce::store {

class GroupList {
public:
    static constexpr size_t kDefaultMemoryBytes = size_t{256} << 10;

    explicit GroupList(size_t memory_bytes = kDefaultMemoryBytes, std::string spill_dir = {});

    void push(const scim::Group &g);
    size_t size() const { return count_; }
    // The next group in the order pushed (throws std::out_of_range past the last).
    scim::Group next();

    bool spilled() const { return file_ != nullptr; }
    size_t memory_bytes() const { return memory_.capacity() + read_buffer_.capacity(); }

private:
    static constexpr size_t kHeader = 3 * sizeof(uint32_t);
    static constexpr size_t kReadBufferBytes = size_t{64} << 10;  // read from the file at a time
    static scim::Group decode(std::string_view record_bytes);
    static size_t record_size(const char *header);

    size_t memory_limit_;
    std::string spill_dir_;
    std::string memory_;  // records not written to the file
    std::unique_ptr<SpillFile> file_;
    size_t count_ = 0;
    size_t taken_ = 0;  // groups given back by next(); pushing ends with the first
    uint64_t file_offset_ = 0;  // next byte of the file to read into read_buffer_
    std::string read_buffer_;
    size_t read_pos_ = 0;
    size_t memory_pos_ = 0;
};

}  // namespace ce::store
