// The Groups facet: groups and their members.
#include "latchkey_sql/sql_store.hpp"

#include "query.hpp"
#include "records.hpp"
#include "transactions.hpp"

namespace latchkey::sql {

GroupRecord SqlStore::createGroup(const GroupRecord& group) {
    GroupRecord out = group;
    out.id = write("label", [&](Session& session) {
        return insertReturningId(session, *dialect_,
                                 "INSERT INTO user_groups (instance_id, label, description, "
                                 "created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                                 group.instanceId, group.label, group.description, group.createdAt,
                                 group.updatedAt);
    });
    return out;
}

std::optional<GroupRecord> SqlStore::findGroup(Id instanceId, Id id) {
    return run("id", [&](Session& session) {
        return first(query<GroupRecord>(session, *dialect_,
                                        std::string("SELECT ") + kGroupColumns +
                                            " FROM user_groups WHERE instance_id = ? AND id = ?",
                                        readGroup, instanceId, id));
    });
}

std::vector<GroupRecord> SqlStore::listGroups(Id instanceId, const PageRequest& page) {
    return run("id", [&](Session& session) {
        return queryPage<GroupRecord>(session, *dialect_,
                                      std::string("SELECT ") + kGroupColumns +
                                          " FROM user_groups WHERE instance_id = ?",
                                      readGroup, instanceId, page);
    });
}

void SqlStore::updateGroup(const GroupRecord& group) {
    write("label", [&](Session& session) {
        execute(session, *dialect_,
                "UPDATE user_groups SET label = ?, description = ?, updated_at = ? "
                "WHERE id = ? AND instance_id = ?",
                group.label, group.description, group.updatedAt, group.id, group.instanceId);
    });
}

bool SqlStore::deleteGroup(Id instanceId, Id id) {
    return write("id", [&](Session& session) {
        if (scalar(session, *dialect_,
                   "SELECT COUNT(*) FROM user_groups WHERE id = ? AND instance_id = ?", id,
                   instanceId) == 0) {
            return false;
        }
        execute(session, *dialect_, "DELETE FROM memberships WHERE group_id = ?", id);
        execute(session, *dialect_, "UPDATE user_profiles SET group_id = NULL WHERE group_id = ?",
                id);
        execute(session, *dialect_, "DELETE FROM user_groups WHERE id = ?", id);
        return true;
    });
}

MembershipResult SqlStore::addMembership(Id userId, Id groupId, std::size_t maxGroupsPerUser) {
    try {
        return write("membership", [&](Session& session) {
            // Lock the user's row: two hosts adding groups to one user at once must not both
            // pass the limit check.
            if (!exists(session, *dialect_,
                        "SELECT id FROM users WHERE id = ?" + dialect_->lockRows(), userId) ||
                scalar(session, *dialect_, "SELECT COUNT(*) FROM user_groups WHERE id = ?",
                       groupId) == 0) {
                return MembershipResult::NotFound;
            }
            if (scalar(session, *dialect_,
                       "SELECT COUNT(*) FROM memberships WHERE user_id = ? AND group_id = ?",
                       userId, groupId) > 0) {
                return MembershipResult::AlreadyMember;
            }
            if (scalar(session, *dialect_, "SELECT COUNT(*) FROM memberships WHERE user_id = ?",
                       userId) >= static_cast<std::int64_t>(maxGroupsPerUser)) {
                return MembershipResult::LimitReached;
            }
            const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
            execute(session, *dialect_,
                    "INSERT INTO memberships (user_id, group_id, created_at) VALUES (?, ?, ?)",
                    userId, groupId, static_cast<Poco::Int64>(now));
            return MembershipResult::Added;
        });
    } catch (const Conflict&) {
        return MembershipResult::AlreadyMember;
    }
}

bool SqlStore::removeMembership(Id userId, Id groupId) {
    return write("membership", [&](Session& session) {
        return affected(session, *dialect_,
                        "DELETE FROM memberships WHERE user_id = ? AND group_id = ?", userId,
                        groupId) > 0;
    });
}

std::vector<UserRecord> SqlStore::listGroupMembers(Id groupId, const PageRequest& page) {
    return run("id", [&](Session& session) {
        return queryUserPage(session, *dialect_,
                             "WHERE u.id IN (SELECT user_id FROM memberships WHERE group_id = ?)",
                             groupId, page);
    });
}

} // namespace latchkey::sql
