// Loads built-in plugins in the test process, the way the host does, for component tests.
#include "support/in_process.hpp"

#include "runtime/yaml_loader.hpp"
#include "support/host_process.hpp"
#include "support/test_database.hpp"

#include <spdlog/sinks/null_sink.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>

namespace latchkey::test {

LoadedPlugin::LoadedPlugin(const std::string& file, const std::string& yaml,
                           runtime::ServiceLocator services) {
    ConfigErrors errors;
    ConfigValue config = runtime::parseYaml(yaml, runtime::processEnvironment(), errors);
    // Every library stays loaded until the test process ends: an exception thrown by plugin
    // code may still be in flight (and Catch may still be reading it) after the test's plugin
    // object is gone, and its type's code lives in the library.
    static std::mutex mutex;
    static std::map<std::string, std::shared_ptr<runtime::PluginLibrary>> loaded;
    std::shared_ptr<runtime::PluginLibrary> library;
    {
        std::lock_guard lock(mutex);
        auto& slot = loaded[file];
        if (!slot) slot = runtime::PluginLibrary::load(pluginDir() + "/" + file);
        library = slot;
    }
    const runtime::PluginSettings settings =
        runtime::PluginLibrary::readSettings(library, config, errors);
    if (!errors.empty()) throw std::runtime_error("bad test config: " + errors.issues()[0].message);
    if (!services.storage) services.storage = []() -> const StorageFacets* { return nullptr; };
    if (!services.mailer) services.mailer = [] { return nullptr; };
    if (!services.passwordHasher) services.passwordHasher = [] { return nullptr; };
    if (!services.newUserKey) {
        services.newUserKey = []() -> SealedKey {
            throw std::runtime_error("no keys in this test");
        };
    }
    if (!services.identities) {
        services.identities = []() -> Identities& {
            throw std::runtime_error("no identity service in this test");
        };
    }
    if (!services.ensureInstance) {
        services.ensureInstance = [](std::string_view) -> InstanceRecord {
            throw std::runtime_error("no instances in this test");
        };
    }
    auto log =
        std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
    context_ = std::make_unique<runtime::HostContext>(
        runtime::PluginIdentity{library->info().name, library->storageFacets()}, log, clock_,
        random_, services, "http://localhost", "/");
    plugin_ = runtime::createPlugin(library, *context_, settings);
}

LoadedPlugin::~LoadedPlugin() {
    plugin_.reset();
}

std::vector<std::string> storageDriversUnderTest() {
    std::vector<std::string> drivers{"sqlite"};
    if (const char* extra = std::getenv("LATCHKEY_TEST_DRIVERS")) {
        std::stringstream list(extra);
        std::string name;
        while (std::getline(list, name, ',')) {
            if (!name.empty() && name != "sqlite") drivers.push_back(name);
        }
    }
    return drivers;
}

std::unique_ptr<LoadedPlugin> openStore(const std::string& driver, const std::string& dir) {
    if (driver == "sqlite") {
        return std::make_unique<LoadedPlugin>("latchkey-sqlite.so", "path: " + dir + "/store.db\n");
    }
    auto database = std::make_shared<TestDatabase>(driver);
    auto store = std::make_unique<LoadedPlugin>("latchkey-" + driver + ".so", database->yaml());
    store->keepAlive(database);
    return store;
}

} // namespace latchkey::test
