// The storage driver as the host and its plugins see it: the same facets, with the reads every
// request makes (instance by name, API key by lookup, user by key or id, user's active state,
// class by name, session by hash, a plugin's single key/value) answered from per-host caches, and
// every write through this host invalidating what it changed once the driver has stored it
// (docs/architecture.md, "Per-host caches").
#pragma once

#include "core/read_cache.hpp"

#include <latchkey/plugin.hpp>

#include <memory>
#include <string_view>

namespace latchkey::core {

/// `cache:` of the configuration.
struct CacheSettings {
    /// How long another host's write may go unseen here (every entry's time-to-live); zero
    /// turns the caches off.
    std::chrono::microseconds ttl{std::chrono::seconds(1)};
    /// Estimated bytes all the caches may hold together.
    std::size_t maxBytes = std::size_t{64} << 20;
};

/// The counters of each cache, for logs and metrics.
struct StorageCacheStats {
    CacheStats instances;
    CacheStats apiKeys;
    CacheStats users; ///< By key.
    CacheStats usersById;
    CacheStats userStates;
    CacheStats classes;
    CacheStats sessions;
    CacheStats values; ///< Plugins' key/values.
};

/// A Plugin whose provide() answers the cached facets (Instances, ApiKeys, Users, UserStates,
/// Classes, Groups, Sessions, KeyValues) with caching wrappers around the driver's, and every
/// other facet with the driver's own. Build the host's StorageFacets from it, so that the core and
/// every plugin that declared a facet read through the same caches and invalidate them by writing.
///
/// A write made through this host is seen by its next read; one made through another host on the
/// same database is seen within `ttl`. Writes to the database from outside any host are seen
/// within `ttl` as well.
class CachedStorage final : public Plugin {
public:
    /// `driver` must outlive this object.
    CachedStorage(Plugin& driver, CacheSettings settings,
                  const MonotonicMicros& now = steadyMicros);
    ~CachedStorage() override;

    CachedStorage(const CachedStorage&) = delete;
    CachedStorage& operator=(const CachedStorage&) = delete;

    void* provide(std::string_view id, std::uint32_t version) noexcept override;

    /// Stops reading entries again in the background (refresh ahead); lookups read for
    /// themselves from then on. Call it before the driver or anything it uses goes; the
    /// destructor does too.
    void stopRefreshing();

    /// What each cache did so far.
    StorageCacheStats stats() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace latchkey::core
