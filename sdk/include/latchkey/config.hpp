// A plugin's configuration node (parsed YAML with source positions) and a reader that validates it.
#pragma once

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
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

/// One configuration problem: where it is and what is wrong.
struct ConfigIssue {
    std::string path;    ///< Dotted key path, e.g. "auth.password.min_length".
    int line = 0;        ///< 1-based line, 0 when unknown.
    int column = 0;      ///< 1-based column, 0 when unknown.
    std::string message; ///< What is wrong, for a person.
};

/// Collects every problem found while validating, so all of them can be reported at once.
class ConfigErrors {
public:
    /// Records a problem with the node `at`.
    void add(const ConfigValue& at, std::string message) {
        issues_.push_back({at.path(), at.line(), at.column(), std::move(message)});
    }
    /// Records a problem with `key` under `parent` (for keys that are missing).
    void addUnder(const ConfigValue& parent, std::string_view key, std::string message) {
        issues_.push_back(
            {join(parent.path(), key), parent.line(), parent.column(), std::move(message)});
    }
    /// Records a problem found outside any node.
    void add(ConfigIssue issue) { issues_.push_back(std::move(issue)); }
    /// True when nothing was recorded.
    bool empty() const noexcept { return issues_.empty(); }
    /// Everything recorded, in order.
    const std::vector<ConfigIssue>& issues() const noexcept { return issues_; }

    /// `parent.key`, or `key` at the root.
    static std::string join(std::string_view parent, std::string_view key) {
        if (parent.empty()) return std::string(key);
        std::string out(parent);
        out += '.';
        out += key;
        return out;
    }

private:
    std::vector<ConfigIssue> issues_;
};

namespace detail {

inline std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

inline std::size_t editDistance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
            diagonal = above;
        }
    }
    return row[b.size()];
}

/// Parses a whole decimal number; nullopt on anything else.
inline std::optional<std::int64_t> parseInt(std::string_view text) {
    std::int64_t value = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
    return value;
}

/// "24h" → (24, "h"): leading digits and the lowercase unit after them; nullopt without digits.
inline std::optional<std::pair<std::int64_t, std::string>> splitQuantity(std::string_view text) {
    std::size_t digits = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) {
        ++digits;
    }
    const auto number = parseInt(text.substr(0, digits));
    if (!number) return std::nullopt;
    return std::make_pair(*number, lower(text.substr(digits)));
}

} // namespace detail

/// Parses "1500ms", "30s", "10m", "24h", "7d" or a bare number of seconds.
inline std::optional<std::chrono::milliseconds> parseDuration(std::string_view text) {
    const auto parts = detail::splitQuantity(text);
    if (!parts) return std::nullopt;
    const auto& [number, unit] = *parts;
    std::int64_t factor = 0;
    if (unit == "ms")
        factor = 1;
    else if (unit.empty() || unit == "s")
        factor = 1000;
    else if (unit == "m" || unit == "min")
        factor = 60'000;
    else if (unit == "h")
        factor = 3'600'000;
    else if (unit == "d")
        factor = 86'400'000;
    else
        return std::nullopt;
    if (number > std::numeric_limits<std::int64_t>::max() / factor) return std::nullopt;
    return std::chrono::milliseconds(number * factor);
}

/// Parses "512", "64KiB", "1MiB", "2GiB" (or KB/MB/GB, powers of 1000) into bytes.
inline std::optional<std::uint64_t> parseBytes(std::string_view text) {
    const auto parts = detail::splitQuantity(text);
    if (!parts) return std::nullopt;
    const auto& [number, unit] = *parts;
    std::uint64_t factor = 0;
    if (unit.empty() || unit == "b")
        factor = 1;
    else if (unit == "kib")
        factor = 1ULL << 10;
    else if (unit == "mib")
        factor = 1ULL << 20;
    else if (unit == "gib")
        factor = 1ULL << 30;
    else if (unit == "kb")
        factor = 1000;
    else if (unit == "mb")
        factor = 1'000'000;
    else if (unit == "gb")
        factor = 1'000'000'000;
    else
        return std::nullopt;
    const auto value = static_cast<std::uint64_t>(number);
    if (value > std::numeric_limits<std::uint64_t>::max() / factor) return std::nullopt;
    return value * factor;
}

/// Reads typed values out of one map node, records every problem in a ConfigErrors, and reports
/// the keys nobody asked for as unknown when finish() is called. Getters return the fallback
/// when the key is absent or wrong, so validation can go on and report everything at once.
class ConfigReader {
public:
    /// Reads `node`, which must be a map (a Null node reads as an empty map).
    ConfigReader(const ConfigValue& node, ConfigErrors& errors) : node_(node), errors_(errors) {
        if (!node.isNull() && node.kind() != ConfigValue::Kind::Map) {
            errors_.add(node, "expected a map of settings");
        }
    }

    /// A string; `fallback` when absent.
    std::string string(std::string_view key, std::string fallback = {}) {
        const ConfigValue* v = scalar(key);
        if (!v) return fallback;
        return v->scalar();
    }

    /// A string that must be present and not empty.
    std::string requiredString(std::string_view key) {
        const ConfigValue* v = scalar(key);
        if (!v) {
            const ConfigValue* present = node_.find(key);
            if (!present) {
                errors_.addUnder(node_, key, "is required");
            } else if (present->isNull()) {
                errors_.add(*present, "must not be empty"); // `key:` with nothing after it
            }
            return {};
        }
        if (v->scalar().empty()) errors_.add(*v, "must not be empty");
        return v->scalar();
    }

