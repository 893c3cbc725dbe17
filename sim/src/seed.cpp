// Deterministic seeding (--seed-users/--seed-groups/--seed-members/--seed) and --seed-file loading.
#include "store.hpp"

#include "admin_store.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <mutex>
#include <numeric>
#include <sstream>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

namespace scim_sim::detail {

namespace {

struct Name {
    const char *display;
    const char *ascii;  // used in the userName
};

constexpr Name kGiven[] = {
    {"James", "james"},     {"Mary", "mary"},       {"Robert", "robert"},   {"Patricia", "patricia"},
    {"John", "john"},       {"Jennifer", "jennifer"}, {"Michael", "michael"}, {"Linda", "linda"},
    {"David", "david"},     {"Elizabeth", "elizabeth"}, {"William", "william"}, {"Barbara", "barbara"},
    {"Richard", "richard"}, {"Susan", "susan"},     {"Joseph", "joseph"},   {"Jessica", "jessica"},
    {"Thomas", "thomas"},   {"Sarah", "sarah"},     {"Wei", "wei"},         {"Aisha", "aisha"},
    {"Mohammed", "mohammed"}, {"Priya", "priya"},   {"Hiroshi", "hiroshi"}, {"Olga", "olga"},
    {"José", "jose"},       {"Zoë", "zoe"},         {"Björn", "bjorn"},     {"Chloé", "chloe"},
    {"Søren", "soren"},     {"Ana", "ana"},         {"Mary Ann", "maryann"}, {"Kwame", "kwame"},
    {"Fatima", "fatima"},   {"Lars", "lars"},       {"Ingrid", "ingrid"},   {"Mateo", "mateo"},
    {"Yuki", "yuki"},       {"Amara", "amara"},     {"Noah", "noah"},       {"Léa", "lea"},
};
constexpr Name kFamily[] = {
    {"Smith", "smith"},     {"Johnson", "johnson"}, {"Williams", "williams"}, {"Brown", "brown"},
    {"Jones", "jones"},     {"Garcia", "garcia"},   {"Miller", "miller"},   {"Davis", "davis"},
    {"Rodriguez", "rodriguez"}, {"Martinez", "martinez"}, {"Hernández", "hernandez"}, {"Lopez", "lopez"},
    {"Müller", "muller"},   {"Schmidt", "schmidt"}, {"Nguyen", "nguyen"},   {"Kim", "kim"},
    {"Chen", "chen"},       {"Wang", "wang"},       {"Tanaka", "tanaka"},   {"Suzuki", "suzuki"},
    {"Okafor", "okafor"},   {"Mensah", "mensah"},   {"Ivanova", "ivanova"}, {"Kowalski", "kowalski"},
    {"Ñúñez", "nunez"},     {"Øster", "oster"},     {"van der Berg", "vanderberg"}, {"O'Neil", "oneil"},
    {"Singh", "singh"},     {"Patel", "patel"},     {"Haddad", "haddad"},   {"Costa", "costa"},
    {"Silva", "silva"},     {"Andersson", "andersson"}, {"Dubois", "dubois"}, {"Rossi", "rossi"},
    {"Novak", "novak"},     {"Yılmaz", "yilmaz"},   {"Jensen", "jensen"},   {"Murphy", "murphy"},
};
constexpr const char *kDepartments[] = {"Engineering", "Sales",   "Marketing", "Finance",  "Legal",
                                        "Support",     "Design",  "Research",  "Operations", "People",
                                        "Security",    "Data",    "Product",   "IT",       "Facilities"};
constexpr const char *kTeams[] = {"Platform", "EMEA",     "APAC",      "Americas", "Infrastructure",
                                  "Mobile",   "Web",      "Analytics", "Payroll",  "Recruiting",
                                  "Red Team", "Partners", "Growth",    "Tooling",  "Compliance"};

constexpr int64_t kEpoch = 1704067200;  // 2024-01-01T00:00:00Z: seeded resources have reproducible timestamps

std::string uuid_from(uint64_t &state) {
    uint64_t hi = splitmix64(state), lo = splitmix64(state);
    hi = (hi & ~0xF000ULL) | 0x4000ULL;
    lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
    char buf[40];
    std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                  static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                  static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
    return buf;
}

// Member counts per group: one group holds ~10% of the users, a few are large, most are small (a power law),
// about a tenth are empty; the sum is close to (never above) the requested number of links.
std::vector<size_t> group_sizes(size_t n_users, size_t n_groups, size_t links) {
    std::vector<size_t> sizes(n_groups, 0);
    if (n_groups == 0 || n_users == 0 || links == 0) return sizes;
    size_t big = std::min({n_users, std::max<size_t>(1, n_users / 10), links});
    sizes[0] = big;
    size_t left = links - big;
    if (n_groups == 1) return sizes;
    size_t n_large = std::min(n_groups - 1, std::clamp<size_t>(n_groups / 200, 1, 10));
    size_t n_empty = n_groups >= 10 ? n_groups / 10 : 0;
    size_t first_small = 1 + n_large;
    size_t last_small = n_groups - n_empty;  // exclusive
    size_t large_cap = std::max<size_t>(1, big * 6 / 10);
    size_t per_large = std::min(large_cap, static_cast<size_t>(0.4 * static_cast<double>(left) /
                                                               static_cast<double>(n_large)));
    if (first_small >= last_small) per_large = std::min(n_users, left / n_large);  // no small groups: large take all
    for (size_t i = 1; i <= n_large; ++i) {
        sizes[i] = std::min({per_large, n_users, left});
        left -= sizes[i];
    }
    if (first_small < last_small && left > 0) {
        std::vector<double> w;
        for (size_t r = 0; r < last_small - first_small; ++r) w.push_back(1.0 / std::sqrt(static_cast<double>(r + 1)));
        // Water-filling: power-law shares, but no small group above the large ones (nor the 10% group); what a
        // capped group cannot take goes to the others.
        size_t small_cap = std::min(n_users, std::max<size_t>(per_large, 1));
        if (small_cap * w.size() < left) small_cap = std::min(n_users, big);
        std::vector<bool> capped(w.size(), false);
        while (left > 0) {
            double open = 0;
            for (size_t r = 0; r < w.size(); ++r) open += capped[r] ? 0 : w[r];
            if (open <= 0) break;
            size_t budget = left;
            bool changed = false;
            for (size_t r = 0; r < w.size(); ++r) {
                if (capped[r]) continue;
                size_t& cur = sizes[first_small + r];
                size_t add = static_cast<size_t>(std::floor(static_cast<double>(budget) * w[r] / open));
                add = std::min(add, left);
                if (cur + add >= small_cap) {
                    add = small_cap - cur;
                    capped[r] = true;
                    changed = true;
                }
                cur += add;
                left -= add;
            }
            if (!changed) break;
        }
        // hand out the rounding remainder, one link per small group
        for (size_t r = 0; left > 0 && r < w.size(); ++r) {
            if (sizes[first_small + r] < std::min(n_users, big)) {
                ++sizes[first_small + r];
                --left;
            }
        }
    }
    return sizes;
}

size_t empty_group_count(size_t n_groups) { return n_groups >= 10 ? n_groups / 10 : 0; }

// Links the power-law shape could not place (its caps keep every group at or below the 10% one): spread over the
// groups with room, in proportion to that room, by largest remainder; the groups meant to stay empty take links only
// once every other group is full. Returns the extra links per group (the shape itself is left as it was, so a seed
// whose count was already exact builds the same organisation as before).
std::vector<size_t> top_up(const std::vector<size_t> &sizes, size_t n_users, size_t want) {
    std::vector<size_t> extra(sizes.size(), 0);
    size_t have = std::accumulate(sizes.begin(), sizes.end(), size_t{0});
    size_t left = want > have ? want - have : 0;
    size_t first_empty = sizes.size() - empty_group_count(sizes.size());
    for (size_t limit : {first_empty, sizes.size()}) {
        auto room = [&](size_t i) { return n_users - sizes[i] - extra[i]; };
        size_t total = 0;
        for (size_t i = 0; i < limit; ++i) total += room(i);
        if (left == 0 || total == 0) continue;
        size_t give = std::min(left, total), given = 0;
        for (size_t i = 0; i < limit; ++i) {
            size_t add = static_cast<size_t>(static_cast<long double>(give) * room(i) / total);
            extra[i] += add;
            given += add;
        }
        for (size_t i = 0; given < give && i < limit; ++i) {
            if (room(i) > 0) {
                ++extra[i];
                ++given;
            }
        }
        left -= given;
    }
    return extra;
}

// Adds `n` users of `made` that are not yet members of `g` (uniformly, deterministic from `rng`).
void add_random_members(Group &g, const std::vector<User *> &made, size_t n, uint64_t &rng) {
    if (n == 0) return;
    if (g.members.size() + n <= made.size() / 2) {  // sparse: rejection sampling
        while (n > 0) {
            User *u = made[splitmix64(rng) % made.size()];
            if (!g.members.emplace(u->id, MemberKind::User).second) continue;
            u->groups.insert(g.id);
            --n;
        }
        return;
    }
    std::vector<User *> outside;  // dense: a partial Fisher-Yates over the users not in the group
    for (User *u : made) {
        if (!g.members.count(u->id)) outside.push_back(u);
    }
    for (size_t k = 0; k < n; ++k) {
        size_t j = k + static_cast<size_t>(splitmix64(rng) % (outside.size() - k));
        std::swap(outside[k], outside[j]);
        g.members.emplace(outside[k]->id, MemberKind::User);
        outside[k]->groups.insert(g.id);
    }
}

}  // namespace

void Store::seed(const SeedSpec &spec) {
    if (spec.members > 0 && (spec.groups == 0 || spec.members / spec.groups > spec.users ||
                             spec.members > spec.users * spec.groups)) {
        throw std::runtime_error("scim-sim: --seed-members " + std::to_string(spec.members) + " cannot fit in " +
                                 std::to_string(spec.users) + " users x " + std::to_string(spec.groups) +
                                 " groups (at most " + std::to_string(spec.users * spec.groups) + " memberships)");
    }
    std::unique_lock lock(mu_);
    uint64_t rng = spec.seed * 0x9E3779B97F4A7C15ULL + 0x5EED;
    std::vector<User *> made;
    made.reserve(spec.users);
    user_order_.reserve(user_order_.size() + spec.users);
    users_.reserve(users_.size() + spec.users);
    by_name_.reserve(by_name_.size() + spec.users);
    constexpr size_t nG = std::size(kGiven), nF = std::size(kFamily);
    for (size_t i = 0; i < spec.users; ++i) {
        auto u = std::make_unique<User>();
        do {
            u->id = uuid_from(rng);
        } while (users_.count(u->id));
        uint64_t r = splitmix64(rng);
        const Name &gn = kGiven[r % nG];
        const Name &fn = kFamily[(r >> 16) % nF];
        switch (i) {
            case 0:  // unicode
                u->given_name = "José";
                u->family_name = "Ñúñez";
                u->user_name = "jose.nunez@example.com";
                break;
            case 1:  // a quote and a backslash in the display name
                u->given_name = "Robert";
                u->family_name = "Tables";
                u->display_name = "Robert \"Bobby\" Tables\\Admin";
                u->user_name = "bobby.tables@example.com";
                break;
            case 2:  // apostrophe and plus in the userName
                u->given_name = "Conan";
                u->family_name = "O'Brien";
                u->user_name = "o'brien+test@example.com";
                break;
            default:
                u->given_name = gn.display;
                u->family_name = fn.display;
                u->user_name = std::string(gn.ascii) + "." + fn.ascii + "." + std::to_string(i) + "@example.com";
        }
        if (u->display_name.empty()) u->display_name = u->given_name + " " + u->family_name;
        u->user_name_lc = to_lower(u->user_name);
        u->email = u->user_name;
        u->active = i < 3 || (r >> 40) % 20 != 0;  // about 5% inactive
        if ((r >> 48) % 2 == 0) {
            u->has_external_id = true;
            char buf[24];
            std::snprintf(buf, sizeof buf, "hr-%07zu", i);
            u->external_id = buf;
        }
        u->created = kEpoch + static_cast<int64_t>(i) * 37;
        u->modified = u->created + static_cast<int64_t>((r >> 24) % 86400);
        User *p = u.get();
        by_name_.emplace(p->user_name_lc, p);
        users_.emplace(p->id, std::move(u));
        user_order_.push_back(p);
        made.push_back(p);
    }
    std::sort(user_order_.begin(), user_order_.end(), [](const User *a, const User *b) { return a->id < b->id; });

    auto sizes = group_sizes(made.size(), spec.groups, spec.members);
    std::vector<uint32_t> perm(made.size());
    std::iota(perm.begin(), perm.end(), 0u);
    std::vector<Group *> made_groups;
    for (size_t gi = 0; gi < spec.groups; ++gi) {
        auto g = std::make_unique<Group>();
        do {
            g->id = uuid_from(rng);
        } while (groups_.count(g->id) || users_.count(g->id));
        uint64_t r = splitmix64(rng);
        if (gi == 0) {
            g->display_name = "All Engineering";
        } else if (gi == 1) {
            g->display_name = "R&D \"Labs\" \\ Ops";
        } else {
            g->display_name = std::string(kDepartments[r % std::size(kDepartments)]) + " " +
                              kTeams[(r >> 8) % std::size(kTeams)] + " " + std::to_string(gi);
        }
        if ((r >> 32) % 3 == 0) {
            g->has_external_id = true;
            g->external_id = "grp-" + std::to_string(gi);
        }
        g->created = kEpoch + static_cast<int64_t>(gi) * 101;
        g->modified = g->created + static_cast<int64_t>((r >> 20) % 86400);
        Group *p = g.get();
        groups_.emplace(p->id, std::move(g));
        group_order_.push_back(p);
        // partial Fisher-Yates: a uniform sample of distinct users in O(size)
        size_t n = perm.size();
        for (size_t k = 0; k < sizes[gi]; ++k) {
            size_t j = k + static_cast<size_t>(splitmix64(rng) % (n - k));
            std::swap(perm[k], perm[j]);
            User *u = made[perm[k]];
            p->members.emplace_hint(p->members.end(), u->id, MemberKind::User);
            u->groups.insert(p->id);
        }
        memberships_ += p->members.size();
        made_groups.push_back(p);
    }
    // Exactly spec.members links: what the shape above could not place is added afterwards, from a stream of its
    // own, so that group ids and the links above stay those of earlier versions.
    auto extra = top_up(sizes, made.size(), spec.members);
    uint64_t top_rng = spec.seed * 0xD1B54A32D192ED03ULL + 0x70B0;
    for (size_t gi = 0; gi < made_groups.size(); ++gi) {
        size_t before = made_groups[gi]->members.size();
        add_random_members(*made_groups[gi], made, extra[gi], top_rng);
        memberships_ += made_groups[gi]->members.size() - before;
    }
    std::sort(group_order_.begin(), group_order_.end(), [](const Group *a, const Group *b) { return a->id < b->id; });
    if (admin_) admin_->adopt_seeded(made, made_groups);
}

void Store::load_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read seed file " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    rapidjson::Document d;
    d.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
    if (d.HasParseError() || !d.IsObject()) {
        throw std::runtime_error("seed file " + path + " is not a JSON object" +
                                 (d.HasParseError() ? std::string(": ") + rapidjson::GetParseError_En(d.GetParseError())
                                                    : std::string()));
    }
    auto str = [&](const rapidjson::Value &o, const char *k, bool required) -> std::string {
        auto it = o.FindMember(k);
        if (it == o.MemberEnd()) {
            if (required) throw std::runtime_error(std::string("seed file: an entry lacks '") + k + "'");
            return {};
        }
        if (!it->value.IsString()) throw std::runtime_error(std::string("seed file: '") + k + "' must be a string");
        return it->value.GetString();
    };
    std::unique_lock lock(mu_);
    int64_t t = now_seconds();
    if (auto us = d.FindMember("users"); us != d.MemberEnd()) {
        if (!us->value.IsArray()) throw std::runtime_error("seed file: 'users' must be an array");
        for (auto &e : us->value.GetArray()) {
            if (!e.IsObject()) throw std::runtime_error("seed file: users must be objects");
            auto u = std::make_unique<User>();
            u->id = str(e, "id", true);
            u->user_name = str(e, "userName", true);
            u->user_name_lc = to_lower(u->user_name);
            u->given_name = str(e, "givenName", false);
            u->family_name = str(e, "familyName", false);
            u->display_name = str(e, "displayName", false);
            if (u->display_name.empty()) {
                u->display_name = u->given_name + (u->family_name.empty() ? "" : " " + u->family_name);
                if (u->given_name.empty()) u->display_name = u->family_name;
                if (u->display_name.empty()) u->display_name = u->user_name;
            }
            u->email = str(e, "email", false);
            if (u->email.empty()) u->email = u->user_name;
            if (auto a = e.FindMember("active"); a != e.MemberEnd()) {
                if (!a->value.IsBool()) throw std::runtime_error("seed file: 'active' must be a boolean");
                u->active = a->value.GetBool();
            }
            if (e.HasMember("externalId")) {
                u->external_id = str(e, "externalId", true);
                u->has_external_id = true;
            }
            if (u->id.empty() || users_.count(u->id) || groups_.count(u->id)) {
                throw std::runtime_error("seed file: duplicate or empty id '" + u->id + "'");
            }
            if (by_name_.count(u->user_name_lc)) {
                throw std::runtime_error("seed file: duplicate userName '" + u->user_name + "'");
            }
            u->created = u->modified = t;
            insert_user(std::move(u));
        }
    }
    if (auto gs = d.FindMember("groups"); gs != d.MemberEnd()) {
        if (!gs->value.IsArray()) throw std::runtime_error("seed file: 'groups' must be an array");
        std::vector<std::pair<Group *, std::vector<std::string>>> pending;
        for (auto &e : gs->value.GetArray()) {
            if (!e.IsObject()) throw std::runtime_error("seed file: groups must be objects");
            auto g = std::make_unique<Group>();
            g->id = str(e, "id", true);
            g->display_name = str(e, "displayName", true);
            if (e.HasMember("externalId")) {
                g->external_id = str(e, "externalId", true);
                g->has_external_id = true;
            }
            if (g->id.empty() || users_.count(g->id) || groups_.count(g->id)) {
                throw std::runtime_error("seed file: duplicate or empty id '" + g->id + "'");
            }
            std::vector<std::string> members;
            if (auto m = e.FindMember("members"); m != e.MemberEnd()) {
                if (!m->value.IsArray()) throw std::runtime_error("seed file: 'members' must be an array of ids");
                for (auto &v : m->value.GetArray()) {
                    if (v.IsString()) members.emplace_back(v.GetString());
                    else if (v.IsObject() && v.HasMember("value") && v["value"].IsString())
                        members.emplace_back(v["value"].GetString());
                    else throw std::runtime_error("seed file: members must be id strings");
                }
            }
            g->created = g->modified = t;
            pending.emplace_back(&insert_group(std::move(g)), std::move(members));
        }
        for (auto &[g, members] : pending) {  // second pass: members may name groups defined later
            for (auto &mid : members) {
                if (user_ptr(mid)) add_member(*g, mid, MemberKind::User);
                else if (mid != g->id && group_ptr(mid)) add_member(*g, mid, MemberKind::Group);
                else throw std::runtime_error("seed file: group '" + g->id + "' names unknown member '" + mid + "'");
            }
        }
    }
}

}  // namespace scim_sim::detail
