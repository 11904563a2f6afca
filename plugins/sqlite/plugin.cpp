// The `sqlite` storage plugin: the identity core's store in one SQLite file.
#include "sqlite_dialect.hpp"

#include "latchkey_sql/connector_registration.hpp"
#include "latchkey_sql/sql_store.hpp"

#include <latchkey/context.hpp>
#include <latchkey/support/config_reader.hpp>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <sqlite3.h>

#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <unistd.h>

namespace latchkey::plugins {

namespace {

namespace fs = std::filesystem;

struct Settings {
    std::string path;
    SqliteSettings sqlite;
    sql::PoolOptions pool;
};

Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
    ConfigReader r(node, errors);
    Settings s;
    s.path = r.requiredString("path");
    s.sqlite.busyTimeout = r.duration("busy_timeout", s.sqlite.busyTimeout,
                                      std::chrono::milliseconds(0), std::chrono::minutes(10));
    const std::string sync = r.string("synchronous", "full");
    if (sync != "full" && sync != "normal") {
        errors.add(*r.child("synchronous"), "must be full or normal");
    }
    s.sqlite.synchronousFull = sync == "full";
    s.pool.size = static_cast<std::size_t>(r.integer("pool_size", 8, 1, 256));
    s.pool.wait = r.duration("pool_wait", s.pool.wait, std::chrono::milliseconds(1),
                             std::chrono::minutes(10));
    r.finish();
    return s;
}

/// Fails with a message naming the file when the database cannot be written: SQLite itself would
/// only say "attempt to write a readonly database" at the first write.
void checkWritable(const std::string& path) {
    const fs::path file(path);
    const fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
    std::error_code ec;
    if (!fs::exists(dir, ec)) {
        fs::create_directories(dir, ec);
        if (ec) {
            throw std::runtime_error("cannot create the directory " + dir.string() +
                                     " for the database: " + ec.message());
        }
        fs::permissions(dir, fs::perms::owner_all, ec);
    }
    if (!fs::is_directory(dir, ec)) {
        throw std::runtime_error(dir.string() + " is not a directory (it should hold " + path +
                                 ")");
    }
    // WAL keeps -wal and -shm files beside the database: the directory must be writable too.
    if (::access(dir.c_str(), W_OK) != 0) {
        throw std::runtime_error("cannot write to " + dir.string() +
                                 " (SQLite needs to create files there for " + path + ")");
    }
    if (fs::is_directory(file, ec)) throw std::runtime_error(path + " is a directory");
    if (fs::exists(file, ec) && ::access(file.c_str(), W_OK) != 0) {
        throw std::runtime_error("cannot write the database file " + path);
    }
}

/// SQLite's process-wide settings, made once before the first connection opens: no memory
/// statistics, whose global mutex every allocation of every connection would otherwise take (the
/// workers convoyed on it). Nothing reads those statistics.
struct SqliteProcessSettings {
    explicit SqliteProcessSettings(Logger& log) {
        static std::once_flag once;
        std::call_once(once, [&log] {
            // Possible only before SQLite initializes, at the first open (registering Poco's
            // connector does not open anything). Never shut down to make it possible: another
            // part of the process may have a connection open.
            const int configured = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
            if (configured != SQLITE_OK) {
                log.warn("SQLite memory statistics stay on: SQLite was initialized before this "
                         "plugin (sqlite3_config: " +
                         std::string(sqlite3_errstr(configured)) + ")");
            }
        });
    }
};

class SqlitePlugin final : private sql::ConnectorRegistration<Poco::Data::SQLite::Connector>,
                           private SqliteProcessSettings,
                           public sql::SqlStore {
public:
    using Settings = plugins::Settings;

    static Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
        return plugins::readSettings(node, errors);
    }

    SqlitePlugin(PluginContext& context, const Settings& settings)
        : SqlitePlugin(context, settings, context.resolvePath(settings.path)) {}

private:
    SqlitePlugin(PluginContext& context, const Settings& settings, const std::string& path)
        : SqliteProcessSettings(context.logger()),
          sql::SqlStore(
              std::make_unique<SqliteDialect>(settings.sqlite),
              [path] {
                  // Poco retries a failed open for the whole login timeout (60 s by
                  // default); a local file either opens at once or not at all.
                  return std::make_unique<Poco::Data::Session>("SQLite", path, 1);
              },
              settings.pool, context.logger()) {
        checkWritable(path);
        migrate(path);
    }
};

} // namespace

} // namespace latchkey::plugins

LATCHKEY_PLUGIN(latchkey::plugins::SqlitePlugin, "sqlite", Storage, "1.0.0",
                "Identity store in one SQLite file (WAL, BEGIN IMMEDIATE writes)",
                "stable; trusts the database file and its directory (keep them 0700)")
