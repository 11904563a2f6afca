// The host's events: what the core and the plugins publish, handed to every event sink.
#pragma once

#include "core/auth_events.hpp"

#include <latchkey/clock.hpp>
#include <latchkey/events.hpp>
#include <latchkey/random.hpp>
#include <latchkey/user_events.hpp>

#include <spdlog/logger.h>

#include <memory>
#include <optional>
#include <vector>

namespace latchkey::runtime {

/// Fills in an event's id and time, adds the API it came through, and hands it to every sink
/// on the publishing thread. add() and clear() are for start-up and shutdown only; publish()
/// is thread-safe in between.
class EventHub final : public EventPublisher {
public:
    EventHub(const Clock& clock, Random& random, std::shared_ptr<spdlog::logger> log);

    /// Adds a sink (start-up only).
    void add(EventSink& sink) { sinks_.push_back(&sink); }
    /// Forgets every sink (before they are destroyed).
    void clear() noexcept { sinks_.clear(); }
    /// No sink: publishing costs nothing.
    bool empty() const noexcept { return sinks_.empty(); }

    void publish(Event event) override;

    /// The event an authentication event is, if any: `user.logged_in`, `user.login_failed`,
    /// `user.throttled`, `user.password_changed`, `user.username_changed`, `user.key_reset`,
    /// and their `account.*` kin; nullopt for a shed login (counted in the metrics).
    static std::optional<Event> fromAuthEvent(const core::AuthEvent& e);
    /// The event an announcement is, if any: `user.deleted`, `instance.deleted`,
    /// `user.deactivated`, `user.activated` (a password or username change comes as an
    /// authentication event).
    static std::optional<Event> fromUserEvent(const UserEvent& e);

private:
    const Clock& clock_;
    Random& random_;
    std::shared_ptr<spdlog::logger> log_;
    std::vector<EventSink*> sinks_;
};

} // namespace latchkey::runtime
