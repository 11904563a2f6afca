// The ApiKeys facet: the API keys of instances.
#include "latchkey_sql/sql_store.hpp"

#include "query.hpp"
#include "records.hpp"
#include "transactions.hpp"

namespace latchkey::sql {

ApiKeyRecord SqlStore::createApiKey(const ApiKeyRecord& key) {
    ApiKeyRecord out = key;
    out.id = write("api_key", [&](Session& session) {
        return insertReturningId(
            session, *dialect_,
            "INSERT INTO api_keys (instance_id, description, key_lookup, key_sealed, ignore_acl, "
            "allow_user_create, allow_group_create, allow_anonymous_read, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            key.instanceId, key.description, key.key.lookup, key.key.sealed, asFlag(key.ignoreAcl),
            asFlag(key.allowUserCreate), asFlag(key.allowGroupCreate),
            asFlag(key.allowAnonymousRead), key.createdAt);
    });
    return out;
}

std::optional<ApiKeyRecord> SqlStore::findApiKey(Id instanceId, Id id) {
    return run("id", [&](Session& session) {
        return first(query<ApiKeyRecord>(session, *dialect_,
                                         std::string("SELECT ") + kApiKeyColumns +
                                             " FROM api_keys WHERE instance_id = ? AND id = ?",
                                         readApiKey, instanceId, id));
    });
}

std::optional<ApiKeyRecord> SqlStore::findApiKeyByKey(std::string_view lookup) {
    return run("key", [&](Session& session) {
        return first(query<ApiKeyRecord>(session, *dialect_,
                                         std::string("SELECT ") + kApiKeyColumns +
                                             " FROM api_keys WHERE key_lookup = ?",
                                         readApiKey, std::string(lookup)));
    });
}

std::vector<ApiKeyRecord> SqlStore::listApiKeys(Id instanceId, const PageRequest& page) {
    return run("id", [&](Session& session) {
        return queryPage<ApiKeyRecord>(session, *dialect_,
                                       std::string("SELECT ") + kApiKeyColumns +
                                           " FROM api_keys WHERE instance_id = ?",
                                       readApiKey, instanceId, page);
    });
}

bool SqlStore::updateApiKey(const ApiKeyRecord& key, std::string_view expectedLookup) {
    return write("api_key", [&](Session& session) {
        // Lock the row and check the expected key first: MySQL counts an UPDATE that changes
        // nothing (a PATCH with the same values) as 0 rows, which must not read as "lost".
        if (!exists(session, *dialect_,
                    "SELECT id FROM api_keys WHERE id = ? AND instance_id = ? AND key_lookup = ?" +
                        dialect_->lockRows(),
                    key.id, key.instanceId, std::string(expectedLookup))) {
            return false;
        }
        affected(session, *dialect_,
                 "UPDATE api_keys SET description = ?, key_lookup = ?, key_sealed = ?, "
                 "ignore_acl = ?, allow_user_create = ?, allow_group_create = ?, "
                 "allow_anonymous_read = ? WHERE id = ? AND instance_id = ? "
                 "AND key_lookup = ?",
                 key.description, key.key.lookup, key.key.sealed, asFlag(key.ignoreAcl),
                 asFlag(key.allowUserCreate), asFlag(key.allowGroupCreate),
                 asFlag(key.allowAnonymousRead), key.id, key.instanceId,
                 std::string(expectedLookup));
        return true;
    });
}

bool SqlStore::deleteApiKey(Id instanceId, Id id) {
    return write("id", [&](Session& session) {
        return affected(session, *dialect_, "DELETE FROM api_keys WHERE id = ? AND instance_id = ?",
                        id, instanceId) > 0;
    });
}

} // namespace latchkey::sql
