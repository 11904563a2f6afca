// The Instances facet; deleting one deletes every record in it, of every facet.
#include "latchkey_sql/sql_store.hpp"

#include "query.hpp"
#include "records.hpp"
#include "transactions.hpp"

namespace latchkey::sql {

InstanceRecord SqlStore::createInstance(const InstanceRecord& instance) {
    InstanceRecord out = instance;
    out.id = write("name", [&](Session& session) {
        return insertReturningId(
            session, *dialect_,
            "INSERT INTO instances (name, description, owner_id, metadata, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            instance.name, instance.description, instance.ownerId, instance.metadata,
            instance.createdAt, instance.updatedAt);
    });
    return out;
}

std::optional<InstanceRecord> SqlStore::findInstance(std::string_view name) {
    return run("name", [&](Session& session) {
        return first(query<InstanceRecord>(session, *dialect_,
                                           std::string("SELECT ") + kInstanceColumns +
                                               " FROM instances WHERE name = ?",
                                           readInstance, std::string(name)));
    });
}

std::vector<InstanceRecord> SqlStore::listInstances(Id ownerId, const PageRequest& page) {
    return run("id", [&](Session& session) {
        return queryPage<InstanceRecord>(session, *dialect_,
                                         std::string("SELECT ") + kInstanceColumns +
                                             " FROM instances WHERE owner_id = ?",
                                         readInstance, ownerId, page);
    });
}

bool SqlStore::deleteInstance(Id id) {
    return write("id", [&](Session& session) {
        // Children first, explicitly: the same on every database, foreign keys on or off.
        execute(session, *dialect_, "DELETE FROM files WHERE instance_id = ?", id);
        execute(session, *dialect_, "DELETE FROM sessions WHERE instance_id = ?", id);
        execute(session, *dialect_, "DELETE FROM social_identities WHERE instance_id = ?", id);
        execute(session, *dialect_, "DELETE FROM inactive_users WHERE instance_id = ?", id);
        execute(session, *dialect_,
                "DELETE FROM login_tokens WHERE user_id IN "
                "(SELECT id FROM users WHERE instance_id = ?)",
                id);
        execute(session, *dialect_,
                "DELETE FROM memberships WHERE group_id IN "
                "(SELECT id FROM user_groups WHERE instance_id = ?)",
                id);
        execute(session, *dialect_, "DELETE FROM user_groups WHERE instance_id = ?", id);
        execute(session, *dialect_, "DELETE FROM classes WHERE instance_id = ?", id);
        execute(session, *dialect_,
                "DELETE FROM user_profiles WHERE user_id IN "
                "(SELECT id FROM users WHERE instance_id = ?)",
                id);
        execute(session, *dialect_, "DELETE FROM users WHERE instance_id = ?", id);
        execute(session, *dialect_, "DELETE FROM api_keys WHERE instance_id = ?", id);
        return affected(session, *dialect_, "DELETE FROM instances WHERE id = ?", id) > 0;
    });
}

void SqlStore::updateInstance(const InstanceRecord& instance) {
    write("name", [&](Session& session) {
        execute(session, *dialect_,
                "UPDATE instances SET description = ?, metadata = ?, updated_at = ? WHERE id = ?",
                instance.description, instance.metadata, instance.updatedAt, instance.id);
    });
}

} // namespace latchkey::sql
