// The `latchkey` command line: --version, --help, check-config and plugins, and how config
// problems are reported (file, line, key path) before anything starts.
#include "support/host_process.hpp"

#include <latchkey/version.hpp>

#include <catch2/catch.hpp>

#include <poll.h>
#include <pty.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

using namespace latchkey::test;

namespace {

/// What the terminal showed until `wanted` appeared (or the child ended, or 20 s passed).
std::string readUntil(int terminal, const std::string& wanted, std::string& transcript) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (transcript.find(wanted) == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
        pollfd p{terminal, POLLIN, 0};
        if (::poll(&p, 1, 200) <= 0) continue;
        char buffer[512];
        const ssize_t n = ::read(terminal, buffer, sizeof buffer);
        if (n <= 0) break; // EIO: the child closed its side
        transcript.append(buffer, static_cast<std::size_t>(n));
    }
    return transcript;
}

} // namespace

TEST_CASE("The version and help options answer and exit 0", "[cli]") {
    const auto version = runLatchkey({"--version"});
    CHECK(version.exitCode == 0);
    const std::string sdk = std::to_string(LATCHKEY_SDK_VERSION_MAJOR) + "." +
                            std::to_string(LATCHKEY_SDK_VERSION_MINOR) + "." +
                            std::to_string(LATCHKEY_SDK_VERSION_PATCH);
    CHECK_THAT(version.out,
               Catch::StartsWith("latchkey 1.0.0 (plugin SDK " + sdk + ", libstdc++/cxx11"));
    const auto help = runLatchkey({"--help"});
    CHECK(help.exitCode == 0);
    CHECK_THAT(help.out, Catch::Contains("latchkey serve -c FILE") &&
                             Catch::Contains("check-config") && Catch::Contains("plugins"));
}

TEST_CASE("Usage errors exit 2 with the help", "[cli]") {
    CHECK(runLatchkey({}).exitCode == 2);
    const auto unknown = runLatchkey({"frobnicate", "-c", "x.yaml"});
    CHECK(unknown.exitCode == 2);
    CHECK_THAT(unknown.err, Catch::Contains("unknown command \"frobnicate\""));
    const auto noConfig = runLatchkey({"serve"});
    CHECK(noConfig.exitCode == 2);
    CHECK_THAT(noConfig.err, Catch::Contains("serve needs -c FILE"));
}

TEST_CASE("check-config accepts a good file", "[cli]") {
    TempDir dir;
    const std::string config = dir.write("latchkey.yaml", testConfig(dir));
    const auto result = runLatchkey({"check-config", "-c", config});
    INFO(result.err);
    CHECK(result.exitCode == 0);
    CHECK(result.out == config + ": OK (" + testStorageDriver() + ", outbox, password)\n");
}

TEST_CASE("check-config prints every problem with file, line and key path", "[cli]") {
    TempDir dir;
    const std::string config =
        dir.write("bad.yaml", "server:\n"
                              "  listen: 127.0.0.1:0\n"
                              "  threads: lots\n"
                              "  colour: blue\n"
                              "secrets: {key_file: s.key}\n"
                              "plugins:\n"
                              "  paths: [" +
                                  pluginDir() +
                                  "]\n"
                                  "storage: {driver: sqlit, path: x.db}\n"
                                  "mailer: {driver: outbox}\n"
                                  "auth:\n"
                                  "  password: {min_length: zero, max_len: 3}\n");
    const auto result = runLatchkey({"check-config", "-c", config});
    INFO(result.err);
    CHECK(result.exitCode == 2);
    CHECK_THAT(result.err, Catch::Contains(config + ":3:12: server.threads: expected a whole "
                                                    "number, got \"lots\""));
    CHECK_THAT(result.err,
               Catch::Contains(config + ":4:11: server.colour: unknown key \"colour\""));
    CHECK_THAT(result.err, Catch::Contains(config + ":8:19: storage.driver: no plugin named "
                                                    "\"sqlit\""));
    CHECK_THAT(result.err, Catch::Contains("(storage plugins found: mysql, postgresql, sqlite)"));
    CHECK_THAT(result.err, Catch::Contains(config + ":9:9: mailer.dir: is required"));
    CHECK_THAT(result.err, Catch::Contains(":11:26: auth.password.min_length: expected a whole "
                                           "number, got \"zero\""));
    CHECK_THAT(result.err, Catch::Contains(":11:41: auth.password.max_len: unknown key \"max_len\" "
                                           "(did you mean \"max_length\"?)"));
    CHECK_THAT(result.err, Catch::EndsWith("6 problems\n"));
}

