// Private to latchkey_sql: the query toolkit every facet's file uses (binding and running
// statements, reading rows in order, keyset pages, insert-returning-id).
#pragma once

#include "latchkey_sql/connection_pool.hpp"
#include "latchkey_sql/dialect.hpp"
#include "latchkey_sql/native_statements.hpp"

#include <latchkey/storage/records/types.hpp>

#include <Poco/Data/RecordSet.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Nullable.h>

#include <array>
#include <charconv>
#include <concepts>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::sql {

using Poco::Data::RecordSet;
using Poco::Data::Statement;
/// What every facet's query runs on: a pooled connection.
using Session = Connection;

/// Reads the columns of one row in order, from a prepared statement's result or from a Poco
/// record set.
class RowReader {
public:
    RowReader(const RecordSet& rows, std::size_t row) : rows_(&rows), row_(row) {}
    RowReader(const NativeResult& result, std::size_t row)
        : result_(&result), row_(row), first_(row * result.columns) {}

    std::int64_t integer() {
        const std::size_t col = col_++;
        if (result_) return cellInteger(cell(col));
        if (rows_->isNull(col, row_)) return 0;
        return rows_->value(col, row_).convert<Poco::Int64>();
    }
    std::optional<std::int64_t> optionalInteger() {
        if (isNull(col_)) {
            ++col_;
            return std::nullopt;
        }
        return integer();
    }
    std::string text() {
        const std::size_t col = col_++;
        if (result_) {
            const Cell& c = cell(col);
            if (c.kind == Cell::Kind::Integer) return std::to_string(c.integer);
            return c.text;
        }
        if (rows_->isNull(col, row_)) return {};
        return rows_->value(col, row_).convert<std::string>();
    }
    bool flag() { return integer() != 0; }
    /// Passes over `count` columns.
    void skip(std::size_t count) { col_ += count; }

private:
    bool isNull(std::size_t col) const {
        return result_ ? cell(col).kind == Cell::Kind::Null : rows_->isNull(col, row_);
    }
    const Cell& cell(std::size_t col) const { return result_->cells.at(first_ + col); }
    static std::int64_t cellInteger(const Cell& cell) {
        if (cell.kind == Cell::Kind::Integer) return cell.integer;
        if (cell.kind == Cell::Kind::Null) return 0;
        std::int64_t value = 0;
        const char* end = cell.text.data() + cell.text.size();
        const auto [ptr, ec] = std::from_chars(cell.text.data(), end, value);
        if (ec != std::errc() || ptr != end) {
            throw std::runtime_error("not an integer column: \"" + cell.text.substr(0, 32) + "\"");
        }
        return value;
    }

    const RecordSet* rows_ = nullptr;      ///< Poco's rows, or
    const NativeResult* result_ = nullptr; ///< a prepared statement's.
    std::size_t row_ = 0;
    std::size_t first_ = 0; ///< The row's first cell in result_.
    std::size_t col_ = 0;
};

/// The placeholder value of a bound argument (integers, text, a nullable integer).
template <std::integral T>
Param param(T value) {
    return Param{Param::Kind::Integer, static_cast<std::int64_t>(value), {}};
}
inline Param param(const std::string& value) {
    return Param{Param::Kind::Text, 0, value};
}
/// Not bound: a temporary std::string made from it would be gone before the statement runs.
Param param(const char* value) = delete;
inline Param param(const Poco::Nullable<Poco::Int64>& value) {
    return value.isNull() ? Param{} : param(value.value());
}

/// A type param() binds (a blob is not: it goes through Poco::Data).
template <class T>
concept Preparable = requires(const T& value) {
    param(value);
};

/// Runs `sql` through the connection's prepared statements; nullopt where it has none or an
/// argument is not Preparable.
template <class... Args>
std::optional<NativeResult> runPrepared(Session& session, const std::string& sql,
                                        const Args&... args) {
    if constexpr ((Preparable<Args> && ...)) {
        NativeStatements* statements = session.statements();
        if (!statements) return std::nullopt;
        const std::array<Param, sizeof...(Args)> params{param(args)...};
        return statements->run(sql, params);
    } else {
        return std::nullopt;
    }
}

