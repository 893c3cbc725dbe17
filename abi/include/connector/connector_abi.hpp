// connector_abi.hpp - a header-only C++17 companion to connector_abi.h, for hosts and tests.
//
// connector_abi.h stays the contract: this header adds no type that crosses the boundary, only C++ around the
// C structs. It offers
//   conn::make<T>()            a zeroed T with struct_size set (every struct that has one)
//   conn::make_error()         a zeroed conn_error with struct_size set
//   conn::status_name()        "not_found", ...; conn::status_code_name(): "NOT_FOUND", ...  (constexpr)
//   conn::outcome_name()       "already_granted", ...; conn::outcome_code_name(): "ALREADY_GRANTED", ...
//   conn::status_text()        status_name, or "unknown status N" for a code this header does not know
//   conn::view() / conn::str() conn_str and const char * to std::string_view and back; NULL reads as ""
//   conn::field_text()         a fixed-size ABI text field (conn_error.message, ...) as a bounded view
//   conn::Instance             owns a conn_instance * and its vtable; destroys it; move-only
//   conn::Sink                 a conn_sink made from std::function members; exceptions never cross the ABI
//   conn::describe()           the one-line text of a failed call: "status: message (field: f) (HTTP n) ..."
// Nothing here allocates on the plugin's behalf or keeps a pointer the plugin handed out beyond the call.
#ifndef CONNECTOR_ABI_HPP
#define CONNECTOR_ABI_HPP

#include <connector/connector_abi.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace conn {

// ---- Sized structs ---------------------------------------------------------------------------------------

namespace detail {
template <typename T, typename = void>
struct has_struct_size : std::false_type {};
template <typename T>
struct has_struct_size<T, std::void_t<decltype(std::declval<T &>().struct_size)>>
    : std::is_same<decltype(std::declval<T &>().struct_size), uint32_t> {};
}  // namespace detail

// A zeroed T whose struct_size is sizeof(T) as this side knows it.
template <typename T>
constexpr T make() noexcept {
    static_assert(detail::has_struct_size<T>::value,
                  "conn::make<T>: T has no uint32_t struct_size (conn_str, conn_kv and conn_attr are plain values)");
    T value{};
    value.struct_size = static_cast<uint32_t>(sizeof(T));
    return value;
}

constexpr conn_error make_error() noexcept { return make<conn_error>(); }

// ---- Names -----------------------------------------------------------------------------------------------

// The host's spelling of a status (printed by connector-host, parsed by scripts): "ok", "not_found", ...
// `unknown` for a code this header does not know.
constexpr const char *status_name(conn_status status, const char *unknown = nullptr) noexcept {
    switch (status) {
    case CONN_OK: return "ok";
    case CONN_ERR_INVALID_ARGUMENT: return "invalid_argument";
    case CONN_ERR_INVALID_CONFIG: return "invalid_config";
    case CONN_ERR_UNSUPPORTED: return "unsupported";
    case CONN_ERR_NOT_FOUND: return "not_found";
    case CONN_ERR_ALREADY_EXISTS: return "already_exists";
    case CONN_ERR_UNAUTHENTICATED: return "unauthenticated";
    case CONN_ERR_PERMISSION_DENIED: return "permission_denied";
    case CONN_ERR_RATE_LIMITED: return "rate_limited";
    case CONN_ERR_TRANSIENT: return "transient";
    case CONN_ERR_CANCELLED: return "cancelled";
    case CONN_ERR_STOPPED: return "stopped";
    case CONN_ERR_INVALID_STATE: return "invalid_state";
    case CONN_ERR_FAILED_PRECONDITION: return "failed_precondition";
    case CONN_ERR_INTERNAL: return "internal";
    default: return unknown;
    }
}

// The code's name as the C header spells it, without the prefix: "OK", "NOT_FOUND", ...
constexpr const char *status_code_name(conn_status status, const char *unknown = nullptr) noexcept {
    switch (status) {
    case CONN_OK: return "OK";
    case CONN_ERR_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case CONN_ERR_INVALID_CONFIG: return "INVALID_CONFIG";
    case CONN_ERR_UNSUPPORTED: return "UNSUPPORTED";
    case CONN_ERR_NOT_FOUND: return "NOT_FOUND";
    case CONN_ERR_ALREADY_EXISTS: return "ALREADY_EXISTS";
    case CONN_ERR_UNAUTHENTICATED: return "UNAUTHENTICATED";
    case CONN_ERR_PERMISSION_DENIED: return "PERMISSION_DENIED";
    case CONN_ERR_RATE_LIMITED: return "RATE_LIMITED";
    case CONN_ERR_TRANSIENT: return "TRANSIENT";
    case CONN_ERR_CANCELLED: return "CANCELLED";
    case CONN_ERR_STOPPED: return "STOPPED";
    case CONN_ERR_INVALID_STATE: return "INVALID_STATE";
    case CONN_ERR_FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case CONN_ERR_INTERNAL: return "INTERNAL";
    default: return unknown;
    }
}

