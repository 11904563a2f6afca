// The authentication event log.
#include "core/auth_events.hpp"

#include <string>

namespace latchkey::core {

void logAuthEvent(spdlog::logger& log, const AuthEventObserver& observe, const AuthEvent& e) {
    const std::string instance = e.instanceId ? std::to_string(*e.instanceId) : "-";
    const std::string user = e.userId ? std::to_string(*e.userId) : "unknown";
    const auto level = e.outcome == "success" ? spdlog::level::info : spdlog::level::warn;
    log.log(level, "auth event={} instance={} user={} client={} outcome={} reason={}", e.event,
            instance, user, e.client.empty() ? "-" : e.client, e.outcome,
            e.reason.empty() ? "-" : e.reason);
    if (!observe) return;
    try {
        observe(e);
    } catch (const std::exception& failure) {
        log.error("auth event={}: an observer failed: {}", e.event, failure.what());
    }
}

} // namespace latchkey::core
