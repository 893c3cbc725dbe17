// Sync level, resumable syncs (CONN_CAP_CHECKPOINT, ABI.md "Checkpoints"): checkpoints only with the
// capability; a sync stopped at a checkpoint and resumed from its token delivers, with what came before the
// checkpoint, exactly a full sync; corrupted tokens and tokens of another tenant are refused before anything
// is delivered; tokens are short printable text that holds no secret in any common encoding.
#include "registry.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <random>
#include <set>

namespace conformance {
namespace {

constexpr size_t kMaxTokenBytes = 4096; // ABI.md "Checkpoints"
constexpr size_t kMaxResumePoints = 8;

// A loaded plugin that declares sync and checkpoints, and the recorders of its syncs. The recorders are
// declared first, so they outlive every instance (a plugin that calls back late reaches live memory).
struct Bench {
    explicit Bench(const Context &ctx, bool need_checkpoints = true);
    std::vector<std::unique_ptr<Recorder>> recorders;
    PluginUnderTest p;
    ConfigEntries config;
    conn::Instance instance;
};

Bench::Bench(const Context &ctx, bool need_checkpoints) : p(ctx), config(ctx.config) {
    if (!p.has(CONN_CAP_SYNC)) skip("the plugin does not declare CONN_CAP_SYNC");
    if (need_checkpoints && !p.has(CONN_CAP_CHECKPOINT)) skip("the plugin does not declare CONN_CAP_CHECKPOINT (resumable syncs)");
    instance = open_instance(*p.plugin, config, nullptr);
}

struct SyncRun {
    Recorder *rec = nullptr;
    conn_status st = CONN_ERR_INTERNAL;
    conn_error err = conn::make_error();
};

// One sync on `in` (the bench's instance when NULL) into a new recorder: from `token` when given (a view of
// exactly its bytes), and answering STOP from the stop_at-th on_checkpoint when stop_at > 0.
SyncRun sync_once(Bench &b, const std::optional<std::string> &token, uint64_t stop_at = 0, conn_instance *in = nullptr) {
    SyncRun run;
    run.rec = b.recorders.emplace_back(std::make_unique<Recorder>()).get();
    if (stop_at > 0) {
        run.rec->stop_kind = static_cast<int>(SinkKind::checkpoint);
        run.rec->stop_kind_after = stop_at;
    }
    conn_sync_options options = conn::make<conn_sync_options>();
    if (token) options.resume_from = conn_str{token->data(), token->size()};
    run.st = run_sync(*b.p.v, in != nullptr ? in : b.instance.get(), *run.rec, nullptr, &run.err, nullptr, nullptr, &options);
    return run;
}

// A full sync that must succeed and make at least one checkpoint.
SyncRun full_sync(Bench &b) {
    SyncRun full = sync_once(b, std::nullopt);
    require(full.st == CONN_OK, "a full sync failed: " + describe_error(full.st, full.err));
    std::lock_guard lock(full.rec->mu);
    require(!full.rec->checkpoints.empty(), "the plugin declares CONN_CAP_CHECKPOINT but a full sync made no checkpoint");
    return full;
}

// ---- Records as a multiset of keys ----------------------------------------------------------------------

// How far into a recorder's records: the counts at a checkpoint, or everything.
struct Upto {
    size_t resources = SIZE_MAX, entitlements = SIZE_MAX, grants = SIZE_MAX;
    static Upto at(const CheckpointSeen &cp) { return {cp.resources, cp.entitlements, cp.grants}; }
};

// Copies the records `from` delivered (up to `upto`) into `into`.
void append_records(Recorder &into, Recorder &from, Upto upto) {
    std::scoped_lock lock(into.mu, from.mu);
    auto take = [](auto &to, const auto &v, size_t n) { to.insert(to.end(), v.begin(), v.begin() + static_cast<std::ptrdiff_t>(std::min(n, v.size()))); };
    take(into.resources, from.resources, upto.resources);
    take(into.entitlement_ids, from.entitlement_ids, upto.entitlements);
    take(into.grants, from.grants, upto.grants);
    into.problems.insert(into.problems.end(), from.problems.begin(), from.problems.end());
}

using Keys = std::map<std::string, size_t>; // record key -> how many times delivered

// Resources by type and id, entitlements and grants by id.
Keys keys_of(Recorder &rec) {
    std::lock_guard lock(rec.mu);
    Keys keys;
    for (const auto &r : rec.resources) ++keys["resource " + r.type + ":" + r.id];
    for (const auto &id : rec.entitlement_ids) ++keys["entitlement " + id];
    for (const auto &g : rec.grants) ++keys["grant " + std::get<0>(g)];
    return keys;
}

std::string examples(const std::vector<std::string> &keys) {
    std::string out;
    for (size_t i = 0; i < keys.size() && i < 3; ++i) out += (i ? ", " : "") + printable(keys[i], 80);
    return out;
}

// Where `got` differs from `want` as multisets: records twice, missing, or not in the full sync.
std::vector<std::string> multiset_problems(const Keys &want, const Keys &got) {
    std::vector<std::string> twice, missing, extra;
    for (const auto &[key, n] : got) {
        auto w = want.find(key);
        if (w == want.end()) extra.push_back(key);
        else if (n > w->second) twice.push_back(key);
    }
    for (const auto &[key, n] : want) {
        auto g = got.find(key);
        if (g == got.end() || g->second < n) missing.push_back(key);
    }
    std::vector<std::string> p;
    if (!twice.empty()) p.push_back(std::to_string(twice.size()) + " record(s) delivered twice (before the checkpoint and again after resuming), e.g. " + examples(twice));
    if (!missing.empty()) p.push_back(std::to_string(missing.size()) + " record(s) of the full sync missing from the union, e.g. " + examples(missing));
    if (!extra.empty()) p.push_back(std::to_string(extra.size()) + " record(s) not in the full sync, e.g. " + examples(extra));
    return p;
}

// ---- Resuming -----------------------------------------------------------------------------------------------

// A chain of syncs: the first from the start, each next from the token at which the previous one stopped.
struct Chain {
    Recorder *merged = nullptr;          // what each leg delivered before its stop, and all of the last leg
    std::vector<size_t> leg_checkpoints; // on_checkpoint calls of each leg
    std::string not_reached;             // a leg made fewer checkpoints than its stop asked (timing): not run
};

std::string leg_name(size_t leg, const std::vector<uint64_t> &stops) {
    std::string path = "from the start";
    for (size_t i = 0; i < leg; ++i) path += ", stopped at checkpoint #" + std::to_string(stops[i]) + ", resumed";
    return "sync " + std::to_string(leg + 1) + " (" + path + ")";
}

// One leg's verdict: how far its records count (all of them for the last leg), or nullopt when it made fewer
// checkpoints than its stop asked (checkpoints that come with time need not come as often in every sync).
std::optional<Upto> leg_cut(const SyncRun &run, uint64_t stop, const std::string &name, std::optional<std::string> &token) {
    std::lock_guard lock(run.rec->mu);
    if (stop == 0 || !run.rec->stop_answered) {
        require(run.st == CONN_OK, name + " failed: " + describe_error(run.st, run.err));
        if (stop == 0) return Upto{};
        return std::nullopt;
    }
    require(run.st == CONN_ERR_STOPPED, name + ": the sink answered STOP from on_checkpoint #" + std::to_string(stop) +
                                            " but sync returned " + describe_error(run.st, run.err) + ", expected stopped");
    const CheckpointSeen &cut = run.rec->checkpoints.at(stop - 1); // the one answered STOP, whatever came after
    require(cut.size == cut.token.size(), name + ": checkpoint token #" + std::to_string(stop) + " is " + std::to_string(cut.size) + " bytes long");
    token = cut.token;
    return Upto::at(cut);
}

// Runs the chain whose leg i stops at its stops[i]-th checkpoint; the last leg (after the stops) runs to the
// end. Every resumed leg runs on a new instance of the same config, as a host resumes after a restart.
Chain run_chain(Bench &b, const std::vector<uint64_t> &stops) {
    Chain chain;
    chain.merged = b.recorders.emplace_back(std::make_unique<Recorder>()).get();
    std::optional<std::string> token;
    for (size_t leg = 0; leg <= stops.size(); ++leg) {
        const uint64_t stop = leg < stops.size() ? stops[leg] : 0;
        conn::Instance fresh = leg == 0 ? conn::Instance() : open_instance(*b.p.plugin, b.config, nullptr);
        SyncRun run = sync_once(b, token, stop, leg == 0 ? nullptr : fresh.get());
        const std::string name = leg_name(leg, stops);
        std::optional<Upto> upto = leg_cut(run, stop, name, token);
        {
            std::lock_guard lock(run.rec->mu);
            chain.leg_checkpoints.push_back(run.rec->checkpoints.size());
        }
        if (!upto) {
            chain.not_reached = name + " made only " + std::to_string(chain.leg_checkpoints.back()) + " checkpoint(s)";
            return chain;
        }
        append_records(*chain.merged, *run.rec, *upto);
    }
    return chain;
}

// The checkpoints to resume from (1-based): the first, the last, one at random in each phase, and a few more at
// random, at most kMaxResumePoints in all.
std::vector<uint64_t> resume_points(const std::vector<CheckpointSeen> &cps, std::mt19937_64 &rng) {
    const uint64_t n = cps.size();
    std::set<uint64_t> points = {1, n};
    std::map<std::string, std::vector<uint64_t>> by_phase;
    for (uint64_t i = 1; i <= n; ++i) by_phase[cps[i - 1].phase].push_back(i);
    for (const auto &[phase, indexes] : by_phase) {
        if (points.size() >= kMaxResumePoints) break;
        points.insert(indexes[std::uniform_int_distribution<size_t>(0, indexes.size() - 1)(rng)]);
    }
    for (int extra = 0; extra < 2 && points.size() < std::min<uint64_t>(n, kMaxResumePoints); ++extra)
        points.insert(std::uniform_int_distribution<uint64_t>(1, n)(rng));
    return {points.begin(), points.end()};
}

// The union of a chain against the full sync and, with --sim, against the simulator's truth.
void compare_chain(const Context &ctx, const Bench &b, const Chain &chain, const Keys &full, const std::string &what) {
    std::vector<std::string> p = multiset_problems(full, keys_of(*chain.merged));
    if (ctx.sim && p.empty()) {
        for (const auto &problem : truth_problems(*b.p.d, fetch_truth(ctx.sim_admin), *chain.merged))
            p.push_back("against the simulator's truth: " + problem);
    }
    fail_if_any(p, " (" + what + ")");
}

// A chain that resumes twice: from the first checkpoint, then from the middle checkpoint of that resumed sync.
std::string chained_resume(const Context &ctx, Bench &b, const Keys &full, size_t full_checkpoints, const std::string &seed) {
    Chain once = run_chain(b, {1});
    if (!once.not_reached.empty()) return "chained resume not run: " + once.not_reached;
    const size_t resumed_checkpoints = once.leg_checkpoints.back();
    if (resumed_checkpoints == 0) {
        require(full_checkpoints <= 1, "the full sync made " + std::to_string(full_checkpoints - 1) +
                                           " checkpoint(s) after its first, but the sync resumed from the first made none: it cannot be resumed again");
        return "the sync resumed from the only checkpoint makes none: no chained resume";
    }
    const uint64_t middle = (resumed_checkpoints + 1) / 2;
    Chain twice = run_chain(b, {1, middle});
    if (!twice.not_reached.empty()) return "chained resume not run: " + twice.not_reached;
    compare_chain(ctx, b, twice, full, "resumed from checkpoint #1, then from #" + std::to_string(middle) + " of the resumed sync; " + seed);
    return "chained: from #1, then from #" + std::to_string(middle) + " of " + std::to_string(resumed_checkpoints) + " in the resumed sync";
}

std::string test_resume(const Context &ctx) {
    Bench b(ctx);
    SyncRun full = full_sync(b);
    const Keys want = keys_of(*full.rec);
    std::vector<CheckpointSeen> cps;
    {
        std::lock_guard lock(full.rec->mu);
        cps = full.rec->checkpoints;
    }
    std::mt19937_64 rng(ctx.seed);
    const std::vector<uint64_t> points = resume_points(cps, rng);
    const std::string seed = "--seed " + std::to_string(ctx.seed);
    std::string tried, not_reached;
    for (uint64_t k : points) {
        Chain chain = run_chain(b, {k});
        if (!chain.not_reached.empty()) {
            not_reached += "; " + chain.not_reached;
            continue;
        }
        compare_chain(ctx, b, chain, want, "stopped at checkpoint #" + std::to_string(k) + " of " + std::to_string(cps.size()) +
                                               (cps[k - 1].phase.empty() ? "" : ", phase " + printable(cps[k - 1].phase, 40)) + ", resumed; " + seed);
        tried += (tried.empty() ? "#" : ", #") + std::to_string(k);
    }
    require(!tried.empty(), "no stopped sync reached the checkpoint it was to stop at" + not_reached);
    std::string chained = chained_resume(ctx, b, want, cps.size(), seed);
    return "resumed from checkpoint(s) " + tried + " of " + std::to_string(cps.size()) + " (" + seed + "), each union equals the full sync" +
           std::string(ctx.sim ? " and the simulator's truth" : "") + "; " + chained + not_reached;
}

// ---- Refusals -------------------------------------------------------------------------------------------------

struct Variant {
    std::string what, token;
};

// The token with byte `at` replaced by another byte the token itself uses (so an encoded token stays in its
// alphabet and only a checksum or a strict parse can tell), or by the byte with its low bit flipped.
std::string replaced(const std::string &token, size_t at, std::mt19937_64 &rng) {
    std::vector<char> alphabet;
    for (char c : std::set<char>(token.begin(), token.end()))
        if (c != token[at]) alphabet.push_back(c);
    std::string out = token;
    out[at] = alphabet.empty() ? static_cast<char>(token[at] ^ 1) : alphabet[std::uniform_int_distribution<size_t>(0, alphabet.size() - 1)(rng)];
    return out;
}

std::vector<Variant> corruptions(const std::string &token, std::mt19937_64 &rng) {
    std::vector<Variant> v;
    const size_t n = token.size();
    std::set<size_t> at = {0, n / 2, n - 1};
    for (int i = 0; i < 3; ++i) at.insert(std::uniform_int_distribution<size_t>(0, n - 1)(rng));
    for (size_t i : at) v.push_back({"byte " + std::to_string(i) + " replaced by another byte of the token's alphabet", replaced(token, i, rng)});
    const size_t flip = std::uniform_int_distribution<size_t>(0, n - 1)(rng);
    v.push_back({"byte " + std::to_string(flip) + " with its low bit flipped", token.substr(0, flip) + static_cast<char>(token[flip] ^ 1) + token.substr(flip + 1)});
    for (size_t keep : std::set<size_t>{n - 1, n / 2, 1})
        if (keep > 0 && keep < n) v.push_back({"truncated to " + std::to_string(keep) + " of " + std::to_string(n) + " bytes", token.substr(0, keep)});
    v.push_back({"one byte appended", token + token.substr(n - 1)});
    v.push_back({"the token twice", token + token});
    v.push_back({"a NUL byte inserted in the middle", token.substr(0, n / 2) + std::string(1, '\0') + token.substr(n / 2)});
    std::string noise(n, 'x');
    for (char &c : noise) c = static_cast<char>(std::uniform_int_distribution<int>(0x21, 0x7e)(rng));
    v.push_back({"random printable bytes of the same length", noise});
    v.push_back({"a garbage word", "not-a-checkpoint-token"});
    v.push_back({"invalid UTF-8", "\xff\xfe\xfd"});
    v.push_back({"5000 bytes of 'A'", std::string(5000, 'A')});
    std::erase_if(v, [&](const Variant &x) { return x.token == token; });
    return v;
}

// A sync resumed from `bad` must answer CONN_ERR_INVALID_ARGUMENT with a one-line message and deliver nothing.
std::string refusal_problem(Bench &b, const std::string &bad, const std::string &what) {
    SyncRun run = sync_once(b, bad);
    std::lock_guard lock(run.rec->mu);
    if (run.st != CONN_ERR_INVALID_ARGUMENT)
        return what + ": sync answered " + describe_error(run.st, run.err) + ", expected invalid_argument";
    if (run.err.status != run.st) return what + ": err.status is not the returned code";
    const std::string message(conn::field_text(run.err.message));
    if (message.empty() || message.find_first_of("\r\n") != std::string::npos) return what + ": the refusal's message is not one non-empty line";
    if (run.rec->sink_calls > 0)
        return what + ": " + std::to_string(run.rec->sink_calls) + " sink callback(s) before the refusal (" +
               std::to_string(run.rec->resources.size()) + " resource(s), " + std::to_string(run.rec->entitlement_ids.size()) +
               " entitlement(s), " + std::to_string(run.rec->grants.size()) + " grant(s)); a refused token delivers nothing";
    return {};
}

// The genuine token is still accepted after the refusals: they were about the bytes, not about the instance
// or a token that could not be used anyway.
void require_genuine_accepted(Bench &b, const std::string &token, conn_instance *in = nullptr, const std::string &whose = "the genuine token") {
    SyncRun run = sync_once(b, token, 0, in);
    require(run.st == CONN_OK, whose + ", resumed from after the refusals, answered " + describe_error(run.st, run.err) +
                                   ": the refusals prove nothing");
}

// A token of an interrupted sync on `in`: the sync stopped at its k-th checkpoint (at its first when it makes
// fewer: checkpoints that come with time vary between syncs). Refusals are tried on such tokens, which a host
// resumes from: the token of a sync that ran to its end may be spent (a plugin may drop what it kept for
// resuming once a sync completes).
std::string interrupted_token(Bench &b, uint64_t k, conn_instance *in = nullptr) {
    for (uint64_t at : {k, uint64_t{1}}) {
        SyncRun run = sync_once(b, std::nullopt, at, in);
        std::optional<std::string> token;
        if (leg_cut(run, at, "a sync stopped at checkpoint #" + std::to_string(at), token)) return *token;
    }
    fail("a sync stopped at its first checkpoint ran to its end without one");
}

// How many checkpoints a full sync makes (at least one).
size_t checkpoint_count(Bench &b) {
    SyncRun full = full_sync(b);
    std::lock_guard lock(full.rec->mu);
    return full.rec->checkpoints.size();
}

std::string test_refuses_corrupted(const Context &ctx) {
    Bench b(ctx);
    const size_t count = checkpoint_count(b);
    const uint64_t middle = (count + 1) / 2;
    const std::string token = interrupted_token(b, middle);
    require(!token.empty(), "checkpoint token #" + std::to_string(middle) + " is empty (an empty resume_from means a full sync)");
    std::mt19937_64 rng(ctx.seed * 31 + 7);
    const std::vector<Variant> variants = corruptions(token, rng);
    std::vector<std::string> problems;
    for (const auto &v : variants)
        if (std::string p = refusal_problem(b, v.token, v.what); !p.empty()) problems.push_back(p);
    fail_if_any(problems, " (the token of a sync stopped at checkpoint #" + std::to_string(middle) + " of " + std::to_string(count) +
                              ", --seed " + std::to_string(ctx.seed) + ")");
    require_genuine_accepted(b, token);
    return std::to_string(variants.size()) + " corruptions of a " + std::to_string(token.size()) + "-byte token (a sync stopped at checkpoint #" +
           std::to_string(middle) + " of " + std::to_string(count) + ") refused with invalid_argument before any record; the genuine token then accepted";
}

// A config of another tenant: a second simulator with --sim, else the URL field pointing at another path.
ConfigEntries other_tenant(const Context &ctx, std::unique_ptr<SimProcess> &sim) {
    if (ctx.url_field.empty()) skip("the plugin declares no URL config field to point at another tenant");
    if (ctx.sim) {
        SimOptions opts;
        opts.binary = ctx.sim_binary;
        opts.token = distinctive_secret(ctx, "other-tenant");
        opts.seed = ctx.seed + 1;
        sim = std::make_unique<SimProcess>(opts);
        return with_value(with_value(ctx.config, ctx.url_field, sim->url()), ctx.secret_field, opts.token);
    }
    std::string url;
    for (const auto &[k, v] : ctx.config)
        if (k == ctx.url_field) url = v;
    return with_value(ctx.config, ctx.url_field, url + (url.ends_with("/") ? "" : "/") + "conformance-other-tenant");
}

// The other tenant's instance and how many checkpoints a full sync there makes; a failure skips unless the other
// tenant is a simulator of ours.
size_t foreign_checkpoints(const Context &ctx, Bench &b, conn_instance *other) {
    SyncRun run = sync_once(b, std::nullopt, 0, other);
    std::lock_guard lock(run.rec->mu);
    if (run.st == CONN_OK && !run.rec->checkpoints.empty()) return run.rec->checkpoints.size();
    const std::string why = run.st != CONN_OK ? "failed: " + describe_error(run.st, run.err) : "made no checkpoint";
    if (ctx.sim) fail("a full sync against a second simulator " + why);
    skip("a sync with the URL field pointing at another path " + why + ": give --sim to take foreign tokens from a second simulator");
}

std::string test_refuses_foreign(const Context &ctx) {
    Bench b(ctx);
    std::unique_ptr<SimProcess> second; // outlives the syncs against it
    const ConfigEntries config = other_tenant(ctx, second);
    conn::Instance other = open_instance(*b.p.plugin, config, nullptr);
    const size_t count = foreign_checkpoints(ctx, b, other.get());
    const std::set<uint64_t> picks = {1, (count + 1) / 2, count};
    std::vector<std::string> problems;
    for (uint64_t k : picks) {
        const std::string token = interrupted_token(b, k, other.get());
        const std::string what = "the token of the other tenant's sync stopped at checkpoint #" + std::to_string(k) + " of " + std::to_string(count);
        if (std::string p = refusal_problem(b, token, what); !p.empty()) problems.push_back(p);
        require_genuine_accepted(b, token, other.get(), what + " on its own tenant");
    }
    fail_if_any(problems, ctx.sim ? " (the other tenant: a second simulator)" : " (the other tenant: the URL field with another path)");
    return std::to_string(picks.size()) + " token(s) of another tenant (" + (ctx.sim ? "a second simulator" : "another URL path") +
           ") refused with invalid_argument before any record, and each then accepted by its own tenant";
}

// ---- The tokens themselves ------------------------------------------------------------------------------------

std::string token_form_problem(const CheckpointSeen &cp) {
    if (cp.size == 0) return "is empty (an empty resume_from means a full sync)";
    if (cp.size > kMaxTokenBytes) return "is " + std::to_string(cp.size) + " bytes long (at most " + std::to_string(kMaxTokenBytes) + ")";
    for (size_t i = 0; i < cp.token.size(); ++i) {
        const auto c = static_cast<unsigned char>(cp.token[i]);
        if (c < 0x21 || c > 0x7e) return "has byte 0x" + std::string(1, "0123456789abcdef"[c >> 4]) + "0123456789abcdef"[c & 15] + " at offset " + std::to_string(i) + " (printable ASCII without spaces only)";
    }
    return {};
}

std::string test_token_form(const Context &ctx) {
    Bench b(ctx);
    SyncRun full = full_sync(b);
    std::lock_guard lock(full.rec->mu);
    const auto &cps = full.rec->checkpoints;
    std::vector<std::string> problems;
    size_t longest = 0;
    for (size_t i = 0; i < cps.size(); ++i) {
        longest = std::max(longest, cps[i].size);
        if (std::string p = token_form_problem(cps[i]); !p.empty()) problems.push_back("checkpoint token #" + std::to_string(i + 1) + " " + p);
    }
    fail_if_any(problems, " (of " + std::to_string(cps.size()) + " tokens of a full sync)");
    return std::to_string(cps.size()) + " token(s), printable ASCII, the longest " + std::to_string(longest) + " bytes";
}

// ---- No secret in a token --------------------------------------------------------------------------------------

std::string hex(const std::string &s, const char *digits) {
    std::string out;
    for (unsigned char c : s) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

std::string base64(const std::string &s, bool url_safe) {
    const char *abc = url_safe ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                               : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (size_t i = 0; i + 3 <= s.size(); i += 3) { // whole groups only: what any alignment shares
        const uint32_t g = static_cast<unsigned char>(s[i]) << 16 | static_cast<unsigned char>(s[i + 1]) << 8 | static_cast<unsigned char>(s[i + 2]);
        for (int shift : {18, 12, 6, 0}) out += abc[(g >> shift) & 63];
    }
    return out;
}

std::string percent(const std::string &s, bool every_byte) {
    std::string out;
    for (unsigned char c : s) {
        const bool unreserved = std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
        if (unreserved && !every_byte) out += static_cast<char>(c);
        else out += "%" + hex(std::string(1, static_cast<char>(c)), "0123456789ABCDEF");
    }
    return out;
}

struct Encoded {
    std::string how, needle;
};

// The secret as it would stand in a token: 12-byte pieces verbatim, percent-encoded, hex, and base64 in any of
// the three alignments a surrounding byte stream can give it (the groups made of secret bytes only).
std::vector<Encoded> encodings(const std::string &secret) {
    std::vector<Encoded> e;
    if (secret.size() < 12) e.push_back({"verbatim", secret});
    for (size_t i = 0; i + 12 <= secret.size(); ++i) e.push_back({"verbatim (a 12-byte piece)", secret.substr(i, 12)});
    if (secret.size() < 8) return e; // shorter encodings would match by chance
    e.push_back({"percent-encoded", percent(secret, false)});
    e.push_back({"percent-encoded byte by byte", percent(secret, true)});
    e.push_back({"hex-encoded (lower case)", hex(secret, "0123456789abcdef")});
    e.push_back({"hex-encoded (upper case)", hex(secret, "0123456789ABCDEF")});
    for (size_t skip_bytes = 0; skip_bytes < 3; ++skip_bytes) {
        const std::string body = secret.substr(skip_bytes, (secret.size() - skip_bytes) / 3 * 3);
        e.push_back({"base64-encoded", base64(body, false)});
        e.push_back({"base64url-encoded", base64(body, true)});
    }
    return e;
}

// The values of the config's secret fields, by field name.
std::vector<std::pair<std::string, std::string>> secret_values(const conn_descriptor &d, const ConfigEntries &config) {
    std::vector<std::pair<std::string, std::string>> out;
    for (uint32_t i = 0; i < d.config_field_count; ++i)
        if ((d.config_fields[i]->flags & CONN_FIELD_SECRET) != 0)
            for (const auto &[k, v] : config)
                if (k == d.config_fields[i]->name && !v.empty()) out.emplace_back(k, v);
    return out;
}

std::string test_no_secret(const Context &ctx) {
    Bench b(ctx);
    const auto secrets = secret_values(*b.p.d, b.config);
    if (secrets.empty()) skip("the config holds no value of a field flagged CONN_FIELD_SECRET");
    SyncRun full = full_sync(b);
    std::lock_guard lock(full.rec->mu);
    const auto &cps = full.rec->checkpoints;
    std::vector<std::string> problems;
    for (size_t i = 0; i < cps.size(); ++i)
        for (const auto &[field, value] : secrets)
            for (const auto &enc : encodings(value))
                if (!enc.needle.empty() && cps[i].token.find(enc.needle) != std::string::npos) {
                    problems.push_back("checkpoint token #" + std::to_string(i + 1) + " holds the value of secret field '" + field + "', " + enc.how);
                    break;
                }
    fail_if_any(problems, " (of " + std::to_string(cps.size()) + " tokens; neither the token nor the secret is printed)");
    return std::to_string(cps.size()) + " token(s) hold no secret field's value (verbatim, percent, hex or base64 encoded)";
}

// ---- The capability ---------------------------------------------------------------------------------------------

std::string test_capability(const Context &ctx) {
    Bench b(ctx, false);
    SyncRun run = sync_once(b, std::nullopt);
    require(run.st == CONN_OK, "a full sync failed: " + describe_error(run.st, run.err));
    std::lock_guard lock(run.rec->mu);
    const size_t calls = run.rec->checkpoint_calls;
    if (!b.p.has(CONN_CAP_CHECKPOINT)) {
        require(calls == 0, "on_checkpoint was called " + std::to_string(calls) + " time(s) in a full sync although the plugin does not declare CONN_CAP_CHECKPOINT");
        return "CONN_CAP_CHECKPOINT not declared, and a full sync made no checkpoint";
    }
    require(calls > 0, "the plugin declares CONN_CAP_CHECKPOINT but a full sync made no checkpoint");
    std::set<std::string> phases;
    for (const auto &cp : run.rec->checkpoints) phases.insert(cp.phase.empty() ? "(before any progress)" : cp.phase);
    std::string list;
    for (const auto &phase : phases) list += (list.empty() ? "" : ", ") + printable(phase, 40);
    return std::to_string(calls) + " checkpoint(s) in a full sync, in phase(s) " + list;
}

}  // namespace

void register_checkpoint_tests(std::vector<TestCase> &out) {
    out.push_back({"sync.checkpoint_capability", Needs::service, "a plugin without CONN_CAP_CHECKPOINT never calls on_checkpoint; one with it makes at least one checkpoint in a full sync", test_capability});
    out.push_back({"sync.checkpoint_resume", Needs::service, "with CONN_CAP_CHECKPOINT: a sync stopped (STOP from on_checkpoint, CONN_ERR_STOPPED) at seeded random checkpoints (the first, the last, one per phase) and resumed from that token on a new instance delivers, with the records before the checkpoint, exactly the full sync (a multiset by record key: nothing twice, nothing missing; with --sim also the simulator's truth); also resumed twice in a chain", test_resume});
    out.push_back({"sync.checkpoint_refuses_corrupted", Needs::service, "with CONN_CAP_CHECKPOINT: the token of a stopped sync with a byte replaced (in its own alphabet) or bit-flipped, truncated, extended, doubled, with a NUL inside, random bytes, garbage, invalid UTF-8 or 5000 bytes long makes sync answer CONN_ERR_INVALID_ARGUMENT with a one-line message before any sink callback; the genuine token is still accepted", test_refuses_corrupted});
    out.push_back({"sync.checkpoint_refuses_foreign", Needs::service, "with CONN_CAP_CHECKPOINT: tokens of syncs with another tenant (with --sim a second simulator, else the URL field with another path), stopped at their first, middle and last checkpoint, make sync answer CONN_ERR_INVALID_ARGUMENT before any sink callback; its own tenant then accepts each", test_refuses_foreign});
    out.push_back({"sync.checkpoint_token_form", Needs::service, "with CONN_CAP_CHECKPOINT: every token of a full sync is non-empty printable ASCII without spaces (0x21..0x7e), at most 4096 bytes (ABI.md \"Checkpoints\")", test_token_form});
    out.push_back({"sync.checkpoint_no_secret", Needs::service, "with CONN_CAP_CHECKPOINT: no token of a full sync holds the value of a secret config field verbatim (or a 12-byte piece of it), percent-encoded, hex-encoded or base64/base64url-encoded in any alignment (reported without printing either)", test_no_secret});
}

}  // namespace conformance
