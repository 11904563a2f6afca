// The host's metrics registry: the route series, and the rules a plugin's metrics follow
// (names, labels, one type per name, gauges gone with their plugin).
#include "runtime/host_metrics.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>

using latchkey::runtime::HostMetrics;

TEST_CASE("Requests are counted by route pattern, the rest as unmatched by a known method",
          "[metrics]") {
    HostMetrics metrics;
    metrics.prepareRoutes({{"GET", "/v1.1/instances/{instance}/"}, {"POST", "/rest/user"}});
    metrics.countRequest(0, "GET", 200, 0.001);
    metrics.countRequest(0, "GET", 200, 0.002);
    metrics.countRequest(1, "POST", 418, 0.5); // a status outside the ready list
    metrics.countRequest(std::nullopt, "GET", 404, 0.0001);
    metrics.countRequest(std::nullopt, "BREW", 405, 0.0001);
    metrics.countRequest(7, "GET", 404, 0.0001); // an index past the table
    const std::string text = metrics.scrape();
    // Labels in name order.
    CHECK_THAT(text, Catch::Contains("latchkey_http_requests_total{method=\"GET\",route=\"/v1.1/"
                                     "instances/{instance}/\",status=\"200\"} 2"));
    CHECK_THAT(text, Catch::Contains("latchkey_http_requests_total{method=\"POST\",route=\"/rest/"
                                     "user\",status=\"418\"} 1"));
    CHECK_THAT(text, Catch::Contains("latchkey_http_requests_total{method=\"GET\",route=\""
                                     "unmatched\",status=\"404\"} 2"));
    CHECK_THAT(text, Catch::Contains("latchkey_http_requests_total{method=\"other\",route=\""
                                     "unmatched\",status=\"405\"} 1"));
    CHECK_THAT(text, !Catch::Contains("BREW"));
    CHECK_THAT(text, Catch::Contains("# TYPE latchkey_http_request_duration_seconds histogram"));
}

TEST_CASE("A plugin's metrics carry its name and follow the naming rules", "[metrics]") {
    HostMetrics host;
    auto plugin = host.forPlugin("sqlite");
    plugin->counter("latchkey_store_retries_total", "Retries.", {{"driver", "sqlite"}}).add(2);
    // The same series again: the same object.
    auto& again =
        plugin->counter("latchkey_store_retries_total", "Retries.", {{"driver", "sqlite"}});
    again.add();
    again.add(-5); // ignored: a counter never goes down
    plugin->histogram("latchkey_store_wait_seconds", "Waits.", {0.1, 1}).observe(0.5);
    plugin->gauge("latchkey_store_open", "Open.", [] { return 3.0; });
    std::string text = host.scrape();
    CHECK_THAT(text, Catch::Contains(
                         "latchkey_store_retries_total{driver=\"sqlite\",plugin=\"sqlite\"} 3"));
    CHECK_THAT(text,
               Catch::Contains("latchkey_store_wait_seconds_bucket{plugin=\"sqlite\",le=\"1\"} 1"));
    CHECK_THAT(text, Catch::Contains("latchkey_store_open{plugin=\"sqlite\"} 3"));

    SECTION("names and labels that break the rules are refused") {
        CHECK_THROWS_AS(plugin->counter("store_retries_total", "No prefix."),
                        std::invalid_argument);
        CHECK_THROWS_AS(plugin->counter("latchkey_store_retries", "No _total."),
                        std::invalid_argument);
        CHECK_THROWS_AS(
            plugin->gauge("latchkey_open_total", "A gauge with _total.", [] { return 1.0; }),
            std::invalid_argument);
        CHECK_THROWS_AS(plugin->counter("latchkey_bad-name_total", "Dash."), std::invalid_argument);
        CHECK_THROWS_AS(plugin->counter("latchkey_x_total", "Mine.", {{"plugin", "other"}}),
                        std::invalid_argument);
        CHECK_THROWS_AS(plugin->counter("latchkey_x_total", "Bad label.", {{"a b", "c"}}),
                        std::invalid_argument);
        CHECK_THROWS_AS(plugin->histogram("latchkey_y_seconds", "Not increasing.", {1, 0.5}),
                        std::invalid_argument);
    }
    SECTION("a name is one type, and the host's names are the host's") {
        CHECK_THROWS_AS(
            plugin->gauge("latchkey_store_wait_seconds", "Now a gauge?", [] { return 1.0; }),
            std::invalid_argument);
        CHECK_THROWS_AS(plugin->counter("latchkey_http_requests_total", "The host's."),
                        std::invalid_argument);
        // Another plugin may share a name: its series differ by the plugin label.
        auto other = host.forPlugin("postgresql");
        other->counter("latchkey_store_retries_total", "Retries.", {{"driver", "postgresql"}});
        CHECK_THAT(host.scrape(), Catch::Contains("plugin=\"postgresql\""));
    }
    SECTION("the host stops reading a plugin's gauges before it destroys the plugin") {
        host.dropGauges("sqlite");
        CHECK_THAT(host.scrape(), !Catch::Contains("latchkey_store_open{"));
    }
    SECTION("a plugin's gauges go with it") {
        plugin.reset();
        text = host.scrape();
        CHECK_THAT(text, !Catch::Contains("latchkey_store_open{"));
        // Counters stay: a scrape never sees a counter go back.
        CHECK_THAT(text, Catch::Contains("latchkey_store_retries_total{"));
    }
}

TEST_CASE("Without metrics, a plugin's calls still work and still check names", "[metrics]") {
    auto none = HostMetrics::discarding();
    none->counter("latchkey_anything_total", "Kept nowhere.").add();
    none->histogram("latchkey_anything_seconds", "Kept nowhere.", {1}).observe(2);
    none->gauge("latchkey_anything", "Kept nowhere.", [] { return 1.0; });
    CHECK_THROWS_AS(none->counter("anything", "No prefix."), std::invalid_argument);
}

TEST_CASE("Logins that are answered alike are counted alike", "[metrics]") {
    HostMetrics metrics;
    for (const char* reason : {"unknown_user", "wrong_password", "inactive", "unknown_account"})
        metrics.countAuthEvent("/v1.1", "login", "failure", reason);
    metrics.countAuthEvent("/rest", "login", "refused", "throttled");
    const std::string text = metrics.scrape();
    CHECK_THAT(text, Catch::Contains("latchkey_auth_events_total{api=\"/v1.1\",event=\"login\","
                                     "outcome=\"failure\",reason=\"bad_credentials\"} 4"));
    CHECK_THAT(text, Catch::Contains("reason=\"throttled\"} 1"));
    CHECK_THAT(text, !Catch::Contains("unknown"));
}
