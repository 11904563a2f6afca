#include "postgresql_dialect.hpp"

#include <Poco/Data/PostgreSQL/PostgreSQLException.h>
#include <Poco/Data/PostgreSQL/SessionImpl.h>
#include <Poco/Data/Session.h>

#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <memory>
#include <regex>

namespace latchkey::plugins {

namespace {

PGconn* connectionOf(Poco::Data::Session& session) {
    return sql::nativeHandle<Poco::Data::PostgreSQL::SessionImpl, PGconn>(session);
}

using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

/// A prepared statement the server will not run as it is: its plan's result type changed
/// (0A000) or the statement is gone (26000).
bool isStalePlan(const std::string& state) {
    return state == "0A000" || state == "26000";
}

constexpr Oid kByteaOid = 17;

/// BYTEA's text form ("\\x" and hex digits) as bytes.
std::string fromHex(const char* text, std::size_t size) {
    if (size < 2 || text[0] != '\\' || text[1] != 'x') return std::string(text, size);
    const auto nibble = [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (c | 0x20) - 'a' + 10;
    };
    std::string out;
    out.reserve((size - 2) / 2);
    for (std::size_t i = 2; i + 1 < size; i += 2)
        out += static_cast<char>(nibble(text[i]) << 4 | nibble(text[i + 1]));
    return out;
}

/// One connection's prepared statements, named latchkey_1, latchkey_2, ... (a prepared
/// statement outlives the transaction it was made in, and dies with its connection).
class PostgresqlStatements final : public sql::NativeStatements {
public:
    PostgresqlStatements(PGconn* connection, const PostgresqlDialect& dialect)
        : connection_(connection), dialect_(dialect) {}

    sql::NativeResult run(const std::string& sql, std::span<const sql::Param> params) override {
        // Integers as text, text NUL-terminated (libpq reads text-format values up to the NUL).
        std::vector<std::string> texts(params.size());
        std::vector<const char*> values(params.size(), nullptr);
        for (std::size_t i = 0; i < params.size(); ++i) {
            const sql::Param& p = params[i];
            if (p.kind == sql::Param::Kind::Null) continue;
            texts[i] = p.kind == sql::Param::Kind::Integer ? std::to_string(p.integer)
                                                           : std::string(p.text);
            values[i] = texts[i].c_str();
        }
        const int count = static_cast<int>(params.size());
        Result result(nullptr, &PQclear);
        for (int attempt = 0;; ++attempt) {
            const std::string& name = prepared(sql, count);
            result.reset(PQexecPrepared(connection_, name.c_str(), count, values.data(), nullptr,
                                        nullptr, 0));
            // 0A000 "cached plan must not change result type": another host changed the
            // schema under the statement; 26000: the server no longer has the statement (a
            // pooler's DISCARD ALL). Prepare it again; run it again at once only outside a
            // transaction (inside one, the error has aborted it: the store runs the whole
            // transaction again, PostgresqlDialect::isDeadlock).
            if (failed(result.get()) && isStalePlan(stateOf(result.get()))) {
                const bool idle = PQtransactionStatus(connection_) == PQTRANS_IDLE;
                forget(sql, idle);
                if (attempt == 0 && idle) continue;
            }
            break;
        }
        if (failed(result.get())) fail(result.get());

        sql::NativeResult out;
        PGresult* r = result.get();
        out.changed = changedRows(r); // INSERT ... RETURNING both changes and returns rows
        if (PQresultStatus(r) == PGRES_COMMAND_OK) return out;
        const int rows = PQntuples(r);
        const int columns = PQnfields(r);
        out.columns = static_cast<std::size_t>(columns);
        out.cells.resize(static_cast<std::size_t>(rows) * out.columns);
        std::size_t at = 0;
        for (int row = 0; row < rows; ++row) {
            for (int col = 0; col < columns; ++col, ++at) {
                if (PQgetisnull(r, row, col)) continue;
                sql::Cell& cell = out.cells[at];
                cell.kind = sql::Cell::Kind::Text;
                const char* value = PQgetvalue(r, row, col);
                const auto size = static_cast<std::size_t>(PQgetlength(r, row, col));
                cell.text =
                    PQftype(r, col) == kByteaOid ? fromHex(value, size) : std::string(value, size);
            }
        }
        return out;
    }

private:
    /// The name `sql` is prepared under, preparing it now if new (and giving up the least
    /// recently used statement past the bound).
    const std::string& prepared(const std::string& sql, int count) {
        if (const std::string* name = names_.find(sql)) return *name;
        std::string name = "latchkey_" + std::to_string(++counter_);
        const Result result(PQprepare(connection_, name.c_str(), dialect_.placeholders(sql).c_str(),
                                      count, nullptr),
                            &PQclear);
        if (failed(result.get())) fail(result.get());
        // The prepare just succeeded, so no transaction is aborted: DEALLOCATE can run.
        if (auto evicted = names_.add(sql, std::move(name))) deallocate(*evicted);
        return *names_.find(sql);
    }

