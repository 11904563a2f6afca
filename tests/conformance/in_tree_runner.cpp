// Runs the storage conformance suite against the drivers built in this tree: sqlite always, and
// those named in LATCHKEY_TEST_DRIVERS (a fresh database each, on the test servers).
#include "storage_conformance.hpp"

#include "core/cached_storage.hpp"
#include "support/in_process.hpp"

#include <latchkey/storage.hpp>

std::vector<latchkey::conformance::Driver> latchkey::conformance::driversUnderTest() {
    // The SQL drivers implement every facet this SDK has.
    const std::vector<std::string> every{
        StorageDriver::kInterfaceId, KeyValues::kInterfaceId,   Accounts::kInterfaceId,
        Instances::kInterfaceId,     ApiKeys::kInterfaceId,     Users::kInterfaceId,
        Groups::kInterfaceId,        Classes::kInterfaceId,     Files::kInterfaceId,
        Sessions::kInterfaceId,      LoginTokens::kInterfaceId, SocialIdentities::kInterfaceId,
        UserStates::kInterfaceId};
    std::vector<Driver> out;
    for (const auto& name : test::storageDriversUnderTest()) {
        out.push_back({name,
                       [name](const std::string& dir) -> std::shared_ptr<Plugin> {
                           std::shared_ptr<test::LoadedPlugin> loaded = test::openStore(name, dir);
                           return {loaded, &loaded->plugin()};
                       },
                       every});
        // The same driver as the host and its plugins see it: through the per-host caches,
        // with entries kept a minute, so that a write the caches fail to forget shows as a
        // stale read somewhere in the suite.
        out.push_back({name + " through the host's caches",
                       [name](const std::string& dir) -> std::shared_ptr<Plugin> {
                           struct Cached {
                               explicit Cached(std::shared_ptr<test::LoadedPlugin> loaded)
                                   : store(std::move(loaded)),
                                     cached(store->plugin(),
                                            core::CacheSettings{std::chrono::seconds(60),
                                                                std::size_t{64} << 20}) {}
                               std::shared_ptr<test::LoadedPlugin> store;
                               core::CachedStorage cached;
                           };
                           auto held = std::make_shared<Cached>(test::openStore(name, dir));
                           return {held, &held->cached};
                       },
                       every});
    }
    return out;
}
