// What a plugin's context hands it: its own key/value area, and only the storage facets its
// entry declares.
#include "runtime/services.hpp"
#include "support/in_process.hpp"
#include "support/temp_dir.hpp"

#include <latchkey/storage.hpp>

#include <catch2/catch.hpp>
#include <spdlog/sinks/null_sink.h>

using namespace latchkey;
using namespace latchkey::runtime;

namespace {

struct Contexts {
    latchkey::test::TempDir dir;
    std::unique_ptr<latchkey::test::LoadedPlugin> driver =
        latchkey::test::openStore("sqlite", dir.path().string());
    StorageFacets facets{driver->plugin()};
    SystemClock clock;
    SodiumRandom random;

    HostContext make(const std::string& name, std::vector<std::string> declared) {
        ServiceLocator services;
        services.storage = [this]() -> const StorageFacets* { return &facets; };
        return HostContext(PluginIdentity{name, std::move(declared)},
                           std::make_shared<spdlog::logger>(
                               "test", std::make_shared<spdlog::sinks::null_sink_mt>()),
                           clock, random, services, "http://localhost", "/");
    }
};

} // namespace

TEST_CASE("A plugin gets the storage facets its entry declares, and no other", "[context]") {
    Contexts c;
    HostContext flow = c.make("flow", {Sessions::kInterfaceId, LoginTokens::kInterfaceId});
    HostContext mailer = c.make("mailer", {});
    CHECK(flow.storage<Sessions>() == &c.facets.sessions());
    CHECK(flow.storage<LoginTokens>() == &c.facets.loginTokens());
    // The driver has these, but the plugin did not ask for them.
    CHECK(flow.storage<Users>() == nullptr);
    CHECK(flow.storage<Accounts>() == nullptr);
    CHECK(flow.storage<KeyValues>() == nullptr);
    CHECK(mailer.storage<Sessions>() == nullptr);
    // The raw key/values (every plugin's namespace) are never handed out, declared or not.
    // Nor the user states: a deactivation must go through the identity service's guards.
    HostContext greedy = c.make(
        "greedy", {KeyValues::kInterfaceId, StorageDriver::kInterfaceId, UserStates::kInterfaceId});
    CHECK(greedy.storage<KeyValues>() == nullptr);
    CHECK(greedy.storage<StorageDriver>() == nullptr);
    CHECK(greedy.storage<UserStates>() == nullptr);
    CHECK(c.facets.userStatesIfAny() != nullptr); // the driver has them
    // Another version of a declared facet than the driver has is not handed out either.
    CHECK(flow.storageFacet(Sessions::kInterfaceId, Sessions::kInterfaceVersion + 1) == nullptr);
}

TEST_CASE("A plugin's key/value area is bound to its name", "[context]") {
    Contexts c;
    HostContext alpha = c.make("alpha", {});
    HostContext beta = c.make("beta", {});
    alpha.values().put("shared/key", "alpha's");
    CHECK(alpha.values().get("shared/key") == "alpha's");
    CHECK_FALSE(beta.values().get("shared/key").has_value());
    CHECK_FALSE(beta.values().remove("shared/key"));
    CHECK(beta.values().putIfAbsent("shared/key", "beta's"));
    CHECK(alpha.values().get("shared/key") == "alpha's");
    CHECK(alpha.values().compareAndSet("shared/key", "alpha's", "alpha's 2"));
    CHECK_FALSE(beta.values().compareAndSet("shared/key", "alpha's 2", "stolen"));
    CHECK(beta.values().list("shared/") ==
          std::vector<std::pair<std::string, std::string>>{{"shared/key", "beta's"}});
    // Underneath, the names are the namespaces.
    CHECK(c.facets.keyValues().getValue("alpha", "shared/key") == "alpha's 2");
    CHECK(c.facets.keyValues().getValue("beta", "shared/key") == "beta's");
}

TEST_CASE("No key/value area while the storage plugin itself is created", "[context]") {
    SystemClock clock;
    SodiumRandom random;
    ServiceLocator services;
    services.storage = []() -> const StorageFacets* { return nullptr; };
    HostContext context(
        PluginIdentity{"sqlite", {}},
        std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>()),
        clock, random, services, "http://localhost", "/");
    CHECK_THROWS_WITH(context.values().get("k"), Catch::Contains("no key/value area"));
    CHECK(context.storage<Sessions>() == nullptr);
}