    /// Drops `sql`'s prepared statement (on the server too when `onServer`: an aborted
    /// transaction refuses DEALLOCATE, and the orphan then dies with the connection).
    void forget(const std::string& sql, bool onServer) {
        if (auto name = names_.remove(sql); name && onServer) deallocate(*name);
    }

    void deallocate(const std::string& name) {
        const Result done(PQexec(connection_, ("DEALLOCATE " + name).c_str()), &PQclear);
    }

    static std::size_t changedRows(PGresult* result) {
        const char* changed = PQcmdTuples(result);
        std::size_t n = 0;
        std::from_chars(changed, changed + std::char_traits<char>::length(changed), n);
        return n;
    }

    static bool failed(const PGresult* result) {
        if (!result) return true;
        const ExecStatusType status = PQresultStatus(result);
        return status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK;
    }

    static std::string stateOf(const PGresult* result) {
        const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
        return state ? state : "";
    }

    /// Throws what Poco's PostgreSQL connector throws: a ConnectionException when the
    /// connection is gone, else a StatementException whose message ends with the SQLSTATE, as
    /// Poco's does (PostgresqlDialect reads it).
    [[noreturn]] void fail(const PGresult* result) const {
        std::string message = result ? PQresultErrorMessage(result) : "";
        if (message.empty()) message = PQerrorMessage(connection_);
        if (PQstatus(connection_) != CONNECTION_OK) {
            throw Poco::Data::PostgreSQL::ConnectionException(message);
        }
        throw Poco::Data::PostgreSQL::StatementException(message + " State: " + stateOf(result));
    }

