#include "connector/connector.hpp"

#include "common/id_index.hpp"
#include "common/member_set.hpp"
#include "common/text.hpp"

#include <algorithm>
#include <memory>

#include "connector/account_fields.hpp"
#include "connector/group_list.hpp"
#include "connector/member_buffer.hpp"
#include "scim/list_walker.hpp"

namespace ce::connector {
namespace {

constexpr unsigned kMaxPasses = 3;

[[noreturn]] void stopped() { throw Error(ErrorKind::stopped, "the host's sink asked to stop"); }

}  // namespace

Connector::Connector(Config config, LogFn log) : config_(std::move(config)), log_(std::move(log)) {
    http::EngineOptions o;
    o.concurrency = config_.concurrency;
    o.connect_timeout_ms = config_.connect_timeout_ms;
    o.request_timeout_ms = config_.request_timeout_ms;
    o.max_response_bytes = config_.max_response_mb * 1024 * 1024;
    o.ca_file = config_.ca_file;
    o.user_agent = std::string("claude-enterprise-connector/") + CE_PLUGIN_VERSION;
    o.backoff.budget_ms = config_.retry_budget_ms;
    engine_ = std::make_unique<http::Engine>(o, log_);
    scim::GroupMembersReader::Limits member_limits;
    member_limits.member_bytes = config_.max_member_kb * 1024;
    member_limits.envelope_bytes = o.max_response_bytes;
    client_ = std::make_unique<scim::Client>(*engine_, config_.scim_url, config_.scim_token,
                                             config_.max_member_list_mb * 1024 * 1024, member_limits);
    if (config_.plain_http)
        this->log(LogLevel::warn, "scim-url uses plain http to a loopback address (" + client_->host() +
                                "): the token is not encrypted in transit; use https outside tests");
}

void Connector::log(LogLevel level, const std::string &msg) const {
    if (log_) log_(level, msg);
}

void Connector::begin(const CallContext &ctx) {
    engine_->set_cancel(ctx.cancelled);
    engine_->reset_stats();
    if (ctx.cancelled && ctx.cancelled()) throw http::Cancelled();
}

CheckResult Connector::check(const CallContext &ctx) {
    begin(ctx);
    const auto summary = client_->count_users();
    CheckResult r;
    r.user_count = summary.total_results;
    r.message = "connected to " + client_->host() + "; the token can list users (" +
                (summary.total_results >= 0 ? std::to_string(summary.total_results) + " visible" : std::string("count unknown")) + ")";
    log(LogLevel::info, "check: " + r.message);
    return r;
}

void Connector::sync(const CallContext &ctx, RecordSink &sink, SyncStats &stats) {
    begin(ctx);
    // The engine's counts (every attempt) reach `stats` on every way out, failures included.
    struct EngineCounts {
        const http::Engine &engine;
        SyncStats &stats;
        ~EngineCounts() {
            stats.requests = engine.stats().requests;
            stats.retries = engine.stats().retries;
        }
    } counts{*engine_, stats};
    const auto report = [&](std::string_view phase, uint64_t total_hint) {
        stats.requests = engine_->stats().requests;
        stats.retries = engine_->stats().retries;
        if (ctx.progress) {
            Progress p;
            p.phase = phase;
            p.requests = stats.requests;
            p.pages = stats.pages;
            p.resources = stats.resources;
            p.entitlements = stats.entitlements;
            p.grants = stats.grants;
            p.total_hint = total_hint;
            ctx.progress(p);
        }
    };
    const auto warn = [&](std::string_view code, const std::string &message) {
        ++stats.warnings;
        log(LogLevel::warn, message);
        if (!sink.warning(code, message)) stopped();
    };

    // The sets of ids keep at most index-memory-kb each in memory and the group list at most 256 KiB, the rest
    // in a temporary file (common/id_index.hpp, connector/group_list.hpp): a sync's memory does not grow with
    // the organisation.
    const size_t index_memory = config_.index_memory_kb * 1024;

    // 1. Users, streamed page by page, without the groups each user is in (the member lists say that, and the
    // users' side would make the pages half as large again: bench/MEMBERS.md).
    scim::ListWalker<scim::User> users(
        *client_, client_->users_url(), {{"excludedAttributes", "groups"}}, config_.page_size, config_.concurrency, kMaxPasses, &scim::parse_user_page,
        "listing users", [&](std::vector<scim::User> &fresh, const scim::PagePlanner &planner) {
            ++stats.pages;
            for (const auto &u : fresh) {
                if (!sink.resource(user_resource(u))) stopped();
                ++stats.resources;
            }
            report("users", static_cast<uint64_t>(planner.total_hint()));
        },
        IdIndex(index_memory, config_.spill_dir));
    // A listing that cannot prove it saw everything says so, with a warning whose code begins with "incomplete_"
    // (abi/ABI.md): a server that does not page (doubt()), or a listing still moving in its last pass.
    const auto warn_incomplete = [&](const auto &walk, const char *what) {
        const scim::PagePlanner &planner = walk.planner();
        if (planner.total_contradicted())
            log(LogLevel::info, std::string("sync: the ") + what + " pages held more than totalResults said; the rest "
                                "of the list was read until an empty page");
        if (!planner.doubt().empty()) {
            warn("incomplete_listing", std::string("the ") + what + " list may be incomplete: " + planner.doubt());
        } else if (!planner.settled()) {
            warn("incomplete_listing_changed",
                 std::string("the ") + what + " list was still changing in the last of " +
                     std::to_string(planner.passes()) +
                     " passes: one that existed throughout the sync may be missing; sync again for an exact picture");
        }
    };
    users.run();
    warn_incomplete(users, "user");
    IdIndex user_ids = std::move(users.seen());
    user_ids.freeze();
    log(LogLevel::info, "sync: " + std::to_string(user_ids.size()) + " users in " +
                            std::to_string(users.planner().passes()) + " pass(es)" +
                            (user_ids.spilled() ? "; their ids spilled to a temporary file (" +
                                                      std::to_string(user_ids.disk_bytes() / 1024) + " KiB in " +
                                                      std::to_string(user_ids.spills()) + " spills)"
                                                : std::string()));

    // 2. Groups without their members; an entitlement per group now, the group itself once its members are known.
    // The group list is written once and read once, in order: spilling it costs one sequential write and read,
    // so it keeps less in memory than the id indexes, which are searched.
    GroupList groups(std::min<size_t>(index_memory, GroupList::kDefaultMemoryBytes), config_.spill_dir);
    scim::ListWalker<scim::Group> group_walk(
        *client_, client_->groups_url(), {{"excludedAttributes", "members"}}, config_.page_size, config_.concurrency,
        kMaxPasses, &scim::parse_group_page, "listing groups",
        [&](std::vector<scim::Group> &fresh, const scim::PagePlanner &planner) {
            ++stats.pages;
            for (auto &g : fresh) {
                if (!sink.entitlement(member_entitlement(g.id, g.display_name))) stopped();
                ++stats.entitlements;
                groups.push(g);
            }
            report("groups", static_cast<uint64_t>(planner.total_hint()));
        },
        IdIndex(index_memory, config_.spill_dir));
    group_walk.run();
    warn_incomplete(group_walk, "group");
    IdIndex group_ids = std::move(group_walk.seen());
    group_ids.freeze();

    // 3. Members of each group (GET /Groups/{id}?attributes=members), up to `concurrency` groups in flight. Each
    // member list is read as it arrives (never a whole body nor a DOM). A member that names a user or group of
    // this sync becomes a grant at once; one that names nothing known waits in `pending` until the whole answer
    // is known valid: a body corrupted in the middle can parse as a member that does not exist (an id cut short by
    // a stray quote) before its error shows, and such an id names nothing (forging a real one would take a server
    // that lies outright). The group resource, which carries the member count, follows its grants. A retried
    // request starts `pending` afresh; `delivered` keeps the grants distinct (a bitmap over the user index once the
    // group is large: common/member_set.hpp).
    using Kind = MemberBuffer::Kind;
    struct GroupFetch {
        GroupFetch(scim::Group g, const IdIndex &users) : group(std::move(g)), delivered(users) {}
        scim::Group group;
        MemberSet delivered;
        MemberBuffer pending;
        std::shared_ptr<scim::MembersStream> stream;
    };
    // Whom a member names: the principal its type says (User, Group), else whichever set knows the id (users
    // first); unresolved when this sync saw no such user or group.
    struct Principal {
        const char *type;
        bool resolved;
    };
    const auto principal_of = [&](std::string_view value, Kind kind) -> Principal {
        if (kind == Kind::group) return {"group", group_ids.contains(value)};
        if (kind == Kind::user) return {"user", user_ids.contains(value)};
        if (user_ids.contains(value)) return {"user", true};
        if (group_ids.contains(value)) return {"group", true};
        return {"user", false};
    };
    const auto deliver_member = [&](GroupFetch &f, std::string_view value, Principal p) {
        if (!f.delivered.insert(value)) return;
        const Grant gr = member_grant(f.group.id, p.type, std::string(value), !p.resolved);
        if (gr.unresolved) {
            ++stats.unresolved;
            warn("unresolved_member", "group " + f.group.id + " has a member " + gr.principal_type + " " +
                                          gr.principal_id + " that names no " + gr.principal_type +
                                          " of this sync; the grant is flagged unresolved");
        }
        if (!sink.grant(gr)) stopped();
        ++stats.grants;
    };
    size_t next = 0;
    size_t in_flight = 0;
    std::function<void()> pump;
    auto on_members = [&](GroupFetch &f, http::Response &r) -> http::Disposition {
        const scim::Group &g = f.group;
        if (r.failure == http::Failure::none && r.status == 404) {
            warn("group_vanished", "group " + g.id + " was deleted during the sync; it is reported without members");
        } else if (r.failure != http::Failure::none || r.status < 200 || r.status > 299) {
            throw client_->error_for(r, "reading the members of a group");
        } else {
            try {
                f.stream->finish(r);
            } catch (const scim::ParseError &e) {
                if (r.can_retry) return http::Disposition::retry;
                throw client_->malformed("reading the members of a group", e.what(), r.status);
            }
            // The whole answer is valid: the members that name nothing known become (unresolved) grants now.
            for (size_t i = 0; i < f.pending.size(); ++i)
                deliver_member(f, f.pending.value(i), principal_of(f.pending.value(i), f.pending.kind(i)));
        }
        f.pending.clear();
        --in_flight;
        if (!sink.resource(group_resource(g, static_cast<int64_t>(f.delivered.size())))) stopped();
        ++stats.resources;
        ++stats.pages;
        report("memberships", groups.size());
        pump();
        return http::Disposition::done;
    };
    pump = [&]() {
        while (next < groups.size() && in_flight < config_.concurrency) {
            auto f = std::make_shared<GroupFetch>(groups.next(), user_ids);
            ++next;
            GroupFetch *raw = f.get();
            f->stream = std::make_shared<scim::MembersStream>(
                [&deliver_member, &principal_of, raw](std::string_view value, std::string_view type) {
                    const Kind kind = text::iequals(type, "Group") ? Kind::group
                                      : text::iequals(type, "User") ? Kind::user
                                                              : Kind::unknown;
                    const Principal p = principal_of(value, kind);
                    if (p.resolved) deliver_member(*raw, value, p);
                    else raw->pending.add(value, kind);
                },
                [raw] { raw->pending.clear(); }, client_->member_limits());
            f->stream->set_held_elsewhere([raw] { return raw->pending.bytes(); });
            ++in_flight;
            engine_->submit(client_->member_list_request(f->group.id, f->stream), [&on_members, f](http::Response &r) { return on_members(*f, r); });
        }
    };
    pump();
    engine_->run();
    report("memberships", groups.size());
    log(LogLevel::info, "sync: " + std::to_string(stats.resources) + " resources, " +
                            std::to_string(stats.entitlements) + " entitlements, " + std::to_string(stats.grants) +
                            " grants, " + std::to_string(stats.requests) + " requests (" +
                            std::to_string(stats.retries) + " retries)");
}

}  // namespace ce::connector
