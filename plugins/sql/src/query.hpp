// Private to latchkey_sql: the query toolkit every facet's file uses (binding and running
// statements, reading rows in order, keyset pages, insert-returning-id).
#pragma once

#include "latchkey_sql/dialect.hpp"

#include <latchkey/storage/records/types.hpp>

#include <Poco/Data/RecordSet.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace latchkey::sql {

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

inline std::int16_t asFlag(bool value) {
    return value ? 1 : 0;
}

/// `AND id > ? ORDER BY id ASC LIMIT n` (or the descending mirror) for a keyset page on `column`.
inline std::string pageClause(const PageRequest& page, const std::string& column = "id") {
    std::string clause;
    if (page.after) clause += " AND " + column + (page.ascending ? " > ?" : " < ?");
    clause += " ORDER BY " + column + (page.ascending ? " ASC" : " DESC");
    clause += " LIMIT " + std::to_string(page.limit);
    return clause;
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

/// One page of `select` (a query ending in a WHERE condition on one `owner` id), in keyset
/// order on `column`: the one way every list of the store pages.
template <class Record, class Read>
std::vector<Record> queryPage(Session& session, const Dialect& dialect, const std::string& select,
                              Read read, Id owner, const PageRequest& page,
                              const std::string& column = "id") {
    const std::string sql = select + pageClause(page, column);
    return page.after ? query<Record>(session, dialect, sql, read, owner, *page.after)
                      : query<Record>(session, dialect, sql, read, owner);
}

} // namespace latchkey::sql
