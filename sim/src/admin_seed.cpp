// Deterministic seeding of the Admin API view (--seed-direct-users/-groups, --seed-roles, --seed-invites): members
// that SCIM does not know, with the organisation roles (one primary owner, a few owners and membership admins, some
// managed members), direct groups drawn from all members, custom roles attached to groups, and invites.
#include "admin_store.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <numeric>

namespace scim_sim::detail {

namespace {

constexpr int64_t kAdminEpoch = 1704067200 + 90 * 86400;  // 2024-03-31: seeded timestamps are reproducible
constexpr int64_t kLifetime = 21 * 86400;

constexpr const char *kGiven[] = {"Alice", "Bruno", "Chiara", "Dmitri", "Elif", "Farah", "Gustavo", "Hana",
                                  "Ines",  "Jonas", "Keiko",  "Liam",   "Mei",  "Nadia", "Oskar",   "Paula"};
constexpr const char *kFamily[] = {"Adams", "Bianchi", "Carter", "Dvorak", "Eriksen", "Fischer", "Gomez", "Horvat",
                                   "Ito",   "Jansen",  "Khan",   "Larsen", "Moreau",  "Nakamura", "Oliveira", "Park"};
constexpr const char *kRoleNames[] = {"Finance Analysts", "Support Agents",   "Research Readers", "Sales Connectors",
                                      "Legal Reviewers",  "Engineering Tools", "Data Science",     "Contractors",
                                      "Executives",       "People Partners"};
constexpr const char *kGroupNames[] = {"Claude Pilots", "Design Guild", "Security Champions", "Onboarding Cohort",
                                       "Data Council",  "Writers Room", "Platform Oncall",    "Customer Advisory"};

std::string lower_ascii(std::string s) { return to_lower(s); }

}  // namespace

Invite &AdminView::add_invite(const std::string &email, const std::string &role, int64_t invited_at) {
    auto inv = std::make_unique<Invite>();
    inv->id = new_id("invite_");
    inv->email = email;
    inv->role = role;
    inv->status = "pending";
    inv->invited_at = invited_at;
    inv->expires_at = invited_at + kLifetime;
    Invite &ref = *inv;
    invites_.emplace(ref.id, std::move(inv));
    return ref;
}

void AdminView::seed() {
    std::unique_lock lock(store_.mu_);
    uint64_t rng = cfg_.seed * 0x9E3779B97F4A7C15ULL + 0xAD517;
    seed_roles(rng);
    seed_direct_users(rng);
    seed_direct_groups(rng);
    attach_roles(rng);
    seed_invites(rng);
}

// Two built-in roles always; R custom ones; and a tenth as many of another organisation of the enterprise (groups
// name them, this key cannot read them).
void AdminView::seed_roles(uint64_t &rng) {
    auto add = [&](std::string name, bool built_in, bool foreign, int64_t at) {
        Role r;
        r.id = new_id("rbac_role_");
        r.name = std::move(name);
        r.built_in = built_in;
        r.foreign = foreign;
        r.created_at = at;
        r.n_perms = 2 + splitmix64(rng) % 11;
        r.perm_seed = splitmix64(rng);
        roles_.emplace(r.id, r);
    };
    add("Member", true, false, kAdminEpoch);
    add("Claude Code user", true, false, kAdminEpoch);
    for (size_t i = 0; i < cfg_.roles; ++i) {
        std::string name = kRoleNames[i % std::size(kRoleNames)];
        if (i >= std::size(kRoleNames)) name += " " + std::to_string(i / std::size(kRoleNames) + 1);
        add(name, false, false, kAdminEpoch + 3600 + static_cast<int64_t>(i) * 600);
    }
    size_t foreign = cfg_.roles ? std::max<size_t>(1, cfg_.roles / 10) : 0;
    for (size_t i = 0; i < foreign; ++i) {
        add("Subsidiary " + std::string(kRoleNames[i % std::size(kRoleNames)]), false, true, kAdminEpoch + 7200);
    }
}

void AdminView::seed_direct_users(uint64_t &rng) {
    size_t n = cfg_.direct_users;
    size_t owners = n > 1 ? std::clamp<size_t>(n / 500, 1, 3) : 0;
    size_t admins = n > owners + 1 ? std::clamp<size_t>(n / 500, 1, 3) : 0;
    for (size_t i = 0; i < n; ++i) {
        uint64_t r = splitmix64(rng);
        std::string given = kGiven[r % std::size(kGiven)], family = kFamily[(r >> 8) % std::size(kFamily)];
        std::string email = lower_ascii(given + "." + family) + ".d" + std::to_string(i) + "@example.org";
        std::string name = given + " " + family;
        if (i == 1 && n >= 3) {  // mixed case and a plus address: e-mail lookups are case-insensitive
            email = "Mixed.Case+claude@Example.org";
            name = "Mixed Case";
        }
        std::string role = "user";
        if (i == 0) role = "primary_owner";
        else if (i <= owners) role = "owner";
        else if (i <= owners + admins) role = "membership_admin";
        else if ((r >> 32) % 8 == 0) role = "managed";
        add_member(email, name, role, nullptr, kAdminEpoch + static_cast<int64_t>(i) * 53);
    }
}

// Sizes fall off like 1/sqrt(k) from a tenth of all members; every tenth group is empty.
void AdminView::seed_direct_groups(uint64_t &rng) {
    std::vector<Member *> all;
    all.reserve(members_.size());
    for (auto &[id, m] : members_) all.push_back(m.get());
    std::vector<size_t> perm(all.size());
    std::iota(perm.begin(), perm.end(), size_t{0});
    for (size_t k = 0; k < cfg_.direct_groups; ++k) {
        uint64_t r = splitmix64(rng);
        std::string name = std::string(kGroupNames[r % std::size(kGroupNames)]) + " " + std::to_string(k);
        if (k == 1) name = "Ünïcødé \"quoted\" \\ group";
        int64_t at = kAdminEpoch + 86400 + static_cast<int64_t>(k) * 97;
        RbacGroup &g = add_group(name, nullptr, at);
        size_t size = 0;
        if (k % 10 != 9 && !all.empty()) {
            double share = static_cast<double>(all.size()) / (10.0 * std::sqrt(static_cast<double>(k + 1)));
            size = std::min(all.size(), static_cast<size_t>(share) + static_cast<size_t>((r >> 16) % 4));
        }
        for (size_t i = 0; i < size; ++i) {
            size_t j = i + static_cast<size_t>(splitmix64(rng) % (perm.size() - i));
            std::swap(perm[i], perm[j]);
            Member &m = *all[perm[i]];
            link(g, m, std::max(at, m.added_at));
        }
    }
}

// Every group (scim and direct) gets 0 to 3 of this organisation's roles; one in eight also a foreign one.
void AdminView::attach_roles(uint64_t &rng) {
    std::vector<std::string> own, foreign;
    for (auto &[id, r] : roles_) (r.foreign ? foreign : own).push_back(id);
    if (cfg_.roles == 0) return;
    for (auto &[id, g] : groups_) {
        uint64_t r = splitmix64(rng);
        size_t n = std::min<size_t>(r % 4, own.size());
        for (size_t i = 0; i < n; ++i) {
            const std::string &pick = own[splitmix64(rng) % own.size()];
            if (std::find(g->role_ids.begin(), g->role_ids.end(), pick) == g->role_ids.end()) g->role_ids.push_back(pick);
        }
        if (!foreign.empty() && (r >> 8) % 8 == 0) g->role_ids.push_back(foreign[(r >> 16) % foreign.size()]);
    }
}

// Oldest first (ids follow): expired (a fifth), accepted by direct members (three tenths, as far as there are
// such members), then pending ones sent within the last 20 days.
void AdminView::seed_invites(uint64_t &rng) {
    std::vector<Member *> direct;
    for (auto &[id, m] : members_) {
        if (!m->scim && m->role != "primary_owner") direct.push_back(m.get());
    }
    std::vector<std::string> direct_groups;
    for (auto &[id, g] : groups_) {
        if (!g->scim) direct_groups.push_back(id);
    }
    size_t total = cfg_.invites, n_exp = total / 5, n_acc = std::min(total * 3 / 10, direct.size());
    size_t n_pend = total - n_exp - n_acc;
    auto extras = [&](Invite &inv) {
        uint64_t r = splitmix64(rng);
        if (r % 4 == 0) inv.role = "managed";
        if (!direct_groups.empty() && (r >> 8) % 3 == 0) inv.group_ids.push_back(direct_groups[(r >> 16) % direct_groups.size()]);
    };
    for (size_t k = 0; k < n_exp; ++k) {
        extras(add_invite("lapsed." + std::to_string(k) + "@example.net", "user", kAdminEpoch + static_cast<int64_t>(k) * 3600));
    }
    for (size_t k = 0; k < n_acc; ++k) {
        Member &m = *direct[k];
        Invite &inv = add_invite(m.email, m.role == "managed" ? "managed" : "user", m.added_at - 86400);
        inv.status = "accepted";
        inv.accepted_at = m.added_at;
    }
    for (size_t k = 0; k < n_pend; ++k) {
        int64_t hours_ago = 1 + static_cast<int64_t>((n_pend - 1 - k) % 480);
        extras(add_invite("invitee." + std::to_string(k) + "@example.net", "user", started_ - hours_ago * 3600));
    }
}

}  // namespace scim_sim::detail
