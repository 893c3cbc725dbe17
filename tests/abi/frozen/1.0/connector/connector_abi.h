/*
 * connector_abi.h - the stable C ABI between identity-connector plugins and their hosts.
 *
 * This one header is the specification. ABI.md beside it states the compatibility policy and walks
 * through a minimal plugin. Plain C99: no C++ type, no C enum type in any struct (enums vary in size
 * between compilers), fixed-width integers, explicit padding, every struct starts with its own size.
 *
 * ---------------------------------------------------------------------------------------------------
 * THE SHAPE OF IT
 *   A plugin is a shared library (.so / .dll / .dylib) that exports exactly one symbol:
 *
 *       const conn_plugin_entry *connector_plugin_entry(uint32_t abi_major, uint32_t *abi_minor);
 *
 *   The host asks for the ABI major it speaks; the plugin answers NULL if it cannot serve that major.
 *   Everything else is reached through the entry: init/deinit, and get_interface(id), which returns a
 *   vtable for a versioned string id (CONN_IFACE_CONNECTOR_V1 = "connector.v1") or NULL if unknown.
 *
 *   The connector vtable describes the plugin (static data), creates opaque instances from a config
 *   (several may live at once: two tenants in one host), and runs operations on an instance:
 *   check, sync (streamed into host-owned sinks), create_account, delete_resource, grant, revoke.
 *
 * ---------------------------------------------------------------------------------------------------
 * RULES THAT HOLD EVERYWHERE
 *   Versioning  Every struct begins with `uint32_t struct_size`, set by whoever fills the struct to
 *               sizeof() as it knows it. The reader of a struct reads only min(struct_size, its own
 *               sizeof) bytes and treats a missing tail as zero/NULL (use CONN_HAS_FIELD). New fields
 *               are only ever appended. Released layouts are frozen: see the layout checks at the end.
 *   Strings     UTF-8. Strings that cross during an operation are conn_str (pointer + byte length,
 *               not necessarily NUL-terminated). Strings in the plugin's static description are
 *               NUL-terminated `const char *` owned by the plugin, valid from init until deinit.
 *   Memory      Nothing allocated on one side is freed on the other. Data passed to a callback is
 *               borrowed for the duration of that callback only: copy what you keep.
 *   Errors      Every fallible call returns a conn_status (CONN_OK or one of the CONN_ERR_* codes,
 *               a closed set whose values are never reused) and fills the caller-owned conn_error
 *               when one is given (it may be NULL). Error text never contains a secret.
 *               No C++ exception, longjmp or signal crosses the boundary, in either direction.
 *   Threads     Stated at each function. In short: entry functions and describe from any thread;
 *               instance_create / instance_destroy from any thread, concurrently for different
 *               instances; at most one operation at a time on one instance (the host serialises);
 *               operations on different instances may run concurrently on different threads.
 *               Sink callbacks are made only on the thread that called the operation, one at a time,
 *               and never after the operation has returned. Host-service callbacks (log, is_cancelled,
 *               progress) must be safe to call from any thread. A plugin that starts threads joins
 *               them before the operation (or at the latest instance_destroy / deinit) returns.
 *   Manners     A plugin never writes to stdout or stderr, never calls exit/abort on purpose, never
 *               installs signal handlers, and reaches host services only through what is passed in.
 * ---------------------------------------------------------------------------------------------------
 */
#ifndef CONNECTOR_ABI_H
#define CONNECTOR_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Version ------------------------------------------------------------------------------------ */

/* The major changes only when compatibility breaks; a minor adds fields or interfaces. */
#define CONN_ABI_VERSION_MAJOR 1u
#define CONN_ABI_VERSION_MINOR 0u

/* ---- Export, import and calling convention -------------------------------------------------------- */

#if defined(_WIN32) || defined(__CYGWIN__)
#define CONN_CALL __cdecl
#define CONN_PLUGIN_EXPORT __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define CONN_CALL
#define CONN_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define CONN_CALL
#define CONN_PLUGIN_EXPORT
#endif

/* The one exported symbol's name, as a string for dlsym/GetProcAddress. */
#define CONN_ENTRY_SYMBOL "connector_plugin_entry"

/* Interface ids accepted by conn_plugin_entry.get_interface. */
#define CONN_IFACE_CONNECTOR_V1 "connector.v1"

