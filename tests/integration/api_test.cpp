// The first slice of the Syncano v1.1 API over real HTTP: account login, instances, API keys,
// users, password login and `user/` with the user key; permission checks and bad input.
#include "support/host_process.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <regex>

using namespace latchkey::test;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

/// A host with an instance "my-app" and three API keys.
struct ApiFixture {
    TempDir dir;
    HostProcess host{dir.write("latchkey.yaml", testConfig(dir))};
    HttpClient http = host.client();
    std::string accountKey = adminAccountKey(http);
    std::string plainKey;
    std::string creatorKey;

    ApiFixture() {
        const auto created =
            http.post("/v1.1/instances/", R"({"name": "my-app", "description": "demo"})",
                      {{"X-API-KEY", accountKey}});
        REQUIRE(created.status == 201);
        plainKey = newApiKey("{}");
        creatorKey = newApiKey(R"({"allow_user_create": true, "description": "signup"})");
    }

    std::string newApiKey(const std::string& body) {
        const auto r =
            http.post("/v1.1/instances/my-app/api_keys/", body, {{"X-API-KEY", accountKey}});
        REQUIRE(r.status == 201);
        return r.str("api_key");
    }

    HttpResult createUser(const std::string& username, const std::string& password,
                          const std::string& key) const {
        return http.post("/v1.1/instances/my-app/users/",
                         R"({"username": ")" + username + R"(", "password": ")" + password + "\"}",
                         {{"X-API-KEY", key}});
    }

    HttpResult login(const std::string& username, const std::string& password) {
        return http.post("/v1.1/instances/my-app/user/auth/",
                         R"({"username": ")" + username + R"(", "password": ")" + password + "\"}",
                         {{"X-API-KEY", plainKey}});
    }
};

} // namespace

TEST_CASE("Account login returns the account with its key - the key reads the account", "[api]") {
    TempDir dir;
    HostProcess host(dir.write("latchkey.yaml", testConfig(dir)));
    const HttpClient http = host.client();
    const auto auth =
        http.post("/v1.1/account/auth/",
                  R"({"email": "ADMIN@example.com", "password": "admin-password-for-tests"})");
    REQUIRE(auth.status == 200);
    const auto account = auth.json();
    CHECK(account->getValue<std::string>("email") == "admin@example.com");
    CHECK(account->getValue<bool>("is_active"));
    CHECK(account->getValue<bool>("has_password"));
    const auto key = account->getValue<std::string>("account_key");
    CHECK(std::regex_match(key, std::regex("[0-9a-f]{40}")));
    CHECK_FALSE(account->has("password"));

    const auto me = http.get("/v1.1/account/", {{"X-API-KEY", key}});
    CHECK(me.status == 200);
    CHECK(me.str("account_key") == key);
    CHECK(http.get("/v1.1/account/").status == 403);
    CHECK(http.get("/v1.1/account/", {{"X-API-KEY", std::string(40, '0')}}).body ==
          R"({"detail": "No such API Key."})");

    const auto wrong = http.post("/v1.1/account/auth/",
                                 R"({"email": "admin@example.com", "password": "nope-nope"})");
    const auto unknown = http.post("/v1.1/account/auth/",
                                   R"({"email": "who@example.com", "password": "nope-nope"})");
    CHECK(wrong.status == 401);
    CHECK(unknown.status == 401);
    CHECK(wrong.body == unknown.body);
}

