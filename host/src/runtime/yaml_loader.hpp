// Reads the YAML config file into the SDK's ConfigValue tree, expanding ${VAR} from the
// environment.
#pragma once

#include <latchkey/support/config_reader.hpp>

#include <functional>
#include <optional>
#include <string>

namespace latchkey::runtime {

/// Looks up an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

/// The process environment.
EnvLookup processEnvironment();

/// Expands `${NAME}` and `${NAME:-default}` (default when unset or empty) in `text`; `$$` is a
/// literal `$`. Problems (unset variable, bad syntax) are recorded against `at`.
std::string expandEnvironment(const std::string& text, const EnvLookup& env, const ConfigValue& at,
                              ConfigErrors& errors);

/// Parses YAML `text` into a tree with key paths and 1-based positions, expanding variables
/// in scalar values. Syntax errors, non-scalar keys and duplicate keys are recorded in `errors`.
ConfigValue parseYaml(const std::string& text, const EnvLookup& env, ConfigErrors& errors);

/// Reads and parses the file at `path`; an unreadable file is recorded in `errors`.
ConfigValue loadYamlFile(const std::string& path, const EnvLookup& env, ConfigErrors& errors);

} // namespace latchkey::runtime
