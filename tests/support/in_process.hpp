// Loads built-in plugins in the test process, the way the host does, for component tests.
#pragma once

#include "runtime/plugin_loader.hpp"
#include "runtime/services.hpp"

#include <latchkey/support/storage_facets.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace latchkey::test {

/// A plugin from the build's plugin directory, created with `yaml` as its config node. Keeps
/// its context alive as long as the plugin.
class LoadedPlugin {
public:
    /// `file` like "latchkey-sqlite.so"; `yaml` the plugin's settings (a YAML map).
    LoadedPlugin(const std::string& file, const std::string& yaml,
                 runtime::ServiceLocator services = {});
    ~LoadedPlugin();
    LoadedPlugin(const LoadedPlugin&) = delete;
    LoadedPlugin& operator=(const LoadedPlugin&) = delete;

    Plugin& plugin() { return *plugin_; }
    /// The plugin as `Interface` (Store, Mailer, PasswordHasher, ...); throws if it is not one.
    template <class Interface>
    Interface& as() {
        auto* found = provided<Interface>(*plugin_);
        if (!found) throw std::logic_error("the plugin does not provide this interface");
        return *found;
    }
    /// Keeps `resource` (a test database...) alive until after the plugin is gone.
    void keepAlive(std::shared_ptr<void> resource) { kept_ = std::move(resource); }

private:
    std::shared_ptr<void> kept_; ///< Declared first: destroyed last.
    runtime::SystemClock clock_;
    runtime::SodiumRandom random_;
    std::unique_ptr<runtime::HostContext> context_;
    std::shared_ptr<Plugin> plugin_;
};

/// The storage drivers the conformance suite runs against: "sqlite" always, plus those named in
/// LATCHKEY_TEST_DRIVERS (comma-separated) when their servers are set up.
std::vector<std::string> storageDriversUnderTest();

/// A fresh, empty store of `driver` (a new SQLite file in `dir`, or a new database).
std::unique_ptr<LoadedPlugin> openStore(const std::string& driver, const std::string& dir);

} // namespace latchkey::test
