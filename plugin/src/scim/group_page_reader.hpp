// Reads a page of groups with their members (GET /Groups?startIndex&count, members included) from a body that
// arrives in pieces: the page is never held whole nor turned into a DOM. The page's Resources array is cut into
// its groups, and each group into its members, by the member reader (members_reader.hpp) used twice: once for
// the page (array "Resources"), once per group (array "members"). Each member is handed over as soon as its
// object is complete, each group once its object is complete and valid; what is held is one member, one group
// without its member list, and the page without its Resources.
//
// As with a single group's member list, a member or a group handed over is not known good until finish() has
// returned (a body corrupted further on can make earlier bytes parse as something that is not there): callers
// keep what they were given until then, and forget it on reset().
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "scim/members_reader.hpp"
#include "scim/scim_json.hpp"

namespace ce::scim {

// One group of a page, once its object has been read whole.
struct ListedGroup {
    Group group;
    bool members_listed = false;  // the object holds a "members" array (absent and null are not a list)
    uint64_t members = 0;         // members in that array
};

class GroupPageReader {
public:
    // A member of the group being read (its id is not known before the group ends: "id" may follow "members").
    using OnMember = GroupMembersReader::OnMember;
    using OnGroup = std::function<void(ListedGroup &group)>;

    GroupPageReader(OnMember on_member, OnGroup on_group, MemberReaderLimits limits = {});
    GroupPageReader(const GroupPageReader &) = delete;
    GroupPageReader &operator=(const GroupPageReader &) = delete;

    void reset();
    // Throws ParseError as soon as the body cannot be a valid page, LimitError past a limit.
    void feed(std::string_view bytes) { page_.feed(bytes); }
    // The body has ended: throws ParseError unless it was one complete, valid list answer; returns its
    // totalResults and how many groups it held.
    ListSummary finish();
    size_t held_bytes() const { return page_.held_bytes(); }

private:
    class Groups final : public ElementHandler {
    public:
        Groups(GroupPageReader &owner, OnMember on_member, MemberReaderLimits limits)
            : owner_(owner), group_(std::move(on_member), std::move(limits)) {}
        void begin() override { group_.reset(); }
        void byte(char c) override { group_.feed(c); }
        void bytes(std::string_view run) override { group_.feed(run); }
        void end() override;
        size_t held_bytes() const override { return group_.held_bytes(); }
        void reset() {
            group_.reset();
            index_ = 0;
        }
        size_t count() const { return index_; }

    private:
        GroupPageReader &owner_;
        GroupMembersReader group_;
        size_t index_ = 0;
    };

    OnGroup on_group_;
    Groups groups_;
    GroupMembersReader page_;
};

}  // namespace ce::scim