TEST_CASE("check-config checks the social backends' settings", "[cli]") {
    TempDir dir;
    const std::string config = dir.write(
        "social.yaml", "secrets: {key_file: s.key}\n"
                       "plugins:\n"
                       "  paths: [" +
                           pluginDir() +
                           "]\n"
                           "storage: {driver: sqlite, path: x.db}\n"
                           "mailer: {driver: outbox, dir: out}\n"
                           "outbound: {ca_file: missing.pem}\n"
                           "auth:\n"
                           "  password: {}\n"
                           "  social:\n"
                           "    facebook: {app_id: '1', graph_url: 'ftp://x'}\n"
                           "    google-oauth2: {timeout: 10m}\n"
                           "    linkedin: {introspect: false, link_verified_email: true}\n"
                           "    github: {}\n");
    const auto result = runLatchkey({"check-config", "-c", config});
    INFO(result.err);
    CHECK(result.exitCode == 2);
    CHECK_THAT(result.err, Catch::Contains(":6:21: outbound.ca_file: cannot read"));
    CHECK_THAT(result.err, Catch::Contains(":10:15: auth.social.facebook.app_secret: is required"));
    CHECK_THAT(result.err,
               Catch::Contains(":10:40: auth.social.facebook.graph_url: must be an http(s) URL"));
    CHECK_THAT(result.err, Catch::Contains("auth.social.google-oauth2.client_ids: is required"));
    CHECK_THAT(result.err, Catch::Contains("auth.social.google-oauth2.timeout:"));
    CHECK_THAT(result.err, Catch::Contains("auth.social.linkedin.link_verified_email: needs "));
    CHECK_THAT(result.err, Catch::Contains("auth.social.github: no plugin named \"github\""));
    CHECK_THAT(result.err, Catch::Contains("(social plugins found: facebook, google-oauth2, "
                                           "linkedin, twitter)"));
}

TEST_CASE("Unset variables, bad YAML and missing files are config errors", "[cli]") {
    TempDir dir;
    const std::string unset =
        dir.write("unset.yaml", "server:\n  listen: ${LATCHKEY_TEST_SURELY_UNSET}\n");
    const auto a = runLatchkey({"check-config", "-c", unset});
    CHECK(a.exitCode == 2);
    CHECK_THAT(a.err, Catch::Contains(unset + ":2:11: server.listen: environment variable "
                                              "LATCHKEY_TEST_SURELY_UNSET is not set"));

    const std::string broken = dir.write("broken.yaml", "server:\n  listen: [oops\n");
    const auto b = runLatchkey({"check-config", "-c", broken});
    CHECK(b.exitCode == 2);
    CHECK_THAT(b.err, Catch::Contains(broken + ":3:1: YAML syntax"));

    const auto c = runLatchkey({"check-config", "-c", dir.file("missing.yaml")});
    CHECK(c.exitCode == 2);
    CHECK_THAT(c.err, Catch::Contains("missing.yaml: cannot read the file"));

    // serve refuses the same way, before listening.
    const auto d = runLatchkey({"serve", "-c", unset});
    CHECK(d.exitCode == 2);
    CHECK(d.out.empty());
}

