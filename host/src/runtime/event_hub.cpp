// The host's events.
#include "runtime/event_hub.hpp"

#include "runtime/host_router.hpp"

#include "core/key_vault.hpp"

#include <algorithm>
#include <array>

namespace latchkey::runtime {

EventHub::EventHub(const Clock& clock, Random& random, std::shared_ptr<spdlog::logger> log)
    : clock_(clock), random_(random), log_(std::move(log)) {}

void EventHub::publish(Event event) {
    if (sinks_.empty()) return;
    if (event.id.empty()) {
        std::array<unsigned char, 16> bytes{};
        random_.fill(bytes.data(), bytes.size());
        event.id = core::toHex(bytes.data(), bytes.size());
    }
    if (event.time == std::chrono::system_clock::time_point{}) event.time = clock_.now();
    const bool hasApi = std::any_of(event.data.begin(), event.data.end(),
                                    [](const auto& field) { return field.first == "api"; });
    if (!hasApi) {
        if (std::string api = HostRouter::currentApi(); !api.empty())
            event.data.emplace_back("api", std::move(api));
    }
    for (EventSink* sink : sinks_) {
        try {
            sink->accept(event);
        } catch (const std::exception& e) {
            log_->error("event {} {}: a sink failed: {}", event.type, event.id, e.what());
        } catch (...) {
            log_->error("event {} {}: a sink failed", event.type, event.id);
        }
    }
}

std::optional<Event> EventHub::fromAuthEvent(const core::AuthEvent& e) {
    const bool account = e.event.rfind("account_", 0) == 0;
    std::string verb;
    if (e.event == "login" || e.event == "social_login" || e.event == "account_login") {
        if (e.outcome == "success")
            verb = "logged_in";
        else if (e.outcome == "failure")
            verb = "login_failed";
        else if (e.outcome == "refused")
            verb = "throttled";
    } else if (e.outcome == "success") {
        if (e.event == "password_change" || e.event == "account_password_change")
            verb = "password_changed";
        else if (e.event == "username_change")
            verb = "username_changed";
        else if (e.event == "key_reset" || e.event == "account_key_reset")
            verb = "key_reset";
    }
    if (verb.empty()) return std::nullopt;
    Event event;
    event.type = std::string(account ? "account." : "user.") + verb;
    event.instanceId = e.instanceId;
    event.userId = e.userId;
    if (!e.client.empty()) event.data.emplace_back("client", std::string(e.client));
    if (!e.reason.empty()) event.data.emplace_back("reason", std::string(e.reason));
    if (e.event == "social_login") event.data.emplace_back("method", "social");
    return event;
}

std::optional<Event> EventHub::fromUserEvent(const UserEvent& e) {
    Event event;
    switch (e.kind) {
    case UserEventKind::UserDeleted: event.type = "user.deleted"; break;
    case UserEventKind::InstanceDeleted: event.type = "instance.deleted"; break;
    case UserEventKind::Deactivated: event.type = "user.deactivated"; break;
    case UserEventKind::Activated: event.type = "user.activated"; break;
    default: return std::nullopt;
    }
    event.instanceId = e.instanceId;
    if (e.userId != 0) event.userId = e.userId;
    return event;
}

} // namespace latchkey::runtime
