#include "sync/membership_fetcher.hpp"

#include <memory>

#include "common/text.hpp"
#include "sync/store/member_set.hpp"

namespace ce::sync {

struct MembershipFetcher::Fetch {
    Fetch(scim::Group g, const store::IdIndex &users) : group(std::move(g)), delivered(users) {}
    scim::Group group;
    store::MemberSet delivered;
    store::MemberBuffer pending;
    std::shared_ptr<scim::MembersStream> stream;
};

MembershipFetcher::MembershipFetcher(const scim::Client &client, store::GroupList &groups,
                                     const store::IdIndex &user_ids, const store::IdIndex &group_ids, unsigned window,
                                     MembershipSink &out)
    : client_(client), groups_(groups), user_ids_(user_ids), group_ids_(group_ids), window_(window), out_(out) {}

void MembershipFetcher::run(size_t done) {
    for (; next_ < done && next_ < groups_.size(); ++next_) groups_.next();
    while (next_ < groups_.size()) {
        fill();
        client_.engine().run();
        if (draining_) {
            draining_ = false;
            out_.at_rest(next_);
        }
    }
}

MembershipFetcher::Principal MembershipFetcher::principal_of(std::string_view value, Kind kind) const {
    if (kind == Kind::group) return {"group", group_ids_.contains(value)};
    if (kind == Kind::user) return {"user", user_ids_.contains(value)};
    if (user_ids_.contains(value)) return {"user", true};
    if (group_ids_.contains(value)) return {"group", true};
    return {"user", false};
}

void MembershipFetcher::on_member(Fetch &f, std::string_view value, std::string_view type) {
    const Kind kind = text::iequals(type, "Group") ? Kind::group
                      : text::iequals(type, "User") ? Kind::user
                                                    : Kind::unknown;
    const Principal p = principal_of(value, kind);
    if (p.resolved) deliver(f, value, p);
    else f.pending.add(value, kind);
}

void MembershipFetcher::deliver(Fetch &f, std::string_view value, Principal p) {
    if (f.delivered.insert(value)) out_.member(f.group, p.type, value, p.resolved);
}

http::Disposition MembershipFetcher::on_answer(Fetch &f, http::Response &r) {
    constexpr std::string_view what = "reading the members of a group";
    if (r.is(404)) {
        out_.warn("group_vanished",
                  "group " + f.group.id + " was deleted during the sync; it is reported without members");
    } else if (!r.ok()) {
        throw client_.error_for(r, what);
    } else {
        try {
            f.stream->finish(r);
        } catch (const scim::ParseError &e) {
            if (r.can_retry) return http::Disposition::retry;
            throw client_.malformed(what, e.what(), r.status);
        }
        // The whole answer is valid: the members that name nothing known become (unresolved) grants now.
        for (size_t i = 0; i < f.pending.size(); ++i)
            deliver(f, f.pending.value(i), principal_of(f.pending.value(i), f.pending.kind(i)));
    }
    f.pending.clear();
    --in_flight_;
    out_.group_done(f.group, f.delivered.size());
    fill();
    return http::Disposition::done;
}

void MembershipFetcher::fill() {
    // A checkpoint due: no group starts until those in flight are done; run() then gives it.
    if (in_flight_ > 0 && out_.checkpoint_due()) draining_ = true;
    if (draining_) return;
    while (next_ < groups_.size() && in_flight_ < window_) {
        auto f = std::make_shared<Fetch>(groups_.next(), user_ids_);
        ++next_;
        Fetch *raw = f.get();
        f->stream = std::make_shared<scim::MembersStream>(
            [this, raw](std::string_view value, std::string_view type) { on_member(*raw, value, type); },
            [raw] { raw->pending.clear(); }, client_.member_limits());
        f->stream->set_held_elsewhere([raw] { return raw->pending.bytes(); });
        ++in_flight_;
        client_.engine().submit(client_.member_list_request(f->group.id, f->stream),
                                [this, f](http::Response &r) { return on_answer(*f, r); });
    }
}

}  // namespace ce::sync
