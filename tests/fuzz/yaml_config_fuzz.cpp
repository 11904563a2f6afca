// libFuzzer target for the config loader: any text as the YAML file, with any ${VAR} in it,
// must come to a tree and the host's settings or to recorded problems (each with a file, line
// and key), never to a crash, a leak, undefined behaviour or an exception.
#include "runtime/host_config.hpp"
#include "runtime/yaml_loader.hpp"

#include <cstdint>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>

using namespace latchkey;
using namespace latchkey::runtime;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
        if (name == "SET") return std::string("value");
        if (name == "EMPTY") return std::string();
        return std::nullopt;
    };
    try {
        ConfigErrors errors;
        const ConfigValue root = parseYaml(text, env, errors);
        (void)readHostConfig(root, "/fuzz/latchkey.yaml", "/fuzz/plugins", errors);
        for (const auto& issue : errors.issues())
            (void)issue;
    } catch (const std::exception&) {
        std::abort();
    }
    return 0;
}
