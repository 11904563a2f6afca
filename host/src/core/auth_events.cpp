// The authentication event log.
#include "core/auth_events.hpp"

#include <string>

namespace latchkey::core {

void logAuthEvent(spdlog::logger& log, const AuthEvent& e) {
    const std::string instance = e.instanceId ? std::to_string(*e.instanceId) : "-";
    const std::string user = e.userId ? std::to_string(*e.userId) : "unknown";
    const auto level = e.outcome == "success" ? spdlog::level::info : spdlog::level::warn;
    log.log(level, "auth event={} instance={} user={} client={} outcome={} reason={}", e.event,
            instance, user, e.client.empty() ? "-" : e.client, e.outcome,
            e.reason.empty() ? "-" : e.reason);
}

} // namespace latchkey::core
