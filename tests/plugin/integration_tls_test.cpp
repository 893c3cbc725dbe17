// HTTPS: the simulator served with a throwaway CA made at test time (the openssl command). Verification
// fails without the CA (a clear error naming ca-file) and succeeds with the ca-file option.
#include <doctest/doctest.h>
#include <scim_sim/server.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "plugin_harness.hpp"

using namespace harness;
namespace fs = std::filesystem;

namespace {

// Makes ca.pem, server.pem and server.key in dir; false when the openssl command is unavailable.
bool make_throwaway_ca(const fs::path &dir) {
    const std::string d = dir.string();
    const std::string script =
        "set -e\ncd '" + d + "'\n"
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem "
        "-days 1 -subj '/CN=claude-enterprise test CA' >/dev/null 2>&1\n"
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr "
        "-subj '/CN=127.0.0.1' >/dev/null 2>&1\n"
        "printf 'subjectAltName=IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\n' > ext.cnf\n"
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 1 "
        "-extfile ext.cnf >/dev/null 2>&1\n";
    const fs::path sh = dir / "make.sh";
    std::ofstream(sh) << script;
    return std::system(("sh '" + sh.string() + "'").c_str()) == 0 && fs::exists(dir / "server.pem");
}

}  // namespace

TEST_CASE("TLS: verification is always on; ca-file makes a private CA work") {
    const fs::path dir = fs::temp_directory_path() / ("ce-plugin-tls-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    if (!make_throwaway_ca(dir)) {
        MESSAGE("the openssl command is not available: TLS test skipped");
        fs::remove_all(dir);
        return;
    }
    scim_sim::Options o;
    o.token = kToken;
    o.seed_users = 30;
    o.seed_groups = 3;
    o.seed_members = 40;
    o.tls_cert = (dir / "server.pem").string();
    o.tls_key = (dir / "server.key").string();
    scim_sim::Server sim(o);
    sim.start();
    REQUIRE(sim.base_url().rfind("https://", 0) == 0);

    {
        Instance in;
        in.open(config_for(sim.base_url(), kToken, {{"retry-budget-ms", "300"}}));
        conn_check_result res{};
        conn_error err{};
        CHECK(check(in, res, err) == CONN_ERR_INVALID_CONFIG);
        CHECK(std::string(err.field) == "ca-file");
        CHECK(std::string(err.message).find("TLS verification") != std::string::npos);
        auto run = sync(in);
        CHECK(run.status == CONN_ERR_INVALID_CONFIG);
    }
    {
        Instance in;
        in.open(config_for(sim.base_url(), kToken, {{"ca-file", (dir / "ca.pem").string()}}));
        conn_check_result res{};
        conn_error err{};
        REQUIRE_MESSAGE(check(in, res, err) == CONN_OK, err.message);
        CHECK(res.user_count == 30);
        expect_sync_equals_truth(sync(in), parse_truth(sim.state_json()));
    }
    {
        // A CA file that does not sign the server's certificate is refused just the same.
        std::ofstream(dir / "other.pem") << "not a certificate\n";
        Instance in;
        in.open(config_for(sim.base_url(), kToken, {{"ca-file", (dir / "other.pem").string()}, {"retry-budget-ms", "300"}}));
        conn_check_result res{};
        conn_error err{};
        CHECK(check(in, res, err) != CONN_OK);
    }
    sim.stop();
    fs::remove_all(dir);
}
