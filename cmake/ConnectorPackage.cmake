# The Debian package: `cpack -G DEB` in a build tree (host/CLI.md, "Installing").
#
#   claude-enterprise-connector_<version>_<arch>.deb installs under /usr what `cmake --install` installs:
#   connector-host, connector-conformance and scim-sim in /usr/bin, the plugin in /usr/lib/connector/plugins
#   (where the installed host looks by default), the ABI headers and CMake package, the demo
#   (/usr/share/connector/demo.sh) and the documentation. Its Depends are computed by dpkg-shlibdeps from what
#   the binaries link (libcurl4, libsqlite3-0, libssl3, libstdc++6, ...).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME claude-enterprise-connector)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Identity-governance connector for Claude Enterprise: C ABI, plugin, host, conformance runner, simulator")
set(CPACK_PACKAGE_DESCRIPTION
    "connector-host loads connector plugins through a stable C ABI and syncs who has access to what into\n\
JSON, NDJSON or an SQLite snapshot it can query. The claude-enterprise plugin reads and provisions Claude\n\
Enterprise through SCIM 2.0 and Anthropic's Admin API. connector-conformance validates any plugin;\n\
scim-sim simulates both services.")
set(CPACK_PACKAGE_CONTACT "Connector maintainers <maintainers@users.noreply.r-seed-25ad2b15.example>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The demo script uses coreutils, grep and sed only (all Essential on Debian).
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "sqlite3")
# Stripped: the package is for running, not debugging (RelWithDebInfo binaries carry their debug info).
set(CPACK_STRIP_FILES ON)
include(CPack)
