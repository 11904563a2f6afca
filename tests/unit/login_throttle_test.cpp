// The login throttle over a real SQLite store with a clock the test moves: the backoff per
// (account, client), the account's ceiling and who it spares, the client's ceiling across
// accounts, the cap on counters and the sweep in pages.
#include "identity_harness.hpp"

#include "core/login_throttle.hpp"
#include "runtime/services.hpp"

#include <catch2/catch.hpp>

#include <spdlog/sinks/null_sink.h>

#include <chrono>
#include <optional>
#include <string>

using namespace latchkey;
using latchkey::core::LoginSubject;
using latchkey::core::LoginThrottle;
using latchkey::core::ThrottleSettings;
using latchkey::test::CountingArea;
using latchkey::test::IdentityHarness;
using namespace std::chrono_literals;

namespace {

/// The throttle on the harness's store, in the host's own area.
struct Throttled {
    explicit Throttled(ThrottleSettings settings)
        : throttle(values, settings, h.clock,
                   std::make_shared<spdlog::logger>(
                       "test", std::make_shared<spdlog::sinks::null_sink_mt>())) {}
    ~Throttled() { throttle.stop(); }

    /// The Retry-After of a refused attempt, or nullopt when it was let through (and counted as
    /// a wrong password).
    std::optional<int> attempt(const LoginSubject& who) {
        try {
            throttle.begin(who);
            throttle.failed(who);
            return std::nullopt;
        } catch (const HttpError& e) {
            REQUIRE(e.status() == 429);
            for (const auto& [name, value] : e.headers()) {
                if (name == "Retry-After") return std::stoi(value);
            }
            FAIL("429 without Retry-After");
            return 0;
        }
    }

    IdentityHarness h;
    CountingArea values{h, "latchkey.throttle"};
    LoginThrottle throttle;
};

ThrottleSettings settings() {
    ThrottleSettings s;
    s.freeFailures = 3;
    s.firstDelay = 2s;
    s.maxDelay = 16s;
    s.accountLimit = 10;
    s.accountInterval = 60s;
    s.clientLimit = 1000;
    s.sweepEvery = std::chrono::hours(1000); // the tests sweep themselves
    return s;
}

} // namespace

TEST_CASE("A client's failures at an account earn a wait that doubles up to the cap",
          "[throttle]") {
    Throttled t(settings());
    const LoginSubject guesser{"u/1/7", "203.0.113.9"};
    for (int i = 0; i < 3; ++i)
        CHECK_FALSE(t.attempt(guesser)); // the free failures
    CHECK(t.attempt(guesser) == 2);      // then 2 s after the third...
    t.h.clock.advance(2s);
    CHECK_FALSE(t.attempt(guesser));
    CHECK(t.attempt(guesser) == 4); // ...4 s after the fourth...
    t.h.clock.advance(4s);
    CHECK_FALSE(t.attempt(guesser));
    CHECK(t.attempt(guesser) == 8);
    t.h.clock.advance(8s);
    CHECK_FALSE(t.attempt(guesser));
    CHECK(t.attempt(guesser) == 16);
    t.h.clock.advance(16s);
    CHECK_FALSE(t.attempt(guesser));
    CHECK(t.attempt(guesser) == 16); // max_delay
    // Another client at the same account, and the same client at another account, go on.
    CHECK_FALSE(t.attempt({"u/1/7", "198.51.100.4"}));
    CHECK_FALSE(t.attempt({"u/1/8", "203.0.113.9"}));
}

TEST_CASE("Right logins of one client at once do not wait for each other", "[throttle]") {
    Throttled t(settings());
    const LoginSubject owner{"u/1/7", "203.0.113.9"};
    // Eight begun before any ends (8 connections of one client, as the login bench runs).
    for (int i = 0; i < 8; ++i)
        t.throttle.begin(owner);
    for (int i = 0; i < 8; ++i)
        t.throttle.succeeded(owner);
    t.throttle.begin(owner);
}

TEST_CASE("A success clears the client's failures at that account", "[throttle]") {
    Throttled t(settings());
    const LoginSubject owner{"u/1/7", "203.0.113.9"};
    for (int i = 0; i < 3; ++i)
        CHECK_FALSE(t.attempt(owner));
    CHECK(t.attempt(owner));
    t.h.clock.advance(2s);
    CHECK_FALSE(t.attempt(owner));
    t.throttle.succeeded(owner);
    for (int i = 0; i < 3; ++i)
        CHECK_FALSE(t.attempt(owner));
    CHECK(t.attempt(owner) == 2);
}

