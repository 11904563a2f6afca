// Social login (`user/auth/<backend>/`) over real HTTP against fake providers on loopback that
// follow each provider's documented requests: the fake Facebook checks appsecret_proof, the
// fake Google signs ID tokens with its own RSA key and serves the JWKS, the fake Twitter checks
// the OAuth 1.0a signature.
#include "support/fake_providers.hpp"
#include "support/host_process.hpp"
#include "support/smtp_sink.hpp"

#include <Poco/JSON/Parser.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <ctime>
#include <future>
#include <set>

using namespace latchkey::test;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr const char* kInvalidToken = R"({"detail": "Invalid authorization token."})";

/// A host with all four backends pointed at the fake providers, and instance "social-app".
struct SocialDeployment {
    FakeProviders fake;
    TempDir dir;
    std::unique_ptr<HostProcess> host;
    std::unique_ptr<HttpClient> http;
    std::string accountKey, creatorKey, plainKey;
    const std::string base = "/v1.1/instances/social-app/";

    /// `googleExtra` is added to the google-oauth2 settings (e.g. link_verified_email) and
    /// `facebookExtra` to facebook's; with `linkedinFor`, linkedin is set up for that instance
    /// only.
    explicit SocialDeployment(const std::string& googleExtra = "",
                              const std::string& facebookExtra = "",
                              const std::string& linkedinFor = "") {
        fake.control("apps",
                     R"({"provider": "facebook", "app_id": "fb-app", "secret": "fb-secret"})");
        fake.control(
            "apps", R"({"provider": "facebook", "app_id": "other-app", "secret": "other-secret"})");
        fake.control("apps", R"({"provider": "twitter", "consumer_key": "tw-key",
                                 "consumer_secret": "tw-secret"})");
        fake.control("apps", R"({"provider": "twitter", "consumer_key": "other-key",
                                 "consumer_secret": "other-secret"})");
        fake.control("apps", R"({"provider": "linkedin", "client_id": "li-client",
                                 "client_secret": "li-secret"})");
        const std::string u = fake.baseUrl();
        std::string linkedin =
            "client_id: li-client, client_secret: li-secret, userinfo_url: " + u +
            "/linkedin/v2/userinfo, introspect_url: " + u +
            "/linkedin/oauth/v2/introspectToken, timeout: 1s";
        if (!linkedinFor.empty()) linkedin = "instances: {" + linkedinFor + ": {" + linkedin + "}}";
        const std::string social =
            "  social:\n"
            "    facebook: {app_id: fb-app, app_secret: fb-secret, graph_url: " +
            u + "/facebook, timeout: 1s" + facebookExtra + "}\n" +
            "    google-oauth2: {client_ids: [google-client], userinfo_url: " + u +
            "/google/oauth2/v3/userinfo, tokeninfo_url: " + u +
            "/google/tokeninfo, jwks_url: " + u +
            "/google/oauth2/v3/certs, jwks_refetch: 0s, timeout: 1s" + googleExtra + "}\n" +
            "    twitter: {consumer_key: tw-key, consumer_secret: tw-secret, api_url: " + u +
            "/twitter, timeout: 1s}\n" + "    linkedin: {" + linkedin + "}\n";
        host =
            std::make_unique<HostProcess>(dir.write("latchkey.yaml", testConfig(dir, "", social)));
        http = std::make_unique<HttpClient>(host->baseUrl());
        accountKey = adminAccountKey(*http);
        REQUIRE(
            http->post("/v1.1/instances/", R"({"name": "social-app"})", {{"X-API-KEY", accountKey}})
                .status == 201);
        creatorKey = newKey(R"({"allow_user_create": true})");
        plainKey = newKey("{}");
    }

    std::string newKey(const std::string& body) {
        const auto r = http->post(base + "api_keys/", body, {{"X-API-KEY", accountKey}});
        REQUIRE(r.status == 201);
        return r.str("api_key");
    }

    /// Registers a token with the fake provider.
    void token(const std::string& provider, const std::string& token, const std::string& user,
               const std::string& app, const std::string& extra = "") const {
        fake.control("tokens", R"({"provider": ")" + provider + R"(", "token": ")" + token +
                                   R"(", "app": ")" + app + R"(", "user": )" + user + extra + "}");
    }

    HttpResult login(const std::string& backend, const std::string& body,
                     const std::string& key = "") {
        return http->post(base + "user/auth/" + backend + "/", body,
                          {{"X-API-KEY", key.empty() ? creatorKey : key}});
    }
    HttpResult loginWith(const std::string& backend, const std::string& accessToken) {
        return login(backend, R"({"access_token": ")" + accessToken + "\"}");
    }

    /// An ID token minted by the fake Google with `claims` (and `options` for the call).
    std::string idToken(const std::string& claims, const std::string& options = "") const {
        const auto answer = fake.control("id_token", R"({"claims": )" + claims + options + "}");
        Poco::JSON::Parser parser;
        return parser.parse(answer).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>(
            "id_token");
    }

    int jwksFetches() const {
        Poco::JSON::Parser parser;
        return parser.parse(fake.requests())
            .extract<Poco::JSON::Object::Ptr>()
            ->getValue<int>("jwks_fetches");
    }
};

