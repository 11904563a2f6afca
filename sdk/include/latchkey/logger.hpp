// ABI: the logger the host hands each plugin (one per plugin, named after it).
#pragma once

#include <string_view>

namespace latchkey {

/// Severity of a log line.
enum class LogLevel { Debug, Info, Warn, Error };

/// Writes log lines through the host's logging. Thread-safe. Never pass secrets (keys,
/// passwords, tokens) in messages: the log is not a secure place.
class Logger {
public:
    virtual ~Logger() = default;
    /// Writes one line at `level`.
    virtual void log(LogLevel level, std::string_view message) = 0;
    /// True when lines at `level` are written (to skip building expensive messages).
    virtual bool enabled(LogLevel level) const = 0;

    /// Shorthand for log(LogLevel::Debug, message).
    void debug(std::string_view message) { log(LogLevel::Debug, message); }
    /// Shorthand for log(LogLevel::Info, message).
    void info(std::string_view message) { log(LogLevel::Info, message); }
    /// Shorthand for log(LogLevel::Warn, message).
    void warn(std::string_view message) { log(LogLevel::Warn, message); }
    /// Shorthand for log(LogLevel::Error, message).
    void error(std::string_view message) { log(LogLevel::Error, message); }
};

} // namespace latchkey
