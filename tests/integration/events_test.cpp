// Event sinks on the real host: the `event-log` file and the `webhook` POSTing to a real HTTP
// receiver on loopback (tests/support/webhook_receiver.py, which checks every signature with
// Python's own HMAC), including a receiver that fails and recovers, and a shutdown that drains.
#include "support/host_process.hpp"
#include "support/python_helper.hpp"

#include <Poco/JSON/Parser.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

using namespace latchkey::test;

namespace {

constexpr const char* kSecret = "a-webhook-secret-of-at-least-32-characters";

/// The receiver, answering 503 to the first `failFirst` requests, each after `delayMs`.
struct Receiver {
    Receiver(const TempDir& dir, int failFirst, int delayMs)
        : log(dir.file("received.jsonl")),
          script("the webhook receiver", "tests/support/webhook_receiver.py",
                 {"--secret", kSecret, "--log", log, "--fail-first", std::to_string(failFirst),
                  "--delay-ms", std::to_string(delayMs)},
                 dir.file("receiver.log")),
          url("http://127.0.0.1:" + script.firstLine().substr(5) + "/hooks/latchkey") {}

    /// Every request received so far, parsed.
    std::vector<Poco::JSON::Object::Ptr> requests() const { return lines(log); }

    /// Waits (up to 20 s) until `count` requests were answered 204.
    std::vector<Poco::JSON::Object::Ptr> waitForDelivered(std::size_t count) const {
        std::vector<Poco::JSON::Object::Ptr> delivered;
        for (int i = 0; i < 400; ++i) {
            delivered.clear();
            for (const auto& request : requests()) {
                if (request->getValue<int>("answered") == 204) delivered.push_back(request);
            }
            if (delivered.size() >= count) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return delivered;
    }

    static std::vector<Poco::JSON::Object::Ptr> lines(const std::string& file) {
        std::vector<Poco::JSON::Object::Ptr> out;
        if (!std::filesystem::exists(file)) return out;
        const std::string text = readFile(file);
        // A last line still being written (no newline yet) is not read.
        std::istringstream in(text.substr(0, text.rfind('\n') + 1));
        for (std::string line; std::getline(in, line);) {
            if (line.empty()) continue;
            out.push_back(Poco::JSON::Parser().parse(line).extract<Poco::JSON::Object::Ptr>());
        }
        return out;
    }

    std::string log;
    PythonHelper script;
    std::string url;
};

std::string sinks(const TempDir& dir, const Receiver& receiver, const std::string& webhookExtra) {
    return "events:\n"
           "  event-log:\n"
           "    path: " +
           dir.file("events.jsonl") +
           "\n"
           "  webhook:\n"
           "    url: " +
           receiver.url +
           "\n"
           "    secret: " +
           kSecret + "\n" + webhookExtra;
}

std::vector<std::string> typesOf(const std::vector<Poco::JSON::Object::Ptr>& events,
                                 const char* member) {
    std::vector<std::string> types;
    for (const auto& event : events)
        types.push_back(member ? event->getObject(member)->getValue<std::string>("type")
                               : event->getValue<std::string>("type"));
    return types;
}

} // namespace

TEST_CASE("Events reach the event log and a webhook that fails and recovers, signed and in order",
          "[events]") {
    TempDir dir;
    Receiver receiver(dir, 3, 0); // the first three deliveries are refused
    HostProcess host(dir.write(
        "latchkey.yaml",
        testConfig(dir, "", "", sinks(dir, receiver, "    backoff: 20ms\n    attempts: 10\n"))));
    HttpClient http(host.baseUrl());
    const std::string accountKey = adminAccountKey(http); // account.logged_in
    const Headers account{{"X-API-KEY", accountKey}};
    REQUIRE(http.post("/v1.1/instances/", R"({"name": "events-app"})", account).status == 201);
    const auto key = http.post("/v1.1/instances/events-app/api_keys/",
                               R"({"allow_user_create": true})", account);
    REQUIRE(key.status == 201);
    const std::string apiKeyId = std::to_string(key.json()->getValue<int>("id"));
    const Headers api{{"X-API-KEY", key.str("api_key")}};
    const std::string base = "/v1.1/instances/events-app/";
    const auto user = http.post(base + "users/",
                                R"({"username": "ada", "password": "correct horse battery"})", api);
    REQUIRE(user.status == 201);
    const std::string userId = std::to_string(user.json()->getValue<int>("id"));
    REQUIRE(
        http.post(base + "user/auth/", R"({"username": "ada", "password": "nope"})", api).status ==
        401);
    REQUIRE(http.post(base + "user/auth/",
                      R"({"username": "ada", "password": "correct horse battery"})", api)
                .status == 200);
    REQUIRE(http.request("DELETE", base + "users/" + userId + "/", "", account).status == 204);
    REQUIRE(http.request("DELETE", base + "api_keys/" + apiKeyId + "/", "", account).status == 204);
    REQUIRE(http.request("DELETE", "/v1.1/instances/events-app/", "", account).status == 204);

    const std::vector<std::string> expected{"account.logged_in", "api_key.created", "user.created",
                                            "user.login_failed", "user.logged_in",  "user.deleted",
                                            "api_key.deleted",   "instance.deleted"};
    const auto delivered = receiver.waitForDelivered(expected.size());
    REQUIRE(delivered.size() == expected.size());

    SECTION("the webhook: every event once, in order, signed, after three refusals") {
        CHECK(typesOf(delivered, "body") == expected);
        const auto all = receiver.requests();
        CHECK(all.size() == expected.size() + 3);
        std::set<std::string> ids;
        for (std::size_t i = 0; i < all.size(); ++i) {
            INFO(i);
            CHECK(all[i]->getValue<bool>("signature_ok"));
            CHECK(all[i]->getValue<std::string>("content_type") == "application/json");
            CHECK(all[i]->getValue<std::string>("delivery") ==
                  all[i]->getObject("body")->getValue<std::string>("id"));
            CHECK(all[i]->getValue<std::string>("event") ==
                  all[i]->getObject("body")->getValue<std::string>("type"));
            if (i < 3) CHECK(all[i]->getValue<int>("answered") == 503);
        }
        // The refused deliveries were the first event's, retried under the same id.
        CHECK(all[0]->getValue<std::string>("delivery") ==
              delivered[0]->getValue<std::string>("delivery"));
        for (const auto& request : delivered)
            ids.insert(request->getValue<std::string>("delivery"));
        CHECK(ids.size() == expected.size());
    }
    SECTION("the fields: ids, the API, the client and the reason; never a secret") {
        const auto body = [&](std::size_t i) { return delivered[i]->getObject("body"); };
        CHECK(body(2)->getValue<std::string>("user_id") == userId);
        CHECK(body(2)->getObject("data")->getValue<std::string>("method") == "password");
        CHECK(body(2)->getObject("data")->getValue<std::string>("api") == "/v1.1");
        CHECK(body(3)->getObject("data")->getValue<std::string>("reason") == "wrong_password");
        CHECK(body(3)->getObject("data")->has("client"));
        CHECK(body(1)->getObject("data")->getValue<std::string>("api_key_id") == apiKeyId);
        CHECK(body(0)->isNull("instance_id"));
        CHECK(body(0)->getValue<std::string>("id").size() == 32);
        const std::string received = readFile(receiver.log);
        for (const std::string& secret : {accountKey, std::string("correct horse battery"),
                                          std::string(kSecret), key.str("api_key")})
            CHECK(received.find(secret) == std::string::npos);
    }
    SECTION("the event log: the same events, the same JSON, one per line") {
        const auto logged = Receiver::lines(dir.file("events.jsonl"));
        CHECK(typesOf(logged, nullptr) == expected);
        for (std::size_t i = 0; i < logged.size(); ++i)
            CHECK(logged[i]->getValue<std::string>("id") ==
                  delivered[i]->getObject("body")->getValue<std::string>("id"));
        CHECK((std::filesystem::status(dir.file("events.jsonl")).permissions() &
               std::filesystem::perms::group_all) == std::filesystem::perms::none);
    }
}

TEST_CASE("A clean shutdown delivers what the webhook holds within drain_timeout", "[events]") {
    TempDir dir;
    Receiver receiver(dir, 0, 400); // slow: each delivery takes 400 ms
    HostProcess host(
        dir.write("latchkey.yaml",
                  testConfig(dir, "", "", sinks(dir, receiver, "    drain_timeout: 20s\n"))));
    HttpClient http(host.baseUrl());
    const Headers account{{"X-API-KEY", adminAccountKey(http)}};
    for (int i = 0; i < 6; ++i) {
        REQUIRE(http.post("/v1.1/instances/", R"({"name": "drain-)" + std::to_string(i) + "\"}",
                          account)
                    .status == 201);
        REQUIRE(
            http.request("DELETE", "/v1.1/instances/drain-" + std::to_string(i) + "/", "", account)
                .status == 204);
    }
    // 7 events (a login, six deletions) at 400 ms each: most are still queued now.
    CHECK(receiver.requests().size() < 7);
    CHECK(host.stop() == 0);
    CHECK(receiver.requests().size() == 7);
    CHECK(Receiver::lines(dir.file("events.jsonl")).size() == 7);
}