long long now() {
    return static_cast<long long>(std::time(nullptr));
}

std::string googleClaims(const std::string& sub, long long exp, const std::string& aud,
                         const std::string& iss = "https://accounts.google.com") {
    return R"({"iss": ")" + iss + R"(", "aud": ")" + aud + R"(", "sub": ")" + sub +
           R"(", "email": "alyx@example.com", "email_verified": true, "name": "Alyx Vance",)" +
           R"( "iat": )" + std::to_string(now()) + R"(, "exp": )" + std::to_string(exp) + "}";
}

constexpr const char* kAlyx = R"({"sub": "g-42", "email": "alyx@example.com",
    "email_verified": true, "name": "Alyx Vance", "given_name": "Alyx", "family_name": "Vance"})";

} // namespace

TEST_CASE("Facebook: the first login creates the user, the next finds it, other apps' tokens "
          "are refused",
          "[social]") {
    SocialDeployment d;
    const std::string gordon = R"({"id": "1001", "name": "Gordon Freeman",
        "email": "gordon@example.com", "first_name": "Gordon", "last_name": "Freeman"})";
    d.token("facebook", "fb-token-1", gordon, "fb-app");
    const auto first = d.loginWith("facebook", "fb-token-1");
    REQUIRE(first.status == 200);
    // Facebook does not say the address is verified: it is not used as the username.
    CHECK(first.str("username") == "facebook-1001");
    CHECK(first.str("user_key").size() == 40);
    const auto again = d.loginWith("facebook", "fb-token-1");
    REQUIRE(again.status == 200);
    CHECK(again.json()->getValue<int>("id") == first.json()->getValue<int>("id"));
    CHECK(again.str("user_key") == first.str("user_key"));
    // Another token of the same Facebook user is the same user.
    d.token("facebook", "fb-token-2", gordon, "fb-app");
    CHECK(d.loginWith("facebook", "fb-token-2").json()->getValue<int>("id") ==
          first.json()->getValue<int>("id"));

    // A token issued to another app: debug_token names that app (and the proof would not
    // match either).
    d.token("facebook", "fb-foreign", R"({"id": "1002", "name": "Eve"})", "other-app");
    const auto foreign = d.loginWith("facebook", "fb-foreign");
    CHECK(foreign.status == 401);
    CHECK(foreign.body == kInvalidToken);
    d.token("facebook", "fb-expired", gordon, "fb-app", R"(, "mode": "expired")");
    CHECK(d.loginWith("facebook", "fb-expired").body == kInvalidToken);
    CHECK(d.loginWith("facebook", "never-issued").body == kInvalidToken);
    // A Page token of this very app is not a person.
    d.token("facebook", "fb-page", R"({"id": "5005", "name": "Black Mesa"})", "fb-app",
            R"(, "type": "PAGE")");
    CHECK(d.loginWith("facebook", "fb-page").body == kInvalidToken);

    // No usable password: a password login for that username fails like any other.
    CHECK(d.http
              ->post(d.base + "user/auth/",
                     R"({"username": "facebook-1001", "password": "anything at all"})",
                     {{"X-API-KEY", d.creatorKey}})
              .status == 401);
}

