// ABI: what the host hands a plugin when it creates it: logging, services, other plugins.
#pragma once

#include <latchkey/clock.hpp>
#include <latchkey/events.hpp>
#include <latchkey/key_value_area.hpp>
#include <latchkey/logger.hpp>
#include <latchkey/random.hpp>
#include <latchkey/storage/records/instance.hpp>
#include <latchkey/storage/records/types.hpp>
#include <latchkey/support/null_metrics.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace latchkey {

class Identities;
class Mailer;
class OutboundHttp;
class PasswordHasher;

/// The host's services for one plugin, implemented by the host: a later minor may add
/// functions at the end. Valid for the plugin's whole life; thread-safe. Plugins are created in
/// this order, and within a kind in the order the config names them: storage, mailer, hasher,
/// flows, social backends; so a plugin sees the ones of the kinds before its own. (The plugin's
/// settings are not here: its constructor receives them, read once by its readSettings.)
class PluginContext {
public:
    virtual ~PluginContext() = default;

    /// A logger named after this plugin.
    virtual Logger& logger() = 0;
    /// The clock.
    virtual const Clock& clock() const = 0;
    /// The CSPRNG.
    virtual Random& random() = 0;
    /// This plugin's own key/value area (its name is the namespace). Not available while the
    /// storage plugin itself is being created.
    virtual KeyValueArea& values() = 0;
    /// The storage facet named `id` in `version`, if the plugin's entry declares it
    /// (kStorageFacets) and the driver has it; nullptr otherwise. Use storage<Facet>().
    virtual void* storageFacet(std::string_view id, std::uint32_t version) = 0;
    /// The mailer; nullptr before it is created.
    virtual Mailer* mailer() = 0;
    /// The password hasher; nullptr while storage and mailer plugins are created.
    virtual PasswordHasher* passwordHasher() = 0;
    /// The server's public base URL ("https://auth.example.com"), for links in mail.
    virtual std::string publicUrl() const = 0;
    /// `path` made absolute: relative paths are taken from the config file's directory.
    virtual std::string resolvePath(std::string_view path) const = 0;
    /// The instance called `name`, created (owned by the configured administrator account) if
    /// it does not exist. Throws std::runtime_error when it does not exist and there is no
    /// administrator to own it. Available from Flow::mount() on.
    virtual InstanceRecord ensureInstance(std::string_view name) = 0;
    /// A fresh user key in the form the store keeps. Deprecated since 2.1: users are created and
    /// their passwords set through identities(), which makes their keys.
    [[deprecated(
        "create users and set passwords through PluginContext::identities()")]] virtual SealedKey
    newUserKey() = 0;
    /// The host's HTTP client for calls to other servers (social providers).
    virtual OutboundHttp& http() = 0;
    /// The identity service: the one way to create, change, verify and delete users (since SDK
    /// 2.1). Available from Flow::mount() on.
    virtual Identities& identities() = 0;
    /// This plugin's metrics, served with the host's at GET /metrics (since SDK 2.5). The
    /// host's context overrides it; this default, for contexts written elsewhere (a test's),
    /// keeps nothing.
    virtual Metrics& metrics() {
        static NullMetrics none;
        return none;
    }
    /// Where this plugin publishes events of its own (since SDK 2.5); the host's context hands
    /// them to every event sink. This default, for contexts written elsewhere, drops them.
    virtual EventPublisher& events() {
        struct Dropping final : EventPublisher {
            void publish(Event) override {}
        };
        static Dropping none;
        return none;
    }

    /// The declared storage facet `Facet` (Sessions, LoginTokens, ...), or nullptr.
    template <class Facet>
    Facet* storage() {
        return static_cast<Facet*>(storageFacet(Facet::kInterfaceId, Facet::kInterfaceVersion));
    }
};

} // namespace latchkey
