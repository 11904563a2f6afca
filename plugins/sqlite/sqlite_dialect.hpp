// SQLite's dialect: WAL, BEGIN IMMEDIATE for writes, busy timeout, SQLite's error vocabulary.
#pragma once

#include "latchkey_sql/dialect.hpp"

#include <chrono>

namespace latchkey::plugins {

/// SQLite settings applied to every connection.
struct SqliteSettings {
    std::chrono::milliseconds busyTimeout{5000}; ///< How long a writer waits for the lock.
    bool synchronousFull = true;                 ///< fsync at every commit (safest).
};

/// The SQLite dialect.
class SqliteDialect final : public sql::Dialect {
public:
    explicit SqliteDialect(SqliteSettings settings) : settings_(settings) {}

    std::string name() const override { return "sqlite"; }
    std::string expand(const std::string& ddl) const override;
    void prepareSession(Poco::Data::Session& session) const override;
    /// Statements prepared once per connection with sqlite3_prepare_v3 (SQLITE_PREPARE_PERSISTENT).
    std::unique_ptr<sql::NativeStatements>
    nativeStatements(Poco::Data::Session& session) const override;
    void beginWrite(Poco::Data::Session& session) const override;
    /// BEGIN IMMEDIATE already holds the database's only write lock.
    std::string lockRows() const override { return ""; }
    bool isUniqueViolation(const Poco::Exception& error) const override;
    bool isUnavailable(const Poco::Exception& error) const override;

private:
    SqliteSettings settings_;
};

} // namespace latchkey::plugins