TEST_CASE("Facebook without debug_token still binds the token to this app (appsecret_proof)",
          "[social]") {
    FakeProviders fake;
    fake.control("apps", R"({"provider": "facebook", "app_id": "fb-app", "secret": "fb-secret"})");
    fake.control("apps", R"({"provider": "facebook", "app_id": "other-app", "secret": "other"})");
    TempDir dir;
    HostProcess host(
        dir.write("latchkey.yaml",
                  testConfig(dir, "",
                             "  social:\n    facebook: {app_id: fb-app, app_secret: fb-secret, "
                             "debug_token: false, graph_url: " +
                                 fake.baseUrl() + "/facebook}\n")));
    HttpClient http(host.baseUrl());
    const Headers admin{{"X-API-KEY", adminAccountKey(http)}};
    REQUIRE(http.post("/v1.1/instances/", R"({"name": "fb-only"})", admin).status == 201);
    fake.control("tokens", R"({"provider": "facebook", "token": "mine", "app": "fb-app",
                               "user": {"id": "1"}})");
    fake.control("tokens", R"({"provider": "facebook", "token": "theirs", "app": "other-app",
                               "user": {"id": "2"}})");
    CHECK(http.post("/v1.1/instances/fb-only/user/auth/facebook/", R"({"access_token": "mine"})",
                    admin)
              .status == 200);
    CHECK(http.post("/v1.1/instances/fb-only/user/auth/facebook/", R"({"access_token": "theirs"})",
                    admin)
              .body == kInvalidToken);
    CHECK_THAT(fake.requests(), !Catch::Contains("debug_token"));
}

TEST_CASE("Google access tokens: the audience must be this app", "[social]") {
    SocialDeployment d;
    d.token("google", "g-token", kAlyx, "google-client");
    const auto first = d.loginWith("google-oauth2", "g-token");
    REQUIRE(first.status == 200);
    // Google says the address is verified: it becomes the username of a new user.
    CHECK(first.str("username") == "alyx@example.com");
    CHECK(d.loginWith("google-oauth2", "g-token").json()->getValue<int>("id") ==
          first.json()->getValue<int>("id"));
    // Minted for another client: refused even though userinfo would answer.
    d.token("google", "g-other", kAlyx, "other-client");
    CHECK(d.loginWith("google-oauth2", "g-other").body == kInvalidToken);
    // ...unless this app is the authorized party (azp).
    d.token("google", "g-azp", kAlyx, "other-client", R"(, "azp": "google-client")");
    CHECK(d.loginWith("google-oauth2", "g-azp").status == 200);
    d.token("google", "g-expired", kAlyx, "google-client", R"(, "mode": "expired")");
    CHECK(d.loginWith("google-oauth2", "g-expired").body == kInvalidToken);
    CHECK(d.login("google-oauth2", R"({"access_token": "a", "id_token": "b"})").status == 400);
    CHECK(d.login("google-oauth2", "{}").status == 400);
}

TEST_CASE("Google ID tokens: RS256 against the JWKS, with issuer, audience and expiry checked",
          "[social]") {
    SocialDeployment d;
    const auto login = [&d](const std::string& token) {
        return d.login("google-oauth2", R"({"id_token": ")" + token + "\"}");
    };
    const auto good = login(d.idToken(googleClaims("g-42", now() + 600, "google-client")));
    REQUIRE(good.status == 200);
    CHECK(good.str("username") == "alyx@example.com");
    // The same Google user through an access token is the same user: identities are by sub.
    d.token("google", "g-token", kAlyx, "google-client");
    CHECK(d.loginWith("google-oauth2", "g-token").json()->getValue<int>("id") ==
          good.json()->getValue<int>("id"));
    CHECK(d.jwksFetches() == 1);

    CHECK(login(d.idToken(googleClaims("g-42", now() + 600, "other-client"))).body ==
          kInvalidToken);
    CHECK(login(d.idToken(googleClaims("g-42", now() - 600, "google-client"))).body ==
          kInvalidToken);
    CHECK(login(d.idToken(
                    googleClaims("g-42", now() + 600, "google-client", "https://evil.example.com")))
              .body == kInvalidToken);
    const std::string claims = googleClaims("g-42", now() + 600, "google-client");
    CHECK(login(d.idToken(claims, R"(, "tamper": true)")).body == kInvalidToken);
    CHECK(login(d.idToken(claims, R"(, "alg": "none")")).body == kInvalidToken);
    CHECK(login(d.idToken(claims, R"(, "alg": "HS256")")).body == kInvalidToken);
    CHECK(login("not.a-token").body == kInvalidToken);
    CHECK(login("").status == 400);

    // Keys rotate: a token signed with a new key makes the host fetch the key set again.
    const int before = d.jwksFetches();
    d.fake.control("rotate_key", "{}");
    CHECK(login(d.idToken(claims)).status == 200);
    CHECK(d.jwksFetches() == before + 1);
}

