// `logging.format: json`: every log line as one JSON object.
#pragma once

#include <spdlog/formatter.h>

#include <memory>

namespace latchkey::runtime {

/// Writes `{"time": "2026-12-04T10:00:00.123Z", "level": "info", "logger": "latchkey",
/// "message": "..."}` and a newline per line. A structured line (core::logRecord) has its
/// record's message and fields instead of the text. Every string is JSON-escaped, so no input
/// can end a line or forge a member.
class JsonLogFormatter final : public spdlog::formatter {
public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
    std::unique_ptr<spdlog::formatter> clone() const override;
};

} // namespace latchkey::runtime
