// The per-host caches over real HTTP: every write through a host is seen by that host's next
// read, whatever the time-to-live (here a minute, so that only invalidation can explain it); a
// write from elsewhere is seen within the time-to-live; and no cache answers for another
// instance. Runs on every driver.
#include "support/host_process.hpp"

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/JSON/Array.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

using namespace latchkey::test;
using Clock = std::chrono::steady_clock;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

/// A host whose caches keep entries `ttl`, with instance "cached" and user gordon.
struct CachedHost {
    explicit CachedHost(const std::string& ttl)
        : host(
              dir.write("latchkey.yaml", testConfig(dir, "", "", "cache:\n  ttl: " + ttl + "\n"))) {
        apiKey = createInstanceWithApiKey(http, accountKey, "cached", R"({"ignore_acl": true})");
        const auto created =
            http.post(base + "users/", R"({"username": "gordon", "password": "Black Mesa 1998"})",
                      {{"X-API-KEY", apiKey}});
        REQUIRE(created.status == 201);
        userId = created.json()->getValue<int>("id");
        userKey = created.str("user_key");
    }

    Headers admin() const { return {{"X-API-KEY", accountKey}}; }
    Headers asUser(const std::string& key) const {
        return {{"X-API-KEY", apiKey}, {"X-USER-KEY", key}};
    }
    /// GET user/ with `key` (and the API key): the request the caches exist for.
    HttpResult me(const std::string& key) const { return http.get(base + "user/", asUser(key)); }
    std::string userPath() const { return base + "users/" + std::to_string(userId) + "/"; }

    TempDir dir;
    HostProcess host;
    HttpClient http = host.client();
    std::string accountKey = adminAccountKey(http);
    std::string base = "/v1.1/instances/cached/";
    std::string apiKey;
    int userId = 0;
    std::string userKey;
};

} // namespace

TEST_CASE("A write through a host is seen by its next read, however long its caches keep "
          "entries",
          "[cache]") {
    CachedHost d("60s");
    // Twice: the second answer comes from the caches.
    REQUIRE(d.me(d.userKey).status == 200);
    REQUIRE(d.me(d.userKey).status == 200);

    SECTION("reset_key: the old user key is refused at once") {
        const auto reset = d.http.post(d.userPath() + "reset_key/", "", d.asUser(d.userKey));
        REQUIRE(reset.status == 200);
        CHECK(d.me(d.userKey).status == 403);
        CHECK(d.me(reset.str("user_key")).status == 200);
    }
    SECTION("a password change: the old user key is refused at once") {
        const auto changed = d.http.request(
            "PATCH", d.base + "user/", R"({"password": "Xen border world"})", d.asUser(d.userKey));
        REQUIRE(changed.status == 200);
        CHECK(d.me(d.userKey).status == 403);
        CHECK(d.me(changed.str("user_key")).status == 200);
    }
    SECTION("a deleted user is refused at once") {
        REQUIRE(d.http.request("DELETE", d.userPath(), "", {{"X-API-KEY", d.apiKey}}).status ==
                204);
        CHECK(d.me(d.userKey).status == 403);
    }
    SECTION("a deleted API key is refused at once") {
        const auto keys = d.http.get(d.base + "api_keys/", d.admin());
        const int keyId = keys.json()->getArray("objects")->getObject(0)->getValue<int>("id");
        REQUIRE(d.http
                    .request("DELETE", d.base + "api_keys/" + std::to_string(keyId) + "/", "",
                             d.admin())
                    .status == 204);
        CHECK(d.me(d.userKey).status == 403);
    }
    SECTION("an API key reset: the old API key is refused at once") {
        const auto keys = d.http.get(d.base + "api_keys/", d.admin());
        const int keyId = keys.json()->getArray("objects")->getObject(0)->getValue<int>("id");
        const auto reset = d.http.post(d.base + "api_keys/" + std::to_string(keyId) + "/reset_key/",
                                       "", d.admin());
        REQUIRE(reset.status == 200);
        CHECK(d.me(d.userKey).status == 403);
        CHECK(d.http
                  .get(d.base + "user/",
                       {{"X-API-KEY", reset.str("api_key")}, {"X-USER-KEY", d.userKey}})
                  .status == 200);
    }
    SECTION("a deleted instance is refused at once") {
        REQUIRE(d.http.request("DELETE", "/v1.1/instances/cached/", "", d.admin()).status == 204);
        CHECK(d.me(d.userKey).status == 403);
    }
    SECTION("a schema change and a profile change show at once") {
        REQUIRE(d.http
                    .request("PATCH", d.base + "classes/user_profile/",
                             R"({"schema": [{"name": "nick", "type": "string"}]})", d.admin())
                    .status == 200);
        auto shown = d.me(d.userKey);
        REQUIRE(shown.status == 200);
        CHECK(shown.json()->getObject("profile")->has("nick"));
        CHECK(shown.json()->getObject("profile")->isNull("nick"));
        REQUIRE(d.http
                    .request("PATCH", d.base + "user/", R"({"profile": {"nick": "freeman"}})",
                             d.asUser(d.userKey))
                    .status == 200);
        shown = d.me(d.userKey);
        CHECK(shown.json()->getObject("profile")->getValue<std::string>("nick") == "freeman");
    }
    SECTION("group membership and a group's new label show at once") {
        const auto group = d.http.post(d.base + "groups/", R"({"label": "scientists"})",
                                       {{"X-API-KEY", d.apiKey}});
        REQUIRE(group.status == 201);
        const std::string groupPath =
            d.base + "groups/" + std::to_string(group.json()->getValue<int>("id")) + "/";
        REQUIRE(d.http
                    .post(groupPath + "users/", R"({"user": )" + std::to_string(d.userId) + "}",
                          {{"X-API-KEY", d.apiKey}})
                    .status == 201);
        auto groups = d.me(d.userKey).json()->getArray("groups");
        REQUIRE(groups->size() == 1);
        CHECK(groups->getObject(0)->getValue<std::string>("label") == "scientists");
        REQUIRE(d.http
                    .request("PATCH", groupPath, R"({"label": "resistance"})",
                             {{"X-API-KEY", d.apiKey}})
                    .status == 200);
        groups = d.me(d.userKey).json()->getArray("groups");
        CHECK(groups->getObject(0)->getValue<std::string>("label") == "resistance");
        REQUIRE(d.http
                    .request("DELETE", groupPath + "users/" + std::to_string(d.userId) + "/", "",
                             {{"X-API-KEY", d.apiKey}})
                    .status == 204);
        CHECK(d.me(d.userKey).json()->getArray("groups")->size() == 0);
    }
}