TEST_CASE("A webhook whose receiver is down drops after its attempts and never logs the URL's "
          "secret part",
          "[events]") {
    TempDir dir;
    HostProcess host(dir.write(
        "latchkey.yaml",
        testConfig(
            dir, "", "",
            "events:\n  webhook:\n    url: http://user:pw@127.0.0.1:1/hooks/T0KEN?sig=S3CRET\n"
            "    secret: " +
                std::string(kSecret) + "\n    attempts: 2\n    backoff: 10ms\n")));
    HttpClient http(host.baseUrl());
    adminAccountKey(http); // account.logged_in
    std::string log;
    for (int i = 0; i < 100 && log.find("dropped after 2 attempts") == std::string::npos; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        log = host.log();
    }
    CHECK_THAT(log, Catch::Contains("dropped after 2 attempts"));
    CHECK_THAT(log, Catch::Contains("not delivered"));
    for (const char* secret : {"T0KEN", "S3CRET", "user:pw"})
        CHECK(log.find(secret) == std::string::npos);
    const HttpResult metrics = http.get("/metrics");
    CHECK_THAT(metrics.body,
               Catch::Contains("latchkey_webhook_deliveries_total{outcome=\"dropped\","
                               "plugin=\"webhook\"} 1"));
}

TEST_CASE("The login-token flow's events reach the sinks, marked with the plugin", "[events]") {
    TempDir dir;
    HostProcess host(
        dir.write("latchkey.yaml",
                  testConfig(dir, "",
                             "  login-token:\n    instance: buzz-app\n"
                             "    super_user: {email: root@example.com, password: "
                             "root-password-for-tests}\n",
                             "events:\n  event-log: {path: " + dir.file("events.jsonl") + "}\n")));
    HttpClient http(host.baseUrl());
    REQUIRE(http.request("PUT", "/rest/change_password",
                         R"({"email": "root@example.com", "new_password": "a new long password",)"
                         R"( "login_token": "not-the-token"})")
                .status == 400);
    REQUIRE(http.post("/rest/authenticate",
                      R"({"email": "root@example.com", "password": "root-password-for-tests"})")
                .status == 200);
    host.stop();
    const auto events = Receiver::lines(dir.file("events.jsonl"));
    std::vector<std::string> types;
    for (const auto& event : events)
        types.push_back(event->getValue<std::string>("type"));
    // The super user made at start, the wrong token, the login through /rest.
    CHECK(types == std::vector<std::string>{"user.created", "user.login_failed", "user.logged_in"});
    REQUIRE(events.size() == 3);
    const auto failed = events[1]->getObject("data");
    CHECK(failed->getValue<std::string>("plugin") == "login-token");
    CHECK(failed->getValue<std::string>("method") == "login_token");
    CHECK(failed->getValue<std::string>("reason") == "wrong_token");
    CHECK(events[2]->getObject("data")->getValue<std::string>("api") == "/rest");
    CHECK(readFile(dir.file("events.jsonl")).find("not-the-token") == std::string::npos);
}

TEST_CASE("The webhook's settings are checked at start", "[events]") {
    TempDir dir;
    const auto result = runLatchkey(
        {"check-config", "-c",
         dir.write("latchkey.yaml",
                   testConfig(dir, "", "",
                              "events:\n  webhook: {url: ftp://example.com, secret: short}\n"))});
    CHECK(result.exitCode != 0);
    CHECK_THAT(result.err + result.out,
               Catch::Contains("events.webhook.url: must be an http(s) URL"));
    CHECK_THAT(result.err + result.out,
               Catch::Contains("events.webhook.secret: must be at least 32 characters"));
}