TEST_CASE("Variables from the environment fill the config", "[cli]") {
    TempDir dir;
    std::string text = testConfig(dir);
    text.replace(text.find("127.0.0.1:0"), 11, "${LISTEN_AT:-127.0.0.1:1}");
    const std::string config = dir.write("env.yaml", text);
    CHECK(runLatchkey({"check-config", "-c", config}, {{"LISTEN_AT", "127.0.0.1:0"}}).exitCode ==
          0);
    const auto bad = runLatchkey({"check-config", "-c", config}, {{"LISTEN_AT", "nowhere"}});
    CHECK(bad.exitCode == 2);
    CHECK_THAT(bad.err, Catch::Contains("server.listen: expected host:port, got \"nowhere\""));
}

TEST_CASE("plugins lists what the paths hold and what the config uses", "[cli]") {
    TempDir dir;
    const std::string config =
        dir.write("latchkey.yaml", testConfig(dir, "", "", "", {fixtureDir("good")}));
    const auto result = runLatchkey({"plugins", "-c", config});
    INFO(result.err);
    CHECK(result.exitCode == 0);
    CHECK_THAT(result.out, Catch::Contains("NAME") && Catch::Contains("KIND"));
    const std::string storage = testStorageDriver();
    // The SDK column: the "major.minor" each plugin was built with (this tree's).
    const std::string sdk = std::to_string(LATCHKEY_SDK_VERSION_MAJOR) + "\\." +
                            std::to_string(LATCHKEY_SDK_VERSION_MINOR);
    CHECK_THAT(result.out,
               Catch::Matches("(.|\\n)*" + storage + " +storage +1\\.0\\.0 +" + sdk + " +yes +" +
                              pluginDir() + "/latchkey-" + storage + "\\.so(.|\\n)*"));
    CHECK_THAT(result.out, Catch::Matches("(.|\\n)*fixture-good +flow +0\\.1\\.0 +" + sdk +
                                          " +no +.*fixture-good\\.so(.|\\n)*"));
    CHECK_THAT(result.out, Catch::Contains("posture: stable; trusts libsodium"));
}

TEST_CASE("The configs shipped in config/ are valid", "[cli]") {
    const Env env{{"LATCHKEY_PLUGIN_DIR", pluginDir()},
                  {"LATCHKEY_SECRET_KEY", std::string(64, 'a')},
                  {"LATCHKEY_ADMIN_EMAIL", "admin@example.com"},
                  {"LATCHKEY_ADMIN_PASSWORD", "a long admin password"},
                  {"LATCHKEY_DB_PASSWORD", "a database password"}};
    for (const char* name : {"latchkey.yaml", "buzz-smtp.yaml", "postgresql.yaml"}) {
        INFO(name);
        const auto result = runLatchkey(
            {"check-config", "-c", std::string(LATCHKEY_TEST_SOURCE_DIR) + "/config/" + name}, env);
        INFO(result.err);
        CHECK(result.exitCode == 0);
    }
}

TEST_CASE("The embedded default serves the v1.1 API and the Buzz flow at /rest and /buzz/rest",
          "[cli]") {
    // config/latchkey.yaml as shipped, in a copy of its layout (config/ beside data/).
    TempDir dir;
    std::filesystem::create_directories(dir.file("config"));
    const std::string config = dir.file("config/latchkey.yaml");
    std::filesystem::copy_file(std::string(LATCHKEY_TEST_SOURCE_DIR) + "/config/latchkey.yaml",
                               config);
    const Env env{{"LATCHKEY_PLUGIN_DIR", pluginDir()},
                  {"LATCHKEY_LISTEN", "127.0.0.1:0"},
                  {"LATCHKEY_ADMIN_EMAIL", "admin@example.com"},
                  {"LATCHKEY_ADMIN_PASSWORD", "a long admin password"},
                  {"LATCHKEY_SUPERUSER_EMAIL", "super@example.com"},
                  {"LATCHKEY_SUPERUSER_PASSWORD", "a long super user password"}};
    HostProcess host(config, env);
    HttpClient http(host.baseUrl());
    CHECK(http.post("/v1.1/account/auth/",
                    R"({"email": "admin@example.com", "password": "a long admin password"})")
              .status == 200);
    for (const char* mount : {"/rest", "/buzz/rest"}) {
        INFO(mount);
        const auto login = http.post(
            std::string(mount) + "/authenticate",
            R"({"email": "super@example.com", "password": "a long super user password"})");
        CHECK(login.status == 200);
        const std::string cookie =
            login.header("Set-Cookie").substr(0, login.header("Set-Cookie").find(';'));
        CHECK(http.get(std::string(mount) + "/user", {{"Cookie", cookie}}).status == 200);
    }
    CHECK(std::filesystem::exists(dir.file("data/latchkey.db")));
}

