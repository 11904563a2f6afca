// GET /metrics on the real host, read by the reference Prometheus text parser (Debian's
// python3-prometheus-client, through tests/support/parse_metrics.py): requests by route, method
// and status; authentication events by API and outcome; the lanes, the hasher, the caches, the
// store, the mail queue and the outbound calls; and where it is served.
#include "support/fake_providers.hpp"
#include "support/host_process.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

using namespace latchkey::test;

namespace {

constexpr const char* kRootEmail = "root@example.com";
constexpr const char* kRootPassword = "root-password-for-tests";

/// Samples by `name{labels}`, labels sorted, as the reference parser read them.
using Samples = std::map<std::string, double>;

/// Scrapes `url` and parses the text with the reference parser; fails the test when the text
/// does not parse.
Samples scrape(const TempDir& dir, const std::string& baseUrl, const std::string& path) {
    const HttpResult answer = HttpClient(baseUrl).get(path);
    REQUIRE(answer.status == 200);
    CHECK(answer.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
    const std::string text = dir.write("scrape.txt", answer.body);
    const std::string parsed = dir.file("parsed.txt");
    const std::string errors = dir.file("parse-errors.txt");
    const std::string command = "/usr/bin/python3 '" + std::string(LATCHKEY_TEST_SOURCE_DIR) +
                                "/tests/support/parse_metrics.py' < '" + text + "' > '" + parsed +
                                "' 2> '" + errors + "'";
    const int status = std::system(command.c_str()); // NOLINT(concurrency-mt-unsafe)
    INFO(readFile(errors));
    REQUIRE(status == 0);
    Samples samples;
    std::istringstream lines(readFile(parsed));
    for (std::string line; std::getline(lines, line);) {
        const auto space = line.rfind(' ');
        REQUIRE(space != std::string::npos);
        samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
    }
    REQUIRE_FALSE(samples.empty());
    return samples;
}

/// The value of `series`, 0 when it is absent (a counter that has not moved yet).
double value(const Samples& samples, const std::string& series) {
    const auto found = samples.find(series);
    return found == samples.end() ? 0 : found->second;
}

/// How much `series` moved from `before` to `after`.
double moved(const Samples& before, const Samples& after, const std::string& series) {
    return value(after, series) - value(before, series);
}

/// The "metrics on URL" line of the host's log.
std::string metricsUrlIn(const std::string& log) {
    std::smatch found;
    REQUIRE(std::regex_search(log, found, std::regex("metrics on (http://[0-9.:]+)/metrics")));
    return found[1];
}

} // namespace

TEST_CASE("GET /metrics counts requests, logins by API and outcome, mail, store and provider "
          "calls",
          "[metrics]") {
    FakeProviders fake;
    fake.control("apps", R"({"provider": "facebook", "app_id": "fb-app", "secret": "fb-secret"})");
    TempDir dir;
    HostProcess host(
        dir.write("latchkey.yaml",
                  testConfig(dir, "",
                             "  login-token:\n"
                             "    instance: buzz-app\n"
                             "    super_user: {email: " +
                                 std::string(kRootEmail) + ", password: " + kRootPassword +
                                 "}\n"
                                 "    roles:\n"
                                 "      - {id: 1, name: member, permissions: {user: 1}}\n"
                                 "  social:\n    facebook: {app_id: fb-app, app_secret: fb-secret, "
                                 "graph_url: " +
                                 fake.baseUrl() + "/facebook}\n")));
    HttpClient http(host.baseUrl());
    const Headers admin{{"X-API-KEY", adminAccountKey(http)}};
    REQUIRE(http.post("/v1.1/instances/", R"({"name": "fb-app"})", admin).status == 201);
    fake.control("tokens", R"({"provider": "facebook", "token": "good", "app": "fb-app",
                               "user": {"id": "7"}})");
    const Samples before = scrape(dir, host.baseUrl(), "/metrics");

