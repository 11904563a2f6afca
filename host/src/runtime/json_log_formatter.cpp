// `logging.format: json`.
#include "runtime/json_log_formatter.hpp"

#include "core/log_record.hpp"

#include <latchkey/support/json_writer.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace latchkey::runtime {

namespace {

void append(spdlog::memory_buf_t& dest, std::string_view text) {
    dest.append(text.data(), text.data() + text.size());
}

/// RFC 3339 UTC with milliseconds, as the text format writes it.
void appendTime(spdlog::memory_buf_t& dest, spdlog::log_clock::time_point at) {
    const auto since = at.time_since_epoch();
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since);
    const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since - seconds);
    const std::time_t whole = static_cast<std::time_t>(seconds.count());
    std::tm utc{};
    gmtime_r(&whole, &utc);
    std::array<char, 32> text{};
    const int n = std::snprintf(text.data(), text.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                                utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                                utc.tm_min, utc.tm_sec, static_cast<int>(millis.count()));
    if (n > 0) append(dest, std::string_view(text.data(), static_cast<std::size_t>(n)));
}

void appendValue(spdlog::memory_buf_t& dest, const core::LogField& field) {
    if (const auto* text = std::get_if<std::string_view>(&field.value)) {
        append(dest, jsonQuote(*text));
    } else if (const auto* number = std::get_if<std::int64_t>(&field.value)) {
        append(dest, std::to_string(*number));
    } else {
        std::array<char, 32> digits{};
        const int n =
            std::snprintf(digits.data(), digits.size(), "%.3f", std::get<double>(field.value));
        append(dest, n > 0 ? std::string_view(digits.data(), static_cast<std::size_t>(n)) : "0");
    }
}

} // namespace

void JsonLogFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
    append(dest, "{\"time\": \"");
    appendTime(dest, msg.time);
    append(dest, "\", \"level\": ");
    const auto level = spdlog::level::to_string_view(msg.level);
    append(dest, jsonQuote(std::string_view(level.data(), level.size())));
    append(dest, ", \"logger\": ");
    append(dest, jsonQuote(std::string_view(msg.logger_name.data(), msg.logger_name.size())));
    append(dest, ", \"message\": ");
    if (const core::LogRecord* record = core::currentLogRecord()) {
        append(dest, jsonQuote(record->message));
        for (const core::LogField& field : record->fields) {
            append(dest, ", ");
            append(dest, jsonQuote(field.name));
            append(dest, ": ");
            appendValue(dest, field);
        }
    } else {
        append(dest, jsonQuote(std::string_view(msg.payload.data(), msg.payload.size())));
    }
    append(dest, "}\n");
}

std::unique_ptr<spdlog::formatter> JsonLogFormatter::clone() const {
    return std::make_unique<JsonLogFormatter>();
}

} // namespace latchkey::runtime