// status_name, or "unknown status N".
inline std::string status_text(conn_status status) {
    const char *name = status_name(status);
    return name != nullptr ? std::string(name) : "unknown status " + std::to_string(status);
}

// The host's spelling of a provisioning outcome (the "outcome" of its JSON): "created", "already_granted", ...
// CONN_OUTCOME_NONE reads "none"; `unknown` for a value this header does not know.
constexpr const char *outcome_name(conn_outcome outcome, const char *unknown = nullptr) noexcept {
    switch (outcome) {
    case CONN_OUTCOME_NONE: return "none";
    case CONN_OUTCOME_CREATED: return "created";
    case CONN_OUTCOME_ALREADY_EXISTS: return "already_exists";
    case CONN_OUTCOME_DELETED: return "deleted";
    case CONN_OUTCOME_ALREADY_DELETED: return "already_deleted";
    case CONN_OUTCOME_GRANTED: return "granted";
    case CONN_OUTCOME_ALREADY_GRANTED: return "already_granted";
    case CONN_OUTCOME_REVOKED: return "revoked";
    case CONN_OUTCOME_ALREADY_REVOKED: return "already_revoked";
    case CONN_OUTCOME_REACTIVATED: return "reactivated";
    default: return unknown;
    }
}

// The outcome's name as the C header spells it, without the prefix: "NONE", "ALREADY_GRANTED", ...
constexpr const char *outcome_code_name(conn_outcome outcome, const char *unknown = nullptr) noexcept {
    switch (outcome) {
    case CONN_OUTCOME_NONE: return "NONE";
    case CONN_OUTCOME_CREATED: return "CREATED";
    case CONN_OUTCOME_ALREADY_EXISTS: return "ALREADY_EXISTS";
    case CONN_OUTCOME_DELETED: return "DELETED";
    case CONN_OUTCOME_ALREADY_DELETED: return "ALREADY_DELETED";
    case CONN_OUTCOME_GRANTED: return "GRANTED";
    case CONN_OUTCOME_ALREADY_GRANTED: return "ALREADY_GRANTED";
    case CONN_OUTCOME_REVOKED: return "REVOKED";
    case CONN_OUTCOME_ALREADY_REVOKED: return "ALREADY_REVOKED";
    case CONN_OUTCOME_REACTIVATED: return "REACTIVATED";
    default: return unknown;
    }
}

// ---- Strings ---------------------------------------------------------------------------------------------
// One NULL rule: a NULL pointer reads as the empty string (a conn_str with data NULL reads as "" whatever its
// size says; validating such a string is the receiver's business, before it views it).

constexpr std::string_view view(conn_str s) noexcept {
    return s.data == nullptr ? std::string_view{} : std::string_view(s.data, s.size);
}
constexpr std::string_view view(const char *s) noexcept {
    return s == nullptr ? std::string_view{} : std::string_view(s);
}
// A borrowed conn_str over s (s must outlive its use); an empty view may give {NULL, 0}.
constexpr conn_str str(std::string_view s) noexcept { return conn_str{s.data(), s.size()}; }

// A fixed-size ABI text field (conn_error.message, conn_check_result.message, ...): up to the first NUL, and
// never past the array.
template <size_t N>
std::string_view field_text(const char (&field)[N]) noexcept {
    const void *nul = std::memchr(field, 0, N);
    return std::string_view(field, nul != nullptr ? static_cast<size_t>(static_cast<const char *>(nul) - field) : N);
}

// ---- Errors ----------------------------------------------------------------------------------------------

namespace detail {
struct keep_text {
    std::string operator()(std::string_view s) const { return std::string(s); }
};
}  // namespace detail

// One line for a failed call: "<status_text>[: message][ (field: f)][ (HTTP n)][ (retry after n ms)]".
// message and field are read up to their capacity minus one (the terminator the ABI promises) and passed
// through `clean` (std::string(std::string_view)), e.g. a function that escapes control characters.
template <typename Clean = detail::keep_text>
std::string describe(conn_status status, const conn_error &err, Clean &&clean = Clean{}) {
    auto bounded = [](const char *text, size_t capacity) {
        const void *nul = std::memchr(text, 0, capacity - 1);
        return std::string_view(text, nul != nullptr ? static_cast<size_t>(static_cast<const char *>(nul) - text)
                                                     : capacity - 1);
    };
    std::string out = status_text(status);
    const std::string message = clean(bounded(err.message, sizeof err.message));
    if (!message.empty()) out += ": " + message;
    const std::string field = clean(bounded(err.field, sizeof err.field));
    if (!field.empty()) out += " (field: " + field + ")";
    if (err.http_status > 0) out += " (HTTP " + std::to_string(err.http_status) + ")";
    if (err.retry_after_ms > 0) out += " (retry after " + std::to_string(err.retry_after_ms) + " ms)";
    return out;
}