TEST_CASE("Instances: create, list, read, delete with the account key", "[api]") {
    ApiFixture f;
    const Headers admin{{"X-API-KEY", f.accountKey}};
    const auto mine = f.http.get("/v1.1/instances/my-app/", admin);
    REQUIRE(mine.status == 200);
    CHECK(mine.str("name") == "my-app");
    CHECK(mine.str("description") == "demo");
    CHECK(mine.json()->getObject("owner")->getValue<std::string>("email") == "admin@example.com");
    CHECK(mine.json()->getObject("links")->getValue<std::string>("self") ==
          "/v1.1/instances/my-app/");

    const auto upper = f.http.post("/v1.1/instances/", R"({"name": "Second-App"})", admin);
    CHECK(upper.status == 201);
    CHECK(upper.str("name") == "second-app");
    CHECK(f.http.post("/v1.1/instances/", R"({"name": "second-app"})", admin).body ==
          R"({"name": ["Instance with this name already exists."]})");
    CHECK(f.http.post("/v1.1/instances/", R"({"name": "abc"})", admin).status == 400);
    CHECK(f.http.post("/v1.1/instances/", R"({"name": "bad name!"})", admin).status == 400);
    CHECK(f.http.post("/v1.1/instances/", R"({})", admin).body ==
          R"({"name": ["This field is required."]})");

    const auto page = f.http.get("/v1.1/instances/?page_size=1", admin);
    REQUIRE(page.status == 200);
    CHECK(page.json()->getArray("objects")->size() == 1);
    const std::string next = page.str("next");
    CHECK(next == "/v1.1/instances/?direction=1&last_pk=1&page_size=1");
    const auto second = f.http.get(next, admin);
    CHECK(second.json()->getArray("objects")->getObject(0)->getValue<std::string>("name") ==
          "second-app");
    CHECK(second.json()->isNull("next"));

    // API keys do not manage instances.
    CHECK(f.http.post("/v1.1/instances/", R"({"name": "sneaky"})", {{"X-API-KEY", f.creatorKey}})
              .status == 403);
    CHECK(f.http.request("DELETE", "/v1.1/instances/my-app/", "", {{"X-API-KEY", f.plainKey}})
              .status == 403);

    CHECK(f.http.request("DELETE", "/v1.1/instances/second-app/", "", admin).status == 204);
    CHECK(f.http.get("/v1.1/instances/second-app/", admin).body ==
          R"({"detail": "Instance was not found."})");
}

TEST_CASE("API keys: create with flags, list and read with the account key", "[api]") {
    ApiFixture f;
    const Headers admin{{"X-API-KEY", f.accountKey}};
    const auto created = f.http.post(
        "/v1.1/instances/my-app/api_keys/",
        R"({"description": "backend", "ignore_acl": true, "allow_group_create": true})", admin);
    REQUIRE(created.status == 201);
    const auto key = created.json();
    CHECK(key->getValue<std::string>("description") == "backend");
    CHECK(key->getValue<bool>("ignore_acl"));
    CHECK(key->getValue<bool>("allow_group_create"));
    CHECK_FALSE(key->getValue<bool>("allow_user_create"));
    CHECK(std::regex_match(key->getValue<std::string>("api_key"), std::regex("[0-9a-f]{40}")));
    const auto self = key->getObject("links")->getValue<std::string>("self");
    CHECK(f.http.get(self, admin).str("api_key") == key->getValue<std::string>("api_key"));
    CHECK(
        f.http.get("/v1.1/instances/my-app/api_keys/", admin).json()->getArray("objects")->size() ==
        3);
    CHECK(f.http.post("/v1.1/instances/my-app/api_keys/", R"({"ignore_acl": "perhaps"})", admin)
              .body == R"({"ignore_acl": ["Must be a valid boolean."]})");
    // Keys are administered with the account key only; an API key, even with ignore_acl, may
    // read its own record and nothing else.
    const auto backendKey = key->getValue<std::string>("api_key");
    CHECK(f.http
              .post("/v1.1/instances/my-app/api_keys/", R"({"ignore_acl": true})",
                    {{"X-API-KEY", backendKey}})
              .status == 403);
    CHECK(f.http.get("/v1.1/instances/my-app/api_keys/", {{"X-API-KEY", backendKey}}).status ==
          403);
    CHECK(f.http.get(self, {{"X-API-KEY", backendKey}}).str("api_key") == backendKey);
    CHECK(f.http.get("/v1.1/instances/my-app/api_keys/1/", {{"X-API-KEY", backendKey}}).status ==
          404);
    CHECK(f.http.get("/v1.1/instances/my-app/api_keys/", {{"X-API-KEY", f.plainKey}}).status ==
          403);
    CHECK(f.http.get("/v1.1/instances/my-app/api_keys/999/", admin).status == 404);
    CHECK(f.http.get("/v1.1/instances/my-app/api_keys/-1/", admin).status == 404);
    CHECK(f.http.get("/v1.1/instances/my-app/api_keys/abc/", admin).status == 404);
}

