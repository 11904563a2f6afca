// ABI: the storage facet of login sessions (for flows with cookies).
#pragma once

#include <latchkey/errors.hpp>
#include <latchkey/storage/records/session.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace latchkey {

/// Login sessions, kept as hashes of their ids; for flow plugins that declare it.
/// Every method is atomic and thread-safe; a write that breaks a uniqueness rule throws Conflict
/// naming the field; an unreachable database throws Unavailable.
class Sessions {
public:
    /// The name Plugin::provide is asked with.
    static constexpr const char* kInterfaceId = "latchkey.storage.sessions";
    /// The version Plugin::provide is asked with.
    static constexpr std::uint32_t kInterfaceVersion = 1;

    virtual ~Sessions() = default;

    /// Inserts a session.
    virtual void createSession(const SessionRecord& session) = 0;
    /// The session whose id hashes to `idHash`.
    virtual std::optional<SessionRecord> findSession(std::string_view idHash) = 0;
    /// Records activity on a session.
    virtual void touchSession(std::string_view idHash, Micros lastSeenAt) = 0;
    /// Ends a session; true when it existed.
    virtual bool deleteSession(std::string_view idHash) = 0;
    /// Ends every session of a user (a password change); returns how many.
    virtual std::size_t deleteUserSessions(Id userId) = 0;
    /// Removes sessions past their absolute limit or idle since `idleBefore`; returns how many.
    virtual std::size_t deleteStaleSessions(Micros now, Micros idleBefore) = 0;
};

} // namespace latchkey