TEST_CASE("check-config checks each instance's social settings and reports a shared problem once",
          "[cli]") {
    TempDir dir;
    const std::string config =
        dir.write("social.yaml", "secrets: {key_file: s.key}\n"
                                 "plugins:\n"
                                 "  paths: [" +
                                     pluginDir() +
                                     "]\n"
                                     "storage: {driver: sqlite, path: x.db}\n"
                                     "mailer: {driver: outbox, dir: out}\n"
                                     "auth:\n"
                                     "  password: {}\n"
                                     "  social:\n"
                                     "    facebook:\n"
                                     "      graph_url: 'ftp://x'\n"
                                     "      app_secret: s\n"
                                     "      instances:\n"
                                     "        shop-one: {app_id: '2', colour: blue}\n"
                                     "        shop-two: {app_id: '3'}\n"
                                     "    github: {instances: {shop-one: {}, shop-two: {}}}\n");
    const auto result = runLatchkey({"check-config", "-c", config});
    INFO(result.err);
    CHECK(result.exitCode == 2);
    const auto count = [&](const std::string& text) {
        std::size_t n = 0;
        for (auto at = result.err.find(text); at != std::string::npos;
             at = result.err.find(text, at + 1))
            ++n;
        return n;
    };
    // Host-wide: no app_id. Each instance has one; shop-one has a key facebook does not know.
    CHECK(count(":10:7: auth.social.facebook.app_id: is required") == 1);
    CHECK(count("auth.social.facebook.instances.shop-one.colour: unknown key") == 1);
    CHECK(count("auth.social.facebook.instances.shop-two.") == 0);
    // The inherited bad URL, read for the host and both instances, is one problem at its line.
    CHECK(count(":10:18: auth.social.facebook.graph_url: must be an http(s) URL") == 1);
    CHECK(count("auth.social.github: no plugin named \"github\"") == 1);
    CHECK_THAT(result.err, Catch::EndsWith("4 problems\n"));
}

