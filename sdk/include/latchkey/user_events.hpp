// ABI: what the core announces about users, for plugins that keep state of their own per user.
#pragma once

#include <latchkey/storage/records/types.hpp>

#include <cstdint>

namespace latchkey {

/// What happened. A later minor may add kinds: ignore the ones you do not know.
enum class UserEventKind : std::uint32_t {
    PasswordChanged = 1, ///< The user has a new password (and a new user key).
    UserDeleted = 2,     ///< The user is gone, with every storage record that belongs to it.
    InstanceDeleted = 3, ///< The instance is gone, with every storage record in it.
};

/// One announcement, made after the change is stored.
struct UserEvent {
    UserEventKind kind{}; ///< What happened.
    Id instanceId = 0;    ///< The user's instance, or the deleted instance.
    Id userId = 0;        ///< 0 for InstanceDeleted.
};

/// Provided (through Plugin::provide) by a plugin that keeps its own data about users: the host
/// calls it for every event, on the thread of the request that caused it, after the change is
/// stored. The storage records of a user or instance (sessions, login tokens, ...) are deleted
/// with it by the driver; what a listener removes is the plugin's own (its key/value area) and
/// what its policy says (a flow ends its sessions on a password change). Every listener hears
/// every event; an exception is logged and the client gets 503, though the change itself stays
/// (repeating the request announces it again).
class UserEventListener {
public:
    /// The name Plugin::provide is asked with.
    static constexpr const char* kInterfaceId = "latchkey.user-events";
    /// The version Plugin::provide is asked with.
    static constexpr std::uint32_t kInterfaceVersion = 1;

    virtual ~UserEventListener() = default;

    /// Handles one event. Thread-safe: events of different requests arrive concurrently.
    virtual void onUserEvent(const UserEvent& event) = 0;
};

} // namespace latchkey
