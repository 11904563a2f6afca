// ABI: the storage facet of users and their profiles.
#pragma once

#include <latchkey/errors.hpp>
#include <latchkey/storage/records/user.hpp>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace latchkey {

/// Users of instances, with their profiles. Deleting one deletes every record of every facet
/// that belongs to it (profile, memberships, files, sessions, login tokens, social identities).
/// Every method is atomic and thread-safe; a write that breaks a uniqueness rule throws Conflict
/// naming the field; an unreachable database throws Unavailable.
class Users {
public:
    /// The name Plugin::provide is asked with.
    static constexpr const char* kInterfaceId = "latchkey.storage.users";
    /// The version Plugin::provide is asked with.
    static constexpr std::uint32_t kInterfaceVersion = 1;

    virtual ~Users() = default;

    /// Inserts a user and its profile in one transaction (Conflict "username"); returns both
    /// with their ids.
    virtual UserRecord createUser(const UserRecord& user) = 0;
    /// The user with this id in this instance.
    virtual std::optional<UserRecord> findUserById(Id instanceId, Id id) = 0;
    /// The user with this username in this instance.
    virtual std::optional<UserRecord> findUserByUsername(Id instanceId,
                                                         std::string_view username) = 0;
    /// The user of this instance whose key has this lookup hash.
    virtual std::optional<UserRecord> findUserByKey(Id instanceId, std::string_view lookup) = 0;
    /// The user of this instance who owns the profile with this id.
    virtual std::optional<UserRecord> findUserByProfile(Id instanceId, Id profileId) = 0;
    /// Replaces the password hash if it is still `expectedHash` (a rehash: the user key stays)
    /// and moves updatedAt on by one microsecond, so that an updateUser() of a copy read before
    /// the rehash fails its compare-and-set instead of writing the old hash back; true when
    /// replaced.
    virtual bool updateUserPasswordHash(Id userId, std::string_view expectedHash,
                                        std::string_view passwordHash) = 0;
    /// A page of the instance's users.
    virtual std::vector<UserRecord> listUsers(Id instanceId, const PageRequest& page) = 0;
    /// Stores the user's username, password hash, key and updatedAt (Conflict "username") if
    /// its stored updatedAt is still `expectedUpdatedAt`; false when another write came first.
    virtual bool updateUser(const UserRecord& user, Micros expectedUpdatedAt) = 0;
    /// Stores the profile's data, permissions and updatedAt with revision + 1, only if its
    /// revision is still `expectedRevision`; false when someone else changed it first.
    virtual bool updateProfile(Id userId, const ProfileRecord& profile,
                               std::int64_t expectedRevision) = 0;
    /// Deletes the user with its profile, memberships and files; true when it existed.
    virtual bool deleteUser(Id instanceId, Id id) = 0;
};

} // namespace latchkey