TEST_CASE("The account's ceiling slows strangers to one attempt per interval and spares "
          "clients it knows",
          "[throttle]") {
    Throttled t(settings());
    const LoginSubject owner{"u/1/7", "192.0.2.1"};
    CHECK_FALSE(t.attempt(owner));
    t.throttle.succeeded(owner); // the owner's client is known from now on
    // Ten strangers fail once each: the account is protected.
    for (int i = 0; i < 10; ++i)
        CHECK_FALSE(t.attempt({"u/1/7", "203.0.113." + std::to_string(i)}));
    const auto wait = t.attempt({"u/1/7", "198.51.100.1"});
    REQUIRE(wait);
    CHECK(*wait == 60);
    // The owner is not locked out.
    CHECK_FALSE(t.attempt(owner));
    // A minute on, one more stranger gets one attempt, and the next waits again.
    t.h.clock.advance(60s);
    CHECK_FALSE(t.attempt({"u/1/7", "198.51.100.1"}));
    CHECK(t.attempt({"u/1/7", "198.51.100.2"}) == 60);
    // A success (the owner's) ends the protection.
    t.throttle.succeeded(owner);
    CHECK_FALSE(t.attempt({"u/1/7", "198.51.100.2"}));
}

TEST_CASE("A client's failures across accounts have a ceiling (password spraying)", "[throttle]") {
    ThrottleSettings s = settings();
    s.clientLimit = 5;
    s.clientWindow = 10min;
    Throttled t(s);
    // Its own logins do not count: each success is taken back.
    const LoginSubject own{"u/1/1", "203.0.113.9"};
    for (int i = 0; i < 10; ++i) {
        CHECK_FALSE(t.attempt(own));
        t.throttle.succeeded(own);
    }
    for (int i = 0; i < 5; ++i)
        CHECK_FALSE(t.attempt({"n/1/user" + std::to_string(i), "203.0.113.9"}));
    CHECK(t.attempt({"n/1/someone-else", "203.0.113.9"}) == 600);
    CHECK_FALSE(t.attempt({"n/1/someone-else", "198.51.100.4"}));
    t.h.clock.advance(10min);
    CHECK_FALSE(t.attempt({"n/1/someone-else", "203.0.113.9"}));
}

TEST_CASE("An attempt the hasher could not decide (shed) is taken back from the account and the "
          "client",
          "[throttle]") {
    ThrottleSettings s = settings();
    s.clientLimit = 3;
    s.clientWindow = 10min;
    Throttled t(s);
    const LoginSubject owner{"u/1/7", "203.0.113.9"};
    // Twenty attempts shed under a flood leave nothing behind...
    for (int i = 0; i < 20; ++i) {
        t.throttle.begin(owner);
        t.throttle.abandoned(owner);
    }
    // ...so the client still has its three attempts across accounts, and the account its ten.
    for (int i = 0; i < 3; ++i)
        CHECK_FALSE(t.attempt({"u/1/" + std::to_string(100 + i), "203.0.113.9"}));
    CHECK(t.attempt({"u/1/200", "203.0.113.9"}) == 600);
    for (int i = 0; i < 10; ++i)
        CHECK_FALSE(t.attempt({"u/1/7", "198.51.100." + std::to_string(i)}));
    CHECK(t.attempt({"u/1/7", "198.51.100.99"}) == 60);
}

TEST_CASE("A check without a client counts against the account's ceiling only", "[throttle]") {
    Throttled t(settings());
    for (int i = 0; i < 10; ++i)
        CHECK_FALSE(t.attempt({"u/1/7", ""}));
    CHECK(t.attempt({"u/1/7", ""}) == 60);
}