TEST_CASE("No cache answers for another instance: a user key works only with its own "
          "instance's API key",
          "[cache]") {
    CachedHost d("60s");
    const std::string otherKey =
        createInstanceWithApiKey(d.http, d.accountKey, "other", R"({"allow_user_create": true})");
    REQUIRE(d.me(d.userKey).status == 200); // cached now, for instance "cached"
    // The same user key through the other instance (its own API key, or this one's).
    CHECK(d.http
              .get("/v1.1/instances/other/user/",
                   {{"X-API-KEY", otherKey}, {"X-USER-KEY", d.userKey}})
              .status == 403);
    CHECK(d.http
              .get("/v1.1/instances/other/user/",
                   {{"X-API-KEY", d.apiKey}, {"X-USER-KEY", d.userKey}})
              .status == 403);
    CHECK(d.http
              .get("/v1.1/instances/cached/user/",
                   {{"X-API-KEY", otherKey}, {"X-USER-KEY", d.userKey}})
              .status == 403);
    CHECK(d.me(d.userKey).status == 200);
}

TEST_CASE("A change made in the database behind the host is seen within cache.ttl, and not "
          "before it was read",
          "[cache][sqlite]") {
    // SQLite only: the test changes the file itself, as another host on the same database would.
    CachedHost d("2s");
    REQUIRE(d.me(d.userKey).status == 200);
    Poco::Data::SQLite::Connector::registerConnector();
    {
        Poco::Data::Session db("SQLite", d.dir.file("latchkey.db"));
        db << "UPDATE users SET key_lookup = 'elsewhere' WHERE id = " + std::to_string(d.userId),
            Poco::Data::Keywords::now;
    }
    const auto changed = Clock::now();
    // Still the cached answer: the caches are what serves it (a stall of the machine longer
    // than the time-to-live would end this early; two seconds is far above any seen).
    CHECK(d.me(d.userKey).status == 200);
    int status = 200;
    while (status == 200 && Clock::now() - changed < std::chrono::seconds(5)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        status = d.me(d.userKey).status;
    }
    CHECK(status == 403);
    // Within the time-to-live of 2 s from the read that filled the cache, which came before the
    // change; the rest is this loop's step.
    CHECK(Clock::now() - changed < std::chrono::milliseconds(2300));
}

