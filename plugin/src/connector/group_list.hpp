// The groups of a sync, kept from the moment they are listed until their members have been read: one byte
// arena for all their texts and three end offsets a group. About 65 bytes for a group with a UUID id and a short
// name, against about 140 as a vector of scim::Group (three std::string and the id's own heap block), and no
// vector of objects to reallocate as the list grows.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "scim/scim_json.hpp"

namespace ce::connector {

class GroupList {
public:
    void push(const scim::Group &g) {
        if (arena_.size() + g.id.size() + g.display_name.size() + g.external_id.size() > UINT32_MAX)
            throw std::length_error("the group list passed 4 GiB of text");
        for (const std::string *s : {&g.id, &g.display_name, &g.external_id}) {
            arena_ += *s;
            ends_.push_back(static_cast<uint32_t>(arena_.size()));
        }
    }
    size_t size() const { return ends_.size() / 3; }
    std::string_view id(size_t i) const { return field(i, 0); }
    scim::Group at(size_t i) const {
        scim::Group g;
        g.id = field(i, 0);
        g.display_name = field(i, 1);
        g.external_id = field(i, 2);
        return g;
    }
    size_t bytes() const { return arena_.capacity() + ends_.capacity() * sizeof(uint32_t); }

private:
    std::string_view field(size_t i, size_t k) const {
        const size_t n = 3 * i + k;
        const uint32_t begin = n == 0 ? 0 : ends_[n - 1];
        return std::string_view(arena_).substr(begin, ends_[n] - begin);
    }

    std::string arena_;
    std::vector<uint32_t> ends_;
};

}  // namespace ce::connector
