// The SQL store's own part: its connection pool, the schema migrations and the health check.
// Each facet is in the file of its name (users.cpp, sessions.cpp, ...).
#include "latchkey_sql/sql_store.hpp"

#include "query.hpp"
#include "transactions.hpp"

#include <chrono>
#include <stdexcept>

namespace latchkey::sql {

SqlStore::SqlStore(std::unique_ptr<Dialect> dialect, SessionFactory factory, PoolOptions options,
                   Logger& log)
    : dialect_(std::move(dialect)),
      pool_(
          [this, factory = std::move(factory)] {
              auto session = factory();
              dialect_->prepareSession(*session);
              return std::make_unique<Connection>(*session, dialect_->nativeStatements(*session));
          },
          options.size, options.wait),
      log_(log) {}

void SqlStore::migrate(const std::string& where) {
    try {
        migrate();
    } catch (const std::exception& e) {
        throw std::runtime_error(where + ": " + e.what());
    }
    log_.info("database " + where + " at schema version " + std::to_string(schemaVersion()));
}

void SqlStore::countCalls(Metrics& metrics) {
    // From a cached read (well under a millisecond on SQLite) to a call that waited for the
    // pool or a lock (seconds).
    const std::vector<double> bounds{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                     0.025,  0.05,    0.1,    0.25,  0.5,    1,     5};
    const char* outcomes[] = {"ok", "conflict", "unavailable", "error"};
    for (std::size_t i = 0; i < calls_.size(); ++i) {
        calls_[i] = &metrics.histogram(
            "latchkey_store_call_duration_seconds",
            "Calls that reached the database (the caches' misses and every write), by driver and "
            "outcome: ok, conflict (a unique key taken), unavailable, error.",
            bounds, {{"driver", dialect_->name()}, {"outcome", outcomes[i]}});
    }
    metrics.gauge("latchkey_store_connections", "Database connections open now (idle and in use).",
                  [this] { return static_cast<double>(pool_.openCount()); },
                  {{"driver", dialect_->name()}});
}

void SqlStore::countCall(CallOutcome outcome, std::chrono::steady_clock::time_point started) const {
    if (MetricHistogram* histogram = calls_[static_cast<std::size_t>(outcome)]) {
        histogram->observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }
}

int SqlStore::schemaVersion() {
    return run("schema", [&](Session& session) {
        Statement statement =
            execute(session, *dialect_, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
        RecordSet rows(statement);
        return static_cast<int>(rows.value(0, 0).convert<Poco::Int64>());
    });
}

void SqlStore::migrate() {
    const auto& migrations = coreMigrations();
    const int newest = migrations.empty() ? 0 : migrations.back().version;
    // One session throughout, under the dialect's migration lock: hosts starting together on
    // a new database take turns, and the later ones find nothing left to do.
    withLease("schema", [&](ConnectionPool::Lease& lease, LeaseState&) {
        Session& session = lease.session();
        dialect_->lockMigrations(session);
        try {
            execute(session, *dialect_,
                    dialect_->expand("CREATE TABLE IF NOT EXISTS schema_migrations ("
                                     " version INTEGER NOT NULL PRIMARY KEY,"
                                     " description VARCHAR(255) NOT NULL,"
                                     " applied_at BIGINT NOT NULL){table}"));
            dialect_->beginWrite(session);
            try {
                applyMigrations(session, migrations, newest);
                session << "COMMIT", Poco::Data::Keywords::now;
            } catch (...) {
                rollback(lease);
                throw;
            }
        } catch (...) {
            try {
                dialect_->unlockMigrations(session);
            } catch (const Poco::Exception&) {
                lease.discard();
            }
            throw;
        }
        dialect_->unlockMigrations(session);
    });
}

void SqlStore::applyMigrations(Session& session, const std::vector<Migration>& migrations,
                               int newest) {
    Statement statement =
        execute(session, *dialect_, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    RecordSet rows(statement);
    const int current = static_cast<int>(rows.value(0, 0).convert<Poco::Int64>());
    if (current > newest) {
        throw std::runtime_error("the database schema is at version " + std::to_string(current) +
                                 ", newer than this " + dialect_->name() + " plugin knows (" +
                                 std::to_string(newest) +
                                 "); upgrade latchkey before using this database");
    }
    for (const auto& migration : migrations) {
        if (migration.version <= current) continue;
        for (const auto& ddl : migration.statements) {
            execute(session, *dialect_, dialect_->expand(ddl));
        }
        const auto appliedAt = std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
        execute(session, *dialect_,
                "INSERT INTO schema_migrations (version, description, applied_at) "
                "VALUES (?, ?, ?)",
                static_cast<Poco::Int64>(migration.version), migration.description,
                static_cast<Poco::Int64>(appliedAt));
        log_.info("applied schema migration " + std::to_string(migration.version) + ": " +
                  migration.description);
    }
}

void SqlStore::ping() {
    try {
        run("ping", [&](Session& session) { execute(session, *dialect_, "SELECT 1"); });
    } catch (const Unavailable&) {
        throw;
    } catch (const std::exception& e) {
        throw Unavailable(e.what());
    }
}

} // namespace latchkey::sql
