// Private to latchkey_sql: the column list and row reader of each record, kept next to each
// other so they stay in step.
#pragma once

#include "query.hpp"

#include <latchkey/storage.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace latchkey::sql {

// Column lists and readers, one per record type, kept next to each other so they stay in step.

inline constexpr const char* kAccountColumns =
    "id, email, first_name, last_name, password_hash, key_lookup, key_sealed, is_active, "
    "metadata, created_at, updated_at";

inline AccountRecord readAccount(RowReader& r) {
    AccountRecord a;
    a.id = r.integer();
    a.email = r.text();
    a.firstName = r.text();
    a.lastName = r.text();
    a.passwordHash = r.text();
    a.key.lookup = r.text();
    a.key.sealed = r.text();
    a.active = r.flag();
    a.metadata = r.text();
    a.createdAt = r.integer();
    a.updatedAt = r.integer();
    return a;
}

inline constexpr const char* kInstanceColumns =
    "id, name, description, owner_id, metadata, created_at, updated_at";

inline InstanceRecord readInstance(RowReader& r) {
    InstanceRecord i;
    i.id = r.integer();
    i.name = r.text();
    i.description = r.text();
    i.ownerId = r.integer();
    i.metadata = r.text();
    i.createdAt = r.integer();
    i.updatedAt = r.integer();
    return i;
}

inline constexpr const char* kApiKeyColumns =
    "id, instance_id, description, key_lookup, key_sealed, ignore_acl, allow_user_create, "
    "allow_group_create, allow_anonymous_read, created_at";

inline ApiKeyRecord readApiKey(RowReader& r) {
    ApiKeyRecord k;
    k.id = r.integer();
    k.instanceId = r.integer();
    k.description = r.text();
    k.key.lookup = r.text();
    k.key.sealed = r.text();
    k.ignoreAcl = r.flag();
    k.allowUserCreate = r.flag();
    k.allowGroupCreate = r.flag();
    k.allowAnonymousRead = r.flag();
    k.createdAt = r.integer();
    return k;
}

inline constexpr const char* kUserColumns =
    "u.id, u.instance_id, u.username, u.password_hash, u.key_lookup, u.key_sealed, "
    "u.created_at, u.updated_at, p.id, p.revision, p.owner_permissions, p.group_id, "
    "p.group_permissions, p.other_permissions, p.data, p.created_at, p.updated_at ";
inline constexpr std::size_t kUserColumnCount = 17;
inline constexpr const char* kUserFrom = "FROM users u JOIN user_profiles p ON p.user_id = u.id ";

inline UserRecord readUser(RowReader& r) {
    UserRecord u;
    u.id = r.integer();
    u.instanceId = r.integer();
    u.username = r.text();
    u.passwordHash = r.text();
    u.key.lookup = r.text();
    u.key.sealed = r.text();
    u.createdAt = r.integer();
    u.updatedAt = r.integer();
    u.profile.id = r.integer();
    u.profile.revision = r.integer();
    u.profile.ownerPermissions = r.text();
    u.profile.groupId = r.optionalInteger();
    u.profile.groupPermissions = r.text();
    u.profile.otherPermissions = r.text();
    u.profile.data = r.text();
    u.profile.createdAt = r.integer();
    u.profile.updatedAt = r.integer();
    return u;
}

inline constexpr const char* kGroupColumns =
    "id, instance_id, label, description, created_at, updated_at";

/// The group's columns after its id, which the caller read.
inline GroupRecord readGroupAfterId(RowReader& r, Id id) {
    GroupRecord g;
    g.id = id;
    g.instanceId = r.integer();
    g.label = r.text();
    g.description = r.text();
    g.createdAt = r.integer();
    g.updatedAt = r.integer();
    return g;
}

inline GroupRecord readGroup(RowReader& r) {
    const Id id = r.integer();
    return readGroupAfterId(r, id);
}

inline constexpr const char* kClassColumns =
    "id, instance_id, name, description, schema_json, revision, metadata, created_at, updated_at";

inline ClassRecord readClass(RowReader& r) {
    ClassRecord c;
    c.id = r.integer();
    c.instanceId = r.integer();
    c.name = r.text();
    c.description = r.text();
    c.schema = r.text();
    c.revision = r.integer();
    c.metadata = r.text();
    c.createdAt = r.integer();
    c.updatedAt = r.integer();
    return c;
}