    for (int i = 0; i < 3; ++i)
        REQUIRE(http.get("/healthz").status == 200);
    REQUIRE(http.get("/no/such/route").status == 404);
    const std::string wrong = R"({"email": "admin@example.com", "password": "not it"})";
    REQUIRE(http.post("/v1.1/account/auth/", wrong).status == 401);
    REQUIRE(http.post("/v1.1/account/auth/", wrong).status == 401);
    REQUIRE(
        http.post("/v1.1/account/auth/", R"({"email": "nobody@example.com", "password": "not it"})")
            .status == 401);
    const auto rootLogin =
        http.post("/rest/authenticate", R"({"email": ")" + std::string(kRootEmail) +
                                            R"(", "password": ")" + kRootPassword + "\"}");
    REQUIRE(rootLogin.status == 200);
    REQUIRE(http.post("/rest/authenticate",
                      R"({"email": ")" + std::string(kRootEmail) + R"(", "password": "nope"})")
                .status == 401);
    const std::string cookie =
        rootLogin.header("Set-Cookie").substr(0, rootLogin.header("Set-Cookie").find(';'));
    REQUIRE(http.request("POST", "/rest/user",
                         R"({"email": "invited@example.com", "role_id": 1, "first_name": "I"})",
                         {{"Cookie", cookie}})
                .status == 201);
    const std::string social = "/v1.1/instances/fb-app/user/auth/facebook/";
    REQUIRE(http.post(social, R"({"access_token": "good"})", admin).status == 200);
    REQUIRE(http.post(social, R"({"access_token": "unknown"})", admin).status == 401);

    // The invitation is mailed off the request path: wait for the counter, not a fixed time.
    Samples after;
    const std::string sent = R"(latchkey_mail_total{outcome="sent",plugin="login-token"})";
    for (int i = 0; i < 100 && moved(before, after, sent) < 1; ++i) {
        if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        after = scrape(dir, host.baseUrl(), "/metrics");
    }
    CHECK(moved(before, after, sent) == 1);
    CHECK(value(after, R"(latchkey_mail_total{outcome="failed",plugin="login-token"})") == 0);

    SECTION("requests by route pattern, method and status, with their latency") {
        CHECK(
            moved(before, after,
                  R"(latchkey_http_requests_total{method="GET",route="/healthz",status="200"})") ==
            3);
        CHECK(moved(before, after,
                    R"(latchkey_http_request_duration_seconds_count{method="GET",route="/healthz",)"
                    R"(status="200"})") == 3);
        CHECK(moved(before, after,
                    R"(latchkey_http_request_duration_seconds_bucket{le="+Inf",method="GET",)"
                    R"(route="/healthz",status="200"})") == 3);
        CHECK(moved(before, after,
                    R"(latchkey_http_requests_total{method="POST",route="/v1.1/account/auth/",)"
                    R"(status="401"})") == 3);
        CHECK(moved(before, after,
                    R"(latchkey_http_requests_total{method="POST",route="/v1.1/instances/)"
                    R"({instance}/user/auth/{backend}/",status="200"})") == 1);
        // No path of a request is a label: what no route took is "unmatched".
        CHECK(
            moved(before, after,
                  R"(latchkey_http_requests_total{method="GET",route="unmatched",status="404"})") >=
            1);
        for (const auto& [series, count] : after)
            CHECK(series.find("/no/such/route") == std::string::npos);
    }
    SECTION("authentication events by API, event and outcome") {
        CHECK(moved(before, after,
                    R"(latchkey_auth_events_total{api="/v1.1",event="account_login",)"
                    R"(outcome="failure",reason="bad_credentials"})") == 3);
        // An unknown address counts as a wrong password does: the metrics cannot tell which
        // accounts exist (the log still can).
        for (const auto& [series, count] : after) {
            CHECK(series.find("unknown") == std::string::npos);
            CHECK(series.find("wrong_password") == std::string::npos);
        }
        CHECK(moved(before, after,
                    R"(latchkey_auth_events_total{api="/rest",event="login",outcome="success",)"
                    R"(reason="-"})") == 1);
        CHECK(moved(before, after,
                    R"(latchkey_auth_events_total{api="/rest",event="login",outcome="failure",)"
                    R"(reason="bad_credentials"})") == 1);
        CHECK(moved(before, after,
                    R"(latchkey_auth_events_total{api="/v1.1",event="social_login",)"
                    R"(outcome="success",reason="-"})") == 1);
        CHECK(moved(before, after,
                    R"(latchkey_auth_events_total{api="/v1.1",event="social_login",)"
                    R"(outcome="failure",reason="invalid_token"})") == 1);
    }
    SECTION("outbound calls by plugin and outcome") {
        CHECK(moved(before, after,
                    R"(latchkey_outbound_requests_total{outcome="2xx",plugin="facebook"})") >= 1);
        CHECK(moved(before, after,
                    R"(latchkey_outbound_request_duration_seconds_count{outcome="2xx",)"
                    R"(plugin="facebook"})") >= 1);
    }
    SECTION("the server, the hasher, the caches and the store") {
        // The scraping connection itself is open.
        CHECK(value(after, "latchkey_open_connections{}") >= 1);
        for (const char* lane : {"standard", "hashing", "outbound"}) {
            CHECK(after.count(std::string(R"(latchkey_lane_queued{lane=")") + lane + "\"}") == 1);
            CHECK(after.count(std::string(R"(latchkey_lane_shed_total{lane=")") + lane + "\"}") ==
                  1);
        }
        CHECK(after.count("latchkey_password_hashes_in_flight{}") == 1);
        CHECK(value(after, "latchkey_password_hashes_shed_total{}") == 0);
        CHECK(after.count(R"(latchkey_password_pool_waiting{plugin="password"})") == 1);
        CHECK(after.count(R"(latchkey_mail_queue_depth{plugin="login-token"})") == 1);
        // Each login read the user or account; the API key lookups come from the caches.
        CHECK(moved(before, after, R"(latchkey_cache_hits_total{cache="api_keys"})") +
                  moved(before, after, R"(latchkey_cache_hits_total{cache="instances"})") >=
              1);
        const std::string driver = testStorageDriver();
        CHECK(moved(before, after,
                    R"(latchkey_store_call_duration_seconds_count{driver=")" + driver +
                        R"(",outcome="ok",plugin=")" + driver + "\"}") >= 1);
        CHECK(value(after, R"(latchkey_store_connections{driver=")" + driver + R"(",plugin=")" +
                               driver + "\"}") >= 1);
    }
}

