// ABI: the problems found in a configuration, all of them, with where they are.
#pragma once

#include <latchkey/config_value.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace latchkey {

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

} // namespace latchkey
