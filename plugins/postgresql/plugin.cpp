// The `postgresql` storage plugin: the identity core's store in a PostgreSQL database, which
// several latchkey hosts can share.
#include "postgresql_dialect.hpp"

#include "latchkey_sql/connector_registration.hpp"
#include "latchkey_sql/server_settings.hpp"
#include "latchkey_sql/sql_store.hpp"

#include <latchkey/context.hpp>
#include <latchkey/support/config_reader.hpp>

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/Session.h>

#include <mutex>
#include <stdexcept>

namespace latchkey::plugins {

namespace {

struct Settings {
    sql::ServerSettings server;
    std::string sslMode;
    std::string sslRootCert;
};

bool isLocal(const std::string& host) {
    return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0 ||
           host.rfind('/', 0) == 0;
}

Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
    ConfigReader r(node, errors);
    Settings s;
    s.server = sql::readServerSettings(r, 5432);
    // Across a network the server's certificate is checked by default; on loopback and Unix
    // sockets TLS is used when the server offers it.
    s.sslMode = r.string("sslmode", isLocal(s.server.host) ? "prefer" : "verify-full");
    static const std::vector<std::string> kModes{"disable", "allow",     "prefer",
                                                 "require", "verify-ca", "verify-full"};
    if (std::find(kModes.begin(), kModes.end(), s.sslMode) == kModes.end()) {
        errors.add(*r.child("sslmode"),
                   "must be disable, allow, prefer, require, verify-ca or verify-full");
    }
    s.sslRootCert = r.string("sslrootcert");
    r.finish();
    return s;
}

/// A libpq keyword/value string; every value quoted, so spaces and quotes in a password work.
/// A relative `sslrootcert` is taken from the config file's directory.
std::string connectionString(const Settings& s, const PluginContext& context) {
    const auto quoted = [](const std::string& value) {
        std::string out = "'";
        for (const char c : value) {
            if (c == '\\' || c == '\'') out += '\\';
            out += c;
        }
        return out + "'";
    };
    const auto seconds = std::max<long long>(
        1, std::chrono::duration_cast<std::chrono::seconds>(s.server.connectTimeout).count());
    std::string text =
        "host=" + quoted(s.server.host) + " port=" + std::to_string(s.server.port) +
        " dbname=" + quoted(s.server.database) + " user=" + quoted(s.server.user) +
        " password=" + quoted(s.server.password) + " connect_timeout=" + std::to_string(seconds) +
        " sslmode=" + quoted(s.sslMode) + " application_name='latchkey'" +
        // A database host that vanishes without resetting connections is noticed
        // within a minute, not after TCP's retransmissions (many minutes).
        " keepalives=1 keepalives_idle=30 keepalives_interval=10"
        " keepalives_count=3 tcp_user_timeout=" +
        std::to_string(std::max<long long>(60000, s.server.statementTimeout.count() + 30000));
    if (!s.sslRootCert.empty()) {
        text += " sslrootcert=" + quoted(context.resolvePath(s.sslRootCert));
    }
    return text;
}

class PostgresqlPlugin final
    : private sql::ConnectorRegistration<Poco::Data::PostgreSQL::Connector>,
      public sql::SqlStore {
public:
    using Settings = plugins::Settings;

    static Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
        return plugins::readSettings(node, errors);
    }

    PostgresqlPlugin(PluginContext& context, const Settings& settings)
        : sql::SqlStore(
              std::make_unique<PostgresqlDialect>(settings.server.statementTimeout),
              [text = connectionString(settings, context),
               timeout = settings.server.connectTimeout] {
                  const auto seconds =
                      std::chrono::duration_cast<std::chrono::seconds>(timeout).count();
                  return std::make_unique<Poco::Data::Session>("PostgreSQL", text,
                                                               static_cast<std::size_t>(seconds));
              },
              settings.server.pool, context.logger()) {
        const std::string where = settings.server.user + "@" + settings.server.host + ":" +
                                  std::to_string(settings.server.port) + "/" +
                                  settings.server.database;
        migrate("postgresql " + where);
        countCalls(context.metrics());
    }
};

} // namespace

} // namespace latchkey::plugins

LATCHKEY_PLUGIN(latchkey::plugins::PostgresqlPlugin, "postgresql", Storage, "1.0.0",
                "Identity store in PostgreSQL, shared by several hosts",
                "stable; TLS verified across networks (sslmode verify-full by default)")
