// SQLite's dialect: WAL, BEGIN IMMEDIATE for writes, busy timeout, SQLite's error vocabulary.
#include "sqlite_dialect.hpp"

#include <Poco/Data/SQLite/SQLiteException.h>

namespace latchkey::plugins {

std::string SqliteDialect::expand(const std::string& ddl) const {
    // AUTOINCREMENT: ids of deleted rows are never handed out again.
    return sql::replaceAll(
        sql::replaceAll(sql::replaceAll(ddl, "{id}", "INTEGER PRIMARY KEY AUTOINCREMENT"), "{blob}",
                        "BLOB"),
        "{table}", "");
}

void SqliteDialect::prepareSession(Poco::Data::Session& session) const {
    using Poco::Data::Keywords::now;
    session << "PRAGMA busy_timeout = " + std::to_string(settings_.busyTimeout.count()), now;
    session << "PRAGMA journal_mode = WAL", now;
    session << std::string("PRAGMA synchronous = ") +
                   (settings_.synchronousFull ? "FULL" : "NORMAL"),
        now;
    session << "PRAGMA foreign_keys = ON", now;
}

void SqliteDialect::beginWrite(Poco::Data::Session& session) const {
    // Take the write lock now: a deferred transaction that upgrades later can fail with
    // SQLITE_BUSY without waiting, where IMMEDIATE waits for busy_timeout.
    session << "BEGIN IMMEDIATE", Poco::Data::Keywords::now;
}

bool SqliteDialect::isUniqueViolation(const Poco::Exception& error) const {
    return dynamic_cast<const Poco::Data::SQLite::ConstraintViolationException*>(&error) &&
           error.displayText().find("UNIQUE") != std::string::npos;
}

bool SqliteDialect::isUnavailable(const Poco::Exception& error) const {
    return dynamic_cast<const Poco::Data::SQLite::DBLockedException*>(&error) ||
           dynamic_cast<const Poco::Data::SQLite::TableLockedException*>(&error) ||
           dynamic_cast<const Poco::Data::SQLite::IOErrorException*>(&error);
}

} // namespace latchkey::plugins
