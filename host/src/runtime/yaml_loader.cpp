// Reads the YAML config file into the SDK's ConfigValue tree, expanding ${VAR} from the
// environment.
#include "runtime/yaml_loader.hpp"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace latchkey::runtime {

EnvLookup processEnvironment() {
    return [](const std::string& name) -> std::optional<std::string> {
        // Read at start-up only, before any thread that could change the environment exists.
        const char* value = std::getenv(name.c_str()); // NOLINT(concurrency-mt-unsafe)
        if (!value) return std::nullopt;
        return std::string(value);
    };
}

namespace {

bool isNameStart(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}

bool isNameChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

ConfigValue::Kind kindOf(const YAML::Node& node) {
    switch (node.Type()) {
    case YAML::NodeType::Scalar: return ConfigValue::Kind::Scalar;
    case YAML::NodeType::Sequence: return ConfigValue::Kind::Sequence;
    case YAML::NodeType::Map: return ConfigValue::Kind::Map;
    default: return ConfigValue::Kind::Null;
    }
}

ConfigValue convert(const YAML::Node& node, const std::string& path, const EnvLookup& env,
                    ConfigErrors& errors) {
    const YAML::Mark mark = node.Mark();
    ConfigValue out(kindOf(node), path, mark.line + 1, mark.column + 1);
    switch (node.Type()) {
    case YAML::NodeType::Scalar:
        out.setScalar(expandEnvironment(node.Scalar(), env, out, errors));
        break;
    case YAML::NodeType::Sequence: {
        std::size_t index = 0;
        for (const auto& item : node) {
            out.addItem(convert(item, path + "[" + std::to_string(index++) + "]", env, errors));
        }
        break;
    }
    case YAML::NodeType::Map: {
        std::set<std::string> seen;
        for (const auto& entry : node) {
            const YAML::Node& key = entry.first;
            if (!key.IsScalar()) {
                ConfigValue at(ConfigValue::Kind::Null, path, key.Mark().line + 1,
                               key.Mark().column + 1);
                errors.add(at, "map keys must be plain names");
                continue;
            }
            const std::string name = key.Scalar();
            const std::string childPath = ConfigErrors::join(path, name);
            if (!seen.insert(name).second) {
                ConfigValue at(ConfigValue::Kind::Null, childPath, key.Mark().line + 1,
                               key.Mark().column + 1);
                errors.add(at, "duplicate key \"" + name + "\"");
                continue;
            }
            ConfigValue child = convert(entry.second, childPath, env, errors);
            if (child.line() == 0 || child.isNull()) {
                // yaml-cpp gives an empty value no position, or the next token's (often on the
                // next line): point at its key instead.
                child = ConfigValue(child.kind(), childPath, key.Mark().line + 1,
                                    key.Mark().column + 1);
            }
            out.addEntry(name, std::move(child));
        }
        break;
    }
    default: break;
    }
    return out;
}

} // namespace

std::string expandEnvironment(const std::string& text, const EnvLookup& env, const ConfigValue& at,
                              ConfigErrors& errors) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c != '$') {
            out += c;
            continue;
        }
        if (i + 1 < text.size() && text[i + 1] == '$') {
            out += '$';
            ++i;
            continue;
        }
        if (i + 1 >= text.size() || text[i + 1] != '{') {
            out += c;
            continue;
        }
        const std::size_t close = text.find('}', i + 2);
        if (close == std::string::npos) {
            // Never echo the value: it may be a secret with a stray "${" in it.
            errors.add(at, "unterminated ${ (write $$ for a literal $)");
            return text;
        }
        const std::string expression = text.substr(i + 2, close - i - 2);
        std::size_t nameEnd = 0;
        while (nameEnd < expression.size() && isNameChar(expression[nameEnd]))
            ++nameEnd;
        const std::string name = expression.substr(0, nameEnd);
        const std::string rest = expression.substr(nameEnd);
        if (name.empty() || !isNameStart(name[0]) || (!rest.empty() && rest.rfind(":-", 0) != 0)) {
            errors.add(at, "bad variable reference: use ${NAME} or ${NAME:-default} (write $$ "
                           "for a literal $)");
            return text;
        }
        const std::optional<std::string> value = env(name);
        if (!rest.empty()) {
            out += (value && !value->empty()) ? *value : rest.substr(2);
        } else if (value) {
            out += *value;
        } else {
            errors.add(at, "environment variable " + name + " is not set");
        }
        i = close;
    }
    return out;
}

ConfigValue parseYaml(const std::string& text, const EnvLookup& env, ConfigErrors& errors) {
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        errors.add(ConfigIssue{"", e.mark.line + 1, e.mark.column + 1, "YAML syntax: " + e.msg});
        return {};
    }
    if (root.IsNull()) return ConfigValue(ConfigValue::Kind::Map, "", 1, 1);
    ConfigValue tree = convert(root, "", env, errors);
    if (tree.kind() != ConfigValue::Kind::Map) {
        errors.add(tree, "the top level must be a map of sections");
        return {};
    }
    return tree;
}

ConfigValue loadYamlFile(const std::string& path, const EnvLookup& env, ConfigErrors& errors) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        errors.add(ConfigIssue{"", 0, 0, "cannot read the file"});
        return {};
    }
    std::ostringstream text;
    text << in.rdbuf();
    return parseYaml(text.str(), env, errors);
}

} // namespace latchkey::runtime