TEST_CASE("Twitter: OAuth 1.0a signed with this app's consumer secret and the user's secret",
          "[social]") {
    SocialDeployment d;
    const std::string user = R"({"id": 12345, "id_str": "12345", "screen_name": "barney",
        "name": "Barney Calhoun", "email": "barney@example.com"})";
    d.token("twitter", "tw-token", user, "tw-key", R"(, "token_secret": "tw-token-secret")");
    const auto first =
        d.loginWith("twitter", "oauth_token=tw-token&oauth_token_secret=tw-token-secret");
    REQUIRE(first.status == 200);
    CHECK(first.str("username") == "twitter-12345");
    const int id = first.json()->getValue<int>("id");
    // The other two ways to send the secret.
    CHECK(d.loginWith("twitter", "tw-token:tw-token-secret").json()->getValue<int>("id") == id);
    CHECK(d.login("twitter",
                  R"({"access_token": "tw-token", "access_token_secret": "tw-token-secret"})")
              .json()
              ->getValue<int>("id") == id);
    // A wrong token secret makes a wrong signature; a token of another app cannot be signed for.
    CHECK(d.loginWith("twitter", "tw-token:wrong-secret").body == kInvalidToken);
    d.token("twitter", "tw-foreign", user, "other-key", R"(, "token_secret": "s")");
    CHECK(d.loginWith("twitter", "tw-foreign:s").body == kInvalidToken);
    d.token("twitter", "tw-expired", user, "tw-key", R"(, "token_secret": "s", "mode": "expired")");
    CHECK(d.loginWith("twitter", "tw-expired:s").body == kInvalidToken);
    // Without the secret there is nothing to sign with.
    const auto bare = d.loginWith("twitter", "tw-token");
    CHECK(bare.status == 400);
    CHECK_THAT(bare.body, Catch::Contains("access_token"));
}

TEST_CASE("LinkedIn: OpenID Connect userinfo", "[social]") {
    SocialDeployment d;
    d.token("linkedin", "li-token", R"({"sub": "li-7", "name": "Eli Vance", "given_name": "Eli",
        "family_name": "Vance", "email": "eli@example.com", "email_verified": true})",
            "li-client");
    const auto first = d.loginWith("linkedin", "li-token");
    REQUIRE(first.status == 200);
    CHECK(first.str("username") == "eli@example.com");
    CHECK(d.loginWith("linkedin", "li-token").json()->getValue<int>("id") ==
          first.json()->getValue<int>("id"));
    CHECK(d.loginWith("linkedin", "unknown").body == kInvalidToken);
    // A token another LinkedIn app obtained for the same member: introspection names that app.
    d.token("linkedin", "li-other-app", R"({"sub": "li-7"})", "other-li-client");
    CHECK(d.loginWith("linkedin", "li-other-app").body == kInvalidToken);
    d.token("linkedin", "li-expired", R"({"sub": "li-7"})", "li-client", R"(, "mode": "expired")");
    CHECK(d.loginWith("linkedin", "li-expired").body == kInvalidToken);
}

