// The Users facet: users and their profiles; deleting one deletes every record of it.
#include "latchkey_sql/sql_store.hpp"

#include "query.hpp"
#include "records.hpp"
#include "transactions.hpp"

namespace latchkey::sql {

UserRecord SqlStore::createUser(const UserRecord& user) {
    return write("username", [&](Session& session) { return insertUser(session, user); });
}

UserRecord SqlStore::insertUser(Session& session, const UserRecord& user) {
    UserRecord out = user;
    out.id = insertReturningId(
        session, *dialect_,
        "INSERT INTO users (instance_id, username, password_hash, key_lookup, key_sealed, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        user.instanceId, user.username, user.passwordHash, user.key.lookup, user.key.sealed,
        user.createdAt, user.updatedAt);
    const ProfileRecord& p = user.profile;
    const Poco::Nullable<Poco::Int64> groupId =
        p.groupId ? Poco::Nullable<Poco::Int64>(*p.groupId) : Poco::Nullable<Poco::Int64>();
    out.profile.id = insertReturningId(
        session, *dialect_,
        "INSERT INTO user_profiles (user_id, revision, owner_permissions, group_id, "
        "group_permissions, other_permissions, data, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        out.id, p.revision, p.ownerPermissions, groupId, p.groupPermissions, p.otherPermissions,
        p.data, p.createdAt, p.updatedAt);
    return out;
}

std::optional<UserRecord> SqlStore::findUserById(Id instanceId, Id id) {
    return run("id", [&](Session& session) {
        return findOneUser(session, *dialect_, "WHERE u.instance_id = ? AND u.id = ?", instanceId,
                           id);
    });
}

std::optional<UserRecord> SqlStore::findUserByUsername(Id instanceId, std::string_view username) {
    return run("username", [&](Session& session) {
        return findOneUser(session, *dialect_, "WHERE u.instance_id = ? AND u.username = ?",
                           instanceId, std::string(username));
    });
}

std::optional<UserRecord> SqlStore::findUserByKey(Id instanceId, std::string_view lookup) {
    return run("key", [&](Session& session) {
        return findOneUser(session, *dialect_, "WHERE u.key_lookup = ? AND u.instance_id = ?",
                           std::string(lookup), instanceId);
    });
}

std::optional<UserRecord> SqlStore::findUserByProfile(Id instanceId, Id profileId) {
    return run("id", [&](Session& session) {
        return findOneUser(session, *dialect_, "WHERE u.instance_id = ? AND p.id = ?", instanceId,
                           profileId);
    });
}

bool SqlStore::updateUserPasswordHash(Id userId, std::string_view expectedHash,
                                      std::string_view passwordHash) {
    return write("password", [&](Session& session) {
        return affected(session, *dialect_,
                        "UPDATE users SET password_hash = ?, updated_at = updated_at + 1 "
                        "WHERE id = ? AND password_hash = ?",
                        std::string(passwordHash), userId, std::string(expectedHash)) == 1;
    });
}

std::vector<UserRecord> SqlStore::listUsers(Id instanceId, const PageRequest& page) {
    return run("id", [&](Session& session) {
        return queryUserPage(session, *dialect_, "WHERE u.instance_id = ?", instanceId, page);
    });
}

bool SqlStore::updateUser(const UserRecord& user, Micros expectedUpdatedAt) {
    return write("username", [&](Session& session) {
        return affected(session, *dialect_,
                        "UPDATE users SET username = ?, password_hash = ?, key_lookup = ?, "
                        "key_sealed = ?, updated_at = ? WHERE id = ? AND instance_id = ? "
                        "AND updated_at = ?",
                        user.username, user.passwordHash, user.key.lookup, user.key.sealed,
                        user.updatedAt, user.id, user.instanceId, expectedUpdatedAt) == 1;
    });
}

bool SqlStore::updateProfile(Id userId, const ProfileRecord& profile,
                             std::int64_t expectedRevision) {
    return write("profile", [&](Session& session) {
        const Poco::Nullable<Poco::Int64> groupId =
            profile.groupId ? Poco::Nullable<Poco::Int64>(*profile.groupId)
                            : Poco::Nullable<Poco::Int64>();
        return affected(session, *dialect_,
                        "UPDATE user_profiles SET revision = revision + 1, owner_permissions = ?, "
                        "group_id = ?, group_permissions = ?, other_permissions = ?, data = ?, "
                        "updated_at = ? WHERE user_id = ? AND revision = ?",
                        profile.ownerPermissions, groupId, profile.groupPermissions,
                        profile.otherPermissions, profile.data, profile.updatedAt, userId,
                        expectedRevision) == 1;
    });
}

bool SqlStore::deleteUser(Id instanceId, Id id) {
    return write("id", [&](Session& session) {
        if (scalar(session, *dialect_,
                   "SELECT COUNT(*) FROM users WHERE id = ? AND instance_id = ?", id,
                   instanceId) == 0) {
            return false;
        }
        execute(session, *dialect_, "DELETE FROM files WHERE owner_user_id = ?", id);
        execute(session, *dialect_, "DELETE FROM sessions WHERE user_id = ?", id);
        execute(session, *dialect_, "DELETE FROM login_tokens WHERE user_id = ?", id);
        execute(session, *dialect_, "DELETE FROM social_identities WHERE user_id = ?", id);
        execute(session, *dialect_, "DELETE FROM memberships WHERE user_id = ?", id);
        execute(session, *dialect_, "DELETE FROM inactive_users WHERE user_id = ?", id);
        execute(session, *dialect_, "DELETE FROM user_profiles WHERE user_id = ?", id);
        execute(session, *dialect_, "DELETE FROM users WHERE id = ?", id);
        return true;
    });
}

} // namespace latchkey::sql