TEST_CASE("latchkey admin resets the account key and sets the password on a running host's store",
          "[cli]") {
    TempDir dir;
    const std::string config = dir.write("latchkey.yaml", testConfig(dir));
    HostProcess host(config);
    HttpClient http(host.baseUrl());
    const std::string first = adminAccountKey(http);
    const auto accountStatus = [&](const std::string& key) {
        return http.get("/v1.1/account/", {{"X-API-KEY", key}}).status;
    };
    const auto login = [&](const std::string& password) {
        return http.post("/v1.1/account/auth/", std::string(R"({"email": ")") + kAdminEmail +
                                                    R"(", "password": ")" + password + "\"}");
    };

    const auto reset = runLatchkey({"admin", "reset-key", "-c", config});
    INFO(reset.err);
    REQUIRE(reset.exitCode == 0);
    const std::string second = reset.out.substr(0, reset.out.find('\n'));
    CHECK(reset.out == second + "\n"); // the key alone on stdout, for scripts
    CHECK(second.size() == first.size());
    CHECK(second != first);
    // The running host sees it at once: the old key is dead, the new one works.
    CHECK(accountStatus(first) == 403);
    CHECK(accountStatus(second) == 200);
    CHECK_THAT(reset.err, Catch::Contains("auth event=account_key_reset"));
    CHECK_THAT(reset.err, Catch::Contains("client=cli"));
    CHECK(reset.err.find(second) == std::string::npos); // never logged

    const std::string password = "a brand new admin password";
    const auto set = runLatchkeyWithInput(
        {"admin", "set-password", "--config=" + config, "--email", kAdminEmail}, password + "\n");
    INFO(set.err);
    REQUIRE(set.exitCode == 0);
    const std::string third = set.out.substr(0, set.out.find('\n'));
    CHECK(accountStatus(second) == 403); // a new password brings a new key, as in the API
    CHECK(accountStatus(third) == 200);
    CHECK(set.err.find(password) == std::string::npos);
    CHECK(login(kAdminPassword).status == 401);
    const auto fresh = login(password);
    CHECK(fresh.status == 200);
    CHECK(fresh.str("account_key") == third);

    // Refusals: each with its reason and exit code, and nothing changed.
    const auto weak = runLatchkeyWithInput({"admin", "set-password", "-c", config}, "short\n");
    CHECK(weak.exitCode == 1);
    CHECK_THAT(weak.err, Catch::Contains("admin set-password: the password: "));
    const auto empty = runLatchkeyWithInput({"admin", "set-password", "-c", config}, "");
    CHECK(empty.exitCode == 2);
    CHECK_THAT(empty.err, Catch::Contains("no password given on standard input"));
    const auto nobody =
        runLatchkey({"admin", "reset-key", "-c", config, "--email", "nobody@example.com"});
    CHECK(nobody.exitCode == 1);
    CHECK_THAT(nobody.err, Catch::Contains("no account has the email nobody@example.com"));
    CHECK(accountStatus(third) == 200);

    // The account exists: the commands need no admin.password (it may be gone from the
    // environment since the first start), while serve still does.
    std::string withoutPassword = testConfig(dir);
    const std::string passwordLine = std::string("  password: ") + kAdminPassword + "\n";
    REQUIRE(withoutPassword.find(passwordLine) != std::string::npos);
    withoutPassword.erase(withoutPassword.find(passwordLine), passwordLine.size());
    const std::string bare = dir.write("bare.yaml", withoutPassword);
    const auto recovered = runLatchkey({"admin", "reset-key", "-c", bare});
    INFO(recovered.err);
    CHECK(recovered.exitCode == 0);
    CHECK(accountStatus(recovered.out.substr(0, recovered.out.find('\n'))) == 200);
    CHECK(runLatchkey({"check-config", "-c", bare}).exitCode == 2);
    // Nor when it comes from a variable that is no longer set (with an empty default: an unset
    // variable without one is a config error for every command).
    std::string unset = testConfig(dir);
    unset.replace(unset.find(passwordLine), passwordLine.size(),
                  "  password: ${LATCHKEY_TEST_NO_SUCH_VARIABLE:-}\n");
    const std::string unsetFile = dir.write("unset.yaml", unset);
    CHECK(runLatchkey({"admin", "list-instances", "-c", unsetFile}).exitCode == 0);
    CHECK(runLatchkey({"migrate", "-c", unsetFile}).exitCode == 0);
    CHECK(runLatchkey({"serve", "-c", unsetFile}).exitCode == 2);

    CHECK(runLatchkey({"admin"}).exitCode == 2);
    CHECK(runLatchkey({"admin", "reset-key"}).exitCode == 2);
    CHECK_THAT(runLatchkey({"admin", "rotate", "-c", config}).err,
               Catch::Contains("unknown admin subcommand \"rotate\""));
    const auto help = runLatchkey({"admin", "--help"});
    CHECK(help.exitCode == 0);
    CHECK_THAT(help.out, Catch::Contains("latchkey admin set-password -c FILE [--email ADDR]"));
}

