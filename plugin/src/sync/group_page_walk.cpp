#include "sync/group_page_walk.hpp"

#include <algorithm>
#include <optional>
#include <utility>

#include "common/errors.hpp"
#include "common/text.hpp"
#include "scim/group_page_reader.hpp"
#include "scim/scim_url.hpp"
#include "sync/store/member_buffer.hpp"
#include "sync/store/member_set.hpp"

namespace ce::sync {

enum class ReadAlone { no, not_listed, nested, too_large, longest };

struct GroupPageWalk::PageGroup {
    scim::Group group;
    store::MemberBuffer members;  // empty when the group is read on its own
    ReadAlone alone = ReadAlone::no;
};

// One page's answer, read as it arrives: the groups it completed, with their members, until the page is valid.
class GroupPageWalk::PageStream final : public http::BodyStream {
public:
    PageStream(GroupPageWalk &walk, const scim::MemberReaderLimits &limits)
        : walk_(walk),
          reader_([this](std::string_view value, std::string_view type) { on_member(value, type); },
                  [this](scim::ListedGroup &g) { on_group(g); }, limits) {}

    void reset() override {
        reader_.reset();
        groups_.clear();
        current_.clear();
        held_ = 0;
        nested_ = over_budget_ = false;
    }
    void write(std::string_view bytes) override {
        try {
            reader_.feed(bytes);
        } catch (const scim::LimitError &e) {
            throw Error::invalid_config(e.field(), std::string("while reading a page of groups: ") + e.what())
                .with_http(200);
        }
    }
    size_t held_bytes() const override { return reader_.held_bytes() + held_ + current_.bytes(); }
    // The transfer ended with a 2xx status: throws what write() threw, or ParseError unless the page was valid.
    scim::ListSummary finish(const http::Response &response) {
        if (response.stream_error) std::rethrow_exception(response.stream_error);
        return reader_.finish();
    }
    std::vector<PageGroup> &groups() { return groups_; }
    size_t group_count() const { return groups_.size(); }
    size_t held_for_groups() const { return held_; }

private:
    using Kind = store::MemberBuffer::Kind;

    void on_member(std::string_view value, std::string_view type) {
        if (nested_ || over_budget_) return;  // read on its own: its members here are not needed
        const Kind kind = text::iequals(type, "Group") ? Kind::group
                          : text::iequals(type, "User") ? Kind::user
                                                        : Kind::unknown;
        if (kind == Kind::group || (kind == Kind::unknown && !walk_.users_.contains(value))) {
            nested_ = true;
            current_.clear();
            return;
        }
        current_.add(value, kind);
        if (held_ + current_.bytes() > walk_.settings_.page_budget_bytes) {
            over_budget_ = true;
            current_.clear();
        }
    }
    void on_group(scim::ListedGroup &listed) {
        PageGroup g;
        g.group = std::move(listed.group);
        g.members = std::move(current_);
        current_ = {};
        walk_.classify(g, listed.members, listed.members_listed, over_budget_);
        if (g.alone == ReadAlone::no && nested_) g.alone = ReadAlone::nested;
        if (g.alone != ReadAlone::no) g.members.clear();
        held_ += g.members.bytes() + g.group.id.size() + g.group.display_name.size();
        groups_.push_back(std::move(g));
        nested_ = over_budget_ = false;
    }

