// The identity service in-process, on a real SQLite store and the real password plugin: every
// rule the v1.1 routes, social login and the login-token flow rely on, decided here once.
#include "core/user_routes.hpp"
#include "identity_harness.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <thread>

using namespace latchkey;
using latchkey::test::IdentityHarness;

TEST_CASE("A new password brings a new key and is announced, and the old one stops working",
          "[identity]") {
    IdentityHarness h;
    const UserRecord user = h.addUser("ada", "first pass 1");
    const std::string oldKey = h.identities.openKey(user);
    REQUIRE(h.identities.findActiveUserByKey(h.instance.id, oldKey));

    const UserRecord changed = h.identities.setPassword(h.instance.id, user.id, "second pass 2");
    CHECK(changed.key.lookup != user.key.lookup);
    CHECK_FALSE(h.identities.findActiveUserByKey(h.instance.id, oldKey));
    CHECK(h.identities.findActiveUserByKey(h.instance.id, h.identities.openKey(changed)));
    CHECK_FALSE(h.identities.verifyLogin(h.instance.id, "ada", "first pass 1"));
    CHECK(h.identities.verifyLogin(h.instance.id, "ada", "second pass 2"));
    CHECK(h.kinds() == std::vector{UserEventKind::PasswordChanged});
    // The policy is the hasher's: a short password is refused under "password", nothing changes.
    CHECK_THROWS_AS(h.identities.setPassword(h.instance.id, user.id, "short"), HttpError);
    CHECK(h.identities.verifyLogin(h.instance.id, "ada", "second pass 2"));
    CHECK(h.kinds().size() == 1);
}

TEST_CASE("An inactive user cannot log in or use its key, and the answer is a wrong password's",
          "[identity]") {
    IdentityHarness h;
    const UserRecord user = h.addUser("bea", "bea pass 12");
    const std::string key = h.identities.openKey(user);
    h.identities.setActive(h.instance.id, user.id, false);
    CHECK_FALSE(h.identities.isActive(h.instance.id, user.id));
    CHECK(h.identities.inactiveUsers(h.instance.id) == std::vector<Id>{user.id});
    CHECK_FALSE(h.identities.verifyLogin(h.instance.id, "bea", "bea pass 12"));
    CHECK_FALSE(h.identities.verifyLoginById(h.instance.id, user.id, "bea pass 12"));
    CHECK_FALSE(h.identities.findActiveUserByKey(h.instance.id, key));
    h.identities.setActive(h.instance.id, user.id, false); // already: nothing announced again
    h.identities.setActive(h.instance.id, user.id, true);
    CHECK(h.identities.verifyLogin(h.instance.id, "bea", "bea pass 12"));
    CHECK(h.identities.findActiveUserByKey(h.instance.id, key));
    CHECK(h.kinds() == std::vector{UserEventKind::Deactivated, UserEventKind::Activated});
    // Created inactive (an invitation): inactive from the start, nothing announced.
    const UserRecord invited = h.addUser("cy", std::nullopt, false);
    CHECK_FALSE(h.identities.isActive(h.instance.id, invited.id));
    CHECK(h.kinds().size() == 2);
    // Created inactive with a password: it has the password, and logs in once activated.
    const UserRecord waiting = h.addUser("dot", "dot pass 12", false);
    CHECK_FALSE(waiting.passwordHash.empty());
    CHECK_FALSE(h.identities.verifyLogin(h.instance.id, "dot", "dot pass 12"));
    h.identities.setActive(h.instance.id, waiting.id, true);
    CHECK(h.identities.verifyLogin(h.instance.id, "dot", "dot pass 12"));
}

TEST_CASE("A guard's refusal stops a deletion or deactivation before anything changes",
          "[identity]") {
    IdentityHarness h;
    const UserRecord user = h.addUser("dee", "dee pass 12");
    h.veto = "This is the last one.";
    try {
        h.identities.deleteUser(h.instance.id, user.id);
        FAIL("the deletion went through");
    } catch (const HttpError& e) {
        CHECK(e.status() == 409);
        CHECK(e.detail() == "This is the last one.");
    }
    CHECK_THROWS_AS(h.identities.setActive(h.instance.id, user.id, false), HttpError);
    CHECK(h.identities.findUser(h.instance.id, user.id));
    CHECK(h.identities.isActive(h.instance.id, user.id));
    CHECK(h.kinds().empty());
    CHECK(h.finished == 0); // a refused change holds nothing to finish
    h.veto.reset();
    CHECK(h.identities.deleteUser(h.instance.id, user.id));
    CHECK(h.finished == h.guarded - 2); // every change let through is finished, once
    CHECK_FALSE(h.identities.deleteUser(h.instance.id, user.id));
    CHECK(h.kinds() == std::vector{UserEventKind::UserDeleted});
}

TEST_CASE("Renames are compare-and-set writes: a taken name is a Conflict, a race is retried",
          "[identity]") {
    IdentityHarness h;
    const UserRecord eve = h.addUser("eve", "eve pass 12");
    h.addUser("fay", "fay pass 12");
    CHECK_THROWS_AS(h.identities.rename(h.instance.id, eve.id, "fay"), Conflict);
    CHECK_THROWS_AS(h.addUser("fay", "other pass 1"), Conflict);
    // Eight renames and eight password changes at once: each lands, none undoes another.
    std::vector<std::thread> writers;
    for (int i = 0; i < 8; ++i) {
        writers.emplace_back([&h, &eve, i] {
            if (i % 2 == 0) {
                h.identities.rename(h.instance.id, eve.id, "eve-" + std::to_string(i));
            } else {
                h.identities.setPassword(h.instance.id, eve.id, "pass number " + std::to_string(i));
            }
        });
    }
    for (auto& w : writers)
        w.join();
    const auto events = h.kinds();
    CHECK(std::count(events.begin(), events.end(), UserEventKind::UsernameChanged) == 4);
    CHECK(std::count(events.begin(), events.end(), UserEventKind::PasswordChanged) == 4);
    const auto stored = h.identities.findUser(h.instance.id, eve.id);
    REQUIRE(stored);
    CHECK(stored->username.rfind("eve-", 0) == 0);
}

TEST_CASE("The v1.1 user handlers are functions a test calls with a request", "[identity]") {
    IdentityHarness h;
    const auto keyed = h.identities.create({h.instance.id, "gus", "gus pass 12", true, "{}"});
    const auto log =
        std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
    const core::CoreServices core{h.store,
                                  h.identities,
                                  h.hasher,
                                  h.vault,
                                  h.clock,
                                  h.random,
                                  log,
                                  "http://localhost",
                                  1 << 20,
                                  {},
                                  [](const UserEvent&) {}};
    Request request;
    request.method = "GET";
    request.path = "/v1.1/instances/app/user/";
    request.params = {{"instance", "app"}};
    // An API key of the instance, and the user's key.
    ApiKeyRecord apiKey;
    apiKey.instanceId = h.instance.id;
    const std::string plainApiKey = "api-key-for-the-handler-test";
    apiKey.key = h.vault.seal(plainApiKey, core::KeyPurpose::ApiKey, h.random);
    h.store.apiKeys().createApiKey(apiKey);
    request.headers = {{"X-API-KEY", plainApiKey}, {"X-USER-KEY", keyed.userKey}};
    const Response found = core::user_handlers::current(core, request);
    CHECK(found.status == 200);
    CHECK_THAT(found.body, Catch::Contains(R"("username": "gus")"));

    h.identities.setActive(h.instance.id, keyed.user.id, false);
    CHECK_THROWS_AS(core::user_handlers::current(core, request), HttpError);
}
