// PostgreSQL's dialect: $n placeholders, identity columns, BYTEA, SQLSTATE-based errors.
#pragma once

#include "latchkey_sql/dialect.hpp"

#include <chrono>

namespace latchkey::plugins {

/// The PostgreSQL dialect.
class PostgresqlDialect final : public sql::Dialect {
public:
    explicit PostgresqlDialect(std::chrono::milliseconds statementTimeout)
        : statementTimeout_(statementTimeout) {}

    std::string name() const override { return "postgresql"; }
    std::string expand(const std::string& ddl) const override;
    /// `?` → `$1`, `$2`, ... outside string literals.
    std::string placeholders(const std::string& sql) const override;
    /// Verbose errors (so each carries its SQLSTATE), UTC, the statement timeout.
    void prepareSession(Poco::Data::Session& session) const override;
    /// Statements prepared once per connection (PQprepare) and run with PQexecPrepared: one
    /// round trip per query, where Poco::Data prepares, describes and runs each time.
    std::unique_ptr<sql::NativeStatements>
    nativeStatements(Poco::Data::Session& session) const override;
    /// READ COMMITTED; rows that decide a write are read with FOR UPDATE.
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

/// The SQLSTATE in a verbose libpq error message ("ERROR:  23505: duplicate key..."), or "".
std::string sqlState(const std::string& message);

} // namespace latchkey::plugins
