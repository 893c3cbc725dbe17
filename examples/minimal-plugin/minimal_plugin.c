/*
 * minimal_plugin.c - the smallest complete connector plugin, in C99, walked through in abi/ABI.md.
 *
 * It "connects" to a directory given entirely by its config: the field `users` holds a comma-separated
 * list of user names, and sync streams one user resource per name. It shows every rule a plugin must
 * follow: one exported entry, version negotiation, init/deinit state, a static descriptor, opaque
 * instances, argument validation, errors in the caller's conn_error, records borrowed by host sinks,
 * cancellation, and "unsupported" for what it cannot do. It builds as a .so and, with mingw-w64, a .dll.
 */
#include <connector/connector_abi.h>

#include <stdlib.h>
#include <string.h>

/* ---- error helper: write into the caller's struct without exceeding what it declared ------------- */
static conn_status fail(conn_error *err, conn_status status, const char *field, const char *message) {
    if (err != NULL && err->struct_size >= sizeof(uint32_t) * 2) {
        size_t cap = err->struct_size;
        err->status = status;
        if (cap >= offsetof(conn_error, field) + sizeof err->field) {
            strncpy(err->field, field ? field : "", sizeof err->field - 1);
            err->field[sizeof err->field - 1] = '\0';
        }
        if (cap >= offsetof(conn_error, message) + sizeof err->message) {
            strncpy(err->message, message, sizeof err->message - 1);
            err->message[sizeof err->message - 1] = '\0';
        }
    }
    return status;
}

/* The same, naming a field given as a conn_str (not NUL-terminated): an unknown key is named back, cut to fit. */
static conn_status fail_str(conn_error *err, conn_status status, conn_str field, const char *message) {
    char name[sizeof(((conn_error *)0)->field)];
    size_t n = field.data == NULL ? 0 : (field.size < sizeof name - 1 ? field.size : sizeof name - 1);
    /* never cut a UTF-8 sequence in two: back off to the start of the character at the cut */
    while (n > 0 && n < field.size && ((unsigned char)field.data[n] & 0xC0u) == 0x80u) --n;
    if (n > 0) memcpy(name, field.data, n);
    name[n] = '\0';
    return fail(err, status, name, message);
}

/* ---- static description ----------------------------------------------------------------------- */
static const conn_field users_field = {sizeof(conn_field), CONN_FIELD_REQUIRED, CONN_FIELD_STRING, 0, "users",
                                       "Users", "Comma-separated user names to report.", NULL, "alice,bob"};
static const conn_field *const config_fields[] = {&users_field};
static const conn_resource_type user_type = {sizeof(conn_resource_type), CONN_TRAIT_USER, CONN_RT_SYNC, 0,
                                             "user", "User", "A user named in the config.", NULL};
static const conn_resource_type *const resource_types[] = {&user_type};
static const conn_descriptor descriptor = {
    sizeof(conn_descriptor), CONN_ABI_VERSION_MAJOR, CONN_ABI_VERSION_MINOR, CONN_CAP_CHECK | CONN_CAP_SYNC,
    "example-minimal", "Minimal example", "1.0.0", "Reports the users named in its config.", NULL, NULL,
    1, 1, 0, 0, resource_types, config_fields, NULL};

static int initialised = 0; /* init/deinit come from one host thread */

/* ---- instances -------------------------------------------------------------------------------- */
struct conn_instance {
    char *users; /* our own copy of the config value */
};

static const conn_descriptor *CONN_CALL describe(void) { return &descriptor; }

static conn_status CONN_CALL instance_create(const conn_config *config, const conn_host *host,
                                             conn_instance **out, conn_error *err) {
    const conn_kv *users = NULL;
    size_t i;
    (void)host;
    if (out == NULL) return fail(err, CONN_ERR_INVALID_ARGUMENT, "out", "out must not be NULL");
    *out = NULL;
    if (!initialised) return fail(err, CONN_ERR_INVALID_STATE, "", "plugin not initialised");
    if (config == NULL || config->struct_size < sizeof(conn_config) ||
        (config->entry_count > 0 && config->entries == NULL))
        return fail(err, CONN_ERR_INVALID_ARGUMENT, "config", "config is NULL or malformed");
    for (i = 0; i < config->entry_count; ++i) {
        const conn_kv *kv = &config->entries[i];
        if ((kv->key.data == NULL && kv->key.size > 0) || (kv->value.data == NULL && kv->value.size > 0))
            return fail(err, CONN_ERR_INVALID_ARGUMENT, "config", "a config key or value has data NULL and a size");
        if (kv->key.size == 5 && kv->key.data != NULL && memcmp(kv->key.data, "users", 5) == 0) users = kv;
        else return fail_str(err, CONN_ERR_INVALID_CONFIG, kv->key, "unknown config field");
    }
    if (users == NULL || users->value.size == 0 || users->value.data == NULL)
        return fail(err, CONN_ERR_INVALID_CONFIG, "users", "the config field 'users' is required");
    *out = (conn_instance *)calloc(1, sizeof(conn_instance));
    if (*out == NULL) return fail(err, CONN_ERR_INTERNAL, "", "out of memory");
    (*out)->users = (char *)malloc(users->value.size + 1);
    if ((*out)->users == NULL) {
        free(*out);
        *out = NULL;
        return fail(err, CONN_ERR_INTERNAL, "", "out of memory");
    }
    memcpy((*out)->users, users->value.data, users->value.size);
    (*out)->users[users->value.size] = '\0';
    return CONN_OK;
}

