// ABI: the storage facet of groups and their members.
#pragma once

#include <latchkey/errors.hpp>
#include <latchkey/storage/records/group.hpp>
#include <latchkey/storage/records/user.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace latchkey {

/// Groups of users and who is in them.
/// Every method is atomic and thread-safe; a write that breaks a uniqueness rule throws Conflict
/// naming the field; an unreachable database throws Unavailable.
class Groups {
public:
    /// The name Plugin::provide is asked with.
    static constexpr const char* kInterfaceId = "latchkey.storage.groups";
    /// The version Plugin::provide is asked with.
    static constexpr std::uint32_t kInterfaceVersion = 1;

    virtual ~Groups() = default;

    /// Inserts a group; returns it with its id.
    virtual GroupRecord createGroup(const GroupRecord& group) = 0;
    /// The group with this id in this instance.
    virtual std::optional<GroupRecord> findGroup(Id instanceId, Id id) = 0;
    /// A page of the instance's groups.
    virtual std::vector<GroupRecord> listGroups(Id instanceId, const PageRequest& page) = 0;
    /// Stores the group's label, description and updatedAt.
    virtual void updateGroup(const GroupRecord& group) = 0;
    /// Deletes the group and its memberships; true when it existed.
    virtual bool deleteGroup(Id instanceId, Id id) = 0;
    /// Adds the user to the group unless already a member or already in `maxGroupsPerUser`
    /// groups, decided atomically.
    virtual MembershipResult addMembership(Id userId, Id groupId, std::size_t maxGroupsPerUser) = 0;
    /// Removes the membership; true when it existed.
    virtual bool removeMembership(Id userId, Id groupId) = 0;
    /// A page of the group's members, paged by user id.
    virtual std::vector<UserRecord> listGroupMembers(Id groupId, const PageRequest& page) = 0;
};

} // namespace latchkey
