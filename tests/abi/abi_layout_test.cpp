// Frozen facts of ABI 1.0: status and outcome numbers never change, struct prefixes keep their offsets,
// and CONN_HAS_FIELD lets a reader tell which fields an older writer knew.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <connector/connector_abi.h>

#include <cstddef>

TEST_CASE("status codes keep their numbers") {
    static_assert(CONN_OK == 0);
    CHECK(CONN_ERR_INVALID_ARGUMENT == 1);
    CHECK(CONN_ERR_INVALID_CONFIG == 2);
    CHECK(CONN_ERR_UNSUPPORTED == 3);
    CHECK(CONN_ERR_NOT_FOUND == 4);
    CHECK(CONN_ERR_ALREADY_EXISTS == 5);
    CHECK(CONN_ERR_UNAUTHENTICATED == 6);
    CHECK(CONN_ERR_PERMISSION_DENIED == 7);
    CHECK(CONN_ERR_RATE_LIMITED == 8);
    CHECK(CONN_ERR_TRANSIENT == 9);
    CHECK(CONN_ERR_CANCELLED == 10);
    CHECK(CONN_ERR_STOPPED == 11);
    CHECK(CONN_ERR_INVALID_STATE == 12);
    CHECK(CONN_ERR_FAILED_PRECONDITION == 13);
    CHECK(CONN_ERR_INTERNAL == 14);
    CHECK(CONN_STATUS_COUNT_V1 == 15);
}

TEST_CASE("outcomes keep their numbers") {
    CHECK(CONN_OUTCOME_NONE == 0);
    CHECK(CONN_OUTCOME_CREATED == 1);
    CHECK(CONN_OUTCOME_ALREADY_EXISTS == 2);
    CHECK(CONN_OUTCOME_DELETED == 3);
    CHECK(CONN_OUTCOME_ALREADY_DELETED == 4);
    CHECK(CONN_OUTCOME_GRANTED == 5);
    CHECK(CONN_OUTCOME_ALREADY_GRANTED == 6);
    CHECK(CONN_OUTCOME_REVOKED == 7);
    CHECK(CONN_OUTCOME_ALREADY_REVOKED == 8);
    CHECK(CONN_OUTCOME_REACTIVATED == 9);  // ABI 1.1
}

TEST_CASE("every struct starts with its size, and layouts are frozen on 64-bit targets") {
    CHECK(offsetof(conn_error, struct_size) == 0);
    CHECK(offsetof(conn_host, struct_size) == 0);
    CHECK(offsetof(conn_call, struct_size) == 0);
    CHECK(offsetof(conn_sink, struct_size) == 0);
    CHECK(offsetof(conn_descriptor, struct_size) == 0);
    CHECK(offsetof(conn_plugin_entry, struct_size) == 0);
    CHECK(offsetof(conn_connector_v1, struct_size) == 0);
    if constexpr (sizeof(void *) == 8) {
        CHECK(sizeof(conn_error) == 592);
        CHECK(sizeof(conn_sink) == 56);
        CHECK(sizeof(conn_resource) == 72);
        CHECK(sizeof(conn_grant) == 72);
        CHECK(sizeof(conn_descriptor) == 104);
        CHECK(sizeof(conn_connector_v1) == 80);
        CHECK(sizeof(conn_plugin_entry) == 40);
        CHECK(offsetof(conn_connector_v1, sync) == 40);
        CHECK(offsetof(conn_sink, on_grant) == 32);
    }
}

TEST_CASE("CONN_HAS_FIELD tells which fields an older, smaller struct carries") {
    conn_sink sink{};
    sink.struct_size = static_cast<uint32_t>(offsetof(conn_sink, on_checkpoint)); // a sink without the last two
    CHECK(CONN_HAS_FIELD(&sink, conn_sink, on_grant));
    CHECK_FALSE(CONN_HAS_FIELD(&sink, conn_sink, on_checkpoint));
    CHECK_FALSE(CONN_HAS_FIELD(&sink, conn_sink, on_warning));
    sink.struct_size = sizeof(conn_sink);
    CHECK(CONN_HAS_FIELD(&sink, conn_sink, on_warning));
    const conn_sink *none = nullptr;
    CHECK_FALSE(CONN_HAS_FIELD(none, conn_sink, on_resource));
}
