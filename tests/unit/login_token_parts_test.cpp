// The login-token flow's parts in-process, on a real SQLite store and the host's identity
// service: members and their index keys, cookie sessions, mailed tokens, lockouts.
#include "cookie_header.hpp"
#include "cookie_sessions.hpp"
#include "identity_harness.hpp"
#include "lockout.hpp"
#include "members.hpp"
#include "token_mail.hpp"

#include <latchkey/mailer.hpp>
#include <latchkey/support/time.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdio>
#include <mutex>

using namespace latchkey;
using namespace latchkey::plugins::buzz;
using latchkey::test::CountingArea;
using latchkey::test::IdentityHarness;

namespace {

class RecordingMailer final : public Mailer {
public:
    void send(const MailMessage& message) override {
        const std::scoped_lock lock(mutex);
        sent.push_back(message);
    }
    std::mutex mutex;
    std::vector<MailMessage> sent;
};

class QuietLogger final : public Logger {
public:
    void log(LogLevel, std::string_view) override {}
    bool enabled(LogLevel) const override { return false; }
};

Request withCookie(const std::string& setCookie) {
    Request request;
    request.headers = {{"Cookie", setCookie.substr(0, setCookie.find(';'))}};
    return request;
}

} // namespace

TEST_CASE("Members: attributes with index keys, found and listed without a query per member",
          "[login-token]") {
    IdentityHarness h;
    CountingArea area(h);
    Members members(area, h.identities, h.instance.id);
    std::vector<Id> ids;
    for (int i = 0; i < 30; ++i) {
        const UserRecord user =
            h.addUser("m" + std::to_string(i) + "@example.com", std::nullopt, i % 3 != 0);
        Attributes a;
        a.firstName = "M" + std::to_string(i);
        a.roleId = i % 2 == 0 ? std::optional<std::int64_t>(1) : std::optional<std::int64_t>(2);
        a.superUser = i < 3;
        members.create(user.id, a);
        ids.push_back(user.id);
    }
    h.addUser("outsider@example.com", "outsider pass"); // an instance user not in the flow

    const int getsBefore = area.gets;
    const int listsBefore = area.lists;
    const auto all = members.list({});
    CHECK(all.size() == 30);
    CHECK(area.gets == getsBefore); // no lookup per member
    CHECK(area.lists == listsBefore + 1);
    CHECK(all.front().user.id == ids.front());
    CHECK_FALSE(all.front().active); // i = 0 was created inactive
    CHECK(all[1].active);

    MemberFilter filter;
    filter.active = true;
    filter.roleId = 2;
    CHECK(members.list(filter).size() == 10); // odd i, and not a multiple of 3

    // Super users 0, 1, 2: user 0 is inactive, so two count.
    CHECK(members.countActiveSuperUsers() == 2);
    CHECK(members.anyWithRole(1));
    CHECK_FALSE(members.anyWithRole(9));
    // Changing attributes moves the index keys with them.
    members.update(ids[1], [](Attributes& a) { a.superUser = false; });
    CHECK(members.countActiveSuperUsers() == 1);
    for (std::size_t i = 0; i < ids.size(); i += 2)
        members.update(ids[i], [](Attributes& a) { a.roleId = 2; });
    CHECK_FALSE(members.anyWithRole(1));
    // A stale index key (left by a crash) is never believed: the record decides.
    area.put("super/" + std::to_string(h.instance.id) + "/00000000000000000099", "");
    CHECK(members.countActiveSuperUsers() == 1);
    // Found by address, whatever its case; outsiders are not members.
    CHECK(members.findByEmail("M5@Example.com"));
    CHECK_FALSE(members.findByEmail("outsider@example.com"));
    members.remove(ids[2]);
    CHECK_FALSE(members.find(ids[2]));
    CHECK(members.countActiveSuperUsers() == 0);
}

TEST_CASE("Members: data of login-token 1.x moves to the new layout, inactive users with it",
          "[login-token]") {
    IdentityHarness h;
    CountingArea area(h);
    const UserRecord on = h.addUser("on@example.com", "on pass 123");
    const UserRecord off = h.addUser("off@example.com", "off pass 123");
    const std::string legacy = "user/" + std::to_string(h.instance.id) + "/";
    char key[64];
    std::snprintf(key, sizeof key, "%s%020lld", legacy.c_str(), static_cast<long long>(off.id));
    area.put(key,
             R"({"first_name": "Off", "role_id": null, "active": false, "super_user": false})");
    std::snprintf(key, sizeof key, "%s%020lld", legacy.c_str(), static_cast<long long>(on.id));
    area.put(key, R"({"first_name": "On", "role_id": 1, "active": true, "super_user": true})");

    Members members(area, h.identities, h.instance.id);
    CHECK(members.migrateLegacy() == 2);
    CHECK(members.migrateLegacy() == 0); // idempotent
    const auto moved = members.find(on.id);
    REQUIRE(moved);
    CHECK(moved->attributes.firstName == "On");
    CHECK(moved->attributes.superUser);
    CHECK(moved->active);
    CHECK_FALSE(h.identities.isActive(h.instance.id, off.id));
    CHECK(members.countActiveSuperUsers() == 1);
    CHECK(area.list(legacy).empty());
    // 1.x kept no address: it is recorded once (for notices of renames made elsewhere).
    CHECK(moved->attributes.address.empty());
    CHECK(members.recordAddresses() == 2);
    CHECK(members.find(on.id)->attributes.address == "on@example.com");
    CHECK(members.find(off.id)->attributes.address == "off@example.com");
    CHECK(members.recordAddresses() == 0); // once
}

