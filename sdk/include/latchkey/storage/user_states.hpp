// ABI: the storage facet of deactivated users (since SDK 2.1).
#pragma once

#include <latchkey/errors.hpp>
#include <latchkey/storage/records/types.hpp>

#include <cstdint>
#include <vector>

namespace latchkey {

/// Which users are deactivated: a user is active unless this facet records it as inactive.
/// Only the identity service uses it; a driver without it runs every user as active, and the
/// host refuses a configuration that needs deactivation (the login-token flow). The record goes
/// with its user. Every method is atomic and thread-safe; an unreachable database throws
/// Unavailable. Since SDK 2.1.
class UserStates {
public:
    /// The name Plugin::provide is asked with.
    static constexpr const char* kInterfaceId = "latchkey.storage.user-states";
    /// The version Plugin::provide is asked with.
    static constexpr std::uint32_t kInterfaceVersion = 1;

    virtual ~UserStates() = default;

    /// Records user `userId` of `instanceId` as inactive (`active` false) or active again;
    /// false when the user does not exist in that instance.
    virtual bool setUserActive(Id instanceId, Id userId, bool active) = 0;
    /// False when the user is recorded as inactive; true otherwise (also for no such user).
    virtual bool isUserActive(Id userId) = 0;
    /// The ids of the instance's inactive users, in id order.
    virtual std::vector<Id> listInactiveUsers(Id instanceId) = 0;
};

} // namespace latchkey
