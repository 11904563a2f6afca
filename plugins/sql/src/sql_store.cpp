// The identity core's Store over Poco::Data, shared by the SQLite, PostgreSQL and MySQL plugins.
#include "latchkey_sql/sql_store.hpp"

#include <Poco/Data/LOB.h>
#include <Poco/Data/RecordSet.h>
#include <Poco/Data/Statement.h>

#include <optional>
#include <stdexcept>

namespace latchkey::sql {

namespace {

using Poco::Data::RecordSet;
using Poco::Data::Session;
using Poco::Data::Statement;

/// Reads the columns of one row in order.
class RowReader {
public:
    RowReader(const RecordSet& rows, std::size_t row) : rows_(rows), row_(row) {}

    std::int64_t integer() {
        const std::size_t col = col_++;
        if (rows_.isNull(col, row_)) return 0;
        return rows_.value(col, row_).convert<Poco::Int64>();
    }
    std::optional<std::int64_t> optionalInteger() {
        if (rows_.isNull(col_, row_)) {
            ++col_;
            return std::nullopt;
        }
        return integer();
    }
    std::string text() {
        const std::size_t col = col_++;
        if (rows_.isNull(col, row_)) return {};
        return rows_.value(col, row_).convert<std::string>();
    }
    bool flag() { return integer() != 0; }

private:
    const RecordSet& rows_;
    std::size_t row_;
    std::size_t col_ = 0;
};

/// Executes `sql` with `args` bound to its placeholders, in order.
template <class... Args>
Statement execute(Session& session, const Dialect& dialect, const std::string& sql,
                  const Args&... args) {
    Statement statement(session);
    statement << dialect.placeholders(sql);
    (statement.bind(args), ...);
    statement.execute();
    return statement;
}

/// Executes a write and returns how many rows it changed.
template <class... Args>
std::size_t affected(Session& session, const Dialect& dialect, const std::string& sql,
                     const Args&... args) {
    Statement statement(session);
    statement << dialect.placeholders(sql);
    (statement.bind(args), ...);
    return statement.execute();
}

/// Runs a query and maps each row with `read`.
template <class Record, class Read, class... Args>
std::vector<Record> query(Session& session, const Dialect& dialect, const std::string& sql,
                          Read read, const Args&... args) {
    Statement statement = execute(session, dialect, sql, args...);
    RecordSet rows(statement);
    std::vector<Record> out;
    out.reserve(rows.rowCount());
    for (std::size_t i = 0; i < rows.rowCount(); ++i) {
        RowReader reader(rows, i);
        out.push_back(read(reader));
    }
    return out;
}

template <class Record>
std::optional<Record> first(std::vector<Record> rows) {
    if (rows.empty()) return std::nullopt;
    return std::move(rows.front());
}

/// Inserts a row and returns its new id: INSERT ... RETURNING id where the dialect can read
/// it back (SQLite 3.35+, PostgreSQL), else the connection's LAST_INSERT_ID() (MySQL/MariaDB:
/// Poco's MySQL connector sees no result set in an INSERT).
template <class... Args>
Id insertReturningId(Session& session, const Dialect& dialect, const std::string& sql,
                     const Args&... args) {
    const bool returning = dialect.insertReturning();
    if (!returning) execute(session, dialect, sql, args...);
    Statement statement = returning ? execute(session, dialect, sql + " RETURNING id", args...)
                                    : execute(session, dialect, "SELECT LAST_INSERT_ID()");
    RecordSet rows(statement);
    if (rows.rowCount() != 1) throw std::runtime_error("INSERT returned no id");
    return rows.value(0, 0).convert<Poco::Int64>();
}

std::int16_t asFlag(bool value) {
    return value ? 1 : 0;
}

// Column lists and readers, one per record type, kept next to each other so they stay in step.

constexpr const char* kAccountColumns =
    "id, email, first_name, last_name, password_hash, key_lookup, key_sealed, is_active, "
    "metadata, created_at, updated_at";

AccountRecord readAccount(RowReader& r) {
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

constexpr const char* kInstanceColumns =
    "id, name, description, owner_id, metadata, created_at, updated_at";

InstanceRecord readInstance(RowReader& r) {
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

constexpr const char* kApiKeyColumns =
    "id, instance_id, description, key_lookup, key_sealed, ignore_acl, allow_user_create, "
    "allow_group_create, allow_anonymous_read, created_at";

ApiKeyRecord readApiKey(RowReader& r) {
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

constexpr const char* kUserSelect =
    "SELECT u.id, u.instance_id, u.username, u.password_hash, u.key_lookup, u.key_sealed, "
    "u.created_at, u.updated_at, p.id, p.revision, p.owner_permissions, p.group_id, "
    "p.group_permissions, p.other_permissions, p.data, p.created_at, p.updated_at "
    "FROM users u JOIN user_profiles p ON p.user_id = u.id ";

UserRecord readUser(RowReader& r) {
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

/// `AND id > ? ORDER BY id ASC LIMIT n` (or the descending mirror) for a keyset page on `column`.
std::string pageClause(const PageRequest& page, const std::string& column = "id") {
    std::string clause;
    if (page.after) clause += " AND " + column + (page.ascending ? " > ?" : " < ?");
    clause += " ORDER BY " + column + (page.ascending ? " ASC" : " DESC");
    clause += " LIMIT " + std::to_string(page.limit);
    return clause;
}

constexpr const char* kGroupColumns = "id, instance_id, label, description, created_at, updated_at";

GroupRecord readGroup(RowReader& r) {
    GroupRecord g;
    g.id = r.integer();
    g.instanceId = r.integer();
    g.label = r.text();
    g.description = r.text();
    g.createdAt = r.integer();
    g.updatedAt = r.integer();
    return g;
}

constexpr const char* kClassColumns =
    "id, instance_id, name, description, schema_json, revision, metadata, created_at, updated_at";

ClassRecord readClass(RowReader& r) {
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
void attachGroups(Session& session, const Dialect& dialect, std::vector<UserRecord>& users) {
    if (users.empty()) return;
    std::string sql = "SELECT m.user_id, g.id, g.instance_id, g.label, g.description, "
                      "g.created_at, g.updated_at FROM memberships m "
                      "JOIN user_groups g ON g.id = m.group_id WHERE m.user_id IN (";
    for (std::size_t i = 0; i < users.size(); ++i)
        sql += i ? ", ?" : "?";
    sql += ") ORDER BY g.id";
    Statement statement(session);
    statement << dialect.placeholders(sql);
    for (const auto& user : users)
        statement.bind(user.id);
    statement.execute();
    RecordSet rows(statement);
    for (std::size_t i = 0; i < rows.rowCount(); ++i) {
        RowReader reader(rows, i);
        const Id userId = reader.integer();
        GroupRecord group = readGroup(reader);
        for (auto& user : users) {
            if (user.id == userId) user.groups.push_back(group);
        }
    }
}

/// Users (with profile and groups) matching `where`, which follows kUserSelect.
template <class... Args>
std::vector<UserRecord> queryUsers(Session& session, const Dialect& dialect,
                                   const std::string& where, const Args&... args) {
    auto users =
        query<UserRecord>(session, dialect, std::string(kUserSelect) + where, readUser, args...);
    attachGroups(session, dialect, users);
    return users;
}

/// The first row's first column as a number (COUNT(*), MAX(...)).
template <class... Args>
std::int64_t scalar(Session& session, const Dialect& dialect, const std::string& sql,
                    const Args&... args) {
    Statement statement = execute(session, dialect, sql, args...);
    RecordSet rows(statement);
    if (rows.rowCount() == 0 || rows.isNull(0, 0)) return 0;
    return rows.value(0, 0).convert<Poco::Int64>();
}

/// True if the query finds a row (it may end with a row lock: PostgreSQL allows no FOR UPDATE
/// with COUNT(*)).
template <class... Args>
bool exists(Session& session, const Dialect& dialect, const std::string& sql, const Args&... args) {
    Statement statement = execute(session, dialect, sql, args...);
    return RecordSet(statement).rowCount() > 0;
}

/// Ends a failed transaction; a session whose transaction state is unknown (the ROLLBACK
/// failed too) must not serve anyone else.
void rollback(ConnectionPool::Lease& lease) {
    try {
        lease.session() << "ROLLBACK", Poco::Data::Keywords::now;
    } catch (const Poco::Exception&) {
        lease.discard();
    }
}

} // namespace

SqlStore::SqlStore(std::unique_ptr<Dialect> dialect, SessionFactory factory, PoolOptions options,
                   Logger& log)
    : dialect_(std::move(dialect)), pool_(
                                        [this, factory = std::move(factory)] {
                                            auto session = factory();
                                            dialect_->prepareSession(*session);
                                            return session;
                                        },
                                        options.size, options.wait),
      log_(log) {}

template <class Work>
auto SqlStore::withLease(const char* conflictField, Work&& work) {
    // At most two rounds: the second only after a pooled connection turned out dead before
    // anything could have been committed (a database restart leaves every idle one dead).
    for (int round = 0;; ++round) {
        std::optional<ConnectionPool::Lease> held;
        try {
            held.emplace(pool_.acquire());
        } catch (const Poco::Exception& e) {
            throw Unavailable(dialect_->name() + ": cannot connect: " + e.displayText());
        }
        ConnectionPool::Lease& lease = *held;
        LeaseState state;
        try {
            return work(lease, state);
        } catch (const Poco::Exception& e) {
            if (dialect_->isUniqueViolation(e)) throw Conflict(conflictField);
            bool broken = false;
            try {
                broken = dialect_->isBroken(lease.session());
            } catch (const std::exception&) {
                broken = true;
            }
            if (broken) {
                lease.discard();
                pool_.discardIdle();
                if (round == 0 && lease.reused() && !state.commitSent) {
                    log_.warn(dialect_->name() +
                              ": a pooled connection was dead; retrying on a new one");
                    continue;
                }
                throw Unavailable(dialect_->name() + ": connection lost: " + e.displayText());
            }
            if (dialect_->isUnavailable(e)) {
                lease.discard();
                throw Unavailable(dialect_->name() + ": " + e.displayText());
            }
            throw std::runtime_error(dialect_->name() + ": " + e.displayText());
        }
    }
}

template <class Work>
auto SqlStore::run(const char* conflictField, Work&& work) {
    return withLease(conflictField, [&](ConnectionPool::Lease& lease, LeaseState&) {
        return work(lease.session());
    });
}

template <class Work>
auto SqlStore::write(const char* conflictField, Work&& work) {
    return withLease(conflictField, [&](ConnectionPool::Lease& lease, LeaseState& state) {
        Session& session = lease.session();
        dialect_->beginWrite(session);
        try {
            // Once COMMIT is on its way, a lost connection leaves the outcome unknown: no retry.
            if constexpr (std::is_void_v<decltype(work(session))>) {
                work(session);
                state.commitSent = true;
                session << "COMMIT", Poco::Data::Keywords::now;
            } else {
                auto result = work(session);
                state.commitSent = true;
                session << "COMMIT", Poco::Data::Keywords::now;
                return result;
            }
        } catch (...) {
            rollback(lease);
            throw;
        }
    });
}

void SqlStore::migrate(const std::string& where) {
    try {
        migrate();
    } catch (const std::exception& e) {
        throw std::runtime_error(where + ": " + e.what());
    }
    log_.info("database " + where + " at schema version " + std::to_string(schemaVersion()));
}

int SqlStore::schemaVersion() {
    return run("schema", [&](Session& session) {
        Statement statement =
            execute(session, *dialect_, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
        RecordSet rows(statement);
        return static_cast<int>(rows.value(0, 0).convert<Poco::Int64>());
    });
}

void SqlStore::migrate() {
    const auto& migrations = coreMigrations();
    const int newest = migrations.empty() ? 0 : migrations.back().version;
    // One session throughout, under the dialect's migration lock: hosts starting together on
    // a new database take turns, and the later ones find nothing left to do.
    withLease("schema", [&](ConnectionPool::Lease& lease, LeaseState&) {
        Session& session = lease.session();
        dialect_->lockMigrations(session);
        try {
            execute(session, *dialect_,
                    dialect_->expand("CREATE TABLE IF NOT EXISTS schema_migrations ("
                                     " version INTEGER NOT NULL PRIMARY KEY,"
                                     " description VARCHAR(255) NOT NULL,"
                                     " applied_at BIGINT NOT NULL){table}"));
            dialect_->beginWrite(session);
            try {
                applyMigrations(session, migrations, newest);
                session << "COMMIT", Poco::Data::Keywords::now;
            } catch (...) {
                rollback(lease);
                throw;
            }
        } catch (...) {
            try {
                dialect_->unlockMigrations(session);
            } catch (const Poco::Exception&) {
                lease.discard();
            }
            throw;
        }
        dialect_->unlockMigrations(session);
    });
}

void SqlStore::applyMigrations(Session& session, const std::vector<Migration>& migrations,
                               int newest) {
    Statement statement =
        execute(session, *dialect_, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    RecordSet rows(statement);
    const int current = static_cast<int>(rows.value(0, 0).convert<Poco::Int64>());
    if (current > newest) {
        throw std::runtime_error("the database schema is at version " + std::to_string(current) +
                                 ", newer than this " + dialect_->name() + " plugin knows (" +
                                 std::to_string(newest) +
                                 "); upgrade latchkey before using this database");
    }
    for (const auto& migration : migrations) {
        if (migration.version <= current) continue;
        for (const auto& ddl : migration.statements) {
            execute(session, *dialect_, dialect_->expand(ddl));
        }
        const auto appliedAt = std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
        execute(session, *dialect_,
                "INSERT INTO schema_migrations (version, description, applied_at) "
                "VALUES (?, ?, ?)",
                static_cast<Poco::Int64>(migration.version), migration.description,
                static_cast<Poco::Int64>(appliedAt));
        log_.info("applied schema migration " + std::to_string(migration.version) + ": " +
                  migration.description);
    }
}

void SqlStore::ping() {
    try {
        run("ping", [&](Session& session) { execute(session, *dialect_, "SELECT 1"); });
    } catch (const Unavailable&) {
        throw;
    } catch (const std::exception& e) {
        throw Unavailable(e.what());
    }
}

// --- key/value area -------------------------------------------------------------------------

std::optional<std::string> SqlStore::getValue(std::string_view ns, std::string_view key) {
    return run("k", [&](Session& session) {
        return first(query<std::string>(
            session, *dialect_, "SELECT v FROM kv_store WHERE ns = ? AND k = ?",
            [](RowReader& r) { return r.text(); }, std::string(ns), std::string(key)));
    });
}

void SqlStore::putValue(std::string_view ns, std::string_view key, std::string_view value) {
    write("k", [&](Session& session) {
        const std::string n(ns);
        const std::string k(key);
        const std::string v(value);
        // One statement: a DELETE + INSERT pair lets two concurrent writers of a new key both
        // insert under READ COMMITTED, and one of them fail.
        execute(session, *dialect_,
                dialect_->upsert("INSERT INTO kv_store (ns, k, v) VALUES (?, ?, ?)", "ns, k", "v"),
                n, k, v);
    });
}

bool SqlStore::putValueIfAbsent(std::string_view ns, std::string_view key, std::string_view value) {
    try {
        write("k", [&](Session& session) {
            execute(session, *dialect_, "INSERT INTO kv_store (ns, k, v) VALUES (?, ?, ?)",
                    std::string(ns), std::string(key), std::string(value));
        });
        return true;
    } catch (const Conflict&) {
        return false;
    }
}

bool SqlStore::compareAndSetValue(std::string_view ns, std::string_view key,
                                  std::string_view expected, std::string_view value) {
    return write("k", [&](Session& session) {
        if (value == expected) {
            // Nothing to write; and MySQL would count the no-op UPDATE as 0 rows.
            return exists(session, *dialect_,
                          "SELECT 1 FROM kv_store WHERE ns = ? AND k = ? AND v = ?",
                          std::string(ns), std::string(key), std::string(expected));
        }
        return affected(session, *dialect_,
                        "UPDATE kv_store SET v = ? WHERE ns = ? AND k = ? AND v = ?",
                        std::string(value), std::string(ns), std::string(key),
                        std::string(expected)) == 1;
    });
}

bool SqlStore::deleteValue(std::string_view ns, std::string_view key) {
    return write("k", [&](Session& session) {
        return affected(session, *dialect_, "DELETE FROM kv_store WHERE ns = ? AND k = ?",
                        std::string(ns), std::string(key)) > 0;
    });
}

std::vector<std::pair<std::string, std::string>> SqlStore::listValues(std::string_view ns,
                                                                      std::string_view prefix) {
    return run("k", [&](Session& session) {
        // A range on the key instead of LIKE: no escaping of '%' and '_' in the prefix, and the
        // primary key index serves it. Keys compare byte by byte in every dialect (SQLite's
        // BINARY, PostgreSQL's "C" collation, MariaDB's utf8mb4_nopad_bin), so the keys with
        // the prefix are those from it up to (not including) the prefix with its last byte
        // raised by one.
        const std::string from(prefix);
        std::string to = from;
        while (!to.empty() && static_cast<unsigned char>(to.back()) == 0xFF)
            to.pop_back();
        const auto readPair = [](RowReader& r) {
            std::string key = r.text();
            return std::make_pair(std::move(key), r.text());
        };
        using Pair = std::pair<std::string, std::string>;
        if (to.empty()) { // no bound above (an empty prefix, or only 0xFF bytes)
            return query<Pair>(session, *dialect_,
                               "SELECT k, v FROM kv_store WHERE ns = ? AND k >= ? ORDER BY k",
                               readPair, std::string(ns), from);
        }
        to.back() = static_cast<char>(static_cast<unsigned char>(to.back()) + 1);
        return query<Pair>(session, *dialect_,
                           "SELECT k, v FROM kv_store WHERE ns = ? AND k >= ? AND k < ? ORDER BY k",
                           readPair, std::string(ns), from, to);
    });
}

// --- accounts -------------------------------------------------------------------------------

AccountRecord SqlStore::createAccount(const AccountRecord& account) {
    AccountRecord out = account;
    out.id = write("email", [&](Session& session) {
        return insertReturningId(
            session, *dialect_,
            "INSERT INTO accounts (email, first_name, last_name, password_hash, key_lookup, "
            "key_sealed, is_active, metadata, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            account.email, account.firstName, account.lastName, account.passwordHash,
            account.key.lookup, account.key.sealed, asFlag(account.active), account.metadata,
            account.createdAt, account.updatedAt);
    });
    return out;
}

std::optional<AccountRecord> SqlStore::findAccountById(Id id) {
    return run("id", [&](Session& session) {
        return first(query<AccountRecord>(session, *dialect_,
                                          std::string("SELECT ") + kAccountColumns +
                                              " FROM accounts WHERE id = ?",
                                          readAccount, id));
    });
}

std::optional<AccountRecord> SqlStore::findAccountByEmail(std::string_view email) {
    return run("email", [&](Session& session) {
        return first(query<AccountRecord>(session, *dialect_,
                                          std::string("SELECT ") + kAccountColumns +
                                              " FROM accounts WHERE email = ?",
                                          readAccount, std::string(email)));
    });
}

std::optional<AccountRecord> SqlStore::findAccountByKey(std::string_view lookup) {
    return run("key", [&](Session& session) {
        return first(query<AccountRecord>(session, *dialect_,
                                          std::string("SELECT ") + kAccountColumns +
                                              " FROM accounts WHERE key_lookup = ?",
                                          readAccount, std::string(lookup)));
    });
}

bool SqlStore::updateAccountPasswordHash(Id id, std::string_view expectedHash,
                                         std::string_view passwordHash) {
    return write("password", [&](Session& session) {
        return affected(session, *dialect_,
                        "UPDATE accounts SET password_hash = ? WHERE id = ? AND password_hash = ?",
                        std::string(passwordHash), id, std::string(expectedHash)) == 1;
    });
}

// --- instances ------------------------------------------------------------------------------

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
        const std::string sql = std::string("SELECT ") + kInstanceColumns +
                                " FROM instances WHERE owner_id = ?" + pageClause(page);
        return page.after ? query<InstanceRecord>(session, *dialect_, sql, readInstance, ownerId,
                                                  *page.after)
                          : query<InstanceRecord>(session, *dialect_, sql, readInstance, ownerId);
    });
}

bool SqlStore::deleteInstance(Id id) {
    return write("id", [&](Session& session) {
        // Children first, explicitly: the same on every database, foreign keys on or off.
        execute(session, *dialect_, "DELETE FROM files WHERE instance_id = ?", id);
        execute(session, *dialect_, "DELETE FROM sessions WHERE instance_id = ?", id);
        execute(session, *dialect_, "DELETE FROM social_identities WHERE instance_id = ?", id);
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

// --- API keys -------------------------------------------------------------------------------

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
        const std::string sql = std::string("SELECT ") + kApiKeyColumns +
                                " FROM api_keys WHERE instance_id = ?" + pageClause(page);
        return page.after ? query<ApiKeyRecord>(session, *dialect_, sql, readApiKey, instanceId,
                                                *page.after)
                          : query<ApiKeyRecord>(session, *dialect_, sql, readApiKey, instanceId);
    });
}

// --- users ----------------------------------------------------------------------------------

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
        return first(
            queryUsers(session, *dialect_, "WHERE u.instance_id = ? AND u.id = ?", instanceId, id));
    });
}

std::optional<UserRecord> SqlStore::findUserByUsername(Id instanceId, std::string_view username) {
    return run("username", [&](Session& session) {
        return first(queryUsers(session, *dialect_, "WHERE u.instance_id = ? AND u.username = ?",
                                instanceId, std::string(username)));
    });
}

std::optional<UserRecord> SqlStore::findUserByKey(Id instanceId, std::string_view lookup) {
    return run("key", [&](Session& session) {
        return first(queryUsers(session, *dialect_, "WHERE u.key_lookup = ? AND u.instance_id = ?",
                                std::string(lookup), instanceId));
    });
}

std::optional<UserRecord> SqlStore::findUserByProfile(Id instanceId, Id profileId) {
    return run("id", [&](Session& session) {
        return first(queryUsers(session, *dialect_, "WHERE u.instance_id = ? AND p.id = ?",
                                instanceId, profileId));
    });
}

bool SqlStore::updateUserPasswordHash(Id userId, std::string_view expectedHash,
                                      std::string_view passwordHash) {
    return write("password", [&](Session& session) {
        return affected(session, *dialect_,
                        "UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?",
                        std::string(passwordHash), userId, std::string(expectedHash)) == 1;
    });
}

void SqlStore::updateInstance(const InstanceRecord& instance) {
    write("name", [&](Session& session) {
        execute(session, *dialect_,
                "UPDATE instances SET description = ?, metadata = ?, updated_at = ? WHERE id = ?",
                instance.description, instance.metadata, instance.updatedAt, instance.id);
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

// --- users, continued -------------------------------------------------------------------------

std::vector<UserRecord> SqlStore::listUsers(Id instanceId, const PageRequest& page) {
    return run("id", [&](Session& session) {
        const std::string where = "WHERE u.instance_id = ?" + pageClause(page, "u.id");
        return page.after ? queryUsers(session, *dialect_, where, instanceId, *page.after)
                          : queryUsers(session, *dialect_, where, instanceId);
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
        execute(session, *dialect_, "DELETE FROM user_profiles WHERE user_id = ?", id);
        execute(session, *dialect_, "DELETE FROM users WHERE id = ?", id);
        return true;
    });
}

// --- groups -----------------------------------------------------------------------------------

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
        const std::string sql = std::string("SELECT ") + kGroupColumns +
                                " FROM user_groups WHERE instance_id = ?" + pageClause(page);
        return page.after
                   ? query<GroupRecord>(session, *dialect_, sql, readGroup, instanceId, *page.after)
                   : query<GroupRecord>(session, *dialect_, sql, readGroup, instanceId);
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
        const std::string where =
            "WHERE u.id IN (SELECT user_id FROM memberships WHERE group_id = ?)" +
            pageClause(page, "u.id");
        return page.after ? queryUsers(session, *dialect_, where, groupId, *page.after)
                          : queryUsers(session, *dialect_, where, groupId);
    });
}

// --- classes ----------------------------------------------------------------------------------

std::optional<ClassRecord> SqlStore::findClass(Id instanceId, std::string_view name) {
    return run("name", [&](Session& session) {
        return first(query<ClassRecord>(session, *dialect_,
                                        std::string("SELECT ") + kClassColumns +
                                            " FROM classes WHERE instance_id = ? AND name = ?",
                                        readClass, instanceId, std::string(name)));
    });
}

std::optional<ClassRecord> SqlStore::saveClass(const ClassRecord& record,
                                               std::int64_t expectedRevision) {
    ClassRecord out = record;
    if (record.id == 0) {
        try {
            out.revision = 1;
            out.id = write("name", [&](Session& session) {
                return insertReturningId(
                    session, *dialect_,
                    "INSERT INTO classes (instance_id, name, description, schema_json, revision, "
                    "metadata, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    record.instanceId, record.name, record.description, record.schema, out.revision,
                    record.metadata, record.createdAt, record.updatedAt);
            });
            return out;
        } catch (const Conflict&) {
            return std::nullopt; // created by someone else meanwhile
        }
    }
    const bool saved = write("name", [&](Session& session) {
        return affected(session, *dialect_,
                        "UPDATE classes SET description = ?, schema_json = ?, metadata = ?, "
                        "updated_at = ?, revision = revision + 1 WHERE id = ? AND revision = ?",
                        record.description, record.schema, record.metadata, record.updatedAt,
                        record.id, expectedRevision) == 1;
    });
    if (!saved) return std::nullopt;
    out.revision = expectedRevision + 1;
    return out;
}

// --- files ------------------------------------------------------------------------------------

FileRecord SqlStore::createFile(const FileRecord& file) {
    FileRecord out = file;
    out.id = write("token", [&](Session& session) {
        const Poco::Data::BLOB data(reinterpret_cast<const unsigned char*>(file.data.data()),
                                    file.data.size());
        const Poco::Nullable<Poco::Int64> owner =
            file.ownerUserId ? Poco::Nullable<Poco::Int64>(*file.ownerUserId)
                             : Poco::Nullable<Poco::Int64>();
        return insertReturningId(session, *dialect_,
                                 "INSERT INTO files (instance_id, owner_user_id, field, token, "
                                 "filename, content_type, data, created_at) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                 file.instanceId, owner, file.field, file.token, file.filename,
                                 file.contentType, data, file.createdAt);
    });
    return out;
}

std::optional<FileRecord> SqlStore::findFile(std::string_view token) {
    return run("token", [&](Session& session) -> std::optional<FileRecord> {
        Statement statement = execute(session, *dialect_,
                                      "SELECT id, instance_id, owner_user_id, field, token, "
                                      "filename, content_type, created_at, data FROM files "
                                      "WHERE token = ?",
                                      std::string(token));
        RecordSet rows(statement);
        if (rows.rowCount() == 0) return std::nullopt;
        RowReader reader(rows, 0);
        FileRecord file;
        file.id = reader.integer();
        file.instanceId = reader.integer();
        file.ownerUserId = reader.optionalInteger();
        file.field = reader.text();
        file.token = reader.text();
        file.filename = reader.text();
        file.contentType = reader.text();
        file.createdAt = reader.integer();
        const auto blob = rows.value(8, 0).extract<Poco::Data::BLOB>();
        file.data.assign(reinterpret_cast<const char*>(blob.rawContent()), blob.size());
        return file;
    });
}

bool SqlStore::deleteFile(std::string_view token, Id ownerUserId) {
    return write("token", [&](Session& session) {
        return affected(session, *dialect_,
                        "DELETE FROM files WHERE token = ? AND owner_user_id = ?",
                        std::string(token), ownerUserId) > 0;
    });
}

std::size_t SqlStore::deleteFieldFiles(Id instanceId, std::string_view field) {
    return write("field", [&](Session& session) {
        return affected(session, *dialect_, "DELETE FROM files WHERE instance_id = ? AND field = ?",
                        instanceId, std::string(field));
    });
}

// --- sessions and login tokens -----------------------------------------------------------------

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

void SqlStore::replaceLoginToken(const LoginTokenRecord& token) {
    write("token", [&](Session& session) {
        // A new token voids the older ones: there is only ever one live token per user. The
        // user's row is locked first, so two concurrent replacements take turns instead of
        // both deleting nothing new and both inserting.
        exists(session, *dialect_, "SELECT id FROM users WHERE id = ?" + dialect_->lockRows(),
               token.userId);
        execute(session, *dialect_, "DELETE FROM login_tokens WHERE user_id = ?", token.userId);
        execute(session, *dialect_,
                "INSERT INTO login_tokens (token_hash, user_id, purpose, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                token.tokenHash, token.userId, token.purpose, token.createdAt, token.expiresAt);
    });
}

std::optional<std::string> SqlStore::consumeLoginToken(Id userId, std::string_view tokenHash,
                                                       Micros now) {
    return write("token", [&](Session& session) -> std::optional<std::string> {
        auto purpose = first(query<std::string>(
            session, *dialect_,
            "SELECT purpose FROM login_tokens WHERE user_id = ? AND token_hash = ? "
            "AND expires_at > ?" +
                dialect_->lockRows(),
            [](RowReader& r) { return r.text(); }, userId, std::string(tokenHash), now));
        if (!purpose) return std::nullopt;
        // Deleting is the check: of two concurrent uses, one deletes the row, the other finds
        // nothing (each in its own write transaction).
        if (affected(session, *dialect_,
                     "DELETE FROM login_tokens WHERE user_id = ? AND token_hash = ?", userId,
                     std::string(tokenHash)) != 1) {
            return std::nullopt;
        }
        return purpose;
    });
}

std::size_t SqlStore::revokeLoginTokens(Id userId) {
    return write("token", [&](Session& session) {
        return affected(session, *dialect_, "DELETE FROM login_tokens WHERE user_id = ?", userId);
    });
}

// --- social identities ------------------------------------------------------------------------

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
