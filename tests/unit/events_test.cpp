// Events: the JSON every sink writes, which types a sink takes, and which authentication events
// and announcements become which events.
#include "runtime/event_hub.hpp"

#include <latchkey/support/event_json.hpp>

#include <catch2/catch.hpp>

using namespace latchkey;
using latchkey::runtime::EventHub;

TEST_CASE("An event is one JSON object: id, type, time, ids (null when absent) and data",
          "[events]") {
    Event event;
    event.type = "user.created";
    event.id = "00112233445566778899aabbccddeeff";
    event.time = std::chrono::system_clock::time_point(std::chrono::microseconds(1'500'000));
    event.userId = 7;
    event.data = {{"method", "password"}, {"client", "198.51.100.7:4000 \"quoted\""}};
    CHECK(eventJson(event) ==
          R"({"id": "00112233445566778899aabbccddeeff", "type": "user.created", )"
          R"("time": "1970-01-01T00:00:01.500000Z", "instance_id": null, "user_id": 7, )"
          R"("data": {"method": "password", "client": "198.51.100.7:4000 \"quoted\""}})");
}

TEST_CASE("A sink's types select exact types and whole subjects", "[events]") {
    CHECK(eventTypeSelected({}, "user.created"));
    CHECK(eventTypeSelected({"user.created"}, "user.created"));
    CHECK_FALSE(eventTypeSelected({"user.created"}, "user.deleted"));
    CHECK(eventTypeSelected({"user.*"}, "user.deleted"));
    CHECK_FALSE(eventTypeSelected({"user.*"}, "username.x"));
    CHECK_FALSE(eventTypeSelected({"user.*"}, "account.logged_in"));
    CHECK_FALSE(eventTypeSelected({".*"}, "user.created"));
}

TEST_CASE("Authentication events and announcements map onto event types", "[events]") {
    const auto type = [](std::string_view event, std::string_view outcome) {
        const auto mapped = EventHub::fromAuthEvent({event, 3, 7, "192.0.2.1:1", outcome, "x"});
        return mapped ? mapped->type : std::string("-");
    };
    CHECK(type("login", "success") == "user.logged_in");
    CHECK(type("social_login", "failure") == "user.login_failed");
    CHECK(type("login", "refused") == "user.throttled");
    CHECK(type("login", "shed") == "-"); // undecided: counted in the metrics only
    CHECK(type("account_login", "success") == "account.logged_in");
    CHECK(type("account_key_reset", "success") == "account.key_reset");
    CHECK(type("account_password_change", "failure") == "-");
    CHECK(type("password_change", "success") == "user.password_changed");
    CHECK(type("username_change", "success") == "user.username_changed");
    CHECK(type("key_reset", "success") == "user.key_reset");
    const auto failed = EventHub::fromAuthEvent({"login", 3, 7, "192.0.2.1:1", "failure", "x"});
    REQUIRE(failed);
    CHECK(failed->instanceId == 3);
    CHECK(failed->userId == 7);
    CHECK(failed->data == std::vector<std::pair<std::string, std::string>>{
                              {"client", "192.0.2.1:1"}, {"reason", "x"}});

    CHECK(EventHub::fromUserEvent({UserEventKind::UserDeleted, 3, 7})->type == "user.deleted");
    const auto instance = EventHub::fromUserEvent({UserEventKind::InstanceDeleted, 3, 0});
    CHECK(instance->type == "instance.deleted");
    CHECK_FALSE(instance->userId);
    CHECK_FALSE(EventHub::fromUserEvent({UserEventKind::PasswordChanged, 3, 7}));
}
