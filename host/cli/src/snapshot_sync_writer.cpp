#include "connector_host/cli/snapshot_sync_writer.hpp"

#include <connector/connector_abi.hpp>
#include <connector_host/plugin_loader.hpp>
#include <connector_host/store/snapshot_writer.hpp>

#include <algorithm>
#include <cstdio>

namespace connector_host::cli {

namespace {

const conn_field *config_field(const conn_descriptor &d, const std::string &name) {
    for (uint32_t i = 0; i < d.config_field_count; ++i)
        if (name == d.config_fields[i]->name) return d.config_fields[i];
    return nullptr;
}

uint64_t fnv1a64(std::string_view text, uint64_t hash) {
    for (unsigned char c : text) {
        hash ^= c;
        hash *= 1099511628211ULL;
    }
    return hash;
}

std::string traits_text(uint32_t traits) {
    std::string out;
    for (auto [bit, name] : {std::pair{CONN_TRAIT_USER, "user"}, {CONN_TRAIT_GROUP, "group"}, {CONN_TRAIT_ROLE, "role"},
                             {CONN_TRAIT_APP, "app"}})
        if (traits & bit) out += (out.empty() ? "" : ",") + std::string(name);
    return out;
}

// A string as it may be stored: the plugin's own text when it holds no secret (no copy), else the scrubbed copy.
struct Scrubbed {
    Scrubbed(const SecretScrubber &sc, std::string_view s) : text(s) {
        if (!sc.empty() && sc.contains_secret(s)) {
            copy = sc.scrub(s);
            text = copy;
        }
    }
    Scrubbed(const Scrubbed &) = delete;
    Scrubbed &operator=(const Scrubbed &) = delete;
    std::string copy;
    std::string_view text;
};

class SnapshotSyncWriter final : public SyncWriter {
public:
    SnapshotSyncWriter(const std::filesystem::path &path, const RunIdentity &identity, unsigned keep,
                       store::StartMode mode, const SecretScrubber &sc)
        : path_(path), identity_(identity), keep_(keep), mode_(mode), sc_(sc) {}