TEST_CASE("The sweep streams the counters, drops the ones that ran out and keeps the rest",
          "[throttle]") {
    ThrottleSettings s = settings();
    s.forget = 1h;
    s.clientWindow = 15min;
    Throttled t(s);
    // 700 clients fail at 700 accounts: 2100 counters, more than one page of the sweep.
    for (int i = 0; i < 700; ++i)
        t.attempt({"n/1/a" + std::to_string(i),
                   "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256)});
    CHECK(t.values.all("").size() == 2100);
    const int pagesBefore = t.values.pages; // the first attempt had the empty area swept
    CHECK(t.throttle.sweep(nowMicros(t.h.clock)) == 2100);
    // In pages of 512: never the whole area at once.
    CHECK(t.values.pages - pagesBefore == 5);
    CHECK(t.values.lists == 0);
    // After 15 minutes the client counters have run out; after an hour the rest.
    t.h.clock.advance(15min);
    CHECK(t.throttle.sweep(nowMicros(t.h.clock)) == 1400);
    CHECK(t.values.all("c/").empty());
    t.h.clock.advance(45min);
    CHECK(t.throttle.sweep(nowMicros(t.h.clock)) == 0);
    CHECK(t.values.all("").empty());
}

TEST_CASE("Past max_entries accounts and clients are counted in overflow buckets, so nothing "
          "goes uncounted and the store stays bounded",
          "[throttle]") {
    ThrottleSettings s = settings();
    s.maxEntries = 1000; // the least the config accepts; counted from the last sweep
    s.clientLimit = 5;
    Throttled t(s);
    for (int i = 0; i < 334; ++i)
        t.attempt({"n/1/a" + std::to_string(i),
                   "10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256)});
    REQUIRE(t.values.all("").size() >= 1000); // full
    // The first guesser's own counters exist: counted on as before.
    const LoginSubject first{"n/1/a0", "10.1.0.0"};
    CHECK_FALSE(t.attempt(first));
    CHECK_FALSE(t.attempt(first));
    CHECK(t.attempt(first) == 2);
    // A new client spraying new accounts is still held by the client ceiling, in its bucket.
    for (int i = 0; i < 5; ++i)
        CHECK_FALSE(t.attempt({"n/1/new" + std::to_string(i), "192.0.2.77"}));
    CHECK(t.attempt({"n/1/new-more", "192.0.2.77"}) == 900);
    // However many new names come, the store grows by the buckets at most.
    for (int i = 0; i < 3000; ++i)
        t.attempt({"n/1/flood" + std::to_string(i),
                   "172.16." + std::to_string(i / 256) + "." + std::to_string(i % 256)});
    CHECK(t.values.all("").size() <= 1002 + 2 * 1024);
}

TEST_CASE("A long first_delay saturates at max_delay instead of wrapping", "[throttle]") {
    ThrottleSettings s = settings();
    s.firstDelay = std::chrono::minutes(60);
    s.maxDelay = std::chrono::hours(24);
    s.forget = std::chrono::hours(24 * 365);
    Throttled t(s);
    const LoginSubject guesser{"u/1/7", "203.0.113.9"};
    for (int i = 0; i < 60; ++i) {
        t.attempt(guesser);
        t.h.clock.advance(std::chrono::hours(25)); // past every wait
    }
    CHECK_FALSE(t.attempt(guesser));
    CHECK(t.attempt(guesser) == 24 * 3600);
}

TEST_CASE("A counter older than forget counts from zero, swept or not", "[throttle]") {
    ThrottleSettings s = settings();
    s.forget = 1h;
    Throttled t(s);
    const LoginSubject guesser{"u/1/7", "203.0.113.9"};
    for (int i = 0; i < 3; ++i)
        CHECK_FALSE(t.attempt(guesser));
    CHECK(t.attempt(guesser));
    t.h.clock.advance(1h);
    for (int i = 0; i < 3; ++i)
        CHECK_FALSE(t.attempt(guesser));
    CHECK(t.attempt(guesser) == 2);
}

TEST_CASE("clientNetwork counts an IPv4 client as itself and an IPv6 client as its /64",
          "[throttle]") {
    using core::clientNetwork;
    CHECK(clientNetwork("203.0.113.9:4711") == "203.0.113.9");
    CHECK(clientNetwork("[2001:db8:1:2:3:4:5:6]:4711") == "2001:db8:1:2::/64");
    CHECK(clientNetwork("[::ffff:192.0.2.1]:80") == "192.0.2.1");
    CHECK(clientNetwork("not an address") == "not an address");
}
