// Structured log lines.
#include "core/log_record.hpp"

namespace latchkey::core {

namespace {

thread_local const LogRecord* writing = nullptr;

} // namespace

const LogRecord* currentLogRecord() noexcept {
    return writing;
}

void logRecord(spdlog::logger& log, spdlog::level::level_enum level, const LogRecord& record,
               std::string_view text) {
    if (!log.should_log(level)) return;
    struct Scope {
        const LogRecord* saved;
        ~Scope() { writing = saved; }
    } scope{writing};
    writing = &record;
    log.log(level, "{}", text);
}

} // namespace latchkey::core
