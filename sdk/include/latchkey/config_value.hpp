// ABI: one node of a plugin's configuration (parsed YAML with source positions).
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace latchkey {

/// One node of the configuration tree, with the key path and the line it came from.
/// Scalars keep their text: the reader decides how to interpret them.
class ConfigValue {
public:
    /// What the node holds.
    enum class Kind { Null, Scalar, Sequence, Map };

    ConfigValue() = default;
    /// A node of the given kind at `path` ("storage.driver", "plugins.paths[0]"), 1-based position.
    ConfigValue(Kind kind, std::string path, int line, int column)
        : kind_(kind), path_(std::move(path)), line_(line), column_(column) {}

    /// The node's kind.
    Kind kind() const noexcept { return kind_; }
    /// True for Null (an absent value or YAML `~`).
    bool isNull() const noexcept { return kind_ == Kind::Null; }
    /// The text of a scalar; empty for other kinds.
    const std::string& scalar() const noexcept { return scalar_; }
    /// The elements of a sequence; empty for other kinds.
    const std::vector<ConfigValue>& items() const noexcept { return items_; }
    /// The entries of a map in file order; empty for other kinds.
    const std::vector<std::pair<std::string, ConfigValue>>& entries() const noexcept {
        return entries_;
    }
    /// The child of a map under `key`, or nullptr.
    const ConfigValue* find(std::string_view key) const noexcept {
        for (const auto& [name, value] : entries_) {
            if (name == key) return &value;
        }
        return nullptr;
    }
    /// The dotted key path of this node; empty for the root.
    const std::string& path() const noexcept { return path_; }
    /// 1-based line in the file, 0 when unknown.
    int line() const noexcept { return line_; }
    /// 1-based column in the file, 0 when unknown.
    int column() const noexcept { return column_; }

    /// Makes this node a scalar holding `text`.
    void setScalar(std::string text) {
        kind_ = Kind::Scalar;
        scalar_ = std::move(text);
    }
    /// Appends an element to a sequence node.
    void addItem(ConfigValue value) { items_.push_back(std::move(value)); }
    /// Appends an entry to a map node.
    void addEntry(std::string key, ConfigValue value) {
        entries_.emplace_back(std::move(key), std::move(value));
    }
    /// Removes the map entry `key`, if present (the host strips keys it handles itself).
    void removeEntry(std::string_view key) {
        entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                      [&](const auto& e) { return e.first == key; }),
                       entries_.end());
    }

private:
    Kind kind_ = Kind::Null;
    std::string path_;
    int line_ = 0;
    int column_ = 0;
    std::string scalar_;
    std::vector<ConfigValue> items_;
    std::vector<std::pair<std::string, ConfigValue>> entries_;
};

} // namespace latchkey