/// Calls `visit` with a RowReader on each of the first `count` rows of `rows` (a prepared
/// statement's NativeResult or a Poco RecordSet).
template <class Rows, class Visit>
void forEachRow(const Rows& rows, std::size_t count, Visit&& visit) {
    for (std::size_t i = 0; i < count; ++i) {
        RowReader reader(rows, i);
        visit(reader);
    }
}

/// Executes `sql` with `args` bound to its placeholders, in order, always through Poco::Data
/// (for callers that need its record set: blobs, DDL, the schema version).
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
    if (auto result = runPrepared(session, sql, args...)) return result->changed;
    Statement statement(session);
    statement << dialect.placeholders(sql);
    (statement.bind(args), ...);
    return statement.execute();
}

/// Runs a query and maps each row with `read`.
template <class Record, class Read, class... Args>
std::vector<Record> query(Session& session, const Dialect& dialect, const std::string& sql,
                          Read read, const Args&... args) {
    std::vector<Record> out;
    const auto keep = [&](RowReader& reader) { out.push_back(read(reader)); };
    if (auto result = runPrepared(session, sql, args...)) {
        out.reserve(result->rows());
        forEachRow(*result, result->rows(), keep);
        return out;
    }
    Statement statement = execute(session, dialect, sql, args...);
    RecordSet rows(statement);
    out.reserve(rows.rowCount());
    forEachRow(rows, rows.rowCount(), keep);
    return out;
}

template <class Record>
std::optional<Record> first(std::vector<Record> rows) {
    if (rows.empty()) return std::nullopt;
    return std::move(rows.front());
}

template <class... Args>
std::int64_t scalar(Session& session, const Dialect& dialect, const std::string& sql,
                    const Args&... args);

/// Inserts a row and returns its new id: INSERT ... RETURNING id where the dialect can read
/// it back (SQLite 3.35+, PostgreSQL), else the connection's LAST_INSERT_ID() (MySQL/MariaDB:
/// Poco's MySQL connector sees no result set in an INSERT).
template <class... Args>
Id insertReturningId(Session& session, const Dialect& dialect, const std::string& sql,
                     const Args&... args) {
    if (dialect.insertReturning()) {
        const auto ids = query<Id>(
            session, dialect, sql + " RETURNING id", [](RowReader& r) { return r.integer(); },
            args...);
        if (ids.size() != 1) throw std::runtime_error("INSERT returned no id");
        return ids.front();
    }
    affected(session, dialect, sql, args...);
    return scalar(session, dialect, "SELECT LAST_INSERT_ID()");
}

inline std::int16_t asFlag(bool value) {
    return value ? 1 : 0;
}

/// `AND id > ? ORDER BY id ASC LIMIT ?` (or the descending mirror; bind pageLimit() last) for a
/// keyset page on `column`.
inline std::string pageClause(const PageRequest& page, const std::string& column = "id") {
    std::string clause;
    if (page.after) clause += " AND " + column + (page.ascending ? " > ?" : " < ?");
    clause += " ORDER BY " + column + (page.ascending ? " ASC" : " DESC");
    clause += " LIMIT ?"; // bound: a page size of the client's choice makes no new statement
    return clause;
}

/// The value of pageClause()'s LIMIT placeholder.
inline Poco::Int64 pageLimit(const PageRequest& page) {
    return static_cast<Poco::Int64>(page.limit);
}

/// The first row's first column as a number (COUNT(*), MAX(...)).
template <class... Args>
std::int64_t scalar(Session& session, const Dialect& dialect, const std::string& sql,
                    const Args&... args) {
    if (auto result = runPrepared(session, sql, args...)) {
        if (result->rows() == 0) return 0;
        return RowReader(*result, 0).integer();
    }
    Statement statement = execute(session, dialect, sql, args...);
    RecordSet rows(statement);
    if (rows.rowCount() == 0 || rows.isNull(0, 0)) return 0;
    return rows.value(0, 0).convert<Poco::Int64>();
}

/// True if the query finds a row (it may end with a row lock: PostgreSQL allows no FOR UPDATE
/// with COUNT(*)).
template <class... Args>
bool exists(Session& session, const Dialect& dialect, const std::string& sql, const Args&... args) {
    if (auto result = runPrepared(session, sql, args...)) return result->rows() > 0;
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
    return page.after
               ? query<Record>(session, dialect, sql, read, owner, *page.after, pageLimit(page))
               : query<Record>(session, dialect, sql, read, owner, pageLimit(page));
}

} // namespace latchkey::sql
