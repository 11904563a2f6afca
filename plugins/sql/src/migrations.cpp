// The identity core's schema, version by version. Never edit a released migration: add one.
#include "latchkey_sql/dialect.hpp"

namespace latchkey::sql {

const std::vector<Migration>& coreMigrations() {
    // Timestamps are microseconds since the epoch (BIGINT) and booleans are SMALLINT 0/1, so
    // every database reads them back the same way.
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
             " key_lookup CHAR(64) NOT NULL UNIQUE,"
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
             " key_lookup CHAR(64) NOT NULL UNIQUE,"
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
             " key_lookup CHAR(64) NOT NULL UNIQUE,"
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
    };
    return migrations;
}

} // namespace latchkey::sql
