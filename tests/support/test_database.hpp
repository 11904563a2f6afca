// A fresh, empty database on the test servers that scripts/db-servers starts (PostgreSQL or
// MariaDB), found through its LATCHKEY_TEST_* environment variables, dropped when destroyed.
#pragma once

#include <string>

namespace latchkey::test {

class TestDatabase {
public:
    /// `driver` is "postgresql" or "mysql". Throws std::runtime_error, saying how to start the
    /// servers, when their variables are not set.
    explicit TestDatabase(std::string driver);
    ~TestDatabase();
    TestDatabase(const TestDatabase&) = delete;
    TestDatabase& operator=(const TestDatabase&) = delete;

    const std::string& driver() const { return driver_; }
    const std::string& name() const { return name_; }
    /// The storage plugin's settings as YAML lines (without `driver:`), each after `indent`;
    /// the password is `${...}` of the environment variable.
    std::string yaml(const std::string& indent = "") const;
    /// Runs `statement` in this database with the command-line client; returns its output (one
    /// line per row, columns separated by tabs). Throws when the client fails.
    std::string query(const std::string& statement) const;

private:
    std::string client(const std::string& database, const std::string& statement) const;

    std::string driver_;
    std::string prefix_; ///< LATCHKEY_TEST_PG or LATCHKEY_TEST_MYSQL.
    std::string name_;
};

} // namespace latchkey::test
