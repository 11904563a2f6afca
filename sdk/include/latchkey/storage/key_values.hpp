// ABI: the storage facet for plugins' own data: strings under (namespace, key).
#pragma once

#include <latchkey/errors.hpp>
#include <latchkey/storage/records/types.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace latchkey {

/// Plugins' own data: string values under (namespace, key). Plugins never see this facet: each
/// gets a KeyValueArea bound to its own name as namespace (see PluginContext::values()).
/// Every method is atomic and thread-safe; a write that breaks a uniqueness rule throws Conflict
/// naming the field; an unreachable database throws Unavailable.
class KeyValues {
public:
    /// The name Plugin::provide is asked with.
    static constexpr const char* kInterfaceId = "latchkey.storage.key-values";
    /// The version Plugin::provide is asked with.
    static constexpr std::uint32_t kInterfaceVersion = 1;

    virtual ~KeyValues() = default;

    /// The value under (ns, key), or nullopt.
    virtual std::optional<std::string> getValue(std::string_view ns, std::string_view key) = 0;
    /// Sets (ns, key) to value, replacing any old value.
    virtual void putValue(std::string_view ns, std::string_view key, std::string_view value) = 0;
    /// Sets (ns, key) only if absent; true when this call inserted it.
    virtual bool putValueIfAbsent(std::string_view ns, std::string_view key,
                                  std::string_view value) = 0;
    /// Replaces the value of (ns, key) only if it is still `expected`; true when replaced.
    /// The way to change a value several hosts may change at once (read, compute, swap).
    virtual bool compareAndSetValue(std::string_view ns, std::string_view key,
                                    std::string_view expected, std::string_view value) = 0;
    /// Removes (ns, key); true when it existed.
    virtual bool deleteValue(std::string_view ns, std::string_view key) = 0;
    /// Every (key, value) of `ns` whose key starts with `prefix`, ordered by key.
    virtual std::vector<std::pair<std::string, std::string>>
    listValues(std::string_view ns, std::string_view prefix) = 0;
};

/// Plugins' own data read in pages (since SDK 2.3): the host's sweeps of counters and sessions
/// walk a namespace with it instead of loading all of it. A driver without this facet is read
/// with KeyValues::listValues (all at once). Atomic per call and thread-safe, like KeyValues.
class KeyValuePages {
public:
    /// The name Plugin::provide is asked with.
    static constexpr const char* kInterfaceId = "latchkey.storage.key-value-pages";
    /// The version Plugin::provide is asked with.
    static constexpr std::uint32_t kInterfaceVersion = 1;

    virtual ~KeyValuePages() = default;

    /// At most `limit` (key, value) pairs of `ns` whose key starts with `prefix` and is greater
    /// than `after` (byte order; empty `after`: from the first), ordered by key. A driver may
    /// answer fewer than `limit` only at the end (the SQL drivers cap `limit` at 100 000).
    virtual std::vector<std::pair<std::string, std::string>>
    listValuesAfter(std::string_view ns, std::string_view prefix, std::string_view after,
                    std::size_t limit) = 0;
};

} // namespace latchkey
