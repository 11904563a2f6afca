// SQLite's dialect: WAL, BEGIN IMMEDIATE for writes, busy timeout, SQLite's error vocabulary.
#include "sqlite_dialect.hpp"

#include <Poco/Data/SQLite/SQLiteException.h>
#include <Poco/Data/SQLite/Utility.h>
#include <sqlite3.h>

#include <stdexcept>

namespace latchkey::plugins {

namespace {

/// One connection's prepared statements. Each run resets its statement before it returns, so no
/// statement holds a read transaction (or its WAL snapshot) open between requests.
class SqliteStatements final : public sql::NativeStatements {
public:
    explicit SqliteStatements(sqlite3* db) : db_(db) {}
    SqliteStatements(const SqliteStatements&) = delete;
    SqliteStatements& operator=(const SqliteStatements&) = delete;
    ~SqliteStatements() override {
        prepared_.releaseAll([](sqlite3_stmt* statement) { sqlite3_finalize(statement); });
    }

    sql::NativeResult run(const std::string& sql, std::span<const sql::Param> params) override {
        sqlite3_stmt* statement = nullptr;
        if (sqlite3_stmt** kept = prepared_.find(sql)) {
            statement = *kept;
        } else {
            fail(sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size() + 1),
                                    SQLITE_PREPARE_PERSISTENT, &statement, nullptr));
            if (!statement) throw std::logic_error("sqlite: an empty statement: " + sql);
            if (auto evicted = prepared_.add(sql, statement)) sqlite3_finalize(*evicted);
        }
        // Reset and unbind on every way out: no statement holds a read transaction open.
        struct Done {
            sqlite3_stmt* statement;
            ~Done() {
                sqlite3_reset(statement);
                sqlite3_clear_bindings(statement);
            }
        } done{statement};

        if (sqlite3_bind_parameter_count(statement) != static_cast<int>(params.size())) {
            throw std::logic_error("sqlite: " + std::to_string(params.size()) +
                                   " values for the placeholders of: " + sql);
        }
        for (std::size_t i = 0; i < params.size(); ++i) {
            const int at = static_cast<int>(i + 1);
            const sql::Param& p = params[i];
            switch (p.kind) {
            case sql::Param::Kind::Null: fail(sqlite3_bind_null(statement, at)); break;
            case sql::Param::Kind::Integer:
                fail(sqlite3_bind_int64(statement, at, p.integer));
                break;
            case sql::Param::Kind::Text:
                // SQLITE_STATIC: the value outlives this run (Param's contract).
                fail(sqlite3_bind_text64(statement, at, p.text.data(), p.text.size(), SQLITE_STATIC,
                                         SQLITE_UTF8));
                break;
            }
        }

        sql::NativeResult result;
        result.columns = static_cast<std::size_t>(sqlite3_column_count(statement));
        for (;;) {
            const int rc = sqlite3_step(statement);
            if (rc == SQLITE_DONE) break;
            if (rc != SQLITE_ROW) fail(rc);
            for (int col = 0; col < static_cast<int>(result.columns); ++col) {
                sql::Cell& cell = result.cells.emplace_back();
                switch (sqlite3_column_type(statement, col)) {
                case SQLITE_NULL: break;
                case SQLITE_INTEGER:
                    cell.kind = sql::Cell::Kind::Integer;
                    cell.integer = sqlite3_column_int64(statement, col);
                    break;
                default: { // text, blob (a float never occurs in this schema; read as text)
                    const auto* bytes =
                        static_cast<const char*>(sqlite3_column_blob(statement, col));
                    const auto size =
                        static_cast<std::size_t>(sqlite3_column_bytes(statement, col));
                    cell.kind = sql::Cell::Kind::Text;
                    if (bytes) cell.text.assign(bytes, size);
                }
                }
            }
        }
        if (!sqlite3_stmt_readonly(statement)) {
            result.changed = static_cast<std::size_t>(sqlite3_changes64(db_));
        }
        return result;
    }

private:
    /// Throws what Poco's SQLite connector throws for `rc` (its exception types are what
    /// SqliteDialect's error vocabulary tests).
    void fail(int rc) const {
        if (rc == SQLITE_OK) return;
        Poco::Data::SQLite::Utility::throwException(db_, rc & 0xff);
        throw Poco::Data::SQLite::SQLiteException(sqlite3_errmsg(db_)); // rc unknown to Poco
    }

    sqlite3* db_;
    sql::PreparedCache<sqlite3_stmt*> prepared_{kMaxPrepared};
};

} // namespace

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

std::unique_ptr<sql::NativeStatements>
SqliteDialect::nativeStatements(Poco::Data::Session& session) const {
    sqlite3* db = Poco::Data::SQLite::Utility::dbHandle(session);
    if (!db) return nullptr;
    return std::make_unique<SqliteStatements>(db);
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