/* True when the struct at `p` (whose size field says how much the writer knew) holds `field`. */
#ifdef __cplusplus
#define CONN_HAS_FIELD(p, type, field)                                                                 \
    ((p) != nullptr &&                                                                                 \
     static_cast<size_t>((p)->struct_size) >= offsetof(type, field) + sizeof(static_cast<type *>(nullptr)->field))
#else
#define CONN_HAS_FIELD(p, type, field) \
    ((p) != NULL && (size_t)(p)->struct_size >= offsetof(type, field) + sizeof(((type *)0)->field))
#endif

/* ---- Status codes ------------------------------------------------------------------------------- */
/* A closed set. Values are never reused or renumbered; new codes may be appended in a minor version,
 * and a host that meets a code it does not know treats it as CONN_ERR_INTERNAL. */
typedef int32_t conn_status;
#define CONN_OK                      0  /* success (see the operation's outcome for which kind)       */
#define CONN_ERR_INVALID_ARGUMENT    1  /* a NULL, malformed or out-of-range argument; 400, 413      */
#define CONN_ERR_INVALID_CONFIG      2  /* config missing a required field or holding a bad value    */
#define CONN_ERR_UNSUPPORTED         3  /* the plugin or the service cannot do this                   */
#define CONN_ERR_NOT_FOUND           4  /* the resource or entitlement does not exist; 404            */
#define CONN_ERR_ALREADY_EXISTS      5  /* conflict that the plugin could not resolve; 409            */
#define CONN_ERR_UNAUTHENTICATED     6  /* the credentials were refused; 401                          */
#define CONN_ERR_PERMISSION_DENIED   7  /* authenticated but not allowed; 403                         */
#define CONN_ERR_RATE_LIMITED        8  /* throttled past the retry budget; see retry_after_ms; 429   */
#define CONN_ERR_TRANSIENT           9  /* network failure, timeout, 5xx, malformed response: retry   */
#define CONN_ERR_CANCELLED          10  /* the host asked to cancel (conn_call.is_cancelled)          */
#define CONN_ERR_STOPPED            11  /* a sink answered CONN_SINK_STOP                             */
#define CONN_ERR_INVALID_STATE      12  /* called out of order (before init, after deinit, ...)       */
#define CONN_ERR_FAILED_PRECONDITION 13 /* the service refused a precondition; 412                     */
#define CONN_ERR_INTERNAL           14  /* a bug or an unexpected failure inside the plugin           */
#define CONN_STATUS_COUNT_V1        15  /* one past the last code of ABI 1.0                          */

/* Provisioning outcomes: what a successful (CONN_OK) provisioning call did. */
typedef int32_t conn_outcome;
#define CONN_OUTCOME_NONE            0
#define CONN_OUTCOME_CREATED         1
#define CONN_OUTCOME_ALREADY_EXISTS  2  /* the account existed; it is returned (reactivated if needed) */
#define CONN_OUTCOME_DELETED         3
#define CONN_OUTCOME_ALREADY_DELETED 4
#define CONN_OUTCOME_GRANTED         5
#define CONN_OUTCOME_ALREADY_GRANTED 6
#define CONN_OUTCOME_REVOKED         7
#define CONN_OUTCOME_ALREADY_REVOKED 8

/* Sink answers. Any non-zero answer stops the stream: the operation returns CONN_ERR_STOPPED. */
#define CONN_SINK_CONTINUE 0
#define CONN_SINK_STOP     1

/* Log levels. */
#define CONN_LOG_ERROR 0
#define CONN_LOG_WARN  1
#define CONN_LOG_INFO  2
#define CONN_LOG_DEBUG 3
#define CONN_LOG_TRACE 4

/* ---- Basic types -------------------------------------------------------------------------------- */

/* A borrowed UTF-8 string: `size` bytes at `data`, not necessarily NUL-terminated. data may be NULL
 * only when size is 0. */
typedef struct conn_str {
    const char *data;
    size_t size;
} conn_str;

/* A borrowed key/value pair of strings (config entries, account profile fields). */
typedef struct conn_kv {
    conn_str key;
    conn_str value;
} conn_kv;