// ---- Instances -------------------------------------------------------------------------------------------

// Owns one instance and the vtable that made it (the vtable must outlive the Instance: it lives until the
// plugin's deinit). Destroys the instance when destroyed or reset. Move-only.
class Instance {
public:
    Instance() noexcept = default;
    Instance(const conn_connector_v1 &vtable, conn_instance *instance) noexcept
        : vtable_(&vtable), instance_(instance) {}
    ~Instance() { reset(); }
    Instance(const Instance &) = delete;
    Instance &operator=(const Instance &) = delete;
    Instance(Instance &&other) noexcept
        : vtable_(std::exchange(other.vtable_, nullptr)), instance_(std::exchange(other.instance_, nullptr)) {}
    Instance &operator=(Instance &&other) noexcept {
        if (this != &other) {
            reset();
            vtable_ = std::exchange(other.vtable_, nullptr);
            instance_ = std::exchange(other.instance_, nullptr);
        }
        return *this;
    }

    // instance_create; on success *this owns the new instance (any previous one is destroyed first). On
    // failure *this is empty and an instance the plugin handed out anyway is destroyed. err may be NULL.
    conn_status create(const conn_connector_v1 &vtable, const conn_config &config, const conn_host *host,
                       conn_error *err) {
        reset();
        conn_instance *created = nullptr;
        const conn_status status = vtable.instance_create(&config, host, &created, err);
        if (status != CONN_OK) {
            if (created != nullptr) vtable.instance_destroy(created);
            return status;
        }
        vtable_ = &vtable;
        instance_ = created;
        return status;
    }

    conn_instance *get() const noexcept { return instance_; }
    const conn_connector_v1 *vtable() const noexcept { return vtable_; }
    explicit operator bool() const noexcept { return instance_ != nullptr; }

    // Gives up ownership without destroying.
    conn_instance *release() noexcept {
        vtable_ = nullptr;
        return std::exchange(instance_, nullptr);
    }
    void reset() noexcept {
        if (instance_ != nullptr && vtable_ != nullptr && vtable_->instance_destroy != nullptr)
            vtable_->instance_destroy(instance_);
        instance_ = nullptr;
        vtable_ = nullptr;
    }

private:
    const conn_connector_v1 *vtable_ = nullptr;
    conn_instance *instance_ = nullptr;
};

// ---- Sinks -----------------------------------------------------------------------------------------------

// A conn_sink built from functions. abi() sets a callback only for the members that hold a function (the
// plugin drops the other kinds). A function that throws answers CONN_SINK_STOP: no exception crosses the
// ABI. The Sink must outlive the operation it is given to, and must not move while it runs.
struct Sink {
    std::function<int32_t(const conn_resource &)> on_resource;
    std::function<int32_t(const conn_entitlement &)> on_entitlement;
    std::function<int32_t(const conn_grant &)> on_grant;
    std::function<int32_t(std::string_view token)> on_checkpoint;
    std::function<int32_t(std::string_view code, std::string_view message)> on_warning;

    conn_sink abi() const noexcept {
        conn_sink sink = make<conn_sink>();
        sink.ctx = const_cast<Sink *>(this);
        if (on_resource) sink.on_resource = &Sink::resource_;
        if (on_entitlement) sink.on_entitlement = &Sink::entitlement_;
        if (on_grant) sink.on_grant = &Sink::grant_;
        if (on_checkpoint) sink.on_checkpoint = &Sink::checkpoint_;
        if (on_warning) sink.on_warning = &Sink::warning_;
        return sink;
    }

private:
    template <typename Fn>
    static int32_t guarded(Fn &&fn) noexcept {
        try {
            return fn();
        } catch (...) {
            return CONN_SINK_STOP;
        }
    }
    static const Sink &self(void *ctx) noexcept { return *static_cast<const Sink *>(ctx); }
    static int32_t CONN_CALL resource_(void *ctx, const conn_resource *r) {
        return r == nullptr ? CONN_SINK_STOP : guarded([&] { return self(ctx).on_resource(*r); });
    }
    static int32_t CONN_CALL entitlement_(void *ctx, const conn_entitlement *e) {
        return e == nullptr ? CONN_SINK_STOP : guarded([&] { return self(ctx).on_entitlement(*e); });
    }
    static int32_t CONN_CALL grant_(void *ctx, const conn_grant *g) {
        return g == nullptr ? CONN_SINK_STOP : guarded([&] { return self(ctx).on_grant(*g); });
    }
    static int32_t CONN_CALL checkpoint_(void *ctx, conn_str token) {
        return guarded([&] { return self(ctx).on_checkpoint(view(token)); });
    }
    static int32_t CONN_CALL warning_(void *ctx, conn_str code, conn_str message) {
        return guarded([&] { return self(ctx).on_warning(view(code), view(message)); });
    }
};

}  // namespace conn

#endif // CONNECTOR_ABI_HPP
