// Password guessing against the real host: every password check is throttled (429 +
// Retry-After in the API's own error shape), the same for unknown accounts, per client behind
// trusted proxies, and shared by every host on one store.
#include "support/host_process.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <functional>
#include <string>

using namespace latchkey::test;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr const char* kRoot = "root@example.com";
constexpr const char* kRootPassword = "root-password-for-tests";

/// The config: the login-token flow at /rest beside the v1.1 API, a throttle that lets three
/// failures through and then waits 30 s, and `server` lines (trusted proxies) if given.
std::string throttledConfig(const TempDir& dir, const std::string& throttle,
                            const std::string& serverLines = "") {
    std::string config = testConfig(dir, "",
                                    "  login-token:\n"
                                    "    instance: buzz-app\n"
                                    "    super_user: {email: " +
                                        std::string(kRoot) + ", password: " + kRootPassword + "}\n",
                                    "login_throttle: " + throttle + "\n");
    config.insert(config.find("server:\n") + 8, serverLines);
    return config;
}

constexpr const char* kThreeThen30s = "{free_failures: 3, first_delay: 30s}";

/// A host, its admin's account key, and an instance with a user of the v1.1 API.
struct Fixture {
    TempDir dir;
    std::unique_ptr<HostProcess> host;
    std::unique_ptr<HttpClient> http;
    std::string apiKey;

    explicit Fixture(const std::string& throttle = kThreeThen30s,
                     const std::string& serverLines = "") {
        host = std::make_unique<HostProcess>(
            dir.write("latchkey.yaml", throttledConfig(dir, throttle, serverLines)));
        http = std::make_unique<HttpClient>(host->baseUrl());
        apiKey = createInstanceWithApiKey(*http, adminAccountKey(*http), "black-mesa");
        REQUIRE(http->post("/v1.1/instances/black-mesa/users/",
                           R"({"username": "gordon", "password": "crowbar-1998"})",
                           {{"X-API-KEY", apiKey}})
                    .status == 201);
    }

    HttpResult userLogin(const std::string& username, const std::string& password,
                         Headers headers = {}) const {
        headers.emplace_back("X-API-KEY", apiKey);
        return http->post("/v1.1/instances/black-mesa/user/auth/",
                          R"({"username": ")" + username + R"(", "password": ")" + password + "\"}",
                          headers);
    }
};

/// Four wrong attempts: three answered 401, the fourth 429 with a Retry-After of about 30 s.
/// Returns the fourth answer.
HttpResult guessFourTimes(const std::function<HttpResult()>& wrong) {
    for (int i = 0; i < 3; ++i) {
        const HttpResult r = wrong();
        INFO(r.body);
        REQUIRE(r.status == 401);
    }
    HttpResult fourth = wrong();
    INFO(fourth.body);
    CHECK(fourth.status == 429);
    const std::string wait = fourth.header("Retry-After");
    REQUIRE_FALSE(wait.empty());
    CHECK(std::stoi(wait) >= 29);
    CHECK(std::stoi(wait) <= 30);
    return fourth;
}

} // namespace

TEST_CASE("Guessing the administrator's password is throttled, the same for unknown addresses",
          "[throttle]") {
    Fixture f;
    const auto guess = [&](const std::string& email) {
        return [&f, email] {
            return f.http->post("/v1.1/account/auth/",
                                R"({"email": ")" + email + R"(", "password": "not-it-at-all"})");
        };
    };
    const HttpResult known = guessFourTimes(guess(kAdminEmail));
    const HttpResult unknown = guessFourTimes(guess("nobody@example.com"));
    CHECK(known.body == R"({"detail": "Too many failed logins; try again later."})");
    CHECK(unknown.body == known.body);
    // The right password waits too: the guesser cannot tell it from a wrong one.
    CHECK(f.http
              ->post("/v1.1/account/auth/", R"({"email": ")" + std::string(kAdminEmail) +
                                                R"(", "password": ")" + kAdminPassword + "\"}")
              .status == 429);
}

TEST_CASE("Guessing a user's password on the v1.1 API is throttled, the same for unknown users",
          "[throttle]") {
    Fixture f;
    const HttpResult known = guessFourTimes([&] { return f.userLogin("gordon", "wrong-guess"); });
    const HttpResult unknown =
        guessFourTimes([&] { return f.userLogin("nobody-here", "wrong-guess"); });
    CHECK(known.body == unknown.body);
    CHECK(f.userLogin("gordon", "crowbar-1998").status == 429);
}