TEST_CASE("cache.ttl 0 keeps nothing: a change behind the host is seen at once",
          "[cache][sqlite]") {
    CachedHost d("0s");
    REQUIRE(d.me(d.userKey).status == 200);
    Poco::Data::SQLite::Connector::registerConnector();
    {
        Poco::Data::Session db("SQLite", d.dir.file("latchkey.db"));
        db << "UPDATE users SET key_lookup = 'elsewhere' WHERE id = " + std::to_string(d.userId),
            Poco::Data::Keywords::now;
    }
    CHECK(d.me(d.userKey).status == 403);
}

TEST_CASE("Who is this is answered on the network thread while every worker is busy, and the "
          "caches stay fresh without one",
          "[cache]") {
    TempDir dir;
    std::string config =
        testConfig(dir, "",
                   "  fixture-good: {}\n"
                   "  login-token:\n"
                   "    instance: buzz-app\n"
                   "    super_user: {email: root@example.com, password: Lambda Complex 1998}\n",
                   "", {fixtureDir("good")});
    config.replace(config.find("threads: 16"), 11, "threads: 2"); // the fewest workers there are
    HostProcess host(dir.write("latchkey.yaml", config));
    const HttpClient http = host.client();

    // v1.1: an API key and a user key.
    const std::string accountKey = adminAccountKey(http);
    const std::string apiKey =
        createInstanceWithApiKey(http, accountKey, "busy-app", R"({"ignore_acl": true})");
    const auto created = http.post("/v1.1/instances/busy-app/users/",
                                   R"({"username": "gordon", "password": "Black Mesa 1998"})",
                                   {{"X-API-KEY", apiKey}});
    REQUIRE(created.status == 201);
    const Headers v11{{"X-API-KEY", apiKey}, {"X-USER-KEY", created.str("user_key")}};
    // /rest: a member without the read permission, which sees only itself.
    const auto login = [&](const std::string& body) {
        const auto r = http.post("/rest/authenticate", body);
        REQUIRE(r.status == 200);
        const std::string cookie = r.header("Set-Cookie");
        return cookie.substr(0, cookie.find(';'));
    };
    const std::string root =
        login(R"({"email": "root@example.com", "password": "Lambda Complex 1998"})");
    const auto role =
        http.request("POST", "/rest/role", R"({"role_name": "member"})", {{"Cookie", root}});
    REQUIRE(role.status == 201);
    const std::string roleId =
        std::to_string(role.json()->getObject("payload")->getValue<int>("role_id"));
    REQUIRE(http.request("POST", "/rest/user",
                         R"({"email": "member@example.com", "role_id": )" + roleId +
                             R"(, "password": "Xen border world", "active": true})",
                         {{"Cookie", root}})
                .status == 201);
    const Headers rest{
        {"Cookie", login(R"({"email": "member@example.com", "password": "Xen border world"})")}};
    // Read once each, on a worker, to fill the caches: after cache.ttl, so that everything the
    // set-up read has gone and every entry is read now (an entry nobody asks for between ¾ of
    // its time-to-live and its end is gone, and its next request needs a worker).
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    REQUIRE(http.get("/v1.1/instances/busy-app/user/", v11).status == 200);
    REQUIRE(http.get("/rest/user", rest).status == 200);

    // Both standard workers sleep for three seconds.
    const auto began = Clock::now();
    std::vector<std::future<HttpResult>> sleepers;
    for (int i = 0; i < 2; ++i)
        sleepers.push_back(
            std::async(std::launch::async, [&] { return http.get("/fixture/slow?ms=3000"); }));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const auto millisSince = [](Clock::time_point from) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - from).count();
    };
    // Meanwhile "who is this", again and again for two seconds: longer than cache.ttl (1 s), so
    // the entries must be read again without a worker (the caches' own thread) to stay.
    auto waitingForAWorker = std::async(std::launch::async, [&] {
        const auto asked = Clock::now();
        const auto answer = http.get("/fixture/hello");
        return std::make_pair(answer.status, millisSince(asked));
    });
    long long slowest = 0;
    int answers = 0;
    while (millisSince(began) < 2300) {
        for (const Headers* headers : {&v11, &rest}) {
            const auto asked = Clock::now();
            const auto answer = http.get(
                headers == &v11 ? "/v1.1/instances/busy-app/user/" : "/rest/user", *headers);
            CHECK(answer.status == 200);
            slowest = std::max<long long>(slowest, millisSince(asked));
            ++answers;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    // A request no network thread may answer waited for a worker all along.
    const auto [helloStatus, helloMillis] = waitingForAWorker.get();
    CHECK(helloStatus == 200);
    CHECK(helloMillis > 2000);
    CHECK(answers > 20);
    CHECK(slowest < 1000);
    for (auto& sleeper : sleepers)
        CHECK(sleeper.get().status == 200);
}
