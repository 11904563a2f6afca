// The UserStates facet: which users are deactivated (a row per inactive user, gone with it).
#include "latchkey_sql/sql_store.hpp"

#include "query.hpp"
#include "transactions.hpp"

namespace latchkey::sql {

bool SqlStore::setUserActive(Id instanceId, Id userId, bool active) {
    try {
        return recordUserState(instanceId, userId, active);
    } catch (const Conflict&) {
        // A concurrent deactivation inserted the row first: the user is inactive, as asked.
        if (!active) return true;
        throw;
    }
}

bool SqlStore::recordUserState(Id instanceId, Id userId, bool active) {
    return write("user", [&](Session& session) {
        if (!exists(session, *dialect_, "SELECT 1 FROM users WHERE id = ? AND instance_id = ?",
                    userId, instanceId)) {
            return false;
        }
        // Delete, then insert: idempotent in every dialect, inside one transaction (a racing
        // insert of the same row is a Conflict, which setUserActive takes as done).
        execute(session, *dialect_, "DELETE FROM inactive_users WHERE user_id = ?", userId);
        if (!active) {
            execute(session, *dialect_,
                    "INSERT INTO inactive_users (user_id, instance_id) VALUES (?, ?)", userId,
                    instanceId);
        }
        return true;
    });
}

bool SqlStore::isUserActive(Id userId) {
    return run("user", [&](Session& session) {
        return !exists(session, *dialect_, "SELECT 1 FROM inactive_users WHERE user_id = ?",
                       userId);
    });
}

std::vector<Id> SqlStore::listInactiveUsers(Id instanceId) {
    return run("user", [&](Session& session) {
        return query<Id>(
            session, *dialect_,
            "SELECT user_id FROM inactive_users WHERE instance_id = ? ORDER BY user_id",
            [](RowReader& r) { return static_cast<Id>(r.integer()); }, instanceId);
    });
}

} // namespace latchkey::sql
