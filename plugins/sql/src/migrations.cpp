// The identity core's schema, version by version. Never edit a released migration: add one.
#include "latchkey_sql/dialect.hpp"

namespace latchkey::sql {

std::string replaceAll(std::string text, const std::string& from, const std::string& to) {
    for (std::size_t at = text.find(from); at != std::string::npos;
         at = text.find(from, at + to.size())) {
        text.replace(at, from.size(), to);
    }
    return text;
}

const std::vector<Migration>& coreMigrations() {
    // Timestamps are microseconds since the epoch (BIGINT) and booleans are SMALLINT 0/1, so
    // every database reads them back the same way. Fixed-size strings are VARCHAR too: CHAR(n)
    // comes back space-padded from PostgreSQL. (Migrations 1-3 said CHAR until the PostgreSQL
    // driver came; for SQLite, the only driver then, both mean TEXT, so no database differs.)
    static const std::vector<Migration> migrations{
        {1,
         "identity core: key/value area, accounts, instances, API keys, users, profiles",
         {
             "CREATE TABLE kv_store ("
             " ns VARCHAR(128) NOT NULL,"
             " k VARCHAR(255) NOT NULL,"
             " v TEXT NOT NULL,"
             " PRIMARY KEY (ns, k)){table}",

             "CREATE TABLE accounts ("
             " id {id},"
             " email VARCHAR(254) NOT NULL UNIQUE,"
             " first_name VARCHAR(64) NOT NULL,"
             " last_name VARCHAR(64) NOT NULL,"
             " password_hash VARCHAR(255) NOT NULL,"
             " key_lookup VARCHAR(64) NOT NULL UNIQUE,"
             " key_sealed VARCHAR(255) NOT NULL,"
             " is_active SMALLINT NOT NULL,"
             " metadata TEXT NOT NULL,"
             " created_at BIGINT NOT NULL,"
             " updated_at BIGINT NOT NULL){table}",

             "CREATE TABLE instances ("
             " id {id},"
             " name VARCHAR(64) NOT NULL UNIQUE,"
             " description VARCHAR(256) NOT NULL,"
             " owner_id BIGINT NOT NULL REFERENCES accounts(id),"
             " metadata TEXT NOT NULL,"
             " created_at BIGINT NOT NULL,"
             " updated_at BIGINT NOT NULL){table}",

             "CREATE INDEX instances_owner ON instances (owner_id, id)",

             "CREATE TABLE api_keys ("
             " id {id},"
             " instance_id BIGINT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,"
             " description VARCHAR(256) NOT NULL,"
             " key_lookup VARCHAR(64) NOT NULL UNIQUE,"
             " key_sealed VARCHAR(255) NOT NULL,"
             " ignore_acl SMALLINT NOT NULL,"
             " allow_user_create SMALLINT NOT NULL,"
             " allow_group_create SMALLINT NOT NULL,"
             " allow_anonymous_read SMALLINT NOT NULL,"
             " created_at BIGINT NOT NULL){table}",

             "CREATE INDEX api_keys_instance ON api_keys (instance_id, id)",

             "CREATE TABLE users ("
             " id {id},"
             " instance_id BIGINT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,"
             " username VARCHAR(64) NOT NULL,"
             " password_hash VARCHAR(255) NOT NULL,"
             " key_lookup VARCHAR(64) NOT NULL UNIQUE,"
             " key_sealed VARCHAR(255) NOT NULL,"
             " created_at BIGINT NOT NULL,"
             " updated_at BIGINT NOT NULL,"
             " CONSTRAINT users_instance_username UNIQUE (instance_id, username)){table}",

             "CREATE TABLE user_profiles ("
             " id {id},"
             " user_id BIGINT NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,"
             " revision BIGINT NOT NULL,"
             " owner_permissions VARCHAR(8) NOT NULL,"
             " group_id BIGINT NULL,"
             " group_permissions VARCHAR(8) NOT NULL,"
             " other_permissions VARCHAR(8) NOT NULL,"
             " data TEXT NOT NULL,"
             " created_at BIGINT NOT NULL,"
             " updated_at BIGINT NOT NULL){table}",
         }},
        {2,
         "groups and memberships, classes (the user_profile schema), uploaded files",
         {
             // Not "groups": a reserved word in MySQL 8.
             "CREATE TABLE user_groups ("
             " id {id},"
             " instance_id BIGINT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,"
             " label VARCHAR(64) NOT NULL,"
             " description TEXT NOT NULL,"
             " created_at BIGINT NOT NULL,"
             " updated_at BIGINT NOT NULL){table}",

             "CREATE INDEX user_groups_instance ON user_groups (instance_id, id)",

             "CREATE TABLE memberships ("
             " user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
             " group_id BIGINT NOT NULL REFERENCES user_groups(id) ON DELETE CASCADE,"
             " created_at BIGINT NOT NULL,"
             " PRIMARY KEY (user_id, group_id)){table}",

             "CREATE INDEX memberships_group ON memberships (group_id, user_id)",

             "CREATE TABLE classes ("
             " id {id},"
             " instance_id BIGINT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,"
             " name VARCHAR(64) NOT NULL,"
             " description VARCHAR(256) NOT NULL,"
             " schema_json TEXT NOT NULL,"
             " revision BIGINT NOT NULL,"
             " metadata TEXT NOT NULL,"
             " created_at BIGINT NOT NULL,"
             " updated_at BIGINT NOT NULL,"
             " CONSTRAINT classes_instance_name UNIQUE (instance_id, name)){table}",

             "CREATE TABLE files ("
             " id {id},"
             " instance_id BIGINT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,"
             " owner_user_id BIGINT NULL REFERENCES users(id) ON DELETE CASCADE,"
             " field VARCHAR(64) NOT NULL,"
             " token VARCHAR(32) NOT NULL UNIQUE,"
             " filename VARCHAR(255) NOT NULL,"
             " content_type VARCHAR(255) NOT NULL,"
             " data {blob} NOT NULL,"
             " created_at BIGINT NOT NULL){table}",

             "CREATE INDEX files_owner ON files (owner_user_id)",
             "CREATE INDEX files_field ON files (instance_id, field)",
         }},
        {3,
         "sessions and login tokens (both stored as hashes only)",
         {
             "CREATE TABLE sessions ("
             " id_hash VARCHAR(64) NOT NULL PRIMARY KEY,"
             " instance_id BIGINT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,"
             " user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
             " created_at BIGINT NOT NULL,"
             " last_seen_at BIGINT NOT NULL,"
             " expires_at BIGINT NOT NULL){table}",

             "CREATE INDEX sessions_user ON sessions (user_id)",

             "CREATE TABLE login_tokens ("
             " token_hash VARCHAR(64) NOT NULL PRIMARY KEY,"
             " user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
             " purpose VARCHAR(16) NOT NULL,"
             " created_at BIGINT NOT NULL,"
             " expires_at BIGINT NOT NULL){table}",

             "CREATE INDEX login_tokens_user ON login_tokens (user_id)",
         }},
        {4,
         "social identities: provider accounts linked to users",
         {
             "CREATE TABLE social_identities ("
             " instance_id BIGINT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,"
             " backend VARCHAR(64) NOT NULL,"
             " uid VARCHAR(255) NOT NULL,"
             " user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
             " created_at BIGINT NOT NULL,"
             " PRIMARY KEY (instance_id, backend, uid)){table}",

             "CREATE INDEX social_identities_user ON social_identities (user_id)",
         }},
        {5,
         "deactivated users (the UserStates facet)",
         {
             "CREATE TABLE inactive_users ("
             " user_id BIGINT NOT NULL PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,"
             " instance_id BIGINT NOT NULL REFERENCES instances(id) ON DELETE CASCADE){table}",

             "CREATE INDEX inactive_users_instance ON inactive_users (instance_id, user_id)",
         }},
        {6,
         "an index for pages of an instance's users (by id, as listUsers walks them)",
         {
             "CREATE INDEX users_instance ON users (instance_id, id)",
         }},
    };
    return migrations;
}

} // namespace latchkey::sql
