#include "support/test_database.hpp"

#include <sodium.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <sys/wait.h>

namespace latchkey::test {

namespace {

std::string env(const std::string& name) {
    const char* value = std::getenv(name.c_str());
    if (!value || !*value) {
        throw std::runtime_error(name + " is not set: start the test databases with "
                                        "`scripts/db-servers start DIR` and source DIR/env "
                                        "(scripts/test does both)");
    }
    return value;
}

/// Runs a shell command and returns its stdout; throws with the output when it fails.
std::string shell(const std::string& command) {
    FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
    if (!pipe) throw std::runtime_error("cannot run " + command);
    std::string out;
    std::array<char, 4096> buffer{};
    std::size_t n = 0;
    while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
        out.append(buffer.data(), n);
    const int status = ::pclose(pipe);
    if (status != 0) throw std::runtime_error("`" + command + "` failed: " + out);
    return out;
}

/// Single-quoted for the shell.
std::string quoted(const std::string& text) {
    std::string out = "'";
    for (const char c : text) {
        if (c == '\'') {
            out += "'\\''";
        } else {
            out += c;
        }
    }
    return out + "'";
}

} // namespace

TestDatabase::TestDatabase(std::string driver) : driver_(std::move(driver)) {
    if (driver_ == "postgresql") {
        prefix_ = "LATCHKEY_TEST_PG";
    } else if (driver_ == "mysql") {
        prefix_ = "LATCHKEY_TEST_MYSQL";
    } else {
        throw std::runtime_error("no test database for storage driver " + driver_);
    }
    env(prefix_ + "_HOST");
    unsigned char random[8];
    randombytes_buf(random, sizeof random);
    char hex[sizeof random * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, random, sizeof random);
    name_ = std::string("latchkey_test_") + hex;
    // PostgreSQL: an ICU locale, as most installations have one (initdb in a UTF-8 locale)
    // and unlike the servers' C.UTF-8: the store must not depend on the database's collation.
    client(driver_ == "postgresql" ? "postgres" : "",
           driver_ == "postgresql" ? "CREATE DATABASE " + name_ +
                                         " TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE "
                                         "'en-US' LOCALE 'C.UTF-8'"
                                   : "CREATE DATABASE " + name_);
}

TestDatabase::~TestDatabase() {
    try {
        client(driver_ == "postgresql" ? "postgres" : "",
               driver_ == "postgresql" ? "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)"
                                       : "DROP DATABASE IF EXISTS " + name_);
    } catch (const std::exception&) {
        // The server may be gone (a fault test stopped it): the directory goes with it.
    }
}

std::string TestDatabase::yaml(const std::string& indent) const {
    return indent + "host: " + env(prefix_ + "_HOST") + "\n" + indent +
           "port: " + env(prefix_ + "_PORT") + "\n" + indent + "database: " + name_ + "\n" +
           indent + "user: " + env(prefix_ + "_USER") + "\n" + indent + "password: \"${" + prefix_ +
           "_PASSWORD}\"\n";
}

std::string TestDatabase::query(const std::string& statement) const {
    return client(name_, statement);
}

std::string TestDatabase::client(const std::string& database, const std::string& statement) const {
    if (driver_ == "postgresql") {
        return shell("PGPASSWORD=\"$" + prefix_ + "_PASSWORD\" psql -X -q -A -t -F '\t'" +
                     " -v ON_ERROR_STOP=1 -h " + quoted(env(prefix_ + "_HOST")) + " -p " +
                     quoted(env(prefix_ + "_PORT")) + " -U " + quoted(env(prefix_ + "_USER")) +
                     " -d " + quoted(database) + " -c " + quoted(statement));
    }
    return shell("MYSQL_PWD=\"$" + prefix_ + "_PASSWORD\" mariadb --no-defaults -N -B" +
                 " --protocol=TCP -h " + quoted(env(prefix_ + "_HOST")) + " -P " +
                 quoted(env(prefix_ + "_PORT")) + " -u " + quoted(env(prefix_ + "_USER")) +
                 (database.empty() ? "" : " -D " + quoted(database)) + " -e " + quoted(statement));
}

} // namespace latchkey::test