/* Caller-owned error detail. The caller sets struct_size (and may zero the rest); the plugin fills
 * what fits. message is always NUL-terminated within its capacity and never contains a secret. */
#define CONN_ERROR_MESSAGE_CAPACITY 512
#define CONN_ERROR_FIELD_CAPACITY   64
typedef struct conn_error {
    uint32_t struct_size;
    conn_status status;        /* the same code the call returned                                   */
    int32_t http_status;       /* the service's HTTP status behind the error, 0 if none             */
    int32_t retry_after_ms;    /* for RATE_LIMITED / TRANSIENT: when to retry, 0 if unknown         */
    char field[CONN_ERROR_FIELD_CAPACITY];     /* the config field or argument at fault, or ""      */
    char message[CONN_ERROR_MESSAGE_CAPACITY]; /* one line a person can act on                      */
} conn_error;

/* ---- Host services ------------------------------------------------------------------------------ */

/* Given to instance_create; the plugin keeps the pointer values (not the struct) until
 * instance_destroy returns. log may be NULL. log must be callable from any thread, concurrently. */
typedef struct conn_host {
    uint32_t struct_size;
    uint32_t reserved0;                  /* zero */
    void *ctx;                           /* passed back to every callback                         */
    void(CONN_CALL *log)(void *ctx, int32_t level, conn_str message);
} conn_host;

/* Progress of an operation, borrowed for the callback. Counts are cumulative. */
typedef struct conn_progress {
    uint32_t struct_size;
    uint32_t reserved0;
    conn_str phase;                      /* e.g. "users", "groups", "memberships"                 */
    uint64_t requests;                   /* service requests completed                            */
    uint64_t pages;                      /* list pages received                                   */
    uint64_t resources;                  /* records delivered so far, by kind                     */
    uint64_t entitlements;
    uint64_t grants;
    uint64_t total_hint;                 /* expected resources in this phase, 0 if unknown        */
} conn_progress;

/* Per-operation host services, given to every operation; may be NULL, and each function may be NULL.
 * is_cancelled is polled by the plugin at least every 100 ms while the operation runs; once it answers
 * non-zero the plugin aborts in-flight requests and returns CONN_ERR_CANCELLED within one second.
 * Both callbacks may be called from any thread, but never after the operation returns. */
typedef struct conn_call {
    uint32_t struct_size;
    uint32_t reserved0;
    void *ctx;
    int32_t(CONN_CALL *is_cancelled)(void *ctx);
    void(CONN_CALL *progress)(void *ctx, const conn_progress *progress);
} conn_call;

/* ---- Self-description (static, owned by the plugin, valid from init until deinit) ---------------- */

/* Field types, a hint for forms and validation. */
#define CONN_FIELD_STRING 0
#define CONN_FIELD_URL    1
#define CONN_FIELD_EMAIL  2
#define CONN_FIELD_INT    3
#define CONN_FIELD_BOOL   4
#define CONN_FIELD_PATH   5

/* Field flags. */
#define CONN_FIELD_REQUIRED 0x1u
#define CONN_FIELD_SECRET   0x2u  /* never log, print or echo the value                              */

/* A config field or an account-creation field. */
typedef struct conn_field {
    uint32_t struct_size;
    uint32_t flags;                      /* CONN_FIELD_*                                           */
    int32_t type;                        /* CONN_FIELD_STRING, ...                                 */
    uint32_t reserved0;
    const char *name;                    /* machine name, e.g. "scim-url"                          */
    const char *display_name;            /* e.g. "SCIM URL"                                        */
    const char *description;             /* one sentence                                           */
    const char *default_value;           /* NULL when none                                         */
    const char *example;                 /* NULL when none                                         */
} conn_field;

/* Entitlement purposes. */
#define CONN_PURPOSE_ASSIGNMENT 0        /* membership-like: the principal is assigned to it      */
#define CONN_PURPOSE_PERMISSION 1

/* Entitlement-type flags. */
#define CONN_ENT_GRANTABLE  0x1u
#define CONN_ENT_REVOCABLE  0x2u

/* What every resource of a type offers to principals. */
typedef struct conn_entitlement_type {
    uint32_t struct_size;
    int32_t purpose;                     /* CONN_PURPOSE_*                                         */
    uint32_t flags;                      /* CONN_ENT_*                                             */
    uint32_t grantable_to_count;
    const char *slug;                    /* e.g. "member"; ids are "<type>:<rid>:<slug>"           */
    const char *display_name;
    const char *description;
    const char *const *grantable_to;     /* resource type ids of principals, e.g. {"user"}         */
} conn_entitlement_type;