TEST_CASE("An instance with its own provider app accepts only that app's tokens, and others "
          "only the host-wide app's",
          "[social]") {
    SocialDeployment d("",
                       ", instances: {other-shop: {app_id: other-app, app_secret: other-secret}}",
                       "other-shop");
    REQUIRE(
        d.http->post("/v1.1/instances/", R"({"name": "other-shop"})", {{"X-API-KEY", d.accountKey}})
            .status == 201);
    const auto shopLogin = [&](const std::string& backend, const std::string& token) {
        return d.http->post("/v1.1/instances/other-shop/user/auth/" + backend + "/",
                            R"({"access_token": ")" + token + "\"}", {{"X-API-KEY", d.accountKey}});
    };
    const std::string gordon = R"({"id": "1001", "name": "Gordon Freeman"})";
    d.token("facebook", "fb-host-app", gordon, "fb-app");
    d.token("facebook", "fb-shop-app", gordon, "other-app");

    // The host-wide app on every instance without one of its own...
    CHECK(d.loginWith("facebook", "fb-host-app").status == 200);
    CHECK(d.loginWith("facebook", "fb-shop-app").body == kInvalidToken);
    // ...and the instance's own app on it: a token for the host-wide app is another app's.
    const auto shop = shopLogin("facebook", "fb-shop-app");
    CHECK(shop.status == 200);
    CHECK(shop.str("username") == "facebook-1001");
    CHECK(shopLogin("facebook", "fb-host-app").body == kInvalidToken);

    // LinkedIn is set up for other-shop only: elsewhere it is not a backend at all.
    d.token("linkedin", "li-token", R"({"sub": "li-9"})", "li-client");
    CHECK(shopLogin("linkedin", "li-token").status == 200);
    const auto elsewhere = d.loginWith("linkedin", "li-token");
    CHECK(elsewhere.status == 400);
    CHECK(elsewhere.body == R"({"detail": "Unsupported social backend."})");
}

TEST_CASE("A provider that fails, answers garbage or is too slow gives 502 or 503, never a 500",
          "[social]") {
    SocialDeployment d;
    const std::string user = R"({"sub": "li-8", "email": "x@example.com"})";
    d.token("linkedin", "li-500", user, "li-client", R"(, "mode": "error500")");
    d.token("linkedin", "li-garbage", user, "li-client", R"(, "mode": "garbage")");
    d.token("linkedin", "li-false", user, "li-client", R"(, "mode": "not_object")");
    d.token("linkedin", "li-slow", user, "li-client", R"(, "mode": "slow", "delay": 5)");
    for (const char* token : {"li-500", "li-garbage", "li-false"}) {
        INFO(token);
        const auto answer = d.loginWith("linkedin", token);
        CHECK(answer.status == 502);
        CHECK(answer.body ==
              R"({"detail": "The linkedin provider gave an answer that could not be used."})");
    }
    // timeout: 1s in the config; the provider would take 5 s.
    const auto slow = d.loginWith("linkedin", "li-slow");
    CHECK(slow.status == 503);
    CHECK(slow.header("Retry-After") == "5");
    CHECK(slow.body == R"({"detail": "The linkedin provider is unavailable; retry shortly."})");
    d.token("facebook", "fb-slow", R"({"id": "9"})", "fb-app", R"(, "mode": "slow", "delay": 5)");
    CHECK(d.loginWith("facebook", "fb-slow").status == 503);
    // A provider that sends a byte now and then, each within the per-read timeout, is cut
    // off at the call's deadline (1 s) instead of holding the request for the whole body.
    d.token("linkedin", "li-drip", R"({"sub": "li-drip", "name": "A long enough name to drip"})",
            "li-client", R"(, "mode": "drip")");
    const auto dripStart = std::chrono::steady_clock::now();
    const auto drip = d.loginWith("linkedin", "li-drip");
    CHECK(drip.status == 503);
    CHECK(std::chrono::steady_clock::now() - dripStart < std::chrono::seconds(5));
    // Facebook says "rate limited" with a 400 and error code 4: not a refused token.
    d.token("facebook", "fb-limited", R"({"id": "10"})", "fb-app", R"(, "mode": "rate_limited")");
    CHECK(d.loginWith("facebook", "fb-limited").status == 503);
    // 429 limits this app, not the token: retry later.
    d.token("linkedin", "li-429", user, "li-client", R"(, "mode": "rate_limited")");
    const auto limited = d.loginWith("linkedin", "li-429");
    CHECK(limited.status == 503);
    CHECK(limited.header("Retry-After") == "5");
    // A user without an email is still a user.
    d.token("linkedin", "li-no-email", R"({"sub": "li-9", "name": "No Mail"})", "li-client");
    const auto noEmail = d.loginWith("linkedin", "li-no-email");
    CHECK(noEmail.status == 200);
    CHECK(noEmail.str("username") == "linkedin-li-9");
    // No provider id at all is the provider's fault.
    d.token("linkedin", "li-no-sub", R"({"name": "Nobody"})", "li-client");
    CHECK(d.loginWith("linkedin", "li-no-sub").status == 502);
}

