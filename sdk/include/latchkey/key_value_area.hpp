// ABI: a plugin's own key/value area, bound to its name (PluginContext::values()).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace latchkey {

/// String values under keys, private to one plugin: the host binds the area to the plugin's
/// name, and no other plugin can reach it. Several hosts may share the store: change a value
/// with get → compareAndSet → retry, never get → put. Implemented by the host: a later minor
/// may add functions at the end. Thread-safe; an unreachable database throws Unavailable.
class KeyValueArea {
public:
    virtual ~KeyValueArea() = default;

    /// The value under `key`, or nullopt.
    virtual std::optional<std::string> get(std::string_view key) = 0;
    /// Sets `key` to `value`, replacing any old value.
    virtual void put(std::string_view key, std::string_view value) = 0;
    /// Sets `key` only if absent; true when this call inserted it.
    virtual bool putIfAbsent(std::string_view key, std::string_view value) = 0;
    /// Replaces the value of `key` only if it is still `expected`; true when replaced.
    virtual bool compareAndSet(std::string_view key, std::string_view expected,
                               std::string_view value) = 0;
    /// Removes `key`; true when it existed.
    virtual bool remove(std::string_view key) = 0;
    /// Every (key, value) whose key starts with `prefix`, ordered by key.
    virtual std::vector<std::pair<std::string, std::string>> list(std::string_view prefix) = 0;
    /// At most `limit` (key, value) pairs whose key starts with `prefix` and comes after
    /// `after` (empty: from the first), ordered by key: a listing in pages, for sweeps that must
    /// not hold every entry in memory; a page shorter than `limit` (at most 100 000) is the
    /// last. Since SDK 2.3.
    virtual std::vector<std::pair<std::string, std::string>>
    listAfter(std::string_view prefix, std::string_view after, std::size_t limit) = 0;
};

} // namespace latchkey