TEST_CASE("The whole path: create a user, log in, read yourself with the user key", "[api]") {
    ApiFixture f;
    const auto created = f.createUser("gordon", "Black Mesa 1998", f.creatorKey);
    REQUIRE(created.status == 201);
    const auto user = created.json();
    const auto userKey = user->getValue<std::string>("user_key");
    CHECK(std::regex_match(userKey, std::regex("[0-9a-f]{40}")));
    CHECK(user->getValue<std::string>("username") == "gordon");
    CHECK_FALSE(user->has("password"));
    const auto profile = user->getObject("profile");
    CHECK(profile->getValue<int>("owner") == user->getValue<int>("id"));
    CHECK(profile->getValue<std::string>("owner_permissions") == "full");
    CHECK(profile->getValue<int>("revision") == 1);
    CHECK(user->getObject("links")->getValue<std::string>("reset-key") ==
          "/v1.1/instances/my-app/users/" + std::to_string(user->getValue<int>("id")) +
              "/reset_key/");

    const auto login = f.login("gordon", "Black Mesa 1998");
    REQUIRE(login.status == 200);
    CHECK(login.str("user_key") == userKey);
    CHECK(f.login("gordon", "Black Mesa 1998").str("user_key") == userKey);

    const auto me = f.http.get("/v1.1/instances/my-app/user/",
                               {{"X-API-KEY", f.plainKey}, {"X-USER-KEY", userKey}});
    REQUIRE(me.status == 200);
    CHECK(me.json()->getValue<int>("id") == user->getValue<int>("id"));
    CHECK(me.str("user_key") == userKey);

    // The same keys in the query string and in Authorization work too.
    CHECK(f.http.get("/v1.1/instances/my-app/user/?api_key=" + f.plainKey + "&user_key=" + userKey)
              .status == 200);
    CHECK(f.http
              .get("/v1.1/instances/my-app/user/?userkey=" + userKey,
                   {{"Authorization", "Token " + f.plainKey}})
              .status == 200);
}

TEST_CASE("Who may create users and read `user/`", "[api]") {
    ApiFixture f;
    CHECK(f.createUser("alyx", "Half Life 2004", f.plainKey).body ==
          R"({"detail": "You do not have permission to create new user."})");
    CHECK(f.createUser("alyx", "Half Life 2004", f.accountKey).status == 201);
    const std::string userKey = f.login("alyx", "Half Life 2004").str("user_key");

    CHECK(f.http
              .get("/v1.1/instances/my-app/user/",
                   {{"X-API-KEY", f.accountKey}, {"X-USER-KEY", userKey}})
              .status == 403);
    CHECK(f.http.get("/v1.1/instances/my-app/user/", {{"X-API-KEY", f.plainKey}}).status == 403);
    CHECK(f.http
              .get("/v1.1/instances/my-app/user/",
                   {{"X-API-KEY", f.plainKey}, {"X-USER-KEY", std::string(40, 'a')}})
              .body == R"({"detail": "No such user key."})");
    CHECK(f.http.get("/v1.1/instances/my-app/user/").body ==
          R"({"detail": "Authentication credentials were not provided."})");

    // A key of another instance is unknown here.
    const Headers admin{{"X-API-KEY", f.accountKey}};
    REQUIRE(f.http.post("/v1.1/instances/", R"({"name": "other-app"})", admin).status == 201);
    const std::string otherKey =
        f.http.post("/v1.1/instances/other-app/api_keys/", R"({"allow_user_create": true})", admin)
            .str("api_key");
    CHECK(
        f.http
            .get("/v1.1/instances/my-app/user/", {{"X-API-KEY", otherKey}, {"X-USER-KEY", userKey}})
            .body == R"({"detail": "No such API Key."})");
    // And a user key of my-app means nothing in other-app.
    CHECK(f.http
              .get("/v1.1/instances/other-app/user/",
                   {{"X-API-KEY", otherKey}, {"X-USER-KEY", userKey}})
              .status == 403);
    CHECK(f.http.get("/v1.1/instances/no-such-app/user/", {{"X-API-KEY", otherKey}}).status == 403);
    CHECK(f.http.get("/v1.1/instances/no-such-app/", admin).status == 404);
}

