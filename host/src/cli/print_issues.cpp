// printIssues, shared by every subcommand that reads the config.
#include "cli/commands.hpp"

#include "runtime/application.hpp"

#include <algorithm>
#include <iostream>

namespace latchkey::cli {

void printIssues(const std::string& file, const ConfigErrors& errors) {
    // A host-wide social setting is read again for each instance with settings of its own: a
    // problem with it is reported once.
    std::vector<std::string> lines;
    for (const auto& issue : errors.issues()) {
        std::string line = runtime::formatIssue(file, issue);
        if (std::find(lines.begin(), lines.end(), line) == lines.end())
            lines.push_back(std::move(line));
    }
    for (const auto& line : lines)
        std::cerr << line << "\n";
    std::cerr << file << ": " << lines.size() << " problem" << (lines.size() == 1 ? "" : "s")
              << "\n";
}

} // namespace latchkey::cli
