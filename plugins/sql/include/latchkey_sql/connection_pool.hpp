// A bounded pool of database sessions that makes callers wait (up to a timeout) when all are busy.
#pragma once

#include "latchkey_sql/native_statements.hpp"

#include <Poco/Data/Session.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace latchkey::sql {

/// A pooled connection: a Poco session and, where the dialect has them, the connection's own
/// prepared statements (a member, so destroyed before the base session closes).
class Connection final : public Poco::Data::Session {
public:
    /// Takes over `session` (a Poco session is a shared handle) and its prepared statements.
    Connection(const Poco::Data::Session& session, std::unique_ptr<NativeStatements> statements)
        : Poco::Data::Session(session), statements_(std::move(statements)) {}
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// The prepared statements, or nullptr where queries go through Poco::Data alone.
    NativeStatements* statements() { return statements_.get(); }

private:
    std::unique_ptr<NativeStatements> statements_;
};

/// Opens one new session.
using SessionFactory = std::function<std::unique_ptr<Poco::Data::Session>()>;
/// Opens one new connection.
using ConnectionFactory = std::function<std::unique_ptr<Connection>()>;

/// Hands out at most `size` sessions at a time; opens them lazily and reuses them. When opening
/// one fails (the database is down), no new one is tried for `retryAfter`: requests meanwhile
/// fail at once instead of each waiting for a connect timeout.
class ConnectionPool {
public:
    /// A session on loan; returned to the pool when destroyed unless discarded.
    class Lease {
    public:
        Lease(ConnectionPool& pool, std::unique_ptr<Connection> session, bool reused);
        ~Lease();
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        Lease(Lease&& other) noexcept;
        Lease& operator=(Lease&&) = delete;

        /// The connection.
        Connection& session() { return *session_; }
        /// Closes the session instead of returning it (after a broken connection).
        void discard() { discard_ = true; }
        /// True if the session served before (it may have died while idle).
        bool reused() const { return reused_; }

    private:
        ConnectionPool* pool_;
        std::unique_ptr<Connection> session_;
        bool discard_ = false;
        bool reused_ = false;
    };

    ConnectionPool(ConnectionFactory factory, std::size_t size, std::chrono::milliseconds wait,
                   std::chrono::milliseconds retryAfter = std::chrono::seconds(1));

    /// A session: an idle one, a new one if under the limit, or the next one returned within the
    /// wait timeout. Throws latchkey::Overloaded when the wait runs out, latchkey::Unavailable
    /// while opening is paused after a failure, and what the factory throws when opening fails.
    Lease acquire();

    /// Closes every idle session (after one turned out broken, the others likely are too).
    void discardIdle();

    /// Sessions open now (idle and on loan).
    std::size_t openCount() const;

private:
    void giveBack(std::unique_ptr<Connection> session, bool discard);

    ConnectionFactory factory_;
    std::size_t size_;
    std::chrono::milliseconds wait_;
    std::chrono::milliseconds retryAfter_;
    mutable std::mutex mutex_;
    std::condition_variable returned_;
    std::vector<std::unique_ptr<Connection>> idle_;
    std::size_t open_ = 0;
    std::chrono::steady_clock::time_point pausedUntil_{}; ///< No new session before this.
};

} // namespace latchkey::sql
