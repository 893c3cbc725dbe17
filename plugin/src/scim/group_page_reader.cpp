#include "scim/group_page_reader.hpp"

namespace ce::scim {

GroupPageReader::GroupPageReader(OnMember on_member, OnGroup on_group, MemberReaderLimits limits)
    : on_group_(std::move(on_group)), groups_(*this, std::move(on_member), limits), page_("Resources", &groups_, limits) {}

void GroupPageReader::reset() {
    page_.reset();
    groups_.reset();
}

void GroupPageReader::Groups::end() {
    ListedGroup listed;
    listed.group = parse_listed_group(group_.finish_envelope(), index_);
    listed.members_listed = group_.array_seen();
    listed.members = group_.members();
    ++index_;
    owner_.on_group_(listed);
}

ListSummary GroupPageReader::finish() {
    ListSummary summary = parse_list_summary(page_.finish_envelope());
    summary.returned = groups_.count();
    return summary;
}

}  // namespace ce::scim
