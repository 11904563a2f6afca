// Support (compiled into the plugin): reads typed settings out of a config node, recording
// every problem.
#pragma once

#include <latchkey/config_errors.hpp>
#include <latchkey/config_value.hpp>
#include <latchkey/support/units.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey {

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
        const std::string text = asciiLower(v->scalar());
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
