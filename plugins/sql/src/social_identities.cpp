// The SocialIdentities facet: provider accounts linked to users.
#include "latchkey_sql/sql_store.hpp"

#include "query.hpp"
#include "transactions.hpp"

namespace latchkey::sql {

std::optional<Id> SqlStore::findSocialIdentity(Id instanceId, std::string_view backend,
                                               std::string_view uid) {
    return run("identity", [&](Session& session) {
        return first(query<Id>(
            session, *dialect_,
            "SELECT user_id FROM social_identities WHERE instance_id = ? AND backend = ? "
            "AND uid = ?",
            [](RowReader& r) { return r.integer(); }, instanceId, std::string(backend),
            std::string(uid)));
    });
}

void SqlStore::linkSocialIdentity(const SocialIdentityRecord& identity) {
    write("identity", [&](Session& session) { insertIdentity(session, identity); });
}

UserRecord SqlStore::createSocialUser(const UserRecord& user,
                                      const SocialIdentityRecord& identity) {
    return write("identity", [&](Session& session) {
        UserRecord out = insertUser(session, user);
        SocialIdentityRecord linked = identity;
        linked.userId = out.id;
        insertIdentity(session, linked);
        return out;
    });
}

void SqlStore::insertIdentity(Session& session, const SocialIdentityRecord& identity) {
    execute(session, *dialect_,
            "INSERT INTO social_identities (instance_id, backend, uid, user_id, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            identity.instanceId, identity.backend, identity.uid, identity.userId,
            identity.createdAt);
}

} // namespace latchkey::sql