TEST_CASE("Cookie sessions: issued, checked, idle and absolute expiry, ended", "[login-token]") {
    IdentityHarness h;
    Settings settings;
    settings.sessionIdle = std::chrono::minutes(30);
    settings.sessionAbsolute = std::chrono::hours(2);
    CookieSessions sessions(h.store.sessions(), settings, h.instance.id, true, h.clock, h.random);
    const UserRecord user = h.addUser("s@example.com", "s pass 1234");

    const Header cookie = sessions.start(user.id, false);
    CHECK(cookie.first == "Set-Cookie");
    CHECK_THAT(cookie.second, Catch::Contains("; Path=/rest; HttpOnly; SameSite=Lax; Secure") &&
                                  !Catch::Contains("Max-Age"));
    const Request request = withCookie(cookie.second);
    REQUIRE(sessions.check(request));
    CHECK(sessions.check(request)->userId == user.id);

    // Kept alive by use every 20 minutes, until the absolute lifetime ends it.
    for (int i = 0; i < 5; ++i) {
        h.clock.advance(std::chrono::minutes(20));
        CHECK(sessions.check(request));
    }
    h.clock.advance(std::chrono::minutes(20)); // 2 h since the start
    CHECK_FALSE(sessions.check(request));

    const Header idle = sessions.start(user.id, true);
    CHECK_THAT(idle.second, Catch::Contains("Max-Age=2592000"));
    h.clock.advance(std::chrono::minutes(31));
    CHECK_FALSE(sessions.check(withCookie(idle.second)));

    const Header ended = sessions.start(user.id, false);
    sessions.endAll(user.id);
    CHECK_FALSE(sessions.check(withCookie(ended.second)));
    CHECK_FALSE(sessions.check(withCookie("latchkey_session=made-up")));
    CHECK_THAT(sessions.clearCookie().second, Catch::Contains("Max-Age=0"));
}

TEST_CASE("Token mail: single-use tokens, a link in the fragment, values escaped in HTML",
          "[login-token]") {
    IdentityHarness h;
    Settings settings;
    settings.invite = {"Join, {{first_name}}", "Go to {{link}} by {{expires}}",
                       "<a href=\"{{link}}\">{{first_name}}</a>"};
    RecordingMailer mailer;
    QuietLogger log;
    BackgroundJobs jobs(4, [](const std::string&) {});
    TokenMail mail(h.store.loginTokens(), mailer, log, settings, "https://auth.example.com",
                   h.clock, h.random, jobs);
    const UserRecord user = h.addUser("t+1@example.com", std::nullopt, false);
    Member member{user, Attributes{"<b>Tom</b>", "", "", std::nullopt, false, false, ""}, false};

    const IssuedToken first = mail.issue(user.id, "invite", std::chrono::hours(1));
    const IssuedToken second = mail.issue(user.id, "invite", std::chrono::hours(1));
    const Micros t = latchkey::nowMicros(h.clock);
    CHECK_FALSE(mail.consume(user.id, first.token, t)); // voided by the second
    CHECK(mail.consume(user.id, second.token, t) == "invite");
    CHECK_FALSE(mail.consume(user.id, second.token, t)); // used up
    const IssuedToken late = mail.issue(user.id, "reset", std::chrono::hours(1));
    CHECK_FALSE(mail.consume(user.id, late.token, late.expiresAt)); // expired
    const IssuedToken revoked = mail.issue(user.id, "reset", std::chrono::hours(1));
    mail.revoke(user.id);
    CHECK_FALSE(mail.consume(user.id, revoked.token, t));

    const MailMessage message = mail.compose(member, second, settings.invite);
    CHECK(message.to == "t+1@example.com");
    CHECK(message.subject == "Join, <b>Tom</b>");
    CHECK_THAT(message.text, Catch::Contains("https://auth.example.com/rest/set-password#email="
                                             "t%2B1@example.com&token=" +
                                             second.token));
    CHECK_THAT(message.html, Catch::Contains("&lt;b&gt;Tom&lt;/b&gt;"));

    mail.invite(member);
    CHECK(jobs.shutdown(std::chrono::seconds(5)) == 0);
    REQUIRE(mailer.sent.size() == 1);
    CHECK(mailer.sent[0].to == "t+1@example.com");
}