TEST_CASE("latchkey admin create-admin creates a second administrator a host then serves",
          "[cli]") {
    TempDir dir;
    const std::string config = dir.write("latchkey.yaml", testConfig(dir));
    const std::string password = "the operator's own passphrase";
    const auto created = runLatchkeyWithInput(
        {"admin", "create-admin", "-c", config, "--email", "Ops@Example.com"}, password + "\n");
    INFO(created.err);
    REQUIRE(created.exitCode == 0);
    const std::string key = created.out.substr(0, created.out.find('\n'));
    CHECK(created.out == key + "\n"); // the key alone on stdout, for scripts
    CHECK(created.err.find(password) == std::string::npos);
    CHECK(created.err.find(key) == std::string::npos);
    // Again: it exists, and nothing changes.
    const auto again =
        runLatchkeyWithInput({"admin", "create-admin", "-c", config, "--email", "ops@example.com"},
                             "another one 12345\n");
    CHECK(again.exitCode == 1);
    CHECK_THAT(again.err, Catch::Contains("exists already"));
    // A password the policy refuses creates nothing.
    const auto weak = runLatchkeyWithInput(
        {"admin", "create-admin", "-c", config, "--email", "weak@example.com"}, "short\n");
    CHECK(weak.exitCode == 1);
    HostProcess host(config);
    HttpClient http(host.baseUrl());
    CHECK(http.get("/v1.1/account/", {{"X-API-KEY", key}}).status == 200);
    const auto login = http.post(
        "/v1.1/account/auth/", R"({"email": "ops@example.com", "password": ")" + password + "\"}");
    CHECK(login.status == 200);
    CHECK(http.post("/v1.1/account/auth/", R"({"email": "weak@example.com", "password": "short"})")
              .status == 401);
}

TEST_CASE("latchkey admin set-password asks twice on a terminal and never echoes", "[cli]") {
    TempDir dir;
    const std::string config = dir.write("latchkey.yaml", testConfig(dir));
    HostProcess host(config); // creates the account
    HttpClient http(host.baseUrl());
    const std::string password = "typed at a terminal 42";

    // Everything the child needs is made before the fork (no allocation after it).
    const std::string binary = latchkeyBinary();
    int terminal = -1;
    const pid_t pid = ::forkpty(&terminal, nullptr, nullptr, nullptr);
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::execl(binary.c_str(), binary.c_str(), "admin", "set-password", "-c", config.c_str(),
                static_cast<char*>(nullptr));
        ::_exit(127);
    }
    std::string transcript;
    readUntil(terminal, "New password: ", transcript);
    // A fast typist: both lines at once, the repeat before its prompt shows. Neither is
    // echoed, and the repeat is read, not flushed.
    const std::string typed = password + "\n" + password + "\n";
    REQUIRE(::write(terminal, typed.data(), typed.size()) == static_cast<ssize_t>(typed.size()));
    readUntil(terminal, "\x04never\x04", transcript); // to the end
    ::close(terminal);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    INFO(transcript);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(transcript.find("Again: ") != std::string::npos);
    CHECK(transcript.find(password) == std::string::npos); // echo was off for both lines
    const auto login =
        http.post("/v1.1/account/auth/", std::string(R"({"email": ")") + kAdminEmail +
                                             R"(", "password": ")" + password + "\"}");
    CHECK(login.status == 200);
    CHECK(transcript.find(login.str("account_key")) != std::string::npos); // printed
}

