// Wires a validated configuration into a running host and takes it down in the right order:
// drain the server, destroy plugin objects, then unload their libraries.
#pragma once

#include "core/identity_core.hpp"
#include "core/key_vault.hpp"
#include "runtime/event_hub.hpp"
#include "runtime/host_config.hpp"
#include "runtime/host_router.hpp"
#include "runtime/http_server.hpp"
#include "runtime/lane_guarded_hasher.hpp"
#include "runtime/plugin_loader.hpp"
#include "runtime/poco_outbound_http.hpp"
#include "runtime/services.hpp"
#include "runtime/yaml_loader.hpp"

#include <latchkey/flow.hpp>
#include <latchkey/mailer.hpp>
#include <latchkey/social.hpp>
#include <latchkey/storage/backup.hpp>
#include <latchkey/support/storage_facets.hpp>
#include <latchkey/user_events.hpp>

#include <spdlog/logger.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace latchkey::runtime {

/// Where plugins are looked for when the config names no `plugins.paths`: the installed
/// layout's plugin directory beside the executable (`<prefix>/bin/../lib/latchkey/plugins`) if
/// the executable is in a `bin` directory and that directory and those above it up to the
/// prefix are owned by root or us and writable by no one else; else the directory configured
/// at build time.
std::string defaultPluginDir();

/// A plugin the config names, found and with its settings read.
struct SelectedPlugin {
    PluginUse use;
    std::shared_ptr<PluginLibrary> library; ///< Null when not found or in the wrong slot.
    PluginSettings settings;                ///< What its reader returned.
};

/// A config file read and checked: host settings, the plugins found, and the plugins the config
/// names in creation order (storage, mailer, hasher, flows, social; file order within a kind).
struct LoadedConfig {
    HostConfig host;
    PluginCatalog catalog;
    std::vector<SelectedPlugin> selected;
};

/// Which libraries loadConfiguration loads.
enum class PluginScan {
    Used,       ///< Only those the config names, by file name (`serve`, `check-config`).
    Everything, ///< Every library in the plugin directories (`latchkey plugins`).
};

/// Reads `file`, validates the host's sections, finds every named plugin and runs its settings
/// reader. Every problem goes into `errors`; no plugin is created. With PluginScan::Used, a
/// name that matches no file makes it scan the directories after all, only to list what is
/// there in the message (the host does not start then).
LoadedConfig loadConfiguration(const std::string& file, const EnvLookup& env, ConfigErrors& errors,
                               PluginScan scan = PluginScan::Used);

/// Formats a problem as `file:line:column: key.path: message`.
std::string formatIssue(const std::string& file, const ConfigIssue& issue);

/// A failure while starting (a plugin that throws, an unusable database, a wrong secret).
class StartupError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The running host.
class Application {
public:
    Application(LoadedConfig config, std::shared_ptr<spdlog::logger> log);
    ~Application();
    Application(const Application&) = delete;
    Application& operator=(const Application&) = delete;

    /// Creates the plugins, the identity core and the routes, then starts serving.
    /// Throws StartupError with a message for the operator.
    void start();
    /// Opens the store (running its migrations) and the hasher, and the identity core on them,
    /// without creating any other plugin or listening: for the operator's commands
    /// (`latchkey admin`). Throws StartupError with a message for the operator.
    void openForAdministration();
    /// Creates the storage plugin only, which brings the store's schema up to date (`latchkey
    /// migrate`). Throws StartupError with a message for the operator.
    void openStore();
    /// The driver's StorageBackup facet once the store is open, or nullptr when it has none.
    StorageBackup* storageBackup();
    /// The identity core, once start() or openForAdministration() has run.
    core::IdentityCore& identityCore();
    /// The port actually bound.
    std::uint16_t port() const;
    /// The URL the server listens on.
    std::string listenUrl() const;
    /// Where GET /metrics is served ("http://host:port/metrics"), or empty when it is off.
    std::string metricsUrl() const;
    /// Drains and stops; safe to call more than once. Returns false if the drain timed out.
    bool stop();

private:
    /// Which plugins createPlugins creates.
    enum class PluginSet { All, StorageAndHasher, Storage };
    void openVault();
    void createPlugins(PluginSet which);
    /// The identity service and core over the plugins; `throttled`: with the login throttle.
    void openCore(bool throttled);
    void checkStorageFacets() const;
    void announce(const UserEvent& event);
    /// The first reason a UserChangeGuard gives against `proposed`, if any; when there is one,
    /// the guards that let it through are told it is finished.
    std::optional<std::string> guard(const UserEvent& proposed) const;
    /// Tells every guard that `proposed`, which they all let through, is finished.
    void guardDone(const UserEvent& proposed) const;
    void mountRoutes();
    /// GET /metrics on the main router or the metrics listener's, and every sampled metric.
    void mountMetrics();
    InstanceRecord ensureInstance(std::string_view wanted);

    LoadedConfig config_;
    std::shared_ptr<spdlog::logger> log_;
    SystemClock clock_;
    SodiumRandom random_;
    EventHub events_;       ///< Its sinks are plugins; cleared before the first sink is destroyed.
    std::string publicUrl_; ///< server.public_url, or derived from the bound address.
    std::unique_ptr<core::KeyVault> vault_;
    std::unique_ptr<PocoOutboundHttp> outbound_;
    /// Null when server.metrics is false; what it samples lives shorter, so the metrics
    /// listener (which scrapes it) is stopped first.
    std::unique_ptr<HostMetrics> metrics_;
    std::vector<std::unique_ptr<CountedOutboundHttp>> countedOutbound_; ///< One per plugin.
    std::vector<std::unique_ptr<HostContext>> contexts_;
    std::vector<std::shared_ptr<Plugin>> plugins_; ///< In creation order.
    /// The storage plugin behind the per-host caches; storage_ is built on it.
    std::unique_ptr<core::CachedStorage> cachedStorage_;
    std::optional<StorageFacets> storage_; ///< The storage plugin's facets, once it exists.
    Mailer* mailer_ = nullptr;
    std::unique_ptr<LaneGuardedHasher> guardedHasher_; ///< Wraps the plugin's hasher.
    PasswordHasher* hasher_ = nullptr;                 ///< guardedHasher_, for everyone.
    std::vector<Flow*> flows_;
    std::vector<UserEventListener*> listeners_; ///< Plugins that keep state per user.
    std::vector<UserChangeGuard*> guards_;      ///< Plugins whose rules can refuse a removal.
    core::SocialBackends social_;
    /// The login throttle's counters (`latchkey.throttle`) and the throttle on them.
    std::unique_ptr<BoundKeyValues> throttleValues_;
    std::unique_ptr<core::LoginThrottle> throttle_;
    std::unique_ptr<core::IdentityService> identities_; ///< Created once the plugins exist.
    std::unique_ptr<core::IdentityCore> core_;
    std::unique_ptr<HostRouter> router_;
    std::unique_ptr<HttpServer> server_;
    /// server.metrics_listen: a listener with a router of its own that serves /metrics only.
    std::unique_ptr<HostRouter> metricsRouter_;
    std::unique_ptr<HttpServer> metricsServer_;
};

} // namespace latchkey::runtime