TEST_CASE("Who may log in socially: creating needs allow_user_create, unknown backends are 400",
          "[social]") {
    SocialDeployment d;
    d.token("linkedin", "li-token", R"({"sub": "li-1"})", "li-client");
    const auto denied = d.login("linkedin", R"({"access_token": "li-token"})", d.plainKey);
    CHECK(denied.status == 403);
    CHECK(denied.body == R"({"detail": "You do not have permission to create new user."})");
    // Once the user exists, a plain API key logs it in, like a password login.
    REQUIRE(d.login("linkedin", R"({"access_token": "li-token"})", d.accountKey).status == 200);
    CHECK(d.login("linkedin", R"({"access_token": "li-token"})", d.plainKey).status == 200);

    CHECK(d.loginWith("github", "x").body == R"({"detail": "Unsupported social backend."})");
    CHECK(d.loginWith("github", "x").status == 400);
    CHECK(d.login("linkedin", R"({"access_token": "li-token", "extra": 1})").body ==
          R"({"extra": ["Unknown field."]})");
    CHECK(d.login("linkedin", R"({"access_token": ["x"]})").status == 400);
    CHECK(d.login("linkedin", "{}").body == R"({"access_token": ["This field is required."]})");
    // A line break would become a header of the call to the provider: refused before any call.
    const auto before = d.fake.requests();
    CHECK(d.login("linkedin", R"({"access_token": "li-token\r\nX-Injected: 1"})").body ==
          kInvalidToken);
    CHECK(d.fake.requests() == before);
    CHECK(d.http->post(d.base + "user/auth/linkedin/", R"({"access_token": "li-token"})").status ==
          403);
    CHECK(d.http
              ->post("/v1.1/instances/nowhere/user/auth/linkedin/", R"({"access_token": "x"})",
                     {{"X-API-KEY", d.accountKey}})
              .status == 404);
}

TEST_CASE("Identities never link by email unless configured, and then only verified ones",
          "[social]") {
    SECTION("off (the default): a verified address of an existing user makes a new user") {
        SocialDeployment d;
        const auto existing = d.http->post(
            d.base + "users/", R"({"username": "alyx@example.com", "password": "City 17 rebel"})",
            {{"X-API-KEY", d.creatorKey}});
        REQUIRE(existing.status == 201);
        d.token("google", "g-token", kAlyx, "google-client");
        const auto social = d.loginWith("google-oauth2", "g-token");
        REQUIRE(social.status == 200);
        CHECK(social.json()->getValue<int>("id") != existing.json()->getValue<int>("id"));
        CHECK(social.str("username") == "google-oauth2-g-42");
    }
    SECTION("on: verified addresses link, unverified ones do not") {
        SocialDeployment d(", link_verified_email: true");
        const auto existing = d.http->post(
            d.base + "users/", R"({"username": "alyx@example.com", "password": "City 17 rebel"})",
            {{"X-API-KEY", d.creatorKey}});
        REQUIRE(existing.status == 201);
        d.token("google", "g-token", kAlyx, "google-client");
        CHECK(d.loginWith("google-oauth2", "g-token").json()->getValue<int>("id") ==
              existing.json()->getValue<int>("id"));
        d.token("google", "g-unverified", R"({"sub": "g-43", "email": "alyx@example.com",
            "email_verified": false})",
                "google-client");
        const auto unverified = d.loginWith("google-oauth2", "g-unverified");
        REQUIRE(unverified.status == 200);
        CHECK(unverified.json()->getValue<int>("id") != existing.json()->getValue<int>("id"));
    }
}

