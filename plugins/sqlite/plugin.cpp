// The `sqlite` storage plugin: the identity core's store in one SQLite file.
#include "sqlite_dialect.hpp"

#include "latchkey_sql/connector_registration.hpp"
#include "latchkey_sql/sql_store.hpp"

#include <latchkey/context.hpp>
#include <latchkey/storage/backup.hpp>
#include <latchkey/support/config_reader.hpp>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <sqlite3.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <system_error>

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

/// A connection of SQLite's own, closed when it goes.
using Connection = std::unique_ptr<sqlite3, decltype(&sqlite3_close)>;

Connection openFile(const std::string& path, int flags) {
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    Connection connection(db, &sqlite3_close);
    if (rc != SQLITE_OK) {
        throw std::runtime_error("cannot open " + path + ": " +
                                 (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
    }
    return connection;
}

class SqlitePlugin final : private sql::ConnectorRegistration<Poco::Data::SQLite::Connector>,
                           private SqliteProcessSettings,
                           public sql::SqlStore,
                           public StorageBackup {
public:
    using Settings = plugins::Settings;

    static Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
        return plugins::readSettings(node, errors);
    }

    SqlitePlugin(PluginContext& context, const Settings& settings)
        : SqlitePlugin(context, settings, context.resolvePath(settings.path)) {}

    void* provide(std::string_view id, std::uint32_t version) noexcept override {
        if (id == StorageBackup::kInterfaceId && version == StorageBackup::kInterfaceVersion)
            return static_cast<StorageBackup*>(this);
        return SqlStore::provide(id, version);
    }

    /// SQLite's online backup, in one step: one read transaction, so the copy is the database
    /// at one moment; in WAL mode writers go on meanwhile. Written to `<target>.partial` and
    /// linked into place when complete, so an interrupted backup never looks like one.
    void backupTo(const std::string& target) override {
        const fs::path database = fs::absolute(path_).lexically_normal();
        const fs::path wanted = fs::absolute(target).lexically_normal();
        for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
            if (wanted == fs::path(database.string() + suffix)) {
                throw std::runtime_error(target + " is one of the database's own files");
            }
        }
        std::error_code ec;
        if (fs::symlink_status(target, ec).type() != fs::file_type::not_found) {
            throw std::runtime_error(target + ": " + std::generic_category().message(EEXIST));
        }
        const std::string partial = target + ".partial";
        // O_EXCL: never over an existing file, nor through a symlink.
        const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
            throw std::runtime_error(partial + ": " + std::generic_category().message(errno));
        ::close(fd);
        try {
            const Connection source = openFile(path_, SQLITE_OPEN_READONLY);
            sqlite3_busy_timeout(source.get(), 5000);
            const Connection copy = openFile(partial, SQLITE_OPEN_READWRITE);
            sqlite3_backup* backup = sqlite3_backup_init(copy.get(), "main", source.get(), "main");
            if (!backup) throw std::runtime_error(sqlite3_errmsg(copy.get()));
            const int stepped = sqlite3_backup_step(backup, -1);
            const int finished = sqlite3_backup_finish(backup);
            if (stepped != SQLITE_DONE || finished != SQLITE_OK) {
                throw std::runtime_error(
                    std::string("the backup failed: ") +
                    sqlite3_errstr(stepped != SQLITE_DONE ? stepped : finished));
            }
        } catch (...) {
            std::error_code ignored;
            fs::remove(partial, ignored);
            throw;
        }
        // link(): into place only if nothing took the name meanwhile (never replaces a file).
        const int linked = ::link(partial.c_str(), target.c_str());
        const int linkError = errno;
        std::error_code ignored;
        fs::remove(partial, ignored);
        if (linked != 0)
            throw std::runtime_error(target + ": " + std::generic_category().message(linkError));
    }

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
              settings.pool, context.logger()),
          path_(path) {
        checkWritable(path);
        migrate(path);
        countCalls(context.metrics());
    }

    std::string path_; ///< The database file.
};

} // namespace

} // namespace latchkey::plugins

LATCHKEY_PLUGIN(latchkey::plugins::SqlitePlugin, "sqlite", Storage, "1.0.0",
                "Identity store in one SQLite file (WAL, BEGIN IMMEDIATE writes)",
                "stable; trusts the database file and its directory (keep them 0700)")
