#include "sync/store/group_list.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace ce::store {

GroupList::GroupList(size_t memory_bytes, std::string spill_dir)
    : memory_limit_(std::max(memory_bytes, kMinMemoryBytes)), spill_dir_(std::move(spill_dir)) {}

void GroupList::push(const scim::Group &g) {
    if (taken_ > 0) throw std::logic_error("GroupList::push after next()");
    for (const std::string *s : {&g.id, &g.display_name, &g.external_id})
        if (s->size() > UINT32_MAX) throw std::length_error("a group's text passed 4 GiB");
    if (!memory_.empty() && memory_.size() + kHeader + g.id.size() + g.display_name.size() + g.external_id.size() >
                                memory_limit_) {
        if (!file_) file_ = std::make_unique<SpillFile>(spill_dir_);
        file_->append(memory_.data(), memory_.size());
        memory_.clear();
    }
    for (const std::string *s : {&g.id, &g.display_name, &g.external_id}) {
        const auto n = static_cast<uint32_t>(s->size());
        memory_.append(reinterpret_cast<const char *>(&n), sizeof n);
    }
    memory_ += g.id;
    memory_ += g.display_name;
    memory_ += g.external_id;
    ++count_;
}

size_t GroupList::record_size(const char *header) {
    size_t total = kHeader;
    for (int k = 0; k < 3; ++k) {
        uint32_t n = 0;
        std::memcpy(&n, header + k * sizeof(uint32_t), sizeof n);
        total += n;
    }
    return total;
}

scim::Group GroupList::decode(std::string_view r) {
    uint32_t n[3];
    std::memcpy(n, r.data(), sizeof n);
    scim::Group g;
    size_t at = kHeader;
    g.id.assign(r.substr(at, n[0]));
    at += n[0];
    g.display_name.assign(r.substr(at, n[1]));
    at += n[1];
    g.external_id.assign(r.substr(at, n[2]));
    return g;
}

scim::Group GroupList::next() {
    if (taken_ >= count_) throw std::out_of_range("GroupList::next past the last group");
    ++taken_;
    const bool in_file = file_ && (read_pos_ < read_buffer_.size() || file_offset_ < file_->size());
    if (!in_file) {
        const size_t size = record_size(memory_.data() + memory_pos_);
        const scim::Group g = decode(std::string_view(memory_).substr(memory_pos_, size));
        memory_pos_ += size;
        return g;
    }
    // Make sure read_buffer_ holds the whole record from read_pos_ (records never straddle the file's end).
    const auto fill = [&](size_t need) {
        if (read_buffer_.size() - read_pos_ >= need) return;
        read_buffer_.erase(0, read_pos_);
        read_pos_ = 0;
        const uint64_t left = file_->size() - file_offset_;
        const size_t want = static_cast<size_t>(std::min<uint64_t>(left, std::max(need, kReadBufferBytes)));
        const size_t old = read_buffer_.size();
        read_buffer_.resize(old + want);
        file_->read_at(file_offset_, read_buffer_.data() + old, want);
        file_offset_ += want;
        if (read_buffer_.size() < need) throw std::runtime_error("the group list's temporary file ended early");
    };
    fill(kHeader);
    const size_t size = record_size(read_buffer_.data() + read_pos_);
    fill(size);
    const scim::Group g = decode(std::string_view(read_buffer_).substr(read_pos_, size));
    read_pos_ += size;
    if (read_pos_ == read_buffer_.size() && file_offset_ == file_->size()) {
        std::string().swap(read_buffer_);  // the file is read: give the buffer back
        read_pos_ = 0;
    }
    return g;
}

}  // namespace ce::store
