// ABI: the record of a group of users, and what adding a member did.
#pragma once

#include <latchkey/storage/records/types.hpp>

#include <string>

namespace latchkey {

/// A group of users in an instance.
struct GroupRecord {
    Id id = 0;
    Id instanceId = 0;
    std::string label;
    std::string description;
    Micros createdAt = 0;
    Micros updatedAt = 0;
};

/// What adding a user to a group did.
enum class MembershipResult {
    Added,         ///< The user is now a member.
    AlreadyMember, ///< Nothing changed.
    LimitReached,  ///< The user is in the maximum number of groups already.
    NotFound,      ///< The user or the group does not exist (any more).
};

} // namespace latchkey