TEST_CASE("Lockout: wrong tokens per address and client, then per address, and cooldowns",
          "[login-token]") {
    IdentityHarness h;
    CountingArea area(h);
    Settings settings;
    settings.tokenAttempts = 3;
    settings.tokenAccountAttempts = 5;
    settings.tokenLockout = std::chrono::minutes(15);
    settings.resetCooldown = std::chrono::minutes(2);
    QuietLogger log;
    Lockout lockout(area, settings, h.instance.id, h.clock, log);

    const FailureKeys here = lockout.keys("Who@Example.com", "10.0.0.1:5000");
    const FailureKeys there = lockout.keys("who@example.com", "10.0.0.2:6000");
    CHECK(here.account == there.account); // one address, whatever its case
    CHECK(here.client != there.client);
    for (int i = 0; i < 3; ++i) {
        lockout.checkClient(here);
        lockout.recordFailure(here);
        lockout.checkAddress(here);
    }
    try {
        lockout.checkClient(here);
        FAIL("not locked out");
    } catch (const HttpError& e) {
        CHECK(e.status() == 429);
        REQUIRE(e.headers().size() == 1);
        CHECK(e.headers()[0].first == "Retry-After");
        CHECK(std::stoi(e.headers()[0].second) > 800);
    }
    lockout.checkClient(there); // another client goes on, until the address's own limit...
    lockout.recordFailure(there);
    lockout.checkAddress(there);
    lockout.recordFailure(there);
    CHECK_THROWS_AS(lockout.checkAddress(there), HttpError);
    // ...which only answers its wrong tokens: it never stops a token from being tried.
    lockout.checkClient(there);
    h.clock.advance(std::chrono::minutes(16));
    lockout.checkClient(here);
    lockout.sweep(latchkey::nowMicros(h.clock));
    CHECK(area.list("fails/").empty());

    CHECK(lockout.resetDue("a@example.com", "10.0.0.1:5000"));
    CHECK_FALSE(lockout.resetDue("A@example.com", "10.0.0.1:5000"));
    h.clock.advance(std::chrono::minutes(3));
    CHECK(lockout.resetDue("a@example.com", "10.0.0.1:5000"));
}

TEST_CASE("Lockout: one client's wrong tokens and lost-password requests for many addresses "
          "have a ceiling",
          "[login-token]") {
    IdentityHarness h;
    CountingArea area(h);
    Settings settings;
    settings.tokenClientAttempts = 4;
    settings.resetCooldown = std::chrono::minutes(2);
    QuietLogger log;
    Lockout lockout(area, settings, h.instance.id, h.clock, log);
    // Two wrong tokens and two lost-password requests, each for another address, from one /64.
    lockout.recordFailure(lockout.keys("a@example.com", "[2001:db8:1:2::5]:443"));
    lockout.recordFailure(lockout.keys("b@example.com", "[2001:db8:1:2::6]:443"));
    CHECK(lockout.resetDue("c@example.com", "[2001:db8:1:2::7]:443"));
    CHECK(lockout.resetDue("d@example.com", "[2001:db8:1:2::8]:443"));
    CHECK_THROWS_AS(lockout.resetDue("e@example.com", "[2001:db8:1:2::9]:443"), HttpError);
    CHECK_THROWS_AS(lockout.checkClient(lockout.keys("f@example.com", "[2001:db8:1:2::a]:443")),
                    HttpError);
    // Another network goes on.
    lockout.checkClient(lockout.keys("f@example.com", "[2001:db8:1:3::a]:443"));
    CHECK(lockout.resetDue("e@example.com", "192.0.2.1:80"));
}

TEST_CASE("The session cookie is found by its exact name among the request's cookies",
          "[login-token]") {
    using latchkey::plugins::buzz::cookieValue;
    CHECK(cookieValue("buzz=abc", "buzz", 128) == "abc");
    CHECK(cookieValue("other=1; buzz=abc; more=2", "buzz", 128) == "abc");
    CHECK(cookieValue("other=1;buzz=abc", "buzz", 128) == "abc");
    CHECK(cookieValue("  buzz=a=b", "buzz", 128) == "a=b");
    // Not another cookie whose name starts the same, nor one that only ends the same.
    CHECK_FALSE(cookieValue("buzzer=abc", "buzz", 128));
    CHECK_FALSE(cookieValue("xbuzz=abc", "buzz", 128));
    CHECK_FALSE(cookieValue("Buzz=abc", "buzz", 128));
    // An empty or too long value does not count; a later good one does.
    CHECK_FALSE(cookieValue("buzz=", "buzz", 128));
    CHECK(cookieValue("buzz=" + std::string(129, 'x') + "; buzz=ok", "buzz", 128) == "ok");
    CHECK_FALSE(cookieValue("", "buzz", 128));
    CHECK_FALSE(cookieValue(";;;", "buzz", 128));
    CHECK_FALSE(cookieValue("buzz", "buzz", 128));
}
