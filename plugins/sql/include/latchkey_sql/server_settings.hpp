// The settings every database-server storage plugin (postgresql, mysql) reads alike.
#pragma once

#include "latchkey_sql/sql_store.hpp"

#include <latchkey/support/config_reader.hpp>

#include <chrono>
#include <string>

namespace latchkey::sql {

/// Where the database is and how to log in; the pool around the connections.
struct ServerSettings {
    std::string host = "127.0.0.1";
    int port = 0;
    std::string database;
    std::string user;
    std::string password; ///< Normally `${VAR}` in the config.
    std::chrono::milliseconds connectTimeout{5000};
    std::chrono::milliseconds statementTimeout{30000}; ///< 0: none.
    PoolOptions pool;
};

/// Reads host, port, database, user, password, connect_timeout, statement_timeout, pool_size
/// and pool_wait. `database` and `user` are required.
ServerSettings readServerSettings(ConfigReader& r, int defaultPort);

} // namespace latchkey::sql
