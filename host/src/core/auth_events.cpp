// The authentication event log.
#include "core/auth_events.hpp"

#include "core/log_record.hpp"

#include <array>
#include <string>

namespace latchkey::core {

void logAuthEvent(spdlog::logger& log, const AuthEventObserver& observe, const AuthEvent& e) {
    const std::string instance = e.instanceId ? std::to_string(*e.instanceId) : "-";
    const std::string user = e.userId ? std::to_string(*e.userId) : "unknown";
    const std::string_view client = e.client.empty() ? "-" : e.client;
    const std::string_view reason = e.reason.empty() ? "-" : e.reason;
    const auto level = e.outcome == "success" ? spdlog::level::info : spdlog::level::warn;
    // In JSON, ids are numbers and absent ones null-free: "-" and "unknown" as in the text.
    const auto id = [](const std::optional<Id>& value,
                       std::string_view absent) -> decltype(LogField::value) {
        if (value) return static_cast<std::int64_t>(*value);
        return absent;
    };
    const std::array<LogField, 6> fields{{
        {"event", e.event},
        {"instance", id(e.instanceId, "-")},
        {"user", id(e.userId, "unknown")},
        {"client", client},
        {"outcome", e.outcome},
        {"reason", reason},
    }};
    logRecord(log, level, {"auth", fields},
              fmt::format("auth event={} instance={} user={} client={} outcome={} reason={}",
                          e.event, instance, user, client, e.outcome, reason));
    if (!observe) return;
    try {
        observe(e);
    } catch (const std::exception& failure) {
        log.error("auth event={}: an observer failed: {}", e.event, failure.what());
    }
}

} // namespace latchkey::core