TEST_CASE("Guessing on /rest/authenticate is throttled by address and by user id alike",
          "[throttle]") {
    Fixture f;
    const auto byEmail = [&](const std::string& email) {
        return [&f, email] {
            return f.http->post("/rest/authenticate",
                                R"({"email": ")" + email + R"(", "password": "wrong-guess-1"})");
        };
    };
    const HttpResult known = guessFourTimes(byEmail(kRoot));
    const HttpResult unknown = guessFourTimes(byEmail("nobody@example.com"));
    CHECK(known.body == unknown.body);
    CHECK(known.body.find("Too many failed logins") != std::string::npos);
    // Walking user ids: each id is an account, and the client's failures across accounts are
    // capped too (here after 9 more: client_limit).
    Fixture walker("{free_failures: 3, first_delay: 30s, client_limit: 9}");
    int refused = 0;
    for (int id = 1; id <= 12; ++id) {
        const auto r =
            walker.http->post("/rest/authenticate", R"({"user_id": )" + std::to_string(id) +
                                                        R"(, "password": "guess-1"})");
        if (r.status == 429) ++refused;
        CHECK((id <= 9 ? r.status == 401 : r.status == 429));
    }
    CHECK(refused == 3);
}

TEST_CASE("The current password of PUT /rest/authenticate is throttled like a login",
          "[throttle]") {
    Fixture f;
    const HttpResult login =
        f.http->post("/rest/authenticate", R"({"email": ")" + std::string(kRoot) +
                                               R"(", "password": ")" + kRootPassword + "\"}");
    REQUIRE(login.status == 200);
    const std::string setCookie = login.header("Set-Cookie");
    const std::string cookie = setCookie.substr(0, setCookie.find(';'));
    guessFourTimes([&] {
        return f.http->request(
            "PUT", "/rest/authenticate",
            R"({"email": ")" + std::string(kRoot) +
                R"(", "password": "stolen-cookie-guess", "new_password": "taken-over-123"})",
            {{"Cookie", cookie}});
    });
}

TEST_CASE("A success clears the client's failures, and other clients keep their own count",
          "[throttle]") {
    Fixture f;
    for (int i = 0; i < 2; ++i)
        CHECK(f.userLogin("gordon", "wrong-guess").status == 401);
    CHECK(f.userLogin("gordon", "crowbar-1998").status == 200);
    guessFourTimes([&] { return f.userLogin("gordon", "wrong-guess"); });
    // Another client (another loopback address) is not this one.
    const HttpClient other(f.host->baseUrl(), "127.0.0.2");
    CHECK(other
              .post("/v1.1/instances/black-mesa/user/auth/",
                    R"({"username": "gordon", "password": "crowbar-1998"})",
                    {{"X-API-KEY", f.apiKey}})
              .status == 200);
}

TEST_CASE("Only a trusted proxy's X-Forwarded-For names the client", "[throttle]") {
    SECTION("from a trusted proxy, each forwarded client has its own count") {
        Fixture f(kThreeThen30s, "  trusted_proxies: [127.0.0.1/32]\n");
        guessFourTimes([&] {
            return f.userLogin("gordon", "wrong-guess", {{"X-Forwarded-For", "198.51.100.7"}});
        });
        CHECK(f.userLogin("gordon", "crowbar-1998", {{"X-Forwarded-For", "203.0.113.40"}}).status ==
              200);
        // A client cannot pick its address: the proxy appends the one it saw.
        CHECK(f.userLogin("gordon", "crowbar-1998",
                          {{"X-Forwarded-For", "203.0.113.40, 198.51.100.7"}})
                  .status == 429);
    }
    SECTION("from anyone else, the header is ignored") {
        Fixture f(kThreeThen30s, "  trusted_proxies: [127.0.0.1/32]\n");
        const HttpClient untrusted(f.host->baseUrl(), "127.0.0.2");
        const auto from = [&](const std::string& forwarded, const std::string& password) {
            return untrusted.post("/v1.1/instances/black-mesa/user/auth/",
                                  R"({"username": "gordon", "password": ")" + password + "\"}",
                                  {{"X-API-KEY", f.apiKey}, {"X-Forwarded-For", forwarded}});
        };
        for (int i = 0; i < 3; ++i)
            CHECK(from("198.51.100." + std::to_string(i), "wrong-guess").status == 401);
        CHECK(from("198.51.100.99", "wrong-guess").status == 429);
    }
}

TEST_CASE("Every host on one store shares the counts", "[throttle]") {
    Fixture f;
    for (int i = 0; i < 3; ++i)
        CHECK(f.userLogin("gordon", "wrong-guess").status == 401);
    // A second host on the same database (and secret) sees the first one's failures.
    HostProcess second(f.dir.file("latchkey.yaml"));
    const HttpClient http(second.baseUrl());
    const auto r = http.post("/v1.1/instances/black-mesa/user/auth/",
                             R"({"username": "gordon", "password": "crowbar-1998"})",
                             {{"X-API-KEY", f.apiKey}});
    CHECK(r.status == 429);
    CHECK_FALSE(r.header("Retry-After").empty());
}
