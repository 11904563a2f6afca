// The host's implementations of the SDK services: clock, CSPRNG, logger, and the plugin context.
#pragma once

#include "runtime/host_config.hpp"

#include <latchkey/clock.hpp>
#include <latchkey/context.hpp>
#include <latchkey/events.hpp>
#include <latchkey/logger.hpp>
#include <latchkey/metrics.hpp>
#include <latchkey/outbound_http.hpp>
#include <latchkey/random.hpp>
#include <latchkey/support/storage_facets.hpp>

#include <spdlog/logger.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace latchkey::runtime {

/// The system wall clock.
class SystemClock final : public Clock {
public:
    std::chrono::system_clock::time_point now() const override;
};

/// libsodium's randombytes (getrandom(2) underneath).
class SodiumRandom final : public Random {
public:
    SodiumRandom();
    void fill(void* data, std::size_t size) override;
};

/// An SDK Logger writing through an spdlog logger.
class SpdLogger final : public Logger {
public:
    explicit SpdLogger(std::shared_ptr<spdlog::logger> log);
    void log(LogLevel level, std::string_view message) override;
    bool enabled(LogLevel level) const override;

private:
    std::shared_ptr<spdlog::logger> log_;
};

/// Creates the host's spdlog loggers: all write to stderr, in `format`.
std::shared_ptr<spdlog::logger> makeLogger(const std::string& name, const std::string& level,
                                           LogFormat format = LogFormat::Text);

/// Where a context finds the plugins created so far (resolved at call time, not at creation).
struct ServiceLocator {
    std::function<const StorageFacets*()> storage; ///< Null while storage itself is created.
    std::function<Mailer*()> mailer;
    std::function<PasswordHasher*()> passwordHasher;
    std::function<InstanceRecord(std::string_view)> ensureInstance;
    std::function<SealedKey()> newUserKey;
    std::function<OutboundHttp&()> http;
    std::function<Identities&()> identities;      ///< Exists from Flow::mount() on.
    std::function<EventPublisher&()> events = {}; ///< Empty: events are dropped.
};

/// A plugin's key/value area: the store's KeyValues facet with the plugin's name as namespace.
class BoundKeyValues final : public KeyValueArea {
public:
    BoundKeyValues(std::string ns, std::function<const StorageFacets*()> storage);

    std::optional<std::string> get(std::string_view key) override;
    void put(std::string_view key, std::string_view value) override;
    bool putIfAbsent(std::string_view key, std::string_view value) override;
    bool compareAndSet(std::string_view key, std::string_view expected,
                       std::string_view value) override;
    bool remove(std::string_view key) override;
    std::vector<std::pair<std::string, std::string>> list(std::string_view prefix) override;
    /// Through the driver's KeyValuePages; a driver without it is listed whole and cut.
    std::vector<std::pair<std::string, std::string>>
    listAfter(std::string_view prefix, std::string_view after, std::size_t limit) override;

private:
    KeyValues& facet() const;

    std::string ns_;
    std::function<const StorageFacets*()> storage_;
};

/// Whether a plugin may declare (and be handed) the storage facet `id`: any but KeyValues (a
/// plugin has its own area, bound to its name), the driver's own interface and UserStates (the
/// identity service's).
bool declarableFacet(std::string_view id) noexcept;

/// What the host knows of the plugin a context is for.
struct PluginIdentity {
    std::string name;                       ///< Its name: the namespace of its key/value area.
    std::vector<std::string> storageFacets; ///< The facets its entry declares.
};

/// The context handed to one plugin.
class HostContext final : public PluginContext {
public:
    /// `metrics` null: one that keeps nothing.
    HostContext(PluginIdentity plugin, std::shared_ptr<spdlog::logger> log, const Clock& clock,
                Random& random, ServiceLocator services, std::string publicUrl,
                std::string configDirectory, std::unique_ptr<Metrics> metrics = nullptr);

    Logger& logger() override { return logger_; }
    const Clock& clock() const override { return clock_; }
    Random& random() override { return random_; }
    KeyValueArea& values() override { return values_; }
    void* storageFacet(std::string_view id, std::uint32_t version) override;
    Mailer* mailer() override { return services_.mailer(); }
    PasswordHasher* passwordHasher() override { return services_.passwordHasher(); }
    std::string publicUrl() const override { return publicUrl_; }
    std::string resolvePath(std::string_view path) const override;
    InstanceRecord ensureInstance(std::string_view name) override {
        return services_.ensureInstance(name);
    }
    SealedKey newUserKey() override { return services_.newUserKey(); }
    OutboundHttp& http() override { return services_.http(); }
    Identities& identities() override { return services_.identities(); }
    Metrics& metrics() override { return *metrics_; }
    /// The host's events, each marked with this plugin's name (`data.plugin`).
    EventPublisher& events() override { return events_; }

    /// The name of the plugin this context is for.
    const std::string& pluginName() const { return plugin_.name; }

private:
    PluginIdentity plugin_;
    SpdLogger logger_;
    const Clock& clock_;
    Random& random_;
    ServiceLocator services_;
    std::string publicUrl_;
    std::string configDirectory_;
    BoundKeyValues values_;
    std::unique_ptr<Metrics> metrics_;
    /// What events() hands out: the host's publisher, with the plugin named in every event.
    class MarkedEvents final : public EventPublisher {
    public:
        explicit MarkedEvents(HostContext& owner) : owner_(owner) {}
        void publish(Event event) override;

    private:
        HostContext& owner_;
    } events_{*this};
};

} // namespace latchkey::runtime
