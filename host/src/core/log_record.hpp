// Structured log lines: a line's fields beside its text, so that `logging.format: json` writes
// them as members of one JSON object while the text format keeps its line unchanged.
#pragma once

#include <spdlog/logger.h>

#include <cstdint>
#include <span>
#include <string_view>
#include <variant>

namespace latchkey::core {

/// One field of a structured line. Values are written as they are (JSON-escaped): redact and
/// bound them before they get here, as for the text line.
struct LogField {
    std::string_view name;
    std::variant<std::string_view, std::int64_t, double> value;
};

/// What a structured line is, besides its text.
struct LogRecord {
    std::string_view message; ///< A short fixed name of the kind of line ("request", "auth").
    std::span<const LogField> fields;
};

/// The record of the line this thread is writing (inside logRecord), else null. For the JSON
/// formatter, which runs on the writing thread (the host's loggers are synchronous).
const LogRecord* currentLogRecord() noexcept;

/// Writes `text` to `log` at `level`; a logger with the JSON formatter writes `record` instead.
void logRecord(spdlog::logger& log, spdlog::level::level_enum level, const LogRecord& record,
               std::string_view text);

} // namespace latchkey::core
