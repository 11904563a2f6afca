// The sqlite storage plugin as deployed: data survives restarts, WAL is on, and an unusable
// database or a changed secret stops start-up with a clear message.
#include "support/host_process.hpp"

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <catch2/catch.hpp>

#include <filesystem>

using namespace latchkey::test;

namespace {

Poco::Data::Session openDatabase(const std::string& path) {
    Poco::Data::SQLite::Connector::registerConnector();
    return Poco::Data::Session("SQLite", path);
}

} // namespace

TEST_CASE("Users survive a restart and the database runs in WAL mode", "[storage][sqlite]") {
    TempDir dir;
    const std::string config = dir.write("latchkey.yaml", testConfig(dir));
    std::string apiKey;
    {
        HostProcess host(config);
        const HttpClient http = host.client();
        const std::string accountKey = adminAccountKey(http);
        apiKey = createInstanceWithApiKey(http, accountKey, "keeps");
        REQUIRE(http.post("/v1.1/instances/keeps/users/",
                          R"({"username": "gordon", "password": "Black Mesa 1998"})",
                          {{"X-API-KEY", apiKey}})
                    .status == 201);
        CHECK(host.stop() == 0);
    }
    HostProcess host(config);
    CHECK(host.client()
              .post("/v1.1/instances/keeps/user/auth/",
                    R"({"username": "gordon", "password": "Black Mesa 1998"})",
                    {{"X-API-KEY", apiKey}})
              .status == 200);
    auto session = openDatabase(dir.file("latchkey.db"));
    std::string mode;
    session << "PRAGMA journal_mode", Poco::Data::Keywords::into(mode), Poco::Data::Keywords::now;
    CHECK(mode == "wal");
}

TEST_CASE("Keys are not stored in the clear", "[storage][sqlite]") {
    TempDir dir;
    HostProcess host(dir.write("latchkey.yaml", testConfig(dir)));
    const HttpClient http = host.client();
    const std::string accountKey = adminAccountKey(http);
    const std::string apiKey = createInstanceWithApiKey(http, accountKey, "vault");
    const std::string userKey =
        http.post("/v1.1/instances/vault/users/",
                  R"({"username": "gordon", "password": "Black Mesa 1998"})",
                  {{"X-API-KEY", apiKey}})
            .str("user_key");
    CHECK(host.stop() == 0);
    const std::string database =
        readFile(dir.file("latchkey.db")) + readFile(dir.file("latchkey.db-wal"));
    REQUIRE(database.size() > 1000);
    CHECK(database.find(accountKey) == std::string::npos);
    CHECK(database.find(apiKey) == std::string::npos);
    CHECK(database.find(userKey) == std::string::npos);
    CHECK(database.find("Black Mesa 1998") == std::string::npos);
}

TEST_CASE("An unusable database path stops start-up naming the path", "[storage][sqlite]") {
    TempDir dir;
    dir.write("not-a-dir", "a file where a directory should be");
    std::string text = testConfig(dir);
    text.replace(text.find(dir.file("latchkey.db")), dir.file("latchkey.db").size(),
                 dir.file("not-a-dir/latchkey.db"));
    const auto result = runLatchkey({"serve", "-c", dir.write("latchkey.yaml", text)});
    CHECK(result.exitCode == 1);
    CHECK_THAT(result.err,
               Catch::Contains("plugin sqlite") && Catch::Contains(dir.file("not-a-dir")));

    TempDir directory;
    std::filesystem::create_directories(directory.file("latchkey.db"));
    const auto isDir =
        runLatchkey({"serve", "-c", directory.write("latchkey.yaml", testConfig(directory))});
    CHECK(isDir.exitCode == 1);
    CHECK_THAT(isDir.err, Catch::Contains(directory.file("latchkey.db") + " is a directory"));

    TempDir garbage;
    garbage.write("latchkey.db", std::string(4096, 'g'));
    const auto notDb =
        runLatchkey({"serve", "-c", garbage.write("latchkey.yaml", testConfig(garbage))});
    CHECK(notDb.exitCode == 1);
    CHECK_THAT(notDb.err,
               Catch::Contains(garbage.file("latchkey.db")) && Catch::Contains("not a database"));
}

TEST_CASE("A database from a newer schema is refused", "[storage][sqlite]") {
    TempDir dir;
    const std::string config = dir.write("latchkey.yaml", testConfig(dir));
    {
        HostProcess host(config);
        CHECK(host.stop() == 0);
    }
    {
        auto session = openDatabase(dir.file("latchkey.db"));
        session << "INSERT INTO schema_migrations (version, description, applied_at) "
                   "VALUES (99, 'from the future', 0)",
            Poco::Data::Keywords::now;
    }
    const auto result = runLatchkey({"serve", "-c", config});
    CHECK(result.exitCode == 1);
    CHECK_THAT(result.err, Catch::Contains("the database schema is at version 99, newer than "
                                           "this sqlite plugin knows"));
}

TEST_CASE("Starting with another secret key is refused", "[storage][sqlite]") {
    TempDir dir;
    const std::string config = dir.write("latchkey.yaml", testConfig(dir));
    {
        HostProcess host(config);
        CHECK(host.stop() == 0);
    }
    std::string text = testConfig(dir);
    text.replace(text.find("key_file: " + dir.file("secret.key")),
                 ("key_file: " + dir.file("secret.key")).size(), "key: " + std::string(64, 'a'));
    const auto result = runLatchkey({"serve", "-c", dir.write("other.yaml", text)});
    CHECK(result.exitCode == 1);
    CHECK_THAT(result.err, Catch::Contains("the secret key differs from the one this database "
                                           "was created with"));
}
