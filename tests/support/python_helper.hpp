// A Python script run as a test's child process (the SMTP sink, the fake providers): started
// with Debian's Python, its stderr in a log file, stopped by closing its stdin.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace latchkey::test {

class PythonHelper {
public:
    /// Runs `/usr/bin/python3 <script> <args...>` (script relative to the source tree) with
    /// stderr to `logFile`, and waits (up to 15 s) for the first line it prints on stdout, which
    /// must start with "port ". Throws std::runtime_error naming `what`, with the log, otherwise.
    PythonHelper(const std::string& what, const std::string& script,
                 const std::vector<std::string>& args, const std::string& logFile);
    ~PythonHelper();
    PythonHelper(const PythonHelper&) = delete;
    PythonHelper& operator=(const PythonHelper&) = delete;

    /// The first line the script printed, e.g. "port 40123" (without the newline).
    const std::string& firstLine() const { return firstLine_; }

private:
    /// Closes the script's stdin (it exits then) and reaps it, killing it after 2 s.
    void stop() noexcept;

    pid_t pid_ = -1;
    int stdin_ = -1;
    std::string firstLine_;
};

} // namespace latchkey::test
