// The Sessions facet: login sessions, stored as hashes of their ids.
#include "latchkey_sql/sql_store.hpp"

#include "query.hpp"
#include "transactions.hpp"

namespace latchkey::sql {

void SqlStore::createSession(const SessionRecord& record) {
    write("session", [&](Session& session) {
        execute(session, *dialect_,
                "INSERT INTO sessions (id_hash, instance_id, user_id, created_at, last_seen_at, "
                "expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                record.idHash, record.instanceId, record.userId, record.createdAt,
                record.lastSeenAt, record.expiresAt);
    });
}

std::optional<SessionRecord> SqlStore::findSession(std::string_view idHash) {
    return run("session", [&](Session& session) {
        return first(query<SessionRecord>(
            session, *dialect_,
            "SELECT id_hash, instance_id, user_id, created_at, last_seen_at, expires_at "
            "FROM sessions WHERE id_hash = ?",
            [](RowReader& r) {
                SessionRecord s;
                s.idHash = r.text();
                s.instanceId = r.integer();
                s.userId = r.integer();
                s.createdAt = r.integer();
                s.lastSeenAt = r.integer();
                s.expiresAt = r.integer();
                return s;
            },
            std::string(idHash)));
    });
}

void SqlStore::touchSession(std::string_view idHash, Micros lastSeenAt) {
    write("session", [&](Session& session) {
        execute(session, *dialect_, "UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?",
                lastSeenAt, std::string(idHash));
    });
}

bool SqlStore::deleteSession(std::string_view idHash) {
    return write("session", [&](Session& session) {
        return affected(session, *dialect_, "DELETE FROM sessions WHERE id_hash = ?",
                        std::string(idHash)) > 0;
    });
}

std::size_t SqlStore::deleteUserSessions(Id userId) {
    return write("session", [&](Session& session) {
        return affected(session, *dialect_, "DELETE FROM sessions WHERE user_id = ?", userId);
    });
}

std::size_t SqlStore::deleteStaleSessions(Micros now, Micros idleBefore) {
    return write("session", [&](Session& session) {
        return affected(session, *dialect_,
                        "DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at < ?", now,
                        idleBefore);
    });
}

} // namespace latchkey::sql
