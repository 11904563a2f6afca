#include "mysql_dialect.hpp"

#include <Poco/Data/MySQL/MySQLException.h>
#include <Poco/Data/MySQL/SessionImpl.h>
#include <Poco/Data/Session.h>

#include <mysql.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <regex>
#include <stdexcept>

namespace latchkey::plugins {

namespace {

MYSQL* connectionOf(Poco::Data::Session& session) {
    return sql::nativeHandle<Poco::Data::MySQL::SessionImpl, MYSQL>(session);
}

} // namespace

int mysqlErrorNumber(const std::string& message) {
    // Poco writes "[mysql_stmt_errno]: 1062" or "[mysql_errno]: 2006".
    for (const char* label : {"[mysql_stmt_errno]: ", "[mysql_errno]: "}) {
        // The last one is Poco's: a duplicate-entry message echoes the value before it.
        const auto at = message.rfind(label);
        if (at == std::string::npos) continue;
        const char* begin = message.data() + at + std::char_traits<char>::length(label);
        int number = 0;
        const auto [end, ec] = std::from_chars(begin, message.data() + message.size(), number);
        if (ec == std::errc() && end != begin && number != 0) return number;
    }
    return 0;
}

std::string MysqlDialect::expand(const std::string& ddl) const {
    std::string out = sql::replaceAll(ddl, "{id}", "BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY");
    out = sql::replaceAll(out, "{blob}", "MEDIUMBLOB");
    out = sql::replaceAll(out, "{table}",
                          " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin");
    // TEXT holds 64 KiB in MySQL; profiles and schemas may be larger.
    out = std::regex_replace(out, std::regex(R"(\bTEXT\b)"), "MEDIUMTEXT");
    out = std::regex_replace(out, std::regex(R"(^CREATE (TABLE|INDEX) (?!IF NOT EXISTS))"),
                             "CREATE $1 IF NOT EXISTS ");
    return out;
}

void MysqlDialect::prepareSession(Poco::Data::Session& session) const {
    using Poco::Data::Keywords::now;
    session << "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ENGINE_SUBSTITUTION,"
               "ERROR_FOR_DIVISION_BY_ZERO'",
        now;
    session << "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", now;
    session << "SET NAMES utf8mb4 COLLATE utf8mb4_nopad_bin", now;
    session << "SET time_zone = '+00:00'", now;
    // MariaDB's limit is in seconds (0: none).
    session << "SET SESSION max_statement_time = " +
                   std::to_string(static_cast<double>(statementTimeout_.count()) / 1000.0),
        now;
}

void MysqlDialect::lockMigrations(Poco::Data::Session& session) const {
    Poco::Int64 locked = 0;
    session << "SELECT GET_LOCK('latchkey_migrations', 300)", Poco::Data::Keywords::into(locked),
        Poco::Data::Keywords::now;
    if (locked != 1) {
        throw std::runtime_error("another host held the migration lock for 5 minutes");
    }
}

void MysqlDialect::unlockMigrations(Poco::Data::Session& session) const {
    session << "SELECT RELEASE_LOCK('latchkey_migrations')", Poco::Data::Keywords::now;
}

void MysqlDialect::beginWrite(Poco::Data::Session& session) const {
    session << "START TRANSACTION", Poco::Data::Keywords::now;
}

bool MysqlDialect::isUniqueViolation(const Poco::Exception& error) const {
    const int number = mysqlErrorNumber(error.displayText());
    return number == 1062 || number == 1586; // ER_DUP_ENTRY, ER_DUP_ENTRY_WITH_KEY_NAME
}

bool MysqlDialect::isUnavailable(const Poco::Exception& error) const {
    if (dynamic_cast<const Poco::Data::MySQL::ConnectionException*>(&error)) return true;
    // Too many connections, lock wait timeout, deadlock, statement time exceeded, server
    // shutting down, connection errors (2002 socket, 2003 TCP, 2006 gone, 2013 lost).
    static const std::array<int, 10> kBusy{1040, 1205, 1213, 1969, 3024,
                                           1053, 2002, 2003, 2006, 2013};
    const int number = mysqlErrorNumber(error.displayText());
    return std::find(kBusy.begin(), kBusy.end(), number) != kBusy.end();
}

bool MysqlDialect::isDeadlock(const Poco::Exception& error) const {
    return mysqlErrorNumber(error.displayText()) == 1213; // ER_LOCK_DEADLOCK: rolled back whole
}

bool MysqlDialect::isBroken(Poco::Data::Session& session) const {
    MYSQL* connection = connectionOf(session);
    return !connection || mysql_ping(connection) != 0;
}

} // namespace latchkey::plugins