TEST_CASE("Wrong passwords and unknown users get the same 401", "[api]") {
    ApiFixture f;
    REQUIRE(f.createUser("gordon", "Black Mesa 1998", f.creatorKey).status == 201);
    const auto wrong = f.login("gordon", "White Mesa 1998");
    const auto unknown = f.login("barney", "Black Mesa 1998");
    CHECK(wrong.status == 401);
    CHECK(unknown.status == 401);
    CHECK(wrong.body == R"({"detail": "Invalid username or password."})");
    CHECK(unknown.body == wrong.body);
}

TEST_CASE("Usernames are unique per instance - bad users are field errors", "[api]") {
    ApiFixture f;
    REQUIRE(f.createUser("gordon", "Black Mesa 1998", f.creatorKey).status == 201);
    CHECK(f.createUser("gordon", "Other Pass 2000", f.creatorKey).body ==
          R"({"username": ["User with this username already exists."]})");
    CHECK(f.createUser("short", "1234567", f.creatorKey).body ==
          R"({"password": ["Ensure this field has at least 8 characters."]})");
    CHECK(f.createUser(std::string(65, 'u'), "long enough pass", f.creatorKey).body ==
          R"({"username": ["Ensure this field has no more than 64 characters."]})");
    CHECK(f.http
              .post("/v1.1/instances/my-app/users/", R"({"username": ["x"], "password": 73914625})",
                    {{"X-API-KEY", f.creatorKey}})
              .body == R"({"username": ["Not a valid string."]})");
    CHECK(f.http.post("/v1.1/instances/my-app/users/", "{}", {{"X-API-KEY", f.creatorKey}}).body ==
          R"({"username": ["This field is required."], "password": ["This field is required."]})");
}

