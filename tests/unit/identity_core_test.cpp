// The identity core in-process, on the real sqlite and password plugins: what the password
// checks cost for known and unknown names, and the routes' permission rules.
#include "core/identity_core.hpp"
#include "runtime/host_router.hpp"
#include "support/in_process.hpp"
#include "support/temp_dir.hpp"

#include <latchkey/password_hasher.hpp>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <catch2/catch.hpp>
#include <spdlog/sinks/null_sink.h>

#include <atomic>

using namespace latchkey;
using namespace latchkey::core;
using namespace latchkey::runtime;
using latchkey::test::LoadedPlugin;

namespace {

/// The password plugin's hasher, with a count of the checks asked of it.
class CountingHasher final : public PasswordHasher {
public:
    explicit CountingHasher(PasswordHasher& real) : real_(real) {}
    std::vector<std::string> checkPolicy(std::string_view p) const override {
        return real_.checkPolicy(p);
    }
    std::string hash(std::string_view p) override {
        ++hashes;
        return real_.hash(p);
    }
    PasswordCheck verify(std::string_view p, std::string_view stored) override {
        ++verifies;
        if (stored.empty()) ++verifiesWithoutHash;
        return real_.verify(p, stored);
    }
    std::atomic<int> hashes{0}, verifies{0}, verifiesWithoutHash{0};

private:
    PasswordHasher& real_;
};

struct Harness {
    latchkey::test::TempDir dir;
    SystemClock clock;
    SodiumRandom random;
    LoadedPlugin storePlugin{"latchkey-sqlite.so", "path: " + dir.file("core.db") + "\n"};
    LoadedPlugin passwordPlugin{"latchkey-password.so", "argon2: {memory: 1MiB, iterations: 1}\n"};
    CountingHasher hasher{passwordPlugin.as<PasswordHasher>()};
    KeyVault vault{KeyVault::Secret{}};
    std::shared_ptr<spdlog::logger> log =
        std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
    IdentityService identities{IdentityParts{
        StorageFacets(storePlugin.plugin()), hasher, vault, clock, random, log,
        [](const UserEvent&) {},
        [](const UserEvent&) -> std::optional<std::string> { return std::nullopt; },
        [](const UserEvent&) {},
        [](std::string_view) -> InstanceRecord { throw std::runtime_error("no instances here"); }}};
    IdentityCore core{CoreServices{StorageFacets(storePlugin.plugin()),
                                   identities,
                                   hasher,
                                   vault,
                                   clock,
                                   random,
                                   log,
                                   "http://localhost",
                                   1 << 20,
                                   {}}};
    HostRouter router{log};

    Harness() {
        core.checkSecret();
        core.bootstrapAdmin("admin@example.com", "admin-password-for-tests");
        core.mount(router);
    }

    Response call(const std::string& method, const std::string& path, const std::string& body,
                  std::vector<Header> headers = {}) const {
        Request request;
        request.method = method;
        request.path = path;
        request.body = body;
        request.headers = std::move(headers);
        return router.dispatch(request);
    }

    static std::string field(const Response& r, const std::string& name) {
        Poco::JSON::Parser parser;
        return parser.parse(r.body).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>(name);
    }

    /// Account key, instance "demo", an API key allowed to create users, and user "gordon".
    std::string setUp() const {
        const auto auth =
            call("POST", "/v1.1/account/auth/",
                 R"({"email": "admin@example.com", "password": "admin-password-for-tests"})");
        REQUIRE(auth.status == 200);
        const std::string accountKey = field(auth, "account_key");
        REQUIRE(
            call("POST", "/v1.1/instances/", R"({"name": "demo-app"})", {{"X-API-KEY", accountKey}})
                .status == 201);
        const auto key = call("POST", "/v1.1/instances/demo-app/api_keys/",
                              R"({"allow_user_create": true})", {{"X-API-KEY", accountKey}});
        std::string apiKey = field(key, "api_key");
        REQUIRE(call("POST", "/v1.1/instances/demo-app/users/",
                     R"({"username": "gordon", "password": "black mesa"})", {{"X-API-KEY", apiKey}})
                    .status == 201);
        return apiKey;
    }
};

} // namespace

