// MySQL/MariaDB's dialect: InnoDB with a binary no-pad collation (so comparisons and unique
// keys match SQLite and PostgreSQL byte for byte), idempotent DDL, error numbers.
#pragma once

#include "latchkey_sql/dialect.hpp"

#include <chrono>

namespace latchkey::plugins {

/// The MySQL/MariaDB dialect.
class MysqlDialect final : public sql::Dialect {
public:
    explicit MysqlDialect(std::chrono::milliseconds statementTimeout)
        : statementTimeout_(statementTimeout) {}

    std::string name() const override { return "mysql"; }
    /// Also makes every CREATE TABLE/INDEX "IF NOT EXISTS": MySQL cannot roll DDL back, so a
    /// migration cut off halfway must be able to run again.
    std::string expand(const std::string& ddl) const override;
    /// Strict mode, READ COMMITTED (like PostgreSQL), utf8mb4, UTC, the statement timeout.
    void prepareSession(Poco::Data::Session& session) const override;
    std::string upsert(const std::string& insert, const std::string& keys,
                       const std::string& column) const override {
        (void)keys; // every unique key counts in MySQL
        return insert + " ON DUPLICATE KEY UPDATE " + column + " = VALUES(" + column + ")";
    }
    /// Poco's MySQL connector sees no result set in INSERT ... RETURNING.
    bool insertReturning() const override { return false; }
    void lockMigrations(Poco::Data::Session& session) const override;
    void unlockMigrations(Poco::Data::Session& session) const override;
    void beginWrite(Poco::Data::Session& session) const override;
    bool isUniqueViolation(const Poco::Exception& error) const override;
    bool isUnavailable(const Poco::Exception& error) const override;
    bool isDeadlock(const Poco::Exception& error) const override;
    bool isBroken(Poco::Data::Session& session) const override;

private:
    std::chrono::milliseconds statementTimeout_;
};

/// The server's error number in a Poco MySQL exception message, or 0.
int mysqlErrorNumber(const std::string& message);

} // namespace latchkey::plugins
