// What differs between the SQL databases the storage plugins support; everything else is shared.
#pragma once

#include "latchkey_sql/native_statements.hpp"

#include <Poco/Data/Session.h>
#include <Poco/Exception.h>

#include <memory>
#include <string>
#include <vector>

namespace latchkey::sql {

/// One schema version: statements applied together, in one transaction where the database
/// allows transactional DDL.
struct Migration {
    int version;                         ///< 1, 2, 3, ... in order.
    std::string description;             ///< For the log.
    std::vector<std::string> statements; ///< With dialect tokens, see Dialect::expand.
};

/// A database's SQL dialect and error vocabulary.
class Dialect {
public:
    virtual ~Dialect() = default;

    /// "sqlite", "postgresql", "mysql".
    virtual std::string name() const = 0;

    /// Replaces the schema tokens in shared DDL: {id} (auto-increment primary key column type),
    /// {blob} (a binary column of up to a few megabytes), {table} (options after a CREATE
    /// TABLE's closing parenthesis).
    virtual std::string expand(const std::string& ddl) const = 0;

    /// Rewrites `?` placeholders if the connector needs another style.
    virtual std::string placeholders(const std::string& sql) const { return sql; }

    /// `insert` (an INSERT ... VALUES) turned into an upsert: on a clash of the unique `keys`
    /// (comma-separated columns), `column` takes the new value. SQLite 3.24+ and PostgreSQL
    /// share this syntax; MySQL has ON DUPLICATE KEY UPDATE.
    virtual std::string upsert(const std::string& insert, const std::string& keys,
                               const std::string& column) const {
        return insert + " ON CONFLICT (" + keys + ") DO UPDATE SET " + column + " = excluded." +
               column;
    }

    /// True when `INSERT ... RETURNING id` gives the new id as a result set; false means
    /// `SELECT LAST_INSERT_ID()` after the insert.
    virtual bool insertReturning() const { return true; }

    /// Per-connection settings, run once when a connection is opened.
    virtual void prepareSession(Poco::Data::Session& session) const = 0;

    /// The prepared-statement cache for a newly opened `session`, through the database's own
    /// client library; nullptr (the default) runs every query through Poco::Data alone.
    virtual std::unique_ptr<NativeStatements> nativeStatements(Poco::Data::Session& session) const {
        (void)session;
        return nullptr;
    }

    /// Takes the lock that makes hosts migrate one at a time, on this session, before the
    /// schema_migrations table is even created (PostgreSQL: an advisory lock; MySQL:
    /// GET_LOCK). SQLite needs none: BEGIN IMMEDIATE serializes writers.
    virtual void lockMigrations(Poco::Data::Session& session) const { (void)session; }
    /// Releases what lockMigrations() took.
    virtual void unlockMigrations(Poco::Data::Session& session) const { (void)session; }

    /// Starts a write transaction (SQLite: BEGIN IMMEDIATE, so writers queue at the start
    /// instead of failing at commit).
    virtual void beginWrite(Poco::Data::Session& session) const = 0;

    /// What follows a SELECT to lock the rows it reads until the transaction ends
    /// (" FOR UPDATE"); empty where a write transaction already excludes other writers.
    virtual std::string lockRows() const { return " FOR UPDATE"; }

    /// True when `error` is a unique-constraint violation.
    virtual bool isUniqueViolation(const Poco::Exception& error) const = 0;

    /// True when `error` means the database is busy or unreachable (answered with 503).
    virtual bool isUnavailable(const Poco::Exception& error) const = 0;

    /// True when the database chose the transaction as a deadlock or serialization victim and
    /// rolled it back whole: running it again is safe (the store does, a few times).
    virtual bool isDeadlock(const Poco::Exception& error) const {
        (void)error;
        return false;
    }

    /// After an error on `session`: true when its connection is gone (the server restarted or
    /// dropped it). The store then closes it, and retries the request once on a new connection
    /// if the session had been idle in the pool and no COMMIT was sent.
    virtual bool isBroken(Poco::Data::Session& session) const {
        (void)session;
        return false;
    }
};

/// `text` with every `from` replaced by `to` (for Dialect::expand).
std::string replaceAll(std::string text, const std::string& from, const std::string& to);

/// The native connection handle (PGconn*, MYSQL*) behind `session`, when its implementation is
/// the connector's `Impl` (whose handle() converts to `Native`); nullptr otherwise.
template <class Impl, class Native>
Native* nativeHandle(Poco::Data::Session& session) {
    auto* impl = dynamic_cast<Impl*>(session.impl());
    return impl ? static_cast<Native*>(impl->handle()) : nullptr;
}

/// The schema every SQL storage plugin migrates to, with dialect tokens.
const std::vector<Migration>& coreMigrations();

} // namespace latchkey::sql
