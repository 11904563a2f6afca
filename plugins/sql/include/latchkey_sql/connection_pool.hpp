// A bounded pool of database sessions that makes callers wait (up to a timeout) when all are busy.
#pragma once

#include <Poco/Data/Session.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace latchkey::sql {

/// Opens one new session.
using SessionFactory = std::function<std::unique_ptr<Poco::Data::Session>()>;

/// Hands out at most `size` sessions at a time; opens them lazily and reuses them. When opening
/// one fails (the database is down), no new one is tried for `retryAfter`: requests meanwhile
/// fail at once instead of each waiting for a connect timeout.
class ConnectionPool {
public:
    /// A session on loan; returned to the pool when destroyed unless discarded.
    class Lease {
    public:
        Lease(ConnectionPool& pool, std::unique_ptr<Poco::Data::Session> session, bool reused);
        ~Lease();
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        Lease(Lease&& other) noexcept;
        Lease& operator=(Lease&&) = delete;

        /// The session.
        Poco::Data::Session& session() { return *session_; }
        /// Closes the session instead of returning it (after a broken connection).
        void discard() { discard_ = true; }
        /// True if the session served before (it may have died while idle).
        bool reused() const { return reused_; }

    private:
        ConnectionPool* pool_;
        std::unique_ptr<Poco::Data::Session> session_;
        bool discard_ = false;
        bool reused_ = false;
    };

    ConnectionPool(SessionFactory factory, std::size_t size, std::chrono::milliseconds wait,
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
    void giveBack(std::unique_ptr<Poco::Data::Session> session, bool discard);

    SessionFactory factory_;
    std::size_t size_;
    std::chrono::milliseconds wait_;
    std::chrono::milliseconds retryAfter_;
    mutable std::mutex mutex_;
    std::condition_variable returned_;
    std::vector<std::unique_ptr<Poco::Data::Session>> idle_;
    std::size_t open_ = 0;
    std::chrono::steady_clock::time_point pausedUntil_{}; ///< No new session before this.
};

} // namespace latchkey::sql
