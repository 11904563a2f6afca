// The official `syncano` npm client (1.0.30) against the real host: account login, instances,
// API keys, users, login, the user key, profile schema and updates, groups, reset keys, pages.
// The client steps live in tests/compat/syncano_client_test.js; scripts/test installs the client.
#include "support/host_process.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>

using namespace latchkey::test;

TEST_CASE("The official syncano npm client 1.0.30 works against the host", "[compat]") {
    const std::string compat = std::string(LATCHKEY_TEST_SOURCE_DIR) + "/tests/compat";
    if (!std::filesystem::exists(compat + "/node_modules/syncano/package.json")) {
        FAIL("the syncano client is not installed: run `npm ci` in tests/compat "
             "(scripts/test does)");
    }
    TempDir dir;
    HostProcess host(dir.write("latchkey.yaml", testConfig(dir)));
    const std::string log = dir.file("compat.log");
    const std::string command = "cd '" + compat + "' && node syncano_client_test.js " +
                                host.baseUrl() + " '" + kAdminEmail + "' '" + kAdminPassword +
                                "' > '" + log + "' 2>&1";
    const int status = std::system(command.c_str()); // NOLINT(concurrency-mt-unsafe)
    INFO(readFile(log));
    CHECK(status == 0);
    CHECK_THAT(readFile(log), Catch::Contains("# all 30 steps passed"));
}
