// Private to latchkey_sql: how every facet's method reaches the database: a pooled session,
// errors translated, a dead pooled connection retried once, writes in one transaction.
#pragma once

#include "latchkey_sql/sql_store.hpp"

#include "query.hpp"

#include <latchkey/errors.hpp>

#include <chrono>
#include <optional>
#include <thread>
#include <type_traits>

namespace latchkey::sql {

/// How often a transaction the database rolled back as a deadlock victim runs again before the
/// caller gets 503.
inline constexpr int kDeadlockRetries = 3;

/// Ends a failed transaction; a session whose transaction state is unknown (the ROLLBACK
/// failed too) must not serve anyone else.
inline void rollback(ConnectionPool::Lease& lease) {
    try {
        lease.session() << "ROLLBACK", Poco::Data::Keywords::now;
    } catch (const Poco::Exception&) {
        lease.discard();
    }
}

template <class Work>
auto SqlStore::withLease(const char* conflictField, Work&& work) {
    if (!calls_[0]) return leased(conflictField, std::forward<Work>(work));
    const auto started = std::chrono::steady_clock::now();
    try {
        if constexpr (std::is_void_v<decltype(leased(conflictField, std::forward<Work>(work)))>) {
            leased(conflictField, std::forward<Work>(work));
            countCall(CallOutcome::Ok, started);
        } else {
            auto result = leased(conflictField, std::forward<Work>(work));
            countCall(CallOutcome::Ok, started);
            return result;
        }
    } catch (const Conflict&) {
        countCall(CallOutcome::Conflict, started);
        throw;
    } catch (const Unavailable&) {
        countCall(CallOutcome::Unavailable, started);
        throw;
    } catch (const Overloaded&) {
        countCall(CallOutcome::Unavailable, started); // the pool was full: a 503 as well
        throw;
    } catch (...) {
        countCall(CallOutcome::Error, started);
        throw;
    }
}

template <class Work>
auto SqlStore::leased(const char* conflictField, Work&& work) {
    // At most two rounds: the second only after a pooled connection turned out dead before
    // anything could have been committed (a database restart leaves every idle one dead).
    int victims = 0; // times the database picked this transaction as a deadlock victim
    for (int round = 0;; ++round) {
        std::optional<ConnectionPool::Lease> held;
        try {
            held.emplace(pool_.acquire());
        } catch (const Poco::Exception& e) {
            throw Unavailable(dialect_->name() + ": cannot connect: " + e.displayText());
        }
        ConnectionPool::Lease& lease = *held;
        LeaseState state;
        try {
            return work(lease, state);
        } catch (const Poco::Exception& e) {
            if (dialect_->isUniqueViolation(e)) throw Conflict(conflictField);
            bool broken = false;
            try {
                broken = dialect_->isBroken(lease.session());
            } catch (const std::exception&) {
                broken = true;
            }
            if (broken) {
                lease.discard();
                pool_.discardIdle();
                if (round == victims && lease.reused() && !state.commitSent) {
                    log_.warn(dialect_->name() +
                              ": a pooled connection was dead; retrying on a new one");
                    continue;
                }
                throw Unavailable(dialect_->name() + ": connection lost: " + e.displayText());
            }
            // A deadlock or serialization victim was rolled back whole (nothing of it is
            // stored): run it again, a few times, after a short pause that grows.
            if (!state.commitSent && victims < kDeadlockRetries && dialect_->isDeadlock(e)) {
                ++victims;
                std::this_thread::sleep_for(std::chrono::milliseconds(2 * victims));
                continue;
            }
            if (dialect_->isUnavailable(e)) {
                lease.discard();
                throw Unavailable(dialect_->name() + ": " + e.displayText());
            }
            throw std::runtime_error(dialect_->name() + ": " + e.displayText());
        }
    }
}

template <class Work>
auto SqlStore::run(const char* conflictField, Work&& work) {
    return withLease(conflictField, [&](ConnectionPool::Lease& lease, LeaseState&) {
        return work(lease.session());
    });
}

template <class Work>
auto SqlStore::write(const char* conflictField, Work&& work) {
    return withLease(conflictField, [&](ConnectionPool::Lease& lease, LeaseState& state) {
        Session& session = lease.session();
        dialect_->beginWrite(session);
        try {
            // Once COMMIT is on its way, a lost connection leaves the outcome unknown: no retry.
            if constexpr (std::is_void_v<decltype(work(session))>) {
                work(session);
                state.commitSent = true;
                session << "COMMIT", Poco::Data::Keywords::now;
            } else {
                auto result = work(session);
                state.commitSent = true;
                session << "COMMIT", Poco::Data::Keywords::now;
                return result;
            }
        } catch (...) {
            rollback(lease);
            throw;
        }
    });
}

} // namespace latchkey::sql
