#include "latchkey_sql/server_settings.hpp"

#include <latchkey/support/config_reader.hpp>

namespace latchkey::sql {

ServerSettings readServerSettings(ConfigReader& r, int defaultPort) {
    using std::chrono::milliseconds;
    ServerSettings s;
    s.host = r.string("host", s.host);
    s.port = static_cast<int>(r.integer("port", defaultPort, 1, 65535));
    s.database = r.requiredString("database");
    s.user = r.requiredString("user");
    s.password = r.string("password");
    s.connectTimeout = r.duration("connect_timeout", s.connectTimeout, milliseconds(1000),
                                  std::chrono::minutes(5));
    s.statementTimeout =
        r.duration("statement_timeout", s.statementTimeout, milliseconds(0), std::chrono::hours(1));
    s.pool.size = static_cast<std::size_t>(r.integer("pool_size", 8, 1, 1024));
    s.pool.wait = r.duration("pool_wait", s.pool.wait, milliseconds(1), std::chrono::minutes(10));
    return s;
}

} // namespace latchkey::sql