    PGconn* connection_;
    const PostgresqlDialect& dialect_;
    sql::PreparedCache<std::string> names_{kMaxPrepared}; ///< SQL text → statement name.
    std::uint64_t counter_ = 0;
};

} // namespace

std::string sqlState(const std::string& message) {
    const auto valid = [](const std::string& code) {
        return code.size() == 5 && std::all_of(code.begin(), code.end(), [](char c) {
                   return std::isdigit(static_cast<unsigned char>(c)) ||
                          std::isupper(static_cast<unsigned char>(c));
               });
    };
    // Poco ends a failed statement's message with " State: <SQLSTATE>"; the last one is Poco's
    // (a value echoed in the message could contain the words too).
    if (const auto at = message.rfind("State: "); at != std::string::npos) {
        if (std::string code = message.substr(at + 7, 5); valid(code)) return code;
    }
    // Otherwise libpq's verbose form: "<SEVERITY>:  <SQLSTATE>: <message>" (the severity words
    // are English unless the server's lc_messages says otherwise).
    for (const char* severity : {"ERROR:  ", "FATAL:  ", "PANIC:  "}) {
        const auto at = message.find(severity);
        if (at == std::string::npos) continue;
        const std::size_t start = at + std::char_traits<char>::length(severity);
        if (start + 6 > message.size() || message[start + 5] != ':') continue;
        if (std::string code = message.substr(start, 5); valid(code)) return code;
    }
    return {};
}

std::string PostgresqlDialect::expand(const std::string& ddl) const {
    // BY DEFAULT (not ALWAYS): a restored dump may insert its own ids.
    std::string out =
        sql::replaceAll(ddl, "{id}", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
    out = sql::replaceAll(sql::replaceAll(out, "{blob}", "BYTEA"), "{table}", "");
    // Text compares byte by byte, as in SQLite and MariaDB's binary collation, whatever the
    // database's locale: uniqueness, ordering and prefix ranges then agree across drivers (an
    // ICU or glibc locale ignores some characters and folds others).
    return std::regex_replace(out, std::regex(R"(\b(VARCHAR\(\d+\)|TEXT\b))"), "$1 COLLATE \"C\"");
}

std::string PostgresqlDialect::placeholders(const std::string& sql) const {
    std::string out;
    out.reserve(sql.size() + 16);
    int next = 1;
    bool literal = false;
    for (const char c : sql) {
        if (c == '\'') literal = !literal;
        if (c == '?' && !literal) {
            out += '$' + std::to_string(next++);
        } else {
            out += c;
        }
    }
    return out;
}

void PostgresqlDialect::prepareSession(Poco::Data::Session& session) const {
    using Poco::Data::Keywords::now;
    if (PGconn* connection = connectionOf(session)) {
        PQsetErrorVerbosity(connection, PQERRORS_VERBOSE);
    }
    session << "SET TIME ZONE 'UTC'", now;
    session << "SET statement_timeout = " + std::to_string(statementTimeout_.count()), now;
}

std::unique_ptr<sql::NativeStatements>
PostgresqlDialect::nativeStatements(Poco::Data::Session& session) const {
    PGconn* connection = connectionOf(session);
    if (!connection) return nullptr;
    return std::make_unique<PostgresqlStatements>(connection, *this);
}

void PostgresqlDialect::lockMigrations(Poco::Data::Session& session) const {
    // Waiting for another host's migration, and the DDL itself, may take longer than a request.
    session << "SET statement_timeout = 0", Poco::Data::Keywords::now;
    session << "SELECT pg_advisory_lock(7415029)", Poco::Data::Keywords::now;
}

void PostgresqlDialect::unlockMigrations(Poco::Data::Session& session) const {
    session << "SELECT pg_advisory_unlock(7415029)", Poco::Data::Keywords::now;
    session << "SET statement_timeout = " + std::to_string(statementTimeout_.count()),
        Poco::Data::Keywords::now;
}

void PostgresqlDialect::beginWrite(Poco::Data::Session& session) const {
    session << "BEGIN", Poco::Data::Keywords::now;
}

bool PostgresqlDialect::isUniqueViolation(const Poco::Exception& error) const {
    return sqlState(error.displayText()) == "23505";
}

bool PostgresqlDialect::isUnavailable(const Poco::Exception& error) const {
    if (dynamic_cast<const Poco::Data::PostgreSQL::ConnectionException*>(&error)) return true;
    const std::string state = sqlState(error.displayText());
    // 08: connection exceptions; 40001/40P01: serialization failure, deadlock; 53: out of
    // resources (too many connections...); 55P03: lock not available; 57014: statement timeout;
    // 57P01-57P03: the server is shutting down or starting.
    static const std::array<const char*, 7> kBusy{"40001", "40P01", "55P03", "57014",
                                                  "57P01", "57P02", "57P03"};
    if (state.rfind("08", 0) == 0 || state.rfind("53", 0) == 0) return true;
    return std::any_of(kBusy.begin(), kBusy.end(),
                       [&state](const char* busy) { return state == busy; });
}

bool PostgresqlDialect::isDeadlock(const Poco::Exception& error) const {
    const std::string state = sqlState(error.displayText());
    // Serialization failure, deadlock; and a prepared statement gone stale inside a
    // transaction (the statement was forgotten; the transaction's next run prepares it again).
    return state == "40001" || state == "40P01" || isStalePlan(state);
}

bool PostgresqlDialect::isBroken(Poco::Data::Session& session) const {
    PGconn* connection = connectionOf(session);
    return !connection || PQstatus(connection) != CONNECTION_OK;
}

} // namespace latchkey::plugins
