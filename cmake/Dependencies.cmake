# Finds the Debian 12 packages Latchkey builds on and papers over their packaging quirks.

set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)

# Boost.DLL is header-only; Boost 1.74 has no Boost::dll target.
find_package(Boost 1.74 REQUIRED)
add_compile_definitions(BOOST_DLL_USE_STD_FS)

# Debian's PocoDataPostgreSQL/PocoDataMySQL configs refer to these targets without creating them.
find_package(PostgreSQL REQUIRED)
if(PostgreSQL_FOUND AND NOT TARGET PostgreSQL::client)
  add_library(PostgreSQL::client ALIAS PostgreSQL::PostgreSQL)
endif()
if(NOT TARGET MySQL::client)
  find_library(LATCHKEY_MARIADB_LIBRARY NAMES mariadb mysqlclient REQUIRED)
  find_path(LATCHKEY_MARIADB_INCLUDE mysql.h PATH_SUFFIXES mariadb mysql REQUIRED)
  add_library(MySQL::client INTERFACE IMPORTED)
  target_link_libraries(MySQL::client INTERFACE ${LATCHKEY_MARIADB_LIBRARY})
  target_include_directories(MySQL::client INTERFACE ${LATCHKEY_MARIADB_INCLUDE})
endif()

find_package(Poco 1.11 REQUIRED COMPONENTS Foundation Net NetSSL Crypto JSON Util Data DataSQLite
             DataPostgreSQL DataMySQL)

# SQLite directly (besides Poco's connector) for its process-wide settings (plugins/sqlite).
find_package(SQLite3 REQUIRED)

# OpenSSL directly for the social backends (HMAC, RS256); Poco::NetSSL uses it too.
find_package(OpenSSL 3 REQUIRED)

# prometheus-cpp's core (Debian's prometheus-cpp-dev) for GET /metrics: the registry, the metric
# types and the text exposition format. Not its pull library: the host serves /metrics itself.
find_package(prometheus-cpp CONFIG REQUIRED)

find_package(yaml-cpp REQUIRED)
find_package(spdlog REQUIRED)

find_package(PkgConfig REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)

# zxcvbn-c (Debian's libzxcvbn-dev) for the password plugin's check against common passwords and
# patterns; it ships no pkg-config or CMake file.
find_path(ZXCVBN_INCLUDE_DIR zxcvbn.h REQUIRED)
find_library(ZXCVBN_LIBRARY zxcvbn REQUIRED)
add_library(Zxcvbn::zxcvbn UNKNOWN IMPORTED)
set_target_properties(Zxcvbn::zxcvbn PROPERTIES IMPORTED_LOCATION "${ZXCVBN_LIBRARY}"
                      INTERFACE_INCLUDE_DIRECTORIES "${ZXCVBN_INCLUDE_DIR}")
