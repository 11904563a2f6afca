// Runs the storage conformance suite against the drivers built in this tree: sqlite always, and
// those named in LATCHKEY_TEST_DRIVERS (a fresh database each, on the test servers).
#include "storage_conformance.hpp"

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
    }
    return out;
}