    void begin(const conn_descriptor &d) override {
        store::RunStart start{clean(view(d.id)), clean(view(d.version)), identity_.config_fingerprint,
                              clean(identity_.tenant)};
        store_ = std::make_unique<store::SnapshotWriter>(path_, start, keep_, mode_);
        if (store_->resumed()) return; // the run holds its resource types since its first checkpoint
        for (uint32_t i = 0; i < d.resource_type_count && d.resource_types; ++i)
            if (const conn_resource_type *rt = d.resource_types[i])
                store_->resource_type(clean(view(rt->id)), clean(view(rt->display_name)), traits_text(rt->traits));
    }
    void resource(const conn_resource &r) override {
        Scrubbed type(sc_, view(r.type)), id(sc_, view(r.id)), name(sc_, view(r.display_name));
        Scrubbed email(sc_, attribute_text(r, "email"));
        const std::string status_text = status_of(r);
        Scrubbed status(sc_, status_text);
        const std::string attributes = attributes_to_json(r, sc_);
        store_->resource(store::ResourceRow{type.text, id.text, name.text, email.text, status.text, attributes});
    }
    void entitlement(const conn_entitlement &e) override {
        Scrubbed id(sc_, view(e.id)), type(sc_, view(e.resource_type)), rid(sc_, view(e.resource_id));
        Scrubbed slug(sc_, view(e.slug)), name(sc_, view(e.display_name));
        store_->entitlement(store::EntitlementRow{id.text, type.text, rid.text, slug.text, name.text,
                                                  e.purpose == CONN_PURPOSE_PERMISSION ? "permission" : "assignment"});
    }
    void grant(const conn_grant &g) override {
        Scrubbed id(sc_, view(g.id)), ent(sc_, view(g.entitlement_id));
        Scrubbed ptype(sc_, view(g.principal_type)), pid(sc_, view(g.principal_id));
        store_->grant(
            store::GrantRow{id.text, ent.text, ptype.text, pid.text, (g.flags & CONN_GRANT_UNRESOLVED_PRINCIPAL) != 0});
    }
    void warning(std::string_view code, std::string_view message) override {
        store_->warning(clean(code), clean(message));
    }
    void checkpoint(std::string_view token, const SyncCounts &n) override {
        store_->checkpoint(token, store::RunCounts{n.resources, n.entitlements, n.grants, n.unresolved, n.warnings});
    }
    std::optional<ResumePoint> resume_point() const override {
        if (!store_ || !store_->resumed()) return std::nullopt;
        const store::ResumedRun &run = *store_->resumed();
        ResumePoint p;
        p.token = run.token;
        p.counts.resources = run.counts.resources;
        p.counts.entitlements = run.counts.entitlements;
        p.counts.grants = run.counts.grants;
        p.counts.unresolved = run.counts.unresolved_grants;
        p.counts.warnings = run.counts.warnings;
        p.counts.resources_by_type = run.resources_by_type;
        p.counts.warnings_by_code = run.warnings_by_code;
        for (const auto &[code, n] : run.warnings_by_code)
            if (is_incomplete_warning(code)) p.counts.incomplete += n;
        p.started_at = run.started_at;
        p.checkpointed_at = run.checkpointed_at;
        p.run_id = run.id;
        return p;
    }
    void finish(const SyncSummary &s) override {
        store::RunTotals t;
        t.resources = s.counts.resources;
        t.entitlements = s.counts.entitlements;
        t.grants = s.counts.grants;
        t.unresolved_grants = s.counts.unresolved;
        t.warnings = s.counts.warnings;
        t.requests = s.requests;
        t.retries = s.retries;
        t.pages = s.pages;
        t.elapsed_seconds = s.elapsed_seconds;
        t.complete = s.complete;
        t.started_at = s.started_at;
        t.ended_at = s.ended_at;
        t.tenant = clean(s.tenant);
        store_->complete(t);
    }
    void abandon(std::string_view reason) noexcept override {
        if (store_) store_->fail(reason);
    }

private:
    std::string clean(std::string_view s) const {
        return !sc_.empty() && sc_.contains_secret(s) ? sc_.scrub(s) : std::string(s);
    }
    static std::string_view attribute_text(const conn_resource &r, std::string_view key) {
        for (size_t i = 0; i < r.attr_count; ++i)
            if (view(r.attrs[i].key) == key && r.attrs[i].kind == CONN_ATTR_STRING) return view(r.attrs[i].str);
        return {};
    }
    // The "status" attribute, else an "active" flag as active / inactive.
    static std::string status_of(const conn_resource &r) {
        if (auto s = attribute_text(r, "status"); !s.empty()) return std::string(s);
        for (size_t i = 0; i < r.attr_count; ++i)
            if (view(r.attrs[i].key) == "active" && r.attrs[i].kind == CONN_ATTR_BOOL)
                return r.attrs[i].num != 0 ? "active" : "inactive";
        return {};
    }

    std::filesystem::path path_;
    RunIdentity identity_;
    unsigned keep_;
    store::StartMode mode_;
    const SecretScrubber &sc_;
    std::unique_ptr<store::SnapshotWriter> store_;
};

}  // namespace

std::string url_without_credentials(std::string_view url) {
    std::string_view rest = url;
    std::string scheme;
    if (auto p = url.find("://"); p != std::string_view::npos) {
        scheme = std::string(url.substr(0, p + 3));
        rest = url.substr(p + 3);
    }
    rest = rest.substr(0, std::min(rest.find('?'), rest.find('#')));
    const auto slash = rest.find('/');
    const auto at = rest.substr(0, slash).rfind('@');
    if (at != std::string_view::npos) rest = rest.substr(at + 1);
    return scheme + std::string(rest);
}

RunIdentity run_identity(const conn_descriptor &d, const std::vector<ConfigEntry> &entries) {
    std::vector<std::string> lines;
    RunIdentity identity;
    for (const auto &e : entries) {
        const conn_field *f = config_field(d, e.name);
        if (f == nullptr || (f->flags & CONN_FIELD_SECRET) != 0) continue;
        lines.push_back(e.name + "=" + e.value + "\n");
        if (f->type == CONN_FIELD_URL && identity.tenant.empty()) identity.tenant = url_without_credentials(e.value);
    }
    std::sort(lines.begin(), lines.end());
    uint64_t hash = 14695981039346656037ULL;
    for (const auto &l : lines) hash = fnv1a64(l, hash);
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
    identity.config_fingerprint = std::string("fnv1a64:") + hex;
    return identity;
}

std::unique_ptr<SyncWriter> make_snapshot_writer(const std::filesystem::path &path, const RunIdentity &identity,
                                                 unsigned keep, store::StartMode mode,
                                                 const SecretScrubber &scrubber) {
    return std::make_unique<SnapshotSyncWriter>(path, identity, keep, mode, scrubber);
}

}  // namespace connector_host::cli