static void CONN_CALL instance_destroy(conn_instance *instance) {
    if (instance == NULL) return;
    free(instance->users);
    free(instance);
}

static conn_status CONN_CALL check(conn_instance *instance, const conn_call *call, conn_check_result *result,
                                   conn_error *err) {
    (void)call;
    if (instance == NULL) return fail(err, CONN_ERR_INVALID_ARGUMENT, "instance", "instance must not be NULL");
    if (result != NULL && result->struct_size >= sizeof(conn_check_result)) {
        result->user_count = -1;
        strcpy(result->message, "nothing to check: the users come from the config");
    }
    return CONN_OK;
}

static conn_status CONN_CALL sync(conn_instance *instance, const conn_call *call, const conn_sync_options *options,
                                  const conn_sink *sink, conn_sync_result *result, conn_error *err) {
    const char *p;
    uint64_t delivered = 0;
    (void)options;
    if (instance == NULL || sink == NULL || sink->struct_size < offsetof(conn_sink, on_grant))
        return fail(err, CONN_ERR_INVALID_ARGUMENT, "sink", "instance and sink are required");
    for (p = instance->users; *p != '\0';) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (call != NULL && call->struct_size >= sizeof(conn_call) && call->is_cancelled != NULL &&
            call->is_cancelled(call->ctx))
            return fail(err, CONN_ERR_CANCELLED, "", "cancelled by the host");
        if (len > 0 && sink->on_resource != NULL) {
            conn_resource r;
            memset(&r, 0, sizeof r);
            r.struct_size = sizeof r;
            r.type.data = "user";
            r.type.size = 4;
            r.id.data = p; /* borrowed: valid for the duration of the callback */
            r.id.size = len;
            r.display_name = r.id;
            if (sink->on_resource(sink->ctx, &r) != CONN_SINK_CONTINUE)
                return fail(err, CONN_ERR_STOPPED, "", "stopped by the sink");
            ++delivered;
        }
        p = end ? end + 1 : p + len;
    }
    if (call != NULL && call->struct_size >= sizeof(conn_call) && call->progress != NULL) {
        conn_progress progress;
        memset(&progress, 0, sizeof progress);
        progress.struct_size = sizeof progress;
        progress.phase.data = "users";
        progress.phase.size = 5;
        progress.resources = delivered;
        progress.total_hint = delivered;
        call->progress(call->ctx, &progress); /* one phase, reported once it is done */
    }
    if (result != NULL && result->struct_size >= offsetof(conn_sync_result, entitlements))
        result->resources = delivered;
    return CONN_OK;
}

static conn_status CONN_CALL create_account(conn_instance *i, const conn_call *c, const conn_account_request *r,
                                            const conn_sink *s, conn_outcome *o, conn_error *err) {
    (void)i; (void)c; (void)r; (void)s; (void)o;
    return fail(err, CONN_ERR_UNSUPPORTED, "", "this plugin cannot create accounts");
}
static conn_status CONN_CALL delete_resource(conn_instance *i, const conn_call *c, conn_str t, conn_str id,
                                             conn_outcome *o, conn_error *err) {
    (void)i; (void)c; (void)t; (void)id; (void)o;
    return fail(err, CONN_ERR_UNSUPPORTED, "", "this plugin cannot delete resources");
}
static conn_status CONN_CALL grant(conn_instance *i, const conn_call *c, conn_str e, conn_str pt, conn_str pid,
                                   const conn_sink *s, conn_outcome *o, conn_error *err) {
    (void)i; (void)c; (void)e; (void)pt; (void)pid; (void)s; (void)o;
    return fail(err, CONN_ERR_UNSUPPORTED, "", "this plugin has no entitlements");
}
static conn_status CONN_CALL revoke(conn_instance *i, const conn_call *c, conn_str e, conn_str pt, conn_str pid,
                                    conn_outcome *o, conn_error *err) {
    (void)i; (void)c; (void)e; (void)pt; (void)pid; (void)o;
    return fail(err, CONN_ERR_UNSUPPORTED, "", "this plugin has no entitlements");
}

static const conn_connector_v1 connector = {sizeof(conn_connector_v1), 0, describe, instance_create,
                                            instance_destroy, check, sync, create_account, delete_resource,
                                            grant, revoke};

/* ---- the entry -------------------------------------------------------------------------------- */
static conn_status CONN_CALL plugin_init(void) {
    if (initialised) return CONN_ERR_INVALID_STATE;
    initialised = 1;
    return CONN_OK;
}
static void CONN_CALL plugin_deinit(void) { initialised = 0; }
static const void *CONN_CALL get_interface(const char *id) {
    if (initialised && id != NULL && strcmp(id, CONN_IFACE_CONNECTOR_V1) == 0) return &connector;
    return NULL;
}

static const conn_plugin_entry entry = {sizeof(conn_plugin_entry), CONN_ABI_VERSION_MAJOR, CONN_ABI_VERSION_MINOR,
                                        0, plugin_init, plugin_deinit, get_interface};

/* The test suite builds a variant that serves only a future major, to prove hosts refuse it. */
#ifndef MINIMAL_PLUGIN_SERVES_MAJOR
#define MINIMAL_PLUGIN_SERVES_MAJOR CONN_ABI_VERSION_MAJOR
#endif

CONN_PLUGIN_ENTRY {
    if (abi_major != MINIMAL_PLUGIN_SERVES_MAJOR) return NULL;
    if (abi_minor != NULL && *abi_minor > CONN_ABI_VERSION_MINOR) *abi_minor = CONN_ABI_VERSION_MINOR;
    return &entry;
}
