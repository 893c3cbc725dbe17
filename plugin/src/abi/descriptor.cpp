#include "abi/descriptor.hpp"

namespace ce::abi {
namespace {

constexpr uint32_t kField = sizeof(conn_field);

const conn_field f_url{kField, CONN_FIELD_REQUIRED, CONN_FIELD_URL, 0, "scim-url", "SCIM URL",
                       "The SCIM 2.0 base URL of the Claude Enterprise directory (https; plain http only to a loopback "
                       "address, for tests).",
                       nullptr, "https://api.workos.com/scim/v2.0/<directory key>"};
const conn_field f_token{kField, CONN_FIELD_REQUIRED | CONN_FIELD_SECRET, CONN_FIELD_STRING, 0, "scim-token",
                         "SCIM token", "The bearer token of the SCIM directory. Never logged or echoed.", nullptr,
                         nullptr};
const conn_field f_page{kField, 0, CONN_FIELD_INT, 0, "page-size", "Page size",
                        "Resources asked for per list page (1-1000; the service may return fewer).", "100", "200"};
const conn_field f_conc{kField, 0, CONN_FIELD_INT, 0, "concurrency", "Concurrency",
                        "Requests kept in flight at once (1-64); halved automatically while the service answers 429. "
                        "8 keeps a 100,000-user sync near 6,000 requests a minute at 80 ms latency.",
                        "8", "4"};
const conn_field f_ct{kField, 0, CONN_FIELD_INT, 0, "connect-timeout-ms", "Connect timeout",
                      "Milliseconds allowed to open a connection (100-600000).", "10000", nullptr};
const conn_field f_rt{kField, 0, CONN_FIELD_INT, 0, "request-timeout-ms", "Request timeout",
                      "Milliseconds allowed for one whole request (1000-3600000).", "60000", nullptr};
const conn_field f_rb{kField, 0, CONN_FIELD_INT, 0, "retry-budget-ms", "Retry budget",
                      "Milliseconds one request may spend being retried after transient failures and 429s "
                      "(0-3600000; 0 disables retries).",
                      "30000", nullptr};
const conn_field f_ca{kField, 0, CONN_FIELD_PATH, 0, "ca-file", "CA file",
                      "A PEM file of certificate authorities to trust instead of the system store. TLS verification "
                      "cannot be turned off.",
                      nullptr, "/etc/ssl/private-ca.pem"};
const conn_field f_max{kField, 0, CONN_FIELD_INT, 0, "max-response-mb", "Maximum response size",
                       "Largest response body held in memory, in MiB (1-4096), and the most all answers in flight "
                       "may hold together; larger answers fail with a clear error (member lists have their own cap, "
                       "max-member-list-mb; error bodies are cut at 64 KiB).",
                       "64", nullptr};
const conn_field f_members{kField, 0, CONN_FIELD_INT, 0, "max-member-list-mb", "Maximum member list size",
                           "Largest member list of one group accepted, in MiB (1-65536). Member lists are read as "
                           "they arrive and never held, so this only stops a runaway answer (1024 MiB is about "
                           "six million members).",
                           "1024", nullptr};
const conn_field f_member{kField, 0, CONN_FIELD_INT, 0, "max-member-kb", "Maximum member size",
                          "Largest single member object of a member list, in KiB (1-65536); a larger one fails with "
                          "a clear error. A member is {value, display, type, $ref}: well under 1 KiB.",
                          "64", nullptr};
const conn_field f_mem{kField, 0, CONN_FIELD_INT, 0, "index-memory-kb", "Index memory",
                       "KiB each of the sync's id indexes (users, groups) may keep in memory (1-4194304); past it the "
                       "rest spills to a temporary file in spill-dir (8 bytes a user; the default holds ~196,000).",
                       "2048", nullptr};
const conn_field f_spill{kField, 0, CONN_FIELD_PATH, 0, "spill-dir", "Spill directory",
                         "Directory for the sync's temporary index files (anonymous, removed when the sync ends). "
                         "Default: $TMPDIR, else /tmp.",
                         nullptr, "/var/tmp"};
const conn_field *const config_fields[] = {&f_url, &f_token, &f_page,    &f_conc, &f_ct,   &f_rt,
                                           &f_rb,  &f_ca,    &f_max,     &f_members, &f_member, &f_mem, &f_spill};

const conn_field a_email{kField, CONN_FIELD_REQUIRED, CONN_FIELD_EMAIL, 0, "email", "E-mail",
                         "The user's e-mail: it becomes the SCIM userName and the primary work e-mail.", nullptr,
                         "jane@example.com"};
const conn_field a_name{kField, CONN_FIELD_REQUIRED, CONN_FIELD_STRING, 0, "display_name", "Display name",
                        "The full name; the first word becomes the given name, the rest the family name.", nullptr,
                        "Jane Smith"};
const conn_field *const account_fields[] = {&a_email, &a_name};

const char *const grantable_to[] = {"user"};
const conn_entitlement_type member_type{sizeof(conn_entitlement_type),
                                        CONN_PURPOSE_ASSIGNMENT,
                                        CONN_ENT_GRANTABLE | CONN_ENT_REVOCABLE,
                                        1,
                                        "member",
                                        "Member",
                                        "Membership of the group.",
                                        grantable_to};
const conn_entitlement_type *const group_entitlements[] = {&member_type};

const conn_resource_type user_type{sizeof(conn_resource_type),
                                   CONN_TRAIT_USER,
                                   CONN_RT_SYNC | CONN_RT_CREATE | CONN_RT_DELETE,
                                   0,
                                   "user",
                                   "User",
                                   "A Claude Enterprise member provisioned through SCIM.",
                                   nullptr};
const conn_resource_type group_type{sizeof(conn_resource_type),
                                    CONN_TRAIT_GROUP,
                                    CONN_RT_SYNC,
                                    1,
                                    "group",
                                    "Group",
                                    "A group provisioned through SCIM; its members are grants of its member "
                                    "entitlement.",
                                    group_entitlements};
const conn_resource_type *const resource_types[] = {&user_type, &group_type};

const conn_descriptor desc{sizeof(conn_descriptor),
                           CONN_ABI_VERSION_MAJOR,
                           CONN_ABI_VERSION_MINOR,
                           CONN_CAP_CHECK | CONN_CAP_SYNC | CONN_CAP_CREATE_ACCOUNT | CONN_CAP_DELETE | CONN_CAP_GRANT |
                               CONN_CAP_REVOKE,
                           "claude-enterprise",
                           "Claude Enterprise",
                           CE_PLUGIN_VERSION,
                           "Users, groups and group memberships of a Claude Enterprise organisation over SCIM 2.0, "
                           "with account and membership provisioning.",
                           "Anthropic",
                           "https://www.anthropic.com/enterprise",
                           2,
                           sizeof(config_fields) / sizeof(config_fields[0]),
                           2,
                           0,
                           resource_types,
                           config_fields,
                           account_fields};

}  // namespace

const conn_descriptor *descriptor() { return &desc; }

}  // namespace ce::abi
