// Built against the installed package only: the C++ companion's pieces work without the project's tree.
#include <connector/connector_abi.hpp>

#include <cstdio>
#include <stdexcept>

static_assert(conn::make<conn_error>().struct_size == sizeof(conn_error), "make<T> sets struct_size");
static_assert(conn::view(conn_str{nullptr, 3}).empty(), "a NULL conn_str reads as empty");

int main() {
    conn_error err = conn::make_error();
    std::snprintf(err.message, sizeof err.message, "%s", "no such group");
    err.http_status = 404;
    const std::string line = conn::describe(CONN_ERR_NOT_FOUND, err);
    conn::Sink sink;
    sink.on_warning = [](std::string_view, std::string_view) -> int32_t { throw std::runtime_error("x"); };
    const conn_sink abi = sink.abi();
    const bool stopped = abi.on_warning(abi.ctx, conn::str("c"), conn::str("m")) == CONN_SINK_STOP;
    conn::Instance none;
    if (line != "not_found: no such group (HTTP 404)" || !stopped || none ||
        std::string(conn::outcome_name(CONN_OUTCOME_ALREADY_GRANTED)) != "already_granted") {
        std::fprintf(stderr, "unexpected: %s\n", line.c_str());
        return 1;
    }
    return 0;
}
