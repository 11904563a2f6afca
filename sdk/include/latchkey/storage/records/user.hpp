// ABI: the record of a user of an instance, with its profile.
#pragma once

#include <latchkey/storage/records/group.hpp>
#include <latchkey/storage/records/types.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace latchkey {

/// A user's profile object in the instance's `user_profile` class (one per user).
struct ProfileRecord {
    Id id = 0;
    std::int64_t revision = 1;
    std::string ownerPermissions = "full";
    std::optional<Id> groupId;
    std::string groupPermissions = "none";
    std::string otherPermissions = "none";
    std::string data = "{}"; ///< JSON object of the custom schema's fields.
    Micros createdAt = 0;
    Micros updatedAt = 0;
};

/// A user of an instance, with its profile.
struct UserRecord {
    Id id = 0;
    Id instanceId = 0;
    std::string username;     ///< Unique within the instance.
    std::string passwordHash; ///< Empty when the user has no usable password.
    SealedKey key;            ///< The user key.
    Micros createdAt = 0;
    Micros updatedAt = 0;
    ProfileRecord profile;
    std::vector<GroupRecord> groups; ///< Filled by reads, in group id order; ignored by writes.
};

} // namespace latchkey