    /// A whole number within [min, max]; `fallback` when absent.
    std::int64_t integer(std::string_view key, std::int64_t fallback,
                         std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                         std::int64_t max = std::numeric_limits<std::int64_t>::max()) {
        const ConfigValue* v = scalar(key);
        if (!v) return fallback;
        const auto parsed = detail::parseInt(v->scalar());
        if (!parsed) {
            errors_.add(*v, "expected a whole number, got \"" + v->scalar() + "\"");
            return fallback;
        }
        if (*parsed < min || *parsed > max) {
            errors_.add(*v, "must be between " + std::to_string(min) + " and " +
                                std::to_string(max) + ", got " + v->scalar());
            return fallback;
        }
        return *parsed;
    }

    /// true/false (also yes/no, on/off); `fallback` when absent.
    bool boolean(std::string_view key, bool fallback) {
        const ConfigValue* v = scalar(key);
        if (!v) return fallback;
        const std::string text = detail::lower(v->scalar());
        if (text == "true" || text == "yes" || text == "on") return true;
        if (text == "false" || text == "no" || text == "off") return false;
        errors_.add(*v, "expected true or false, got \"" + v->scalar() + "\"");
        return fallback;
    }

    /// A duration ("30s", "24h", "1500ms"; a bare number is seconds) within [min, max].
    std::chrono::milliseconds duration(std::string_view key, std::chrono::milliseconds fallback,
                                       std::chrono::milliseconds min = {},
                                       std::chrono::milliseconds max = std::chrono::hours(24)) {
        const ConfigValue* v = scalar(key);
        if (!v) return fallback;
        const auto parsed = parseDuration(v->scalar());
        if (!parsed) {
            errors_.add(*v,
                        "expected a duration such as 30s, 10m or 24h, got \"" + v->scalar() + "\"");
            return fallback;
        }
        if (*parsed < min || *parsed > max) {
            errors_.add(*v, "must be between " + std::to_string(min.count()) + "ms and " +
                                std::to_string(max.count()) + "ms");
            return fallback;
        }
        return *parsed;
    }

    /// A size ("64KiB", "1MiB"; a bare number is bytes) within [min, max].
    std::uint64_t bytes(std::string_view key, std::uint64_t fallback, std::uint64_t min = 0,
                        std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) {
        const ConfigValue* v = scalar(key);
        if (!v) return fallback;
        const auto parsed = parseBytes(v->scalar());
        if (!parsed) {
            errors_.add(*v, "expected a size such as 512KiB or 1MiB, got \"" + v->scalar() + "\"");
            return fallback;
        }
        if (*parsed < min || *parsed > max) {
            errors_.add(*v, "must be between " + std::to_string(min) + " and " +
                                std::to_string(max) + " bytes");
            return fallback;
        }
        return *parsed;
    }

    /// A list of strings (a single string is accepted as a list of one).
    std::vector<std::string> strings(std::string_view key) {
        const ConfigValue* v = child(key);
        std::vector<std::string> out;
        if (!v || v->isNull()) return out;
        if (v->kind() == ConfigValue::Kind::Scalar) {
            out.push_back(v->scalar());
            return out;
        }
        if (v->kind() != ConfigValue::Kind::Sequence) {
            errors_.add(*v, "expected a list of strings");
            return out;
        }
        for (const auto& item : v->items()) {
            if (item.kind() == ConfigValue::Kind::Scalar) {
                out.push_back(item.scalar());
            } else {
                errors_.add(item, "expected a string");
            }
        }
        return out;
    }

    /// The raw child node (any kind), or nullptr; marks the key as known.
    const ConfigValue* child(std::string_view key) {
        known_.insert(std::string(key));
        return node_.find(key);
    }

    /// Marks keys as handled elsewhere, so finish() does not call them unknown.
    void allow(std::initializer_list<std::string_view> keys) {
        for (auto key : keys)
            known_.insert(std::string(key));
    }

    /// Reports every key that no getter asked for, suggesting the closest known one.
    void finish() {
        for (const auto& [name, value] : node_.entries()) {
            if (known_.contains(name)) continue;
            std::string message = "unknown key \"" + name + "\"";
            std::string best;
            std::size_t bestDistance = 3;
            for (const auto& candidate : known_) {
                std::size_t d = detail::editDistance(name, candidate);
                // A shortened name ("max_len" for "max_length") is a likely slip too.
                const bool prefix = name.size() >= 3 && (candidate.rfind(name, 0) == 0 ||
                                                         name.rfind(candidate, 0) == 0);
                if (prefix) d = std::min<std::size_t>(d, 2);
                if (d < bestDistance) {
                    bestDistance = d;
                    best = candidate;
                }
            }
            if (!best.empty()) message += " (did you mean \"" + best + "\"?)";
            errors_.add(value, std::move(message));
        }
    }

    /// The node being read.
    const ConfigValue& node() const noexcept { return node_; }
    /// Where problems are recorded.
    ConfigErrors& errors() noexcept { return errors_; }

private:
    const ConfigValue* scalar(std::string_view key) {
        const ConfigValue* v = child(key);
        if (!v || v->isNull()) return nullptr;
        if (v->kind() != ConfigValue::Kind::Scalar) {
            errors_.add(*v, "expected a single value, not a list or map");
            return nullptr;
        }
        return v;
    }

    const ConfigValue& node_;
    ConfigErrors& errors_;
    std::set<std::string, std::less<>> known_;
};

} // namespace latchkey
