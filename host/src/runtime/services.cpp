// The host's implementations of the SDK services: clock, CSPRNG, logger, and the plugin context.
#include "runtime/services.hpp"

#include "runtime/host_config.hpp"
#include "runtime/host_metrics.hpp"
#include "runtime/json_log_formatter.hpp"

#include <latchkey/storage/backup.hpp>

#include <sodium.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

namespace latchkey::runtime {

std::chrono::system_clock::time_point SystemClock::now() const {
    return std::chrono::system_clock::now();
}

SodiumRandom::SodiumRandom() {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

void SodiumRandom::fill(void* data, std::size_t size) {
    randombytes_buf(data, size);
}

SpdLogger::SpdLogger(std::shared_ptr<spdlog::logger> log) : log_(std::move(log)) {}

namespace {
spdlog::level::level_enum toSpd(LogLevel level) {
    switch (level) {
    case LogLevel::Debug: return spdlog::level::debug;
    case LogLevel::Info: return spdlog::level::info;
    case LogLevel::Warn: return spdlog::level::warn;
    case LogLevel::Error: return spdlog::level::err;
    }
    return spdlog::level::info;
}
} // namespace

void SpdLogger::log(LogLevel level, std::string_view message) {
    log_->log(toSpd(level), "{}", message);
}

bool SpdLogger::enabled(LogLevel level) const {
    return log_->should_log(toSpd(level));
}

std::shared_ptr<spdlog::logger> makeLogger(const std::string& name, const std::string& level,
                                           LogFormat format) {
    // A sink per format, its formatter set once: a logger's set_pattern would change the
    // formatter of every logger on a shared sink.
    static const auto text = [] {
        auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
        sink->set_formatter(std::make_unique<spdlog::pattern_formatter>(
            "%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ [%n] %v", spdlog::pattern_time_type::utc));
        return sink;
    }();
    static const auto json = [] {
        auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
        sink->set_formatter(std::make_unique<JsonLogFormatter>());
        return sink;
    }();
    auto log = std::make_shared<spdlog::logger>(
        name, format == LogFormat::Json ? spdlog::sink_ptr(json) : spdlog::sink_ptr(text));
    log->set_level(spdlog::level::from_str(level));
    return log;
}

BoundKeyValues::BoundKeyValues(std::string ns, std::function<const StorageFacets*()> storage)
    : ns_(std::move(ns)), storage_(std::move(storage)) {}

KeyValues& BoundKeyValues::facet() const {
    const StorageFacets* storage = storage_ ? storage_() : nullptr;
    if (!storage) {
        throw std::logic_error("plugin " + ns_ +
                               ": no key/value area while the storage plugin is created");
    }
    return storage->keyValues();
}

std::optional<std::string> BoundKeyValues::get(std::string_view key) {
    return facet().getValue(ns_, key);
}

void BoundKeyValues::put(std::string_view key, std::string_view value) {
    facet().putValue(ns_, key, value);
}

bool BoundKeyValues::putIfAbsent(std::string_view key, std::string_view value) {
    return facet().putValueIfAbsent(ns_, key, value);
}

bool BoundKeyValues::compareAndSet(std::string_view key, std::string_view expected,
                                   std::string_view value) {
    return facet().compareAndSetValue(ns_, key, expected, value);
}

bool BoundKeyValues::remove(std::string_view key) {
    return facet().deleteValue(ns_, key);
}

std::vector<std::pair<std::string, std::string>> BoundKeyValues::list(std::string_view prefix) {
    return facet().listValues(ns_, prefix);
}

std::vector<std::pair<std::string, std::string>>
BoundKeyValues::listAfter(std::string_view prefix, std::string_view after, std::size_t limit) {
    KeyValues& values = facet();
    const StorageFacets* storage = storage_();
    if (auto* pages = static_cast<KeyValuePages*>(
            storage->find(KeyValuePages::kInterfaceId, KeyValuePages::kInterfaceVersion))) {
        return pages->listValuesAfter(ns_, prefix, after, limit);
    }
    // An SDK 2.0-2.2 driver: everything, then the page.
    auto all = values.listValues(ns_, prefix);
    const auto from = std::upper_bound(all.begin(), all.end(), after,
                                       [](std::string_view key, const auto& entry) {
                                           return key < std::string_view(entry.first);
                                       });
    std::vector<std::pair<std::string, std::string>> page;
    for (auto it = from; it != all.end() && page.size() < limit; ++it)
        page.push_back(std::move(*it));
    return page;
}

HostContext::HostContext(PluginIdentity plugin, std::shared_ptr<spdlog::logger> log,
                         const Clock& clock, Random& random, ServiceLocator services,
                         std::string publicUrl, std::string configDirectory,
                         std::unique_ptr<Metrics> metrics)
    : plugin_(std::move(plugin)), logger_(std::move(log)), clock_(clock), random_(random),
      services_(std::move(services)), publicUrl_(std::move(publicUrl)),
      configDirectory_(std::move(configDirectory)), values_(plugin_.name, services_.storage),
      metrics_(metrics ? std::move(metrics) : HostMetrics::discarding()) {}

void HostContext::MarkedEvents::publish(Event event) {
    // A plugin's own mark, first: no plugin can pass its events off as the core's or another's.
    std::erase_if(event.data, [](const auto& field) { return field.first == "plugin"; });
    event.data.insert(event.data.begin(), {"plugin", owner_.plugin_.name});
    if (owner_.services_.events) owner_.services_.events().publish(std::move(event));
}

bool declarableFacet(std::string_view id) noexcept {
    // UserStates is the identity service's alone: a deactivation that bypassed it would skip
    // the guards and the events. (Users stays declarable for SDK 2.0 plugins.) A backup is a
    // copy of every secret's seal and hash: the operator's, through `latchkey backup`.
    return id != KeyValues::kInterfaceId && id != KeyValuePages::kInterfaceId &&
           id != StorageDriver::kInterfaceId && id != UserStates::kInterfaceId &&
           id != StorageBackup::kInterfaceId;
}

void* HostContext::storageFacet(std::string_view id, std::uint32_t version) {
    // Only what the entry declared: the host checked those against the driver at start, and a
    // plugin reaches no other table.
    const bool declared = std::find(plugin_.storageFacets.begin(), plugin_.storageFacets.end(),
                                    id) != plugin_.storageFacets.end();
    // Never the raw key/values or their pages (every namespace) or the driver itself, declared or
    // not.
    if (!declarableFacet(id)) return nullptr;
    const StorageFacets* storage = services_.storage ? services_.storage() : nullptr;
    return declared && storage ? storage->find(id, version) : nullptr;
}

std::string HostContext::resolvePath(std::string_view path) const {
    return resolveAgainst(configDirectory_, std::string(path));
}

} // namespace latchkey::runtime
