// Plugin loading failures as an operator sees them: `check-config` and `serve` on the fixtures.
#include "support/host_process.hpp"

#include <latchkey/version.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <sstream>
#include <string>
#include <vector>

using namespace latchkey::test;

namespace {

/// "major.minor" of this host's SDK, and of the next minor.
std::string sdkVersion(int minorAhead = 0) {
    return std::to_string(LATCHKEY_SDK_VERSION_MAJOR) + "." +
           std::to_string(LATCHKEY_SDK_VERSION_MINOR + minorAhead);
}

/// `check-config` on a config whose plugin paths are the fixture's directory and whose `auth:`
/// names `extraAuth`, by default the fixture's plugin (`fixture-<fixture>`): only what the
/// config names is loaded.
CommandResult checkWithFixture(const std::string& fixture, std::string extraAuth = "") {
    TempDir dir;
    if (extraAuth.empty()) extraAuth = "  fixture-" + fixture + ": {}\n";
    const std::string config =
        dir.write("latchkey.yaml", testConfig(dir, "", extraAuth, "", {fixtureDir(fixture)}));
    return runLatchkey({"check-config", "-c", config});
}

} // namespace

TEST_CASE("A library for another SDK major version stops start-up, naming file and versions",
          "[plugins]") {
    const auto result = checkWithFixture("wrong-abi");
    CHECK(result.exitCode == 2);
    CHECK_THAT(result.err, Catch::Contains("auth.fixture-wrong-abi: " + fixtureDir("wrong-abi") +
                                           "/fixture-wrong-abi.so: built for Latchkey SDK 99.0, "
                                           "this host has SDK " +
                                           sdkVersion()));
}