/* Resource traits (what kind of thing a resource type is). */
#define CONN_TRAIT_USER  0x1u
#define CONN_TRAIT_GROUP 0x2u
#define CONN_TRAIT_ROLE  0x4u
#define CONN_TRAIT_APP   0x8u

/* Per-resource-type capabilities. */
#define CONN_RT_SYNC    0x1u             /* sync lists resources of this type                       */
#define CONN_RT_CREATE  0x2u             /* create_account creates resources of this type          */
#define CONN_RT_DELETE  0x4u             /* delete_resource deletes resources of this type         */

typedef struct conn_resource_type {
    uint32_t struct_size;
    uint32_t traits;                     /* CONN_TRAIT_*                                           */
    uint32_t capabilities;               /* CONN_RT_*                                              */
    uint32_t entitlement_type_count;
    const char *id;                      /* e.g. "user"                                            */
    const char *display_name;
    const char *description;
    const conn_entitlement_type *const *entitlement_types;
} conn_resource_type;

/* Plugin-wide capabilities: which operations are implemented at all. */
#define CONN_CAP_CHECK          0x01u
#define CONN_CAP_SYNC           0x02u
#define CONN_CAP_CREATE_ACCOUNT 0x04u
#define CONN_CAP_DELETE         0x08u
#define CONN_CAP_GRANT          0x10u
#define CONN_CAP_REVOKE         0x20u
#define CONN_CAP_CHECKPOINT     0x40u    /* sync emits checkpoints and accepts resume_from         */

typedef struct conn_descriptor {
    uint32_t struct_size;
    uint32_t abi_major;                  /* the ABI the plugin was built against                   */
    uint32_t abi_minor;
    uint32_t capabilities;               /* CONN_CAP_*                                             */
    const char *id;                      /* stable, lower-case, e.g. "claude-enterprise"           */
    const char *name;                    /* e.g. "Claude Enterprise"                               */
    const char *version;                 /* semantic version of the plugin, e.g. "0.1.0"           */
    const char *description;
    const char *vendor;                  /* may be NULL                                            */
    const char *url;                     /* may be NULL                                            */
    uint32_t resource_type_count;
    uint32_t config_field_count;
    uint32_t account_field_count;
    uint32_t reserved0;
    const conn_resource_type *const *resource_types;
    const conn_field *const *config_fields;
    const conn_field *const *account_fields;
} conn_descriptor;

/* ---- Records streamed to the host (borrowed for the callback) ------------------------------------ */

/* A typed attribute of a resource (a trait such as login, email, status, member_count). */
#define CONN_ATTR_STRING 0
#define CONN_ATTR_INT    1
#define CONN_ATTR_BOOL   2
typedef struct conn_attr {
    conn_str key;
    int32_t kind;                        /* CONN_ATTR_*                                            */
    uint32_t reserved0;
    conn_str str;                        /* for CONN_ATTR_STRING                                   */
    int64_t num;                         /* for CONN_ATTR_INT; 0/1 for CONN_ATTR_BOOL              */
} conn_attr;

typedef struct conn_resource {
    uint32_t struct_size;
    uint32_t reserved0;
    conn_str type;                       /* a resource type id, e.g. "user"                        */
    conn_str id;                         /* the service's id, unique within the type              */
    conn_str display_name;
    const conn_attr *attrs;
    size_t attr_count;
} conn_resource;

typedef struct conn_entitlement {
    uint32_t struct_size;
    int32_t purpose;                     /* CONN_PURPOSE_*                                         */
    conn_str id;                         /* "<type>:<rid>:<slug>", e.g. "group:g1:member"           */
    conn_str resource_type;
    conn_str resource_id;
    conn_str slug;
    conn_str display_name;
} conn_entitlement;

/* Grant flags. */
#define CONN_GRANT_UNRESOLVED_PRINCIPAL 0x1u /* the principal names no resource the sync delivered */