TEST_CASE("Unknown usernames cost one password check, like wrong passwords", "[core]") {
    Harness h;
    const std::string apiKey = h.setUp();
    const int before = h.hasher.verifies;

    const auto unknown =
        h.call("POST", "/v1.1/instances/demo-app/user/auth/",
               R"({"username": "nobody", "password": "black mesa"})", {{"X-API-KEY", apiKey}});
    CHECK(h.hasher.verifies == before + 1);
    CHECK(h.hasher.verifiesWithoutHash == 1);

    const auto wrong =
        h.call("POST", "/v1.1/instances/demo-app/user/auth/",
               R"({"username": "gordon", "password": "white mesa"})", {{"X-API-KEY", apiKey}});
    CHECK(h.hasher.verifies == before + 2);
    CHECK(h.hasher.verifiesWithoutHash == 1);

    CHECK(unknown.status == 401);
    CHECK(wrong.status == 401);
    CHECK(unknown.body == wrong.body);

    const auto right =
        h.call("POST", "/v1.1/instances/demo-app/user/auth/",
               R"({"username": "gordon", "password": "black mesa"})", {{"X-API-KEY", apiKey}});
    CHECK(right.status == 200);
    CHECK(h.hasher.verifies == before + 3);
}

TEST_CASE("Unknown account emails cost one password check, like wrong passwords", "[core]") {
    Harness h;
    const int before = h.hasher.verifies;
    const auto unknown =
        h.call("POST", "/v1.1/account/auth/",
               R"({"email": "who@example.com", "password": "admin-password-for-tests"})");
    const auto wrong = h.call("POST", "/v1.1/account/auth/",
                              R"({"email": "admin@example.com", "password": "not-the-password"})");
    CHECK(h.hasher.verifies == before + 2);
    CHECK(h.hasher.verifiesWithoutHash == 1);
    CHECK(unknown.status == 401);
    CHECK(unknown.body == wrong.body);
}

TEST_CASE("A taken username costs no hashing", "[core]") {
    Harness h;
    const std::string apiKey = h.setUp();
    const int before = h.hasher.hashes;
    const auto again =
        h.call("POST", "/v1.1/instances/demo-app/users/",
               R"({"username": "gordon", "password": "another pass"})", {{"X-API-KEY", apiKey}});
    CHECK(again.status == 400);
    CHECK(again.body == R"({"username": ["User with this username already exists."]})");
    CHECK(h.hasher.hashes == before);
}

TEST_CASE("Bootstrapping the admin is idempotent and refuses a weak password", "[core]") {
    Harness h;
    CHECK_NOTHROW(h.core.bootstrapAdmin("ADMIN@example.com", "some-other-password"));
    const auto stillOld =
        h.call("POST", "/v1.1/account/auth/",
               R"({"email": "admin@example.com", "password": "admin-password-for-tests"})");
    CHECK(stillOld.status == 200);
    CHECK_THROWS_WITH(h.core.bootstrapAdmin("new@example.com", "short"),
                      Catch::Contains("admin.password"));
}

TEST_CASE("A different secret is refused at start", "[core]") {
    Harness h;
    KeyVault other{KeyVault::Secret{{1}}};
    IdentityCore second{CoreServices{StorageFacets(h.storePlugin.plugin()),
                                     h.identities,
                                     h.hasher,
                                     other,
                                     h.clock,
                                     h.random,
                                     h.log,
                                     "http://localhost",
                                     1 << 20,
                                     {}}};
    CHECK_THROWS_WITH(second.checkSecret(), Catch::Contains("secret key differs"));
}