TEST_CASE("A library built for SDK 1.x is refused by this SDK 2 host, with the same message",
          "[plugins]") {
    const auto result = checkWithFixture("sdk1");
    CHECK(result.exitCode == 2);
    CHECK_THAT(result.err, Catch::Contains("auth.fixture-sdk1: " + fixtureDir("sdk1") +
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
    TempDir dir;
    const std::string a = fixtureDir("duplicate") + "/a";
    const std::string b = fixtureDir("duplicate") + "/b";
    const std::string config =
        dir.write("latchkey.yaml", testConfig(dir, "", "  fixture-dup: {}\n", "", {a, b}));
    const std::string both = "two plugins are named \"fixture-dup\": " + a +
                             "/fixture-dup.so and " + b + "/fixture-dup.so";
    const auto checked = runLatchkey({"check-config", "-c", config});
    CHECK(checked.exitCode == 2);
    CHECK_THAT(checked.err, Catch::Contains("auth.fixture-dup: " + both));
    CHECK_THAT(runLatchkey({"plugins", "-c", config}).err, Catch::Contains(both));
}

TEST_CASE("Only the libraries the config names are loaded, found by their file name", "[plugins]") {
    // A broken library the config does not name does not stop `serve` or `check-config`...
    TempDir dir;
    const std::string config =
        dir.write("latchkey.yaml",
                  testConfig(dir, "", "", "", {fixtureDir("wrong-abi"), fixtureDir("good")}));
    CHECK(runLatchkey({"check-config", "-c", config}).exitCode == 0);
    // ...while `latchkey plugins` loads everything, and says what is wrong with it.
    const auto listed = runLatchkey({"plugins", "-c", config});
    CHECK(listed.exitCode == 2);
    CHECK_THAT(listed.err, Catch::Contains("fixture-wrong-abi.so: built for Latchkey SDK 99.0"));
    CHECK_THAT(listed.out, Catch::Contains("fixture-good"));

    // A plugin in a file not named after it is not found by name; `plugins` says why.
    TempDir other;
    const std::string misnamed =
        other.write("latchkey.yaml",
                    testConfig(other, "", "  fixture-dup: {}\n", "", {fixtureDir("misnamed")}));
    const auto checked = runLatchkey({"check-config", "-c", misnamed});
    CHECK(checked.exitCode == 2);
    CHECK_THAT(checked.err, Catch::Contains("auth.fixture-dup: the plugin \"fixture-dup\" is in " +
                                            fixtureDir("misnamed") +
                                            "/fixture-misnamed.so, but a plugin is found by its "
                                            "file name: rename it latchkey-fixture-dup.so"));
    CHECK_THAT(runLatchkey({"plugins", "-c", misnamed}).err,
               Catch::Contains(fixtureDir("misnamed") +
                               "/fixture-misnamed.so holds the plugin \"fixture-dup\", but "
                               "`serve` looks for it as latchkey-fixture-dup.so"));
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

TEST_CASE("Plugins are created by kind, whatever the order of the file", "[plugins]") {
    TempDir dir;
    std::string text = testConfig(dir, "", "", "", {fixtureDir("good")});
    // A flow named before the hasher: it is still created after it.
    text.replace(text.find("auth:\n"), 6,
                 "auth:\n  fixture-good: {trace_file: " + dir.file("trace") + "}\n");
    HostProcess host(dir.write("latchkey.yaml", text));
    const std::string log = host.log();
    const auto at = [&](const std::string& what) {
        const auto found = log.find(what);
        INFO(what << " in\n" << log);
        REQUIRE(found != std::string::npos);
        return found;
    };
    const auto storage = at("plugin " + testStorageDriver() + " 1.0.0 (storage) ready");
    const auto mailer = at("plugin outbox 1.0.0 (mailer) ready");
    const auto hasher = at("plugin password 1.0.0 (hasher) ready");
    const auto flow = at("plugin fixture-good 0.1.0 (flow) ready");
    CHECK(storage < mailer);
    CHECK(mailer < hasher);
    CHECK(hasher < flow);
}

TEST_CASE("The core announces renames, password changes and deletions to every listener",
          "[plugins]") {
    TempDir dir;
    const std::string trace = dir.file("events");
    HostProcess host(dir.write(
        "latchkey.yaml", testConfig(dir, "", "  fixture-events: {trace_file: " + trace + "}\n", "",
                                    {fixtureDir("events")})));
    const HttpClient http = host.client();
    const std::string account = adminAccountKey(http);
    const std::string apiKey = createInstanceWithApiKey(http, account, "eventful");
    const auto created =
        http.post("/v1.1/instances/eventful/users/",
                  R"({"username": "ev", "password": "pass word 1"})", {{"X-API-KEY", apiKey}});
    REQUIRE(created.status == 201);
    const auto id = created.json()->getValue<long long>("id");
    const std::string user = "/v1.1/instances/eventful/users/" + std::to_string(id) + "/";
    // A rename is announced as such, not as a password change.
    REQUIRE(
        http.request("PATCH", user, R"({"username": "ev2"})", {{"X-API-KEY", account}}).status ==
        200);
    REQUIRE(http.request("PATCH", user, R"({"password": "pass word 2"})", {{"X-API-KEY", account}})
                .status == 200);
    REQUIRE(http.request("DELETE", user, "", {{"X-API-KEY", account}}).status == 204);
    REQUIRE(
        http.request("DELETE", "/v1.1/instances/eventful/", "", {{"X-API-KEY", account}}).status ==
        204);
    // One line per event: kind, instance id, user id (0 for the instance).
    std::istringstream lines(readFile(trace));
    std::vector<std::array<long long, 3>> events;
    std::string word;
    long long kind = 0;
    long long instance = 0;
    long long userId = 0;
    while (lines >> word >> kind >> instance >> userId)
        events.push_back({kind, instance, userId});
    REQUIRE(events.size() == 4);
    CHECK(events[0] == std::array<long long, 3>{6, events[0][1], id}); // UsernameChanged
    CHECK(events[1] == std::array<long long, 3>{1, events[0][1], id}); // PasswordChanged
    CHECK(events[2] == std::array<long long, 3>{2, events[0][1], id}); // UserDeleted
    CHECK(events[3] == std::array<long long, 3>{3, events[0][1], 0});  // InstanceDeleted
    CHECK(events[0][1] > 0);
}

TEST_CASE("A listener that fails is logged, the others still hear, and the client gets 503",
          "[plugins]") {
    TempDir dir;
    const std::string failing = dir.file("failing");
    const std::string trace = dir.file("events");
    // Two listeners: the first records, then fails on every event; the second only records.
    HostProcess host(
        dir.write("latchkey.yaml",
                  testConfig(dir, "",
                             "  fixture-events: {trace_file: " + failing + ", fail: true}\n" +
                                 "  fixture-events-b: {trace_file: " + trace + "}\n",
                             "", {fixtureDir("events")})));
    const HttpClient http = host.client();
    const std::string account = adminAccountKey(http);
    const std::string apiKey = createInstanceWithApiKey(http, account, "failing");
    const auto created =
        http.post("/v1.1/instances/failing/users/",
                  R"({"username": "ev", "password": "pass word 1"})", {{"X-API-KEY", apiKey}});
    REQUIRE(created.status == 201);
    const std::string user = "/v1.1/instances/failing/users/" +
                             std::to_string(created.json()->getValue<long long>("id")) + "/";
    const auto deleted = http.request("DELETE", user, "", {{"X-API-KEY", account}});
    CHECK(deleted.status == 503);
    // The deletion itself stays, and both listeners heard it.
    CHECK(http.get(user, {{"X-API-KEY", account}}).status == 404);
    CHECK_THAT(readFile(failing), Catch::StartsWith("event 2 "));
    CHECK_THAT(readFile(trace), Catch::StartsWith("event 2 "));
    CHECK_THAT(host.log(), Catch::Contains("a plugin failed on user event 2") &&
                               Catch::Contains("fixture listener fails on purpose"));
}

TEST_CASE("A plugin that declares the raw key/value facet is refused", "[plugins]") {
    TempDir dir;
    const auto result =
        runLatchkey({"serve", "-c",
                     dir.write("latchkey.yaml", testConfig(dir, "", "  fixture-greedy: {}\n", "",
                                                           {fixtureDir("greedy")}))});
    CHECK(result.exitCode == 1);
    CHECK_THAT(result.err, Catch::Contains("plugin fixture-greedy declares the storage facet "
                                           "latchkey.storage.key-values, which no plugin may use"));
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
