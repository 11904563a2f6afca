// Runs the real `latchkey` binary: one-shot CLI commands, or `serve` on port 0 in the background.
#pragma once

#include "support/http_client.hpp"
#include "support/temp_dir.hpp"
#include "support/test_database.hpp"

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace latchkey::test {

/// Extra environment variables for the child (added to, or replacing, the test's own).
using Env = std::vector<std::pair<std::string, std::string>>;

/// What a finished command printed and returned.
struct CommandResult {
    int exitCode = -1;
    std::string out;
    std::string err;
};

/// Runs `latchkey args...` to completion (killed after `timeout`).
CommandResult runLatchkey(const std::vector<std::string>& args, const Env& env = {},
                          std::chrono::seconds timeout = std::chrono::seconds(60));

/// runLatchkey with `input` as its standard input (a file, so never a terminal).
CommandResult runLatchkeyWithInput(const std::vector<std::string>& args, const std::string& input,
                                   const Env& env = {});

/// fork + execve of `argv` (argv[0] is the program's path) with `environment`; the child's
/// stdin is `inFd` (unless -1), stdout `outFd`, stderr `errFd`. Returns the child's pid.
pid_t spawnProcess(const std::vector<std::string>& argv,
                   const std::vector<std::string>& environment, int inFd, int outFd, int errFd);

/// The host built in this tree, its plugin directory and the fixture plugins' directory.
std::string latchkeyBinary();
std::string pluginDir();
std::string fixtureDir(const std::string& name);

/// The storage driver the integration tests run on: LATCHKEY_TEST_STORAGE, "sqlite" by default
/// (ctest runs the suite once more with "postgresql").
std::string testStorageDriver();

/// The database server testConfig() gave `dir`'s deployment (created at the first call, kept
/// until the test process ends), or nullptr with SQLite.
std::shared_ptr<TestDatabase> testDatabaseFor(const TempDir& dir);

/// A `login_throttle:` for tests of shedding under a flood of wrong passwords at one account:
/// loose enough that the hashing lane, not the throttle, answers the flood.
inline constexpr const char* kFloodThrottle =
    "login_throttle: {free_failures: 1000, client_limit: 1000000, account_interval: 10ms}\n";

/// A config for tests: the test storage (a SQLite file in `dir`, or a fresh database of
/// testStorageDriver()) and outbox under `dir`, an admin account, cheap argon2 settings
/// (the defaults are for production), port 0. `passwordSettings` replaces the password plugin's
/// map; `extra` is appended verbatim (further top-level sections or auth entries are not
/// merged: pass whole sections).
std::string testConfig(const TempDir& dir, const std::string& passwordSettings = "",
                       const std::string& extraAuth = "", const std::string& extraTop = "",
                       const std::vector<std::string>& extraPluginDirs = {});

/// The admin account testConfig() bootstraps.
inline constexpr const char* kAdminEmail = "admin@example.com";
inline constexpr const char* kAdminPassword = "admin-password-for-tests";

/// `latchkey serve -c config` running in the background until stop() or destruction.
class HostProcess {
public:
    /// Starts and waits (up to 30 s) for the "listening on" line; throws with the log otherwise.
    explicit HostProcess(const std::string& configPath, const Env& env = {});
    ~HostProcess();
    HostProcess(const HostProcess&) = delete;
    HostProcess& operator=(const HostProcess&) = delete;

    /// "http://127.0.0.1:PORT".
    const std::string& baseUrl() const { return baseUrl_; }
    /// A client for it.
    HttpClient client() const { return HttpClient(baseUrl_); }
    /// Sends `signal` and waits for the exit; returns the exit code (128+n if killed by n).
    int stop(int signal = SIGTERM, std::chrono::seconds timeout = std::chrono::seconds(30));
    /// Everything written to stderr so far (the log).
    std::string log() const;
    /// The child's pid.
    pid_t pid() const { return pid_; }

private:
    TempDir logDir_;
    std::string logFile_;
    pid_t pid_ = -1;
    std::string baseUrl_;
};

/// Logs in as the test admin and returns the account key.
std::string adminAccountKey(const HttpClient& client);

/// Creates the instance `name` with `accountKey`, and an API key in it with `apiKeyBody`
/// (`{"allow_user_create": true}` by default); returns the API key. Throws if either is refused.
std::string
createInstanceWithApiKey(const HttpClient& client, const std::string& accountKey,
                         const std::string& name,
                         const std::string& apiKeyBody = R"({"allow_user_create": true})");

} // namespace latchkey::test
