// ABI: what the core announces about users, for plugins that keep state of their own per user.
#pragma once

#include <latchkey/storage/records/types.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace latchkey {

/// What happened. A later minor may add kinds: ignore the ones you do not know.
enum class UserEventKind : std::uint32_t {
    PasswordChanged = 1, ///< The user has a new password (and a new user key).
    UserDeleted = 2,     ///< The user is gone, with every storage record that belongs to it.
    InstanceDeleted = 3, ///< The instance is gone, with every storage record in it.
    Deactivated = 4,     ///< The user may no longer log in or use its key (since SDK 2.1).
    Activated = 5,       ///< The user may log in again (since SDK 2.1).
    UsernameChanged = 6, ///< The user has a new username: an e-mail address moved (since 2.1).
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

/// Provided (through Plugin::provide) by a plugin whose rules can forbid removing a user: the
/// login-token flow keeps one active super user. The identity service asks every guard before
/// it deletes or deactivates a user, whichever API asked for it; the first reason given refuses
/// the change with 409 and that reason. For every refuseChange that let the change through, the
/// service calls changeFinished once the change is stored (or failed), on the same thread: a
/// guard may hold a lock from one to the other, so that its check and the change are one step
/// on this host. Since SDK 2.1.
class UserChangeGuard {
public:
    /// The name Plugin::provide is asked with.
    static constexpr const char* kInterfaceId = "latchkey.user-change-guard";
    /// The version Plugin::provide is asked with.
    static constexpr std::uint32_t kInterfaceVersion = 1;

    virtual ~UserChangeGuard() = default;

    /// Why `proposed` (UserDeleted or Deactivated, not yet stored) must not happen, or nullopt
    /// to let it. Thread-safe; an exception refuses the change with 503.
    virtual std::optional<std::string> refuseChange(const UserEvent& proposed) = 0;
    /// The change that refuseChange let through is stored, or failed. Must not throw.
    virtual void changeFinished(const UserEvent& proposed) noexcept = 0;
};

} // namespace latchkey
