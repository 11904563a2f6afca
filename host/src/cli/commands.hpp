// What the `latchkey` subcommands share: exit codes, printing config problems, and the
// operator's commands kept out of main.cpp.
#pragma once

#include <latchkey/config_errors.hpp>

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace latchkey::cli {

inline constexpr int kExitOk = 0;      ///< Done.
inline constexpr int kExitFailure = 1; ///< Failed at run time (the store, the account, a plugin).
inline constexpr int kExitUsage = 2;   ///< Usage or config errors.

/// An option that takes a value: `-c FILE`, `--config FILE` or `--config=FILE`.
struct ValueOption {
    const char* shortName; ///< "-c", or nullptr when there is none.
    const char* longName;  ///< "--config".
    const char* what;      ///< What the value is, for the message when it is missing ("a file").
    std::string* value;    ///< Where the value goes.
};

/// Reads `args` from index `first` on, where every word must be one of `options` with its value.
/// False, with `error` naming the word, for anything else or a missing value.
bool readOptions(const std::vector<std::string>& args, std::size_t first,
                 std::initializer_list<ValueOption> options, std::string& error);

/// Prints every problem as `file:line:column: key.path: message` (each once) and a count.
void printIssues(const std::string& file, const ConfigErrors& errors);

/// `latchkey admin SUBCOMMAND ...`; `args` are the words after `admin`. Returns the exit code.
int runAdmin(const std::vector<std::string>& args);

/// `latchkey migrate -c FILE`; `args` are the words after `migrate`. Returns the exit code.
int runMigrate(const std::vector<std::string>& args);

/// `latchkey backup -c FILE -o OUT`; `args` are the words after `backup`. Returns the exit code.
int runBackup(const std::vector<std::string>& args);

} // namespace latchkey::cli