TEST_CASE("server.metrics_listen serves /metrics there only, and server.metrics: false not at all",
          "[metrics]") {
    TempDir dir;
    std::string config = testConfig(dir);
    const std::string listen = "  listen: 127.0.0.1:0\n";
    SECTION("metrics_listen") {
        config.replace(config.find(listen), listen.size(),
                       listen + "  metrics_listen: 127.0.0.1:0\n");
        HostProcess host(dir.write("latchkey.yaml", config));
        HttpClient http(host.baseUrl());
        REQUIRE(http.get("/healthz").status == 200);
        CHECK(http.get("/metrics").status == 404);
        const std::string metricsUrl = metricsUrlIn(host.log());
        CHECK(metricsUrl != host.baseUrl());
        const Samples samples = scrape(dir, metricsUrl, "/metrics");
        // It counts the main listener's requests, not its own.
        CHECK(
            value(samples,
                  R"(latchkey_http_requests_total{method="GET",route="/healthz",status="200"})") ==
            1);
        CHECK(
            value(samples,
                  R"(latchkey_http_requests_total{method="GET",route="unmatched",status="404"})") ==
            1);
        CHECK(HttpClient(metricsUrl).get("/healthz").status == 404);
    }
    SECTION("metrics: false") {
        config.replace(config.find(listen), listen.size(), listen + "  metrics: false\n");
        HostProcess host(dir.write("latchkey.yaml", config));
        CHECK(HttpClient(host.baseUrl()).get("/metrics").status == 404);
        CHECK(host.log().find("metrics on") == std::string::npos);
    }
    SECTION("metrics_listen on the main listener's address is a config error") {
        config.replace(config.find(listen), listen.size(),
                       "  listen: 127.0.0.1:18080\n  metrics_listen: 127.0.0.1:18080\n");
        const auto result = runLatchkey({"check-config", "-c", dir.write("latchkey.yaml", config)});
        CHECK(result.exitCode != 0);
        CHECK_THAT(result.err + result.out,
                   Catch::Contains("metrics_listen: must not be the address of server.listen"));
    }
    SECTION("metrics_listen with metrics: false is a config error naming the key") {
        config.replace(config.find(listen), listen.size(),
                       listen + "  metrics: false\n  metrics_listen: 127.0.0.1:0\n");
        const auto result = runLatchkey({"check-config", "-c", dir.write("latchkey.yaml", config)});
        CHECK(result.exitCode != 0);
        CHECK_THAT(result.err + result.out, Catch::Contains("metrics_listen"));
    }
}