typedef struct conn_grant {
    uint32_t struct_size;
    uint32_t flags;                      /* CONN_GRANT_*                                           */
    conn_str id;                         /* "<entitlement id>:<principal type>:<principal id>"    */
    conn_str entitlement_id;
    conn_str principal_type;
    conn_str principal_id;
} conn_grant;

/* Host-owned receiver of records. Each callback may be NULL (records of that kind are then dropped).
 * Return CONN_SINK_CONTINUE, or CONN_SINK_STOP to end the operation with CONN_ERR_STOPPED.
 * Called only on the operation's calling thread, one at a time, never after the operation returns. */
typedef struct conn_sink {
    uint32_t struct_size;
    uint32_t reserved0;
    void *ctx;
    int32_t(CONN_CALL *on_resource)(void *ctx, const conn_resource *resource);
    int32_t(CONN_CALL *on_entitlement)(void *ctx, const conn_entitlement *entitlement);
    int32_t(CONN_CALL *on_grant)(void *ctx, const conn_grant *grant);
    /* An opaque resume token: passing it as conn_sync_options.resume_from to a later sync continues
     * after everything delivered before this call. Only with CONN_CAP_CHECKPOINT. */
    int32_t(CONN_CALL *on_checkpoint)(void *ctx, conn_str token);
    /* Something the host should know about the data (e.g. a member that names no known user). */
    int32_t(CONN_CALL *on_warning)(void *ctx, conn_str code, conn_str message);
} conn_sink;

/* ---- Operation parameters and results ------------------------------------------------------------ */

typedef struct conn_config {
    uint32_t struct_size;
    uint32_t reserved0;
    const conn_kv *entries;              /* keys are conn_field names; unknown keys are refused   */
    size_t entry_count;
} conn_config;

typedef struct conn_check_result {
    uint32_t struct_size;
    uint32_t reserved0;
    int64_t user_count;                  /* users the credentials can see, -1 if unknown          */
    char message[256];                   /* what the check learned, NUL-terminated                */
} conn_check_result;

typedef struct conn_sync_options {
    uint32_t struct_size;
    uint32_t reserved0;
    conn_str resume_from;                /* a checkpoint token, or empty for a full sync           */
} conn_sync_options;

typedef struct conn_sync_result {
    uint32_t struct_size;
    uint32_t reserved0;
    uint64_t resources;
    uint64_t entitlements;
    uint64_t grants;
    uint64_t requests;                   /* service requests made, retries included               */
    uint64_t retries;
    uint64_t pages;
    uint64_t warnings;                   /* on_warning calls, e.g. unresolved members             */
    uint64_t unresolved_principals;      /* grants flagged CONN_GRANT_UNRESOLVED_PRINCIPAL        */
} conn_sync_result;

/* An account to create: fields named after the plugin's account_fields (e.g. "email",
 * "display_name"). Unknown fields are refused with CONN_ERR_INVALID_ARGUMENT naming the field. */
typedef struct conn_account_request {
    uint32_t struct_size;
    uint32_t reserved0;
    const conn_kv *fields;
    size_t field_count;
} conn_account_request;

/* ---- The connector interface ("connector.v1") ---------------------------------------------------- */

typedef struct conn_instance conn_instance; /* opaque, owned by the plugin */