    GroupPageWalk &walk_;
    scim::GroupPageReader reader_;
    std::vector<PageGroup> groups_;
    store::MemberBuffer current_;  // the members of the group being read
    size_t held_ = 0;              // what groups_ keeps
    bool nested_ = false, over_budget_ = false;  // of the group being read
};

GroupPageWalk::GroupPageWalk(const scim::Client &client, Settings settings, const store::IdIndex &users,
                             store::GroupList &fallback, GroupPageSink &out, store::IdIndex seen)
    : client_(client),
      settings_(std::move(settings)),
      users_(users),
      fallback_(fallback),
      out_(out),
      planner_(settings_.page_size, settings_.max_passes),
      seen_(std::move(seen)),
      longest_listed_(settings_.longest_listed),
      offset_(std::max<int64_t>(settings_.first_position, 1) - 1) {}

GroupPageWalk::~GroupPageWalk() = default;

void GroupPageWalk::run() {
    pump();
    client_.engine().run();
    if (!planner_.done()) throw Error::internal("the walk while listing groups with their members ended early");
}

void GroupPageWalk::pump() {
    const size_t window = std::max(1u, settings_.window);
    const size_t slots = window > planner_.outstanding() ? window - planner_.outstanding() : 0;
    for (const scim::PageRequest &req : planner_.take(slots)) {
        auto stream = std::make_shared<PageStream>(*this, client_.member_limits());
        http::Request request = client_.make(
            http::Method::get, scim::with_query(client_.groups_url(), {{"startIndex", std::to_string(req.start_index + offset_)},
                                                                        {"count", std::to_string(req.count)}}));
        request.stream = stream;
        request.max_body_bytes = client_.member_list_bytes();
        request.limit_name = client_.member_list_field();
        client_.engine().submit(std::move(request),
                                [this, req, stream](http::Response &r) { return on_page(req, *stream, r); });
    }
}

void GroupPageWalk::classify(PageGroup &g, uint64_t listed_members, bool members_listed, bool over_budget) {
    if (!members_listed) {
        g.alone = ReadAlone::not_listed;
    } else if (over_budget) {
        g.alone = ReadAlone::too_large;
    } else if (listed_members > 0 && listed_members >= longest_listed_) {
        g.alone = ReadAlone::longest;
    }
    longest_listed_ = std::max(longest_listed_, listed_members);
}

scim::PageResult GroupPageWalk::result_of(const std::vector<PageGroup> &groups, const scim::ListSummary &summary) const {
    scim::PageResult result;
    result.total_results = summary.total_results < 0 ? -1 : std::max<int64_t>(0, summary.total_results - offset_);
    result.returned = groups.size();
    if (!groups.empty()) result.first_id = groups.front().group.id;
    result.ids.reserve(groups.size());
    for (const auto &g : groups) {
        result.ids.push_back(g.group.id);
        if (!seen_.contains(g.group.id)) ++result.fresh;
    }
    return result;
}

scim::PageSpan GroupPageWalk::span_of(const scim::PageRequest &req, const std::vector<PageGroup> &groups) const {
    scim::PageSpan span{req.pass, req.start_index + offset_, static_cast<int64_t>(groups.size()), 0, 0};
    if (!groups.empty()) {
        span.first_fp = store::IdSet::fingerprint(groups.front().group.id);
        span.last_fp = store::IdSet::fingerprint(groups.back().group.id);
    }
    return span;
}

// The first page tells what a group costs to keep until its page is delivered: later pages ask for no more groups
// than fit the page budget (the server's own cap may be lower: the planner takes the smaller).
void GroupPageWalk::learn_page_cost(const scim::PageRequest &req, const PageStream &page) {
    if (page_cost_learnt_ || req.start_index != 1 || req.pass != 0) return;
    page_cost_learnt_ = true;
    const size_t groups = std::max<size_t>(1, page.group_count());
    const size_t per_group = std::max<size_t>(1, page.held_for_groups() / groups);
    const auto fits = static_cast<int64_t>(std::max<size_t>(1, settings_.page_budget_bytes / per_group));
    if (fits < req.count) planner_.limit_page_size(fits);
}

http::Disposition GroupPageWalk::on_page(const scim::PageRequest &req, PageStream &page, http::Response &r) {
    constexpr std::string_view what = "listing groups with their members";
    if (!r.ok()) throw client_.error_for(r, what);
    scim::ListSummary summary;
    try {
        summary = page.finish(r);
    } catch (const scim::ParseError &e) {
        if (r.can_retry) return http::Disposition::retry;
        throw client_.malformed(what, e.what(), r.status);
    }
    auto &groups = page.groups();
    const scim::PageResult result = result_of(groups, summary);
    learn_page_cost(req, page);
    if (planner_.complete(req, result)) {
        for (auto &g : groups)
            if (seen_.insert(g.group.id)) deliver(g);
        out_.page_done(planner_, span_of(req, groups));
    }
    page.reset();  // gives the page's memory back now
    pump();
    return http::Disposition::done;
}

void GroupPageWalk::deliver(PageGroup &g) {
    out_.listed(g.group);
    switch (g.alone) {
    case ReadAlone::no: break;
    case ReadAlone::not_listed: ++counts_.not_listed; break;
    case ReadAlone::nested: ++counts_.nested; break;
    case ReadAlone::too_large: ++counts_.too_large; break;
    case ReadAlone::longest: ++counts_.longest; break;
    }
    if (g.alone != ReadAlone::no) {
        fallback_.push(g.group);
        out_.queued(g.group);
        return;
    }
    ++counts_.from_pages;
    store::MemberSet delivered(users_);
    for (size_t i = 0; i < g.members.size(); ++i) {
        const std::string_view value = g.members.value(i);
        if (delivered.insert(value)) out_.member(g.group, "user", value, users_.contains(value));
    }
    out_.group_done(g.group, delivered.size());
}

}  // namespace ce::sync
