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

/// Hands out at most `size` sessions at a time; opens them lazily and reuses them.
class ConnectionPool {
public:
    /// A session on loan; returned to the pool when destroyed unless discarded.
    class Lease {
    public:
        Lease(ConnectionPool& pool, std::unique_ptr<Poco::Data::Session> session);
        ~Lease();
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        Lease(Lease&& other) noexcept;
        Lease& operator=(Lease&&) = delete;

        /// The session.
        Poco::Data::Session& session() { return *session_; }
        /// Closes the session instead of returning it (after a broken connection).
        void discard() { discard_ = true; }

    private:
        ConnectionPool* pool_;
        std::unique_ptr<Poco::Data::Session> session_;
        bool discard_ = false;
    };

    ConnectionPool(SessionFactory factory, std::size_t size, std::chrono::milliseconds wait);

    /// A session: an idle one, a new one if under the limit, or the next one returned within the
    /// wait timeout. Throws latchkey::Overloaded when the wait runs out.
    Lease acquire();

    /// Sessions open now (idle and on loan).
    std::size_t openCount() const;

private:
    void giveBack(std::unique_ptr<Poco::Data::Session> session, bool discard);

    SessionFactory factory_;
    std::size_t size_;
    std::chrono::milliseconds wait_;
    mutable std::mutex mutex_;
    std::condition_variable returned_;
    std::vector<std::unique_ptr<Poco::Data::Session>> idle_;
    std::size_t open_ = 0;
};

} // namespace latchkey::sql
