// Plugin loading failures as an operator sees them: `check-config` and `serve` on the fixtures.
#include "support/host_process.hpp"

#include <latchkey/version.hpp>

#include <catch2/catch.hpp>

using namespace latchkey::test;

namespace {

/// "major.minor" of this host's SDK, and of the next minor.
std::string sdkVersion(int minorAhead = 0) {
    return std::to_string(LATCHKEY_SDK_VERSION_MAJOR) + "." +
           std::to_string(LATCHKEY_SDK_VERSION_MINOR + minorAhead);
}

CommandResult checkWithFixture(const std::string& fixture, const std::string& extraAuth = "") {
    TempDir dir;
    const std::string config =
        dir.write("latchkey.yaml", testConfig(dir, "", extraAuth, "", {fixtureDir(fixture)}));
    return runLatchkey({"check-config", "-c", config});
}

} // namespace

TEST_CASE("A library for another SDK major version stops start-up, naming file and versions",
          "[plugins]") {
    const auto result = checkWithFixture("wrong-abi");
    CHECK(result.exitCode == 2);
    CHECK_THAT(result.err, Catch::Contains("plugins.paths: " + fixtureDir("wrong-abi") +
                                           "/fixture-wrong-abi.so: built for Latchkey SDK 99.0, "
                                           "this host has SDK " +
                                           sdkVersion()));
}

TEST_CASE("A library built for SDK 1.x is refused by this SDK 2 host, with the same message",
          "[plugins]") {
    const auto result = checkWithFixture("sdk1");
    CHECK(result.exitCode == 2);
    CHECK_THAT(result.err, Catch::Contains("plugins.paths: " + fixtureDir("sdk1") +
                                           "/fixture-sdk1.so: built for Latchkey SDK 1.1, "
                                           "this host has SDK " +
                                           sdkVersion() +
                                           " (the major versions must match; rebuild the "
                                           "plugin)"));
}

TEST_CASE("A library for a newer SDK minor version is refused", "[plugins]") {
    const auto result = checkWithFixture("newer-minor");
    CHECK(result.exitCode == 2);
    CHECK_THAT(result.err, Catch::Contains("built for Latchkey SDK " + sdkVersion(1) +
                                           ", newer than this host's SDK " + sdkVersion()));
}

TEST_CASE("A library built with another C++ library ABI is refused", "[plugins]") {
    const auto result = checkWithFixture("old-abi");
    CHECK(result.exitCode == 2);
    CHECK_THAT(result.err, Catch::Contains("fixture-old-abi.so: built with C++ library ABI "
                                           "\"libstdc++/cxx98/ptr8\""));
}

TEST_CASE("Missing entry, unresolved symbol and non-plugin libraries are refused", "[plugins]") {
    CHECK_THAT(checkWithFixture("missing-entry").err,
               Catch::Contains("fixture-missing-entry.so: has an ABI stamp but no "
                               "latchkey_plugin_entry function"));
    CHECK_THAT(checkWithFixture("unresolved").err,
               Catch::Contains("fixture-unresolved.so: cannot load:") &&
                   Catch::Contains("undefined symbol: latchkey_fixture_function_nobody_defines"));
    CHECK_THAT(checkWithFixture("not-a-plugin").err,
               Catch::Contains("fixture-not-a-plugin.so: not a Latchkey plugin"));
}

TEST_CASE("Two plugins with one name stop start-up, naming both files", "[plugins]") {
    const auto result = checkWithFixture("duplicate");
    CHECK(result.exitCode == 2);
    CHECK_THAT(result.err, Catch::Contains("two plugins are named \"fixture-dup\": " +
                                           fixtureDir("duplicate") + "/fixture-dup-a.so and " +
                                           fixtureDir("duplicate") + "/fixture-dup-b.so"));
}

TEST_CASE("A plugin validates its own config node, and every problem is reported", "[plugins]") {
    const auto result =
        checkWithFixture("validating", "  fixture-validating:\n    repeat: 20\n    colour: blue\n");
    INFO(result.err);
    CHECK(result.exitCode == 2);
    CHECK_THAT(result.err, Catch::Contains("auth.fixture-validating.greeting: is required"));
    CHECK_THAT(result.err, Catch::Contains("auth.fixture-validating.repeat: must be between 1 "
                                           "and 10, got 20"));
    CHECK_THAT(result.err, Catch::Contains("auth.fixture-validating.colour: unknown key"));
}

TEST_CASE("A plugin in the wrong slot is named with both kinds", "[plugins]") {
    TempDir dir;
    std::string text = testConfig(dir, "", "", "", {fixtureDir("good")});
    const std::string storage = "driver: " + testStorageDriver();
    text.replace(text.find(storage), storage.size(), "driver: fixture-good");
    const auto result = runLatchkey({"check-config", "-c", dir.write("c.yaml", text)});
    CHECK(result.exitCode == 2);
    CHECK_THAT(result.err, Catch::Contains("storage.driver: plugin \"fixture-good\" is a "
                                           "flow plugin, not storage"));
}

TEST_CASE("A storage driver without the facets the config needs stops `serve`, naming them",
          "[plugins]") {
    TempDir dir;
    std::string text = testConfig(dir, "", "", "", {fixtureDir("partial-store")});
    const std::string storage = "driver: " + testStorageDriver();
    text.replace(text.find(storage), storage.size(), "driver: fixture-partial-store");
    const auto result = runLatchkey({"serve", "-c", dir.write("c.yaml", text)});
    CHECK(result.exitCode == 1);
    CHECK_THAT(result.err,
               Catch::Contains("storage driver \"fixture-partial-store\" (" +
                               fixtureDir("partial-store") +
                               "/fixture-partial-store.so) lacks the storage facet "
                               "latchkey.storage.key-values, which the identity core (the v1.1 "
                               "API) needs; latchkey.storage.accounts, which the identity core") &&
                   Catch::Contains("latchkey.storage.files, which the identity core"));
    CHECK_THAT(result.err, !Catch::Contains("fixture-partial-store 0.1.0 (storage) ready"));
}

TEST_CASE("A factory that throws stops `serve` with exit 1 and the plugin's message", "[plugins]") {
    TempDir dir;
    const std::string config = dir.write(
        "latchkey.yaml", testConfig(dir, "", "  fixture-throws: {}\n", "", {fixtureDir("throws")}));
    CHECK(runLatchkey({"check-config", "-c", config}).exitCode == 0);
    const auto result = runLatchkey({"serve", "-c", config});
    CHECK(result.exitCode == 1);
    CHECK(result.out.empty());
    CHECK_THAT(result.err, Catch::Contains("plugin fixture-throws (" + fixtureDir("throws") +
                                           "/fixture-throws.so) failed to start: fixture "
                                           "refuses to start"));
}