TEST_CASE("Concurrent first logins of one provider account make one user", "[social]") {
    SocialDeployment d;
    d.token("linkedin", "li-race", R"({"sub": "li-race", "email": "r@example.com",
        "email_verified": true})",
            "li-client");
    std::vector<std::future<HttpResult>> logins;
    for (int i = 0; i < 8; ++i) {
        logins.push_back(
            std::async(std::launch::async, [&d] { return d.loginWith("linkedin", "li-race"); }));
    }
    std::set<int> ids;
    for (auto& login : logins) {
        const auto answer = login.get();
        REQUIRE(answer.status == 200);
        ids.insert(answer.json()->getValue<int>("id"));
    }
    CHECK(ids.size() == 1);
    const auto users = d.http->get(d.base + "users/", {{"X-API-KEY", d.accountKey}});
    CHECK(users.json()->getArray("objects")->size() == 1);
}

namespace {

/// A linkedin login on a fresh host whose userinfo URL is `userinfoBase` + the path, with the
/// given `outbound:` section; returns the status and the host's log.
std::pair<int, std::string> linkedinLogin(FakeProviders& fake, const std::string& userinfoBase,
                                          const std::string& outbound) {
    fake.control("tokens", R"({"provider": "linkedin", "token": "li", "user": {"sub": "s-1"}})");
    TempDir dir;
    // Without introspection: only userinfo is called (and `link_verified_email` is refused).
    HostProcess host(dir.write(
        "latchkey.yaml", testConfig(dir, "",
                                    "  social:\n    linkedin: {introspect: false, userinfo_url: " +
                                        userinfoBase + "/linkedin/v2/userinfo}\n",
                                    outbound)));
    HttpClient http(host.baseUrl());
    const Headers admin{{"X-API-KEY", adminAccountKey(http)}};
    REQUIRE(http.post("/v1.1/instances/", R"({"name": "tls-app"})", admin).status == 201);
    const auto answer = http.post("/v1.1/instances/tls-app/user/auth/linkedin/",
                                  R"({"access_token": "li"})", admin);
    return {answer.status, host.log()};
}

} // namespace

TEST_CASE("Calls to an https provider check its certificate (outbound.ca_file trusts one)",
          "[social]") {
    TempDir certs;
    const auto [cert, key] = selfSignedCertificate(certs);
    FakeProviders fake(cert, key);
    // A self-signed certificate is not trusted by default: the provider counts as unreachable.
    const auto [refused, log] = linkedinLogin(fake, fake.tlsBaseUrl(), "");
    CHECK(refused == 503);
    CHECK_THAT(log, Catch::Contains("TLS failed"));
    // Trusted through the config, the same provider works.
    CHECK(linkedinLogin(fake, fake.tlsBaseUrl(), "outbound:\n  ca_file: " + cert + "\n").first ==
          200);
}

TEST_CASE("Calls to an https provider check its certificate against the URL's host name",
          "[social]") {
    TempDir certs;
    // Each certificate is trusted as its own CA, so only the name decides; the URL names
    // localhost, which resolves to the fake providers' 127.0.0.1.
    const auto status = [&certs](const std::string& subjectAltName) {
        const auto [cert, key] = selfSignedCertificate(certs, subjectAltName);
        FakeProviders fake(cert, key);
        std::string base = fake.tlsBaseUrl();
        base.replace(base.find("127.0.0.1"), 9, "localhost");
        const auto [answer, log] =
            linkedinLogin(fake, base, "outbound:\n  ca_file: " + cert + "\n");
        INFO(log);
        return answer;
    };
    CHECK(status("DNS:localhost") == 200);
    CHECK(status("DNS:provider.other.test") == 503);
    CHECK(status("IP:127.0.0.1") == 503);
}
