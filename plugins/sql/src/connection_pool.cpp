// A bounded pool of database sessions that makes callers wait (up to a timeout) when all are busy.
#include "latchkey_sql/connection_pool.hpp"

#include <latchkey/errors.hpp>

namespace latchkey::sql {

ConnectionPool::Lease::Lease(ConnectionPool& pool, std::unique_ptr<Connection> session, bool reused)
    : pool_(&pool), session_(std::move(session)), reused_(reused) {}

ConnectionPool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_), session_(std::move(other.session_)), discard_(other.discard_),
      reused_(other.reused_) {
    other.pool_ = nullptr;
}

ConnectionPool::Lease::~Lease() {
    if (pool_ && session_) pool_->giveBack(std::move(session_), discard_);
}

ConnectionPool::ConnectionPool(ConnectionFactory factory, std::size_t size,
                               std::chrono::milliseconds wait, std::chrono::milliseconds retryAfter)
    : factory_(std::move(factory)), size_(size), wait_(wait), retryAfter_(retryAfter) {}

ConnectionPool::Lease ConnectionPool::acquire() {
    std::unique_lock lock(mutex_);
    const auto deadline = std::chrono::steady_clock::now() + wait_;
    while (idle_.empty() && open_ >= size_) {
        if (returned_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
            open_ >= size_) {
            throw Overloaded("all " + std::to_string(size_) +
                             " database connections stayed busy for " +
                             std::to_string(wait_.count()) + "ms");
        }
    }
    if (!idle_.empty()) {
        auto session = std::move(idle_.back());
        idle_.pop_back();
        return Lease(*this, std::move(session), true);
    }
    if (std::chrono::steady_clock::now() < pausedUntil_) {
        throw Unavailable("the database could not be reached a moment ago; not retrying yet");
    }
    ++open_;
    lock.unlock();
    try {
        return Lease(*this, factory_(), false);
    } catch (...) {
        lock.lock();
        --open_;
        pausedUntil_ = std::chrono::steady_clock::now() + retryAfter_;
        returned_.notify_one();
        throw;
    }
}

void ConnectionPool::discardIdle() {
    std::vector<std::unique_ptr<Connection>> closing;
    {
        std::lock_guard lock(mutex_);
        closing.swap(idle_);
        open_ -= closing.size();
    }
    returned_.notify_all();
    closing.clear(); // outside the lock: closing a dead connection can block
}

void ConnectionPool::giveBack(std::unique_ptr<Connection> session, bool discard) {
    std::unique_ptr<Connection> closing;
    {
        std::lock_guard lock(mutex_);
        if (discard) {
            closing = std::move(session);
            --open_;
        } else {
            idle_.push_back(std::move(session));
        }
    }
    returned_.notify_one();
    // Closing a broken session can block on the network: do it outside the lock.
    closing.reset();
}

std::size_t ConnectionPool::openCount() const {
    std::lock_guard lock(mutex_);
    return open_;
}

} // namespace latchkey::sql
