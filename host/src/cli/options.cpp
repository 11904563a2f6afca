// readOptions, shared by every subcommand: `-c FILE`, `--config FILE`, `--config=FILE` and the
// like, read one way.
#include "cli/commands.hpp"

namespace latchkey::cli {

bool readOptions(const std::vector<std::string>& args, std::size_t first,
                 std::initializer_list<ValueOption> options, std::string& error) {
    for (std::size_t i = first; i < args.size(); ++i) {
        const std::string& arg = args[i];
        const ValueOption* matched = nullptr;
        std::optional<std::string> inlineValue;
        for (const ValueOption& option : options) {
            const std::string longName = option.longName;
            if (arg == option.longName || (option.shortName && arg == option.shortName)) {
                matched = &option;
            } else if (arg.rfind(longName + "=", 0) == 0) {
                matched = &option;
                inlineValue = arg.substr(longName.size() + 1);
            }
            if (matched) break;
        }
        if (!matched) {
            error = "unexpected argument \"" + arg + "\"";
            return false;
        }
        if (inlineValue) {
            *matched->value = std::move(*inlineValue);
        } else if (i + 1 < args.size()) {
            *matched->value = args[++i];
        } else {
            error = arg + " needs " + matched->what;
            return false;
        }
    }
    return true;
}

} // namespace latchkey::cli
