// Members of one group's answer that name no user or group of the sync, held until the whole answer has been read
// and found valid, then delivered (as unresolved grants). Reading a member list as it arrives keeps the body and
// its DOM out of memory, but such a member must not become a grant before its answer is known good: a body
// corrupted in the middle (a server or proxy fault) can parse as a member that does not exist, e.g. an id cut
// short by an injected quote, before the error further on shows. The ids are kept in one arena: about 41 bytes a
// member with UUID ids (the id, its end offset and a kind byte); normally there are none.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ce::store {

class MemberBuffer {
public:
    enum class Kind : uint8_t { unknown, user, group };  // from the member's "type": User, Group, or absent/other

    void add(std::string_view value, Kind kind) {
        if (arena_.size() + value.size() > UINT32_MAX) throw std::length_error("a member list passed 4 GiB of ids");
        arena_ += value;
        ends_.push_back(static_cast<uint32_t>(arena_.size()));
        kinds_.push_back(kind);
    }
    // Forgets everything and gives the memory back (a new attempt, or the group is done).
    void clear() {
        std::string().swap(arena_);
        std::vector<uint32_t>().swap(ends_);
        std::vector<Kind>().swap(kinds_);
    }
    size_t size() const { return ends_.size(); }
    // The memory it keeps (counted with the answer it belongs to against the engine's budget).
    size_t bytes() const { return arena_.size() + ends_.size() * sizeof(uint32_t) + kinds_.size(); }
    std::string_view value(size_t i) const {
        const uint32_t begin = i == 0 ? 0 : ends_[i - 1];
        return std::string_view(arena_).substr(begin, ends_[i] - begin);
    }
    Kind kind(size_t i) const { return kinds_[i]; }

private:
    std::string arena_;
    std::vector<uint32_t> ends_;
    std::vector<Kind> kinds_;
};

}  // namespace ce::store