/// Fills each user's `groups` with one query for all of them.
inline void attachGroups(Session& session, const Dialect& dialect, std::vector<UserRecord>& users) {
    if (users.empty()) return;
    // The list is padded to a power of two with the last id again, so that pages of any size
    // share a few statement texts (each is prepared once per connection).
    std::size_t slots = 1;
    while (slots < users.size())
        slots *= 2;
    std::string sql = "SELECT m.user_id, g.id, g.instance_id, g.label, g.description, "
                      "g.created_at, g.updated_at FROM memberships m "
                      "JOIN user_groups g ON g.id = m.group_id WHERE m.user_id IN (";
    for (std::size_t i = 0; i < slots; ++i)
        sql += i ? ", ?" : "?";
    sql += ") ORDER BY g.id";
    const auto idAt = [&users](std::size_t i) { return users[std::min(i, users.size() - 1)].id; };
    const auto add = [&users](RowReader& reader) {
        const Id userId = reader.integer();
        GroupRecord group = readGroup(reader);
        for (auto& user : users) {
            if (user.id == userId) user.groups.push_back(group);
        }
    };
    if (NativeStatements* statements = session.statements()) {
        std::vector<Param> params;
        params.reserve(slots);
        for (std::size_t i = 0; i < slots; ++i)
            params.push_back(param(idAt(i)));
        const NativeResult result = statements->run(sql, params);
        forEachRow(result, result.rows(), add);
        return;
    }
    Statement statement(session);
    statement << dialect.placeholders(sql);
    for (std::size_t i = 0; i < slots; ++i)
        statement.bind(idAt(i));
    statement.execute();
    RecordSet rows(statement);
    forEachRow(rows, rows.rowCount(), add);
}

/// Users (with profile and groups) matching `where`, which follows kUserFrom: two statements,
/// for any number of users (a page).
template <class... Args>
std::vector<UserRecord> queryUsers(Session& session, const Dialect& dialect,
                                   const std::string& where, const Args&... args) {
    auto users = query<UserRecord>(session, dialect,
                                   "SELECT " + std::string(kUserColumns) + kUserFrom + where,
                                   readUser, args...);
    attachGroups(session, dialect, users);
    return users;
}

/// The one user (with profile and groups) matching `where`, which follows kUserFrom and must
/// match at most one user (a unique key; no FOR UPDATE, ORDER BY or LIMIT): one statement, the
/// user's row followed by one row per group, each carrying only its own columns.
template <class... Args>
std::optional<UserRecord> findOneUser(Session& session, const Dialect& dialect,
                                      const std::string& where, const Args&... args) {
    // Column 1 says which part a row is; the user's columns are NULL in a group's row and the
    // group's in the user's (so a big profile is sent once, not once per group).
    static const std::string kUserPart = "SELECT 0, " + std::string(kUserColumns) +
                                         ", NULL, NULL, NULL, NULL, NULL, NULL " + kUserFrom;
    static const std::string kGroupPart = [] {
        std::string nulls;
        for (std::size_t i = 0; i < kUserColumnCount; ++i)
            nulls += "NULL, ";
        return "SELECT 1, " + nulls +
               "g.id, g.instance_id, g.label, g.description, g.created_at, g.updated_at " +
               kUserFrom +
               "JOIN memberships m ON m.user_id = u.id JOIN user_groups g ON g.id = m.group_id ";
    }();
    // Through Poco::Data (MariaDB), two statements: this UNION crashed Poco 1.11's MySQL
    // connector (SIGSEGV in the conformance suite), which sizes each column's buffer by its
    // declared length; the UNION's result columns are likely wider than the table's.
    if (!session.statements()) return first(queryUsers(session, dialect, where, args...));
    std::optional<UserRecord> user;
    const auto read = [&user](RowReader& reader) {
        const bool groupRow = reader.integer() == 1;
        if (!groupRow) {
            if (user) throw std::logic_error("findOneUser: the condition matched two users");
            user = readUser(reader);
        } else if (user) {
            reader.skip(kUserColumnCount);
            const Id groupId = reader.integer();
            user->groups.push_back(readGroupAfterId(reader, groupId));
        }
        return 0;
    };
    // ORDER BY the part, then the group id (column 2 + kUserColumnCount).
    const std::string sql = kUserPart + where + " UNION ALL " + kGroupPart + where +
                            " ORDER BY 1, " + std::to_string(2 + kUserColumnCount);
    query<int>(session, dialect, sql, read, args..., args...);
    return user;
}

/// One page of users (with profile and groups) matching `where` on one `owner` id.
inline std::vector<UserRecord> queryUserPage(Session& session, const Dialect& dialect,
                                             const std::string& where, Id owner,
                                             const PageRequest& page) {
    const std::string paged = where + pageClause(page, "u.id");
    return page.after ? queryUsers(session, dialect, paged, owner, *page.after, pageLimit(page))
                      : queryUsers(session, dialect, paged, owner, pageLimit(page));
}

} // namespace latchkey::sql