TEST_CASE("Bad input gets 4xx in the v1.1 error shape, never a 500", "[api]") {
    ApiFixture f;
    const Headers key{{"X-API-KEY", f.creatorKey}};
    const std::string users = "/v1.1/instances/my-app/users/";
    const auto broken = f.http.post(users, R"({"username": "x",)", key);
    CHECK(broken.status == 400);
    CHECK_THAT(broken.body, Catch::StartsWith(R"({"detail": "JSON parse error - )"));
    CHECK(f.http.post(users, "[1, 2, 3]", key).body ==
          R"({"detail": "Invalid data. Expected a dictionary, but got list."})");
    CHECK(f.http.post(users, "\"text\"", key).status == 400);
    CHECK(f.http.post(users, std::string(5000, '['), key).status == 400);
    CHECK(f.http.post(users, "{\"username\": \"\xff\"}", key).status == 400);
    CHECK(f.http.request("POST", users, "username=x", key, "application/x-www-form-urlencoded")
              .body == R"({"password": ["This field is required."]})");
    CHECK(f.http.request("PATCH", "/v1.1/instances/", "{}", key).status == 405);
    CHECK(f.http.request("DELETE", "/v1.1/instances/my-app/user/auth/", "", key).status == 405);
    CHECK(f.http.get("/v1.1/nothing/here/", key).body == R"({"detail": "Not found."})");
    CHECK(
        f.http.get("/v1.1/instances/my-app/api_keys/?page_size=1000", {{"X-API-KEY", f.accountKey}})
            .body == R"({"page_size": ["Ensure this value is a whole number from 1 to 100."]})");
    // Every answer above is JSON.
    CHECK(f.http.get("/nope").header("Content-Type") == "application/json");
}

TEST_CASE("The curl walkthrough in examples/ runs against the host", "[api]") {
    TempDir dir;
    HostProcess host(dir.write("latchkey.yaml", testConfig(dir)));
    const std::string command = "LATCHKEY_ADMIN_EMAIL='" + std::string(kAdminEmail) +
                                "' LATCHKEY_ADMIN_PASSWORD='" + kAdminPassword + "' " +
                                LATCHKEY_TEST_SOURCE_DIR + "/examples/v1-walkthrough.sh " +
                                host.baseUrl() + " > " + dir.file("walk.log") + " 2>&1";
    const int status = std::system(command.c_str()); // NOLINT(concurrency-mt-unsafe)
    INFO(readFile(dir.file("walk.log")));
    CHECK(status == 0);
    CHECK_THAT(readFile(dir.file("walk.log")), Catch::Contains("OK: gordon is logged in"));
}

TEST_CASE("The account key can be reset and the administrator's password changed", "[api]") {
    ApiFixture f;
    const std::string oldKey = f.accountKey;
    // Reset: a new key at once, the old one refused.
    const auto reset = f.http.post("/v1.1/account/reset_key/", "", {{"X-API-KEY", oldKey}});
    REQUIRE(reset.status == 200);
    const std::string newKey = reset.str("account_key");
    CHECK(newKey.size() == 40);
    CHECK(newKey != oldKey);
    CHECK(f.http.get("/v1.1/account/", {{"X-API-KEY", oldKey}}).status == 403);
    CHECK(f.http.get("/v1.1/instances/my-app/", {{"X-API-KEY", oldKey}}).status == 403);
    CHECK(f.http.get("/v1.1/instances/my-app/", {{"X-API-KEY", newKey}}).status == 200);
    // The instance's API keys are not the account's: they go on.
    CHECK(f.login("nobody-here", "whatever-it-is").status == 401); // 401, not 403: key works

    // A password change needs the current password...
    const auto wrong =
        f.http.post("/v1.1/account/password/",
                    R"({"current_password": "not-it", "new_password": "New admin pass 2027"})",
                    {{"X-API-KEY", newKey}});
    CHECK(wrong.status == 400);
    CHECK(wrong.body == R"({"current_password": ["Invalid password."]})");
    CHECK(f.http
              .post("/v1.1/account/password/",
                    R"({"current_password": ")" + std::string(kAdminPassword) +
                        R"(", "new_password": "short"})",
                    {{"X-API-KEY", newKey}})
              .status == 400);
    // ...and gives a new key too.
    const auto changed = f.http.post("/v1.1/account/password/",
                                     R"({"current_password": ")" + std::string(kAdminPassword) +
                                         R"(", "new_password": "New admin pass 2027"})",
                                     {{"X-API-KEY", newKey}});
    REQUIRE(changed.status == 200);
    const std::string third = changed.str("account_key");
    CHECK(third != newKey);
    CHECK(f.http.get("/v1.1/account/", {{"X-API-KEY", newKey}}).status == 403);
    CHECK(f.http.get("/v1.1/account/", {{"X-API-KEY", third}}).status == 200);
    const auto login = [&](const std::string& password) {
        return f.http.post("/v1.1/account/auth/", R"({"email": ")" + std::string(kAdminEmail) +
                                                      R"(", "password": ")" + password + "\"}");
    };
    CHECK(login(kAdminPassword).status == 401);
    const auto fresh = login("New admin pass 2027");
    REQUIRE(fresh.status == 200);
    CHECK(fresh.str("account_key") == third);
    // Without an account key: refused.
    CHECK(f.http.post("/v1.1/account/reset_key/", "", {{"X-API-KEY", f.plainKey}}).status == 403);
}