typedef struct conn_connector_v1 {
    uint32_t struct_size;
    uint32_t reserved0;

    /* The plugin's static description. Any thread, after init. Never NULL. */
    const conn_descriptor *(CONN_CALL *describe)(void);

    /* Creates an instance from a config. Validates the config locally (no network). On success
     * *out holds the instance; on failure *out is NULL and err names the field at fault.
     * host may be NULL. Any thread; concurrently with other instance_create/destroy calls. */
    conn_status(CONN_CALL *instance_create)(const conn_config *config, const conn_host *host,
                                            conn_instance **out, conn_error *err);

    /* Destroys an instance; NULL is a no-op. Any thread; concurrently with instance_create/destroy of
     * other instances, never concurrently with an operation on the same instance. All plugin threads
     * working for the instance are joined before it returns. */
    void(CONN_CALL *instance_destroy)(conn_instance *instance);

    /* Proves that the config and credentials work with a cheap authenticated request.
     * Threads: any thread; at most one operation at a time on one instance (the host serialises);
     * concurrently with operations on other instances. */
    conn_status(CONN_CALL *check)(conn_instance *instance, const conn_call *call,
                                  conn_check_result *result, conn_error *err);

    /* A full sync: streams every resource, entitlement and grant into sink, exactly once each.
     * Resources of a grant's principal and entitlement may arrive before or after the grant.
     * options and result may be NULL.
     * Threads: any thread; at most one operation at a time on one instance; concurrently with operations
     * on other instances. Sink callbacks come only on this calling thread, one at a time, never after
     * sync returns. */
    conn_status(CONN_CALL *sync)(conn_instance *instance, const conn_call *call,
                                 const conn_sync_options *options, const conn_sink *sink,
                                 conn_sync_result *result, conn_error *err);

    /* Creates an account; on success delivers it once to sink->on_resource (sink may be NULL) and
     * sets *outcome to CREATED or ALREADY_EXISTS.
     * Threads: as check; the sink is called only on this calling thread, never after it returns. */
    conn_status(CONN_CALL *create_account)(conn_instance *instance, const conn_call *call,
                                           const conn_account_request *request, const conn_sink *sink,
                                           conn_outcome *outcome, conn_error *err);

    /* Deletes a resource; *outcome is DELETED or ALREADY_DELETED.
     * Threads: as check. */
    conn_status(CONN_CALL *delete_resource)(conn_instance *instance, const conn_call *call,
                                            conn_str resource_type, conn_str resource_id,
                                            conn_outcome *outcome, conn_error *err);

    /* Grants entitlement_id to a principal; on success delivers the grant once to sink->on_grant
     * (sink may be NULL) and sets *outcome to GRANTED or ALREADY_GRANTED.
     * Threads: as check; the sink is called only on this calling thread, never after it returns. */
    conn_status(CONN_CALL *grant)(conn_instance *instance, const conn_call *call,
                                  conn_str entitlement_id, conn_str principal_type,
                                  conn_str principal_id, const conn_sink *sink,
                                  conn_outcome *outcome, conn_error *err);

    /* Revokes a grant; *outcome is REVOKED or ALREADY_REVOKED.
     * Threads: as check. */
    conn_status(CONN_CALL *revoke)(conn_instance *instance, const conn_call *call,
                                   conn_str entitlement_id, conn_str principal_type,
                                   conn_str principal_id, conn_outcome *outcome, conn_error *err);
} conn_connector_v1;

/* ---- The entry ------------------------------------------------------------------------------------ */

typedef struct conn_plugin_entry {
    uint32_t struct_size;
    uint32_t abi_major;                  /* the major this entry serves                           */
    uint32_t abi_minor;                  /* the newest minor the plugin speaks                    */
    uint32_t reserved0;
    /* Called once after loading, before anything else; returns CONN_OK or an error. Calling it again
     * without deinit answers CONN_ERR_INVALID_STATE. Threads: any one thread (the host's main
     * thread, say). */
    conn_status(CONN_CALL *init)(void);
    /* Called once before unloading, after every instance is destroyed. No plugin thread survives it.
     * Threads: the thread that called init. */
    void(CONN_CALL *deinit)(void);
    /* Returns the vtable for an interface id (e.g. CONN_IFACE_CONNECTOR_V1), or NULL for an id the
     * plugin does not know. Threads: any thread, concurrently, between init and deinit. The vtable
     * lives until deinit. */
    const void *(CONN_CALL *get_interface)(const char *interface_id);
} conn_plugin_entry;

/* The one exported symbol. abi_major: the major the host speaks; the plugin returns NULL if it cannot
 * serve it. abi_minor (may be NULL): in, the newest minor the host speaks; out, the minor both speak
 * (the lower of the two). Pure: no allocation, no side effect; any thread; callable many times. */
typedef const conn_plugin_entry *(CONN_CALL *conn_plugin_entry_fn)(uint32_t abi_major,
                                                                    uint32_t *abi_minor);

/* A plugin defines its entry with this declaration, so the name, linkage and convention are right:
 *     CONN_PLUGIN_ENTRY { ... }                                                                     */
#define CONN_PLUGIN_ENTRY                                                                           \
    CONN_PLUGIN_EXPORT const conn_plugin_entry *CONN_CALL connector_plugin_entry(uint32_t abi_major, \
                                                                              uint32_t *abi_minor)

