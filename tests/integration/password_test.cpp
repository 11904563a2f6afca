// The password plugin as deployed: the minimum length from the environment, the maximum length,
// and rehashing on login when the argon2 parameters change.
#include "support/host_process.hpp"

#include <Poco/Data/RecordSet.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <catch2/catch.hpp>

using namespace latchkey::test;

namespace {

struct Deployment {
    TempDir dir;
    std::string accountKey;
    std::string apiKey;

    /// Starts a host with `passwordSettings`, makes instance "pw" and a user-creating key.
    std::unique_ptr<HostProcess> start(const std::string& passwordSettings, const Env& env = {}) {
        auto host = std::make_unique<HostProcess>(
            dir.write("latchkey.yaml", testConfig(dir, passwordSettings)), env);
        const HttpClient http = host->client();
        accountKey = adminAccountKey(http);
        if (http.get("/v1.1/instances/pw-app/", {{"X-API-KEY", accountKey}}).status == 404) {
            apiKey = createInstanceWithApiKey(http, accountKey, "pw-app");
        }
        return host;
    }

    std::string storedHash(const std::string& username) const {
        if (const auto database = testDatabaseFor(dir)) {
            std::string hash = database->query(
                "SELECT password_hash FROM users WHERE username = '" + username + "'");
            while (!hash.empty() && hash.back() == '\n')
                hash.pop_back();
            return hash;
        }
        Poco::Data::SQLite::Connector::registerConnector();
        Poco::Data::Session session("SQLite", dir.file("latchkey.db"));
        std::string hash;
        std::string name = username;
        session << "SELECT password_hash FROM users WHERE username = ?",
            Poco::Data::Keywords::use(name), Poco::Data::Keywords::into(hash),
            Poco::Data::Keywords::now;
        return hash;
    }
};

std::string userBody(const std::string& username, const std::string& password) {
    return R"({"username": ")" + username + R"(", "password": ")" + password + "\"}";
}

} // namespace

TEST_CASE("LATCHKEY_MIN_PASSWORD_LENGTH overrides min_length", "[password]") {
    Deployment d;
    auto host = d.start("{min_length: 8, argon2: {memory: 1MiB, iterations: 1}}",
                        {{"LATCHKEY_MIN_PASSWORD_LENGTH", "12"}});
    const HttpClient http = host->client();
    CHECK(http.post("/v1.1/instances/pw-app/users/", userBody("ten", "ten chars!"),
                    {{"X-API-KEY", d.apiKey}})
              .body == R"({"password": ["Ensure this field has at least 12 characters."]})");
    CHECK(http.post("/v1.1/instances/pw-app/users/", userBody("twelve", "twelve chars"),
                    {{"X-API-KEY", d.apiKey}})
              .status == 201);
}

TEST_CASE("A malformed LATCHKEY_MIN_PASSWORD_LENGTH is a config error", "[password]") {
    TempDir dir;
    const std::string config = dir.write("latchkey.yaml", testConfig(dir));
    const auto result =
        runLatchkey({"check-config", "-c", config}, {{"LATCHKEY_MIN_PASSWORD_LENGTH", "twelve"}});
    CHECK(result.exitCode == 2);
    CHECK_THAT(result.err, Catch::Contains("auth.password: environment variable "
                                           "LATCHKEY_MIN_PASSWORD_LENGTH must be a whole number"));
}

TEST_CASE("Over-long passwords are refused, never truncated or hashed", "[password]") {
    Deployment d;
    auto host = d.start("{max_length: 64, argon2: {memory: 1MiB, iterations: 1}}");
    const HttpClient http = host->client();
    // 64 characters that are no simple pattern (a repeated letter would be refused as one).
    std::string edge;
    for (int i = 0; i < 8; ++i)
        edge += "k7Qm2xZ" + std::string(1, static_cast<char>('a' + i));
    REQUIRE(edge.size() == 64);
    CHECK(http.post("/v1.1/instances/pw-app/users/", userBody("long", edge + "p"),
                    {{"X-API-KEY", d.apiKey}})
              .body == R"({"password": ["Ensure this field has no more than 64 characters."]})");
    REQUIRE(http.post("/v1.1/instances/pw-app/users/", userBody("edge", edge),
                      {{"X-API-KEY", d.apiKey}})
                .status == 201);
    // A 64-character prefix of a longer password is not the password.
    CHECK(http.post("/v1.1/instances/pw-app/user/auth/", userBody("edge", edge + "p"),
                    {{"X-API-KEY", d.apiKey}})
              .status == 401);
    CHECK(http.post("/v1.1/instances/pw-app/user/auth/",
                    userBody("edge", edge + std::string(900000, 'p')), {{"X-API-KEY", d.apiKey}})
              .status == 401);
}

TEST_CASE("Changed argon2 parameters rehash on the next login and keep the user key",
          "[password]") {
    Deployment d;
    std::string userKey;
    {
        auto host = d.start("{argon2: {memory: 1MiB, iterations: 1}}");
        const auto created =
            host->client().post("/v1.1/instances/pw-app/users/",
                                userBody("gordon", "Black Mesa 1998"), {{"X-API-KEY", d.apiKey}});
        REQUIRE(created.status == 201);
        userKey = created.str("user_key");
        CHECK(host->stop() == 0);
    }
    const std::string before = d.storedHash("gordon");
    CHECK_THAT(before, Catch::StartsWith("$argon2id$v=19$m=1024,t=1,p=1$"));

    auto host = d.start("{argon2: {memory: 2MiB, iterations: 2}}");
    const HttpClient http = host->client();
    const auto login = http.post("/v1.1/instances/pw-app/user/auth/",
                                 userBody("gordon", "Black Mesa 1998"), {{"X-API-KEY", d.apiKey}});
    REQUIRE(login.status == 200);
    CHECK(login.str("user_key") == userKey);
    const std::string after = d.storedHash("gordon");
    CHECK_THAT(after, Catch::StartsWith("$argon2id$v=19$m=2048,t=2,p=1$"));
    CHECK(http.post("/v1.1/instances/pw-app/user/auth/", userBody("gordon", "Black Mesa 1998"),
                    {{"X-API-KEY", d.apiKey}})
              .status == 200);
    CHECK(d.storedHash("gordon") == after);
}

TEST_CASE("A password from before a policy change still logs in and is rehashed", "[password]") {
    Deployment d;
    {
        auto host = d.start("{min_length: 8, argon2: {memory: 1MiB, iterations: 1}}");
        REQUIRE(host->client()
                    .post("/v1.1/instances/pw-app/users/", userBody("old", "8 chars!"),
                          {{"X-API-KEY", d.apiKey}})
                    .status == 201);
        CHECK(host->stop() == 0);
    }
    auto host = d.start("{min_length: 12, argon2: {memory: 2MiB, iterations: 2}}");
    const auto login = host->client().post("/v1.1/instances/pw-app/user/auth/",
                                           userBody("old", "8 chars!"), {{"X-API-KEY", d.apiKey}});
    CHECK(login.status == 200);
    CHECK_THAT(d.storedHash("old"), Catch::StartsWith("$argon2id$v=19$m=2048,t=2,p=1$"));
}
