// The `mysql` storage plugin: the identity core's store in a MariaDB (10.5+) database, which
// several latchkey hosts can share.
#include "mysql_dialect.hpp"

#include "latchkey_sql/connector_registration.hpp"
#include "latchkey_sql/server_settings.hpp"
#include "latchkey_sql/sql_store.hpp"

#include <latchkey/context.hpp>
#include <latchkey/support/config_reader.hpp>

#include <Poco/Data/MySQL/Connector.h>
#include <Poco/Data/Session.h>

#include <mutex>
#include <stdexcept>

namespace latchkey::plugins {

namespace {

sql::ServerSettings readSettings(const ConfigValue& node, ConfigErrors& errors) {
    ConfigReader r(node, errors);
    sql::ServerSettings s = sql::readServerSettings(r, 3306);
    // Poco's MySQL connector splits its connection string at ';' and '=': such a value would
    // be cut short or misread.
    for (const char* key : {"host", "database", "user", "password"}) {
        const ConfigValue* value = r.child(key);
        if (value && value->scalar().find_first_of(";=") != std::string::npos) {
            errors.add(*value,
                       "must not contain ';' or '=' (the MySQL connector cannot pass them)");
        }
    }
    r.finish();
    return s;
}

std::string connectionString(const sql::ServerSettings& s) {
    return "host=" + s.host + ";port=" + std::to_string(s.port) + ";db=" + s.database +
           ";user=" + s.user + ";password=" + s.password +
           ";compress=false;auto-reconnect=false;secure-auth=true;character-set=utf8mb4";
}

class MysqlPlugin final : private sql::ConnectorRegistration<Poco::Data::MySQL::Connector>,
                          public sql::SqlStore {
public:
    using Settings = sql::ServerSettings;

    static Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
        return plugins::readSettings(node, errors);
    }

    MysqlPlugin(PluginContext& context, const Settings& settings)
        : sql::SqlStore(
              std::make_unique<MysqlDialect>(settings.statementTimeout),
              [text = connectionString(settings), timeout = settings.connectTimeout] {
                  const auto seconds =
                      std::chrono::duration_cast<std::chrono::seconds>(timeout).count();
                  return std::make_unique<Poco::Data::Session>("MySQL", text,
                                                               static_cast<std::size_t>(seconds));
              },
              settings.pool, context.logger()) {
        const std::string where = settings.user + "@" + settings.host + ":" +
                                  std::to_string(settings.port) + "/" + settings.database;
        migrate("mysql " + where);
        countCalls(context.metrics());
    }
};

} // namespace

} // namespace latchkey::plugins

LATCHKEY_PLUGIN(latchkey::plugins::MysqlPlugin, "mysql", Storage, "1.0.0",
                "Identity store in MariaDB 10.5+ (MySQL protocol), shared by several hosts",
                "stable; no TLS to the database (Poco's connector offers none): keep it on "
                "loopback or a private network")