/* ---- Frozen layouts (ABI 1.0, 64-bit targets) ---------------------------------------------------- */
/* A C99 compile-time check: a negative array size fails the build. Define CONN_ABI_NO_LAYOUT_CHECKS
 * to skip. These sizes and offsets never change for ABI 1; new fields only lengthen a struct. */
#if !defined(CONN_ABI_NO_LAYOUT_CHECKS) && defined(UINTPTR_MAX) && (UINTPTR_MAX == 0xffffffffffffffffu)
#define CONN_ABI_ASSERT_(name, cond) typedef char conn_abi_layout_##name[(cond) ? 1 : -1]
CONN_ABI_ASSERT_(str, sizeof(conn_str) == 16);
CONN_ABI_ASSERT_(kv, sizeof(conn_kv) == 32);
CONN_ABI_ASSERT_(error, sizeof(conn_error) == 592);
CONN_ABI_ASSERT_(error_message, offsetof(conn_error, message) == 80);
CONN_ABI_ASSERT_(host, sizeof(conn_host) == 24);
CONN_ABI_ASSERT_(host_log, offsetof(conn_host, log) == 16);
CONN_ABI_ASSERT_(progress, sizeof(conn_progress) == 72);
CONN_ABI_ASSERT_(progress_total, offsetof(conn_progress, total_hint) == 64);
CONN_ABI_ASSERT_(call, sizeof(conn_call) == 32);
CONN_ABI_ASSERT_(call_progress, offsetof(conn_call, progress) == 24);
CONN_ABI_ASSERT_(field, sizeof(conn_field) == 56);
CONN_ABI_ASSERT_(field_example, offsetof(conn_field, example) == 48);
CONN_ABI_ASSERT_(ent_type, sizeof(conn_entitlement_type) == 48);
CONN_ABI_ASSERT_(ent_type_grantable, offsetof(conn_entitlement_type, grantable_to) == 40);
CONN_ABI_ASSERT_(resource_type, sizeof(conn_resource_type) == 48);
CONN_ABI_ASSERT_(resource_type_ents, offsetof(conn_resource_type, entitlement_types) == 40);
CONN_ABI_ASSERT_(descriptor, sizeof(conn_descriptor) == 104);
CONN_ABI_ASSERT_(descriptor_account, offsetof(conn_descriptor, account_fields) == 96);
CONN_ABI_ASSERT_(attr, sizeof(conn_attr) == 48);
CONN_ABI_ASSERT_(attr_num, offsetof(conn_attr, num) == 40);
CONN_ABI_ASSERT_(resource, sizeof(conn_resource) == 72);
CONN_ABI_ASSERT_(resource_attrs, offsetof(conn_resource, attrs) == 56);
CONN_ABI_ASSERT_(entitlement, sizeof(conn_entitlement) == 88);
CONN_ABI_ASSERT_(entitlement_name, offsetof(conn_entitlement, display_name) == 72);
CONN_ABI_ASSERT_(grant, sizeof(conn_grant) == 72);
CONN_ABI_ASSERT_(grant_principal, offsetof(conn_grant, principal_id) == 56);
CONN_ABI_ASSERT_(sink, sizeof(conn_sink) == 56);
CONN_ABI_ASSERT_(sink_warning, offsetof(conn_sink, on_warning) == 48);
CONN_ABI_ASSERT_(config, sizeof(conn_config) == 24);
CONN_ABI_ASSERT_(check_result, sizeof(conn_check_result) == 272);
CONN_ABI_ASSERT_(sync_options, sizeof(conn_sync_options) == 24);
CONN_ABI_ASSERT_(sync_result, sizeof(conn_sync_result) == 72);
CONN_ABI_ASSERT_(account_request, sizeof(conn_account_request) == 24);
CONN_ABI_ASSERT_(connector_v1, sizeof(conn_connector_v1) == 80);
CONN_ABI_ASSERT_(connector_v1_revoke, offsetof(conn_connector_v1, revoke) == 72);
CONN_ABI_ASSERT_(entry, sizeof(conn_plugin_entry) == 40);
CONN_ABI_ASSERT_(entry_iface, offsetof(conn_plugin_entry, get_interface) == 32);
#undef CONN_ABI_ASSERT_
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CONNECTOR_ABI_H */