TEST_CASE("latchkey migrate prepares a store without serving, and admin list-instances reads it",
          "[cli]") {
    TempDir dir;
    const std::string config = dir.write("latchkey.yaml", testConfig(dir));
    const auto migrated = runLatchkey({"migrate", "-c", config});
    INFO(migrated.err);
    CHECK(migrated.exitCode == 0);
    CHECK(migrated.out == config + ": the store is at this latchkey's schema\n");
    CHECK_THAT(migrated.err, Catch::Contains("schema version"));
    // Nothing was served or created beyond the schema: no administrator account yet.
    CHECK_THAT(runLatchkey({"admin", "list-instances", "-c", config}).err,
               Catch::Contains("no account has the email admin@example.com"));
    // Again: nothing to do, still 0.
    CHECK(runLatchkey({"migrate", "--config=" + config}).exitCode == 0);

    HostProcess host(config);
    HttpClient http(host.baseUrl());
    const std::string key = adminAccountKey(http);
    for (const char* name : {"first-app", "second-app"})
        REQUIRE(http.post("/v1.1/instances/", std::string(R"({"name": ")") + name + "\"}",
                          {{"X-API-KEY", key}})
                    .status == 201);
    const auto listed = runLatchkey({"admin", "list-instances", "-c", config});
    INFO(listed.err);
    CHECK(listed.exitCode == 0);
    CHECK_THAT(listed.out, Catch::Matches("first-app\t[0-9]+\t20[0-9-]+T[0-9:]+Z\n"
                                          "second-app\t[0-9]+\t20[0-9-]+T[0-9:]+Z\n"));

    CHECK(runLatchkey({"migrate"}).exitCode == 2);
    CHECK(runLatchkey({"migrate", "-c", config, "extra"}).exitCode == 2);
    CHECK_THAT(runLatchkey({"migrate", "--help"}).out, Catch::Contains("latchkey migrate -c FILE"));
}

TEST_CASE("latchkey backup copies a serving SQLite store that a host then starts on", "[cli]") {
    TempDir dir;
    const std::string configText = testConfig(dir);
    const std::string config = dir.write("latchkey.yaml", configText);
    HostProcess host(config);
    HttpClient http(host.baseUrl());
    const std::string key = adminAccountKey(http);
    const std::string copy = dir.file("copy.db");
    if (testStorageDriver() != "sqlite") {
        const auto refused = runLatchkey({"backup", "-c", config, "-o", copy});
        CHECK(refused.exitCode == 1);
        CHECK_THAT(refused.err, Catch::Contains("storage driver has no online backup; use the "
                                                "database's own tool"));
        return;
    }
    REQUIRE(http.post("/v1.1/instances/", R"({"name": "kept-app"})", {{"X-API-KEY", key}}).status ==
            201);
    // Writes go on while the copy is made: it is the store at one moment, and a valid one.
    std::atomic<bool> writing{true};
    std::atomic<int> written{0};
    std::thread writer([&] {
        HttpClient client(host.baseUrl());
        for (int i = 0; writing; ++i) {
            if (client
                    .post("/v1.1/instances/", R"({"name": "busy-)" + std::to_string(i) + "\"}",
                          {{"X-API-KEY", key}})
                    .status == 201)
                ++written;
        }
    });
    while (written < 3)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const auto backup = runLatchkey({"backup", "-c", config, "--output=" + copy});
    writing = false;
    writer.join();
    INFO(backup.err);
    REQUIRE(backup.exitCode == 0);
    CHECK(backup.out == copy + "\n");
    struct stat info {};
    REQUIRE(::stat(copy.c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0600);
    CHECK_FALSE(std::filesystem::exists(copy + ".partial")); // linked into place, then gone
    // Never over an existing file, nor onto one of the database's own.
    const auto again = runLatchkey({"backup", "-c", config, "-o", copy});
    CHECK(again.exitCode == 1);
    CHECK_THAT(again.err, Catch::Contains("File exists"));
    const auto ownFile = runLatchkey({"backup", "-c", config, "-o", dir.file("latchkey.db-shm")});
    CHECK(ownFile.exitCode == 1);
    CHECK_THAT(ownFile.err, Catch::Contains("is one of the database's own files"));

    // A host on the copy (same secret) has the account, its key and the instance.
    std::string restored = configText;
    const std::string original = dir.file("latchkey.db");
    restored.replace(restored.find(original), original.size(), copy);
    HostProcess second(dir.write("restored.yaml", restored));
    HttpClient secondHttp(second.baseUrl());
    CHECK(secondHttp.get("/v1.1/instances/kept-app/", {{"X-API-KEY", key}}).status == 200);

    CHECK(runLatchkey({"backup", "-c", config}).exitCode == 2);
    CHECK_THAT(runLatchkey({"backup", "--help"}).out,
               Catch::Contains("latchkey backup -c FILE -o OUT"));
}
