// The host's Prometheus metrics: what it counts as it serves, what it samples when scraped, and
// the text exposition format (prometheus-cpp's registry and serializer).
#pragma once

#include <latchkey/metrics.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace latchkey::runtime {

/// One sampled value: its labels (name, value) and the value.
struct MetricSample {
    std::vector<std::pair<std::string, std::string>> labels;
    double value = 0;
};

/// One metric read at scrape time from a value the host already keeps (open connections, a
/// lane's queue, the caches' counters).
struct SampledMetric {
    enum class Type : std::uint8_t { Counter, Gauge };
    std::string name; ///< latchkey_..., with `_total` for a counter.
    std::string help;
    Type type = Type::Gauge;
    /// Called on the scraping thread; must be thread-safe and must not block for long.
    std::function<std::vector<MetricSample>()> read;
};

/// The registry of one host. Counting is thread-safe and cheap enough for the network threads
/// (after a route's first answer with a status, no lock but the histogram's own); set-up
/// (prepareRoutes, addSampled) is for start-up only, before serving.
class HostMetrics {
public:
    HostMetrics();
    ~HostMetrics();
    HostMetrics(const HostMetrics&) = delete;
    HostMetrics& operator=(const HostMetrics&) = delete;

    /// The route table, as `{method, pattern}` by route index (HostRouter::routeList()). Requests
    /// to a route index outside it count as unmatched.
    void prepareRoutes(const std::vector<std::pair<std::string, std::string>>& routes);

    /// Counts one answer: `route` is the route index, or nullopt for a request no route took
    /// (404, 405, a framing error); `method` as received (unmatched requests are labelled by a
    /// known method or "other"); `seconds` from the request's arrival to its answer.
    void countRequest(std::optional<std::size_t> route, std::string_view method, int status,
                      double seconds);

    /// Counts one authentication event: `api` the prefix of the API it came through ("/v1.1",
    /// "/rest"; empty: "-"), `event` and `outcome` as in the event log, `reason` its code or
    /// empty. Every value is a code from a small fixed set, never input. The reasons a login
    /// answers alike (unknown user or account, wrong password, inactive) are all counted as
    /// "bad_credentials", so the metrics cannot tell which accounts exist.
    void countAuthEvent(std::string_view api, std::string_view event, std::string_view outcome,
                        std::string_view reason);

    /// Counts one call to another server by `plugin` (the name of the plugin that made it):
    /// `outcome` the answer's status class ("2xx" ... "5xx") or "error" (no answer: unreachable,
    /// TLS, timeout, too large); `seconds` how long it took.
    void countOutbound(std::string_view plugin, std::string_view outcome, double seconds);

    /// Adds a metric read when scraped.
    void addSampled(SampledMetric metric);

    /// What PluginContext::metrics() hands the plugin `plugin`: its series carry
    /// `plugin="<plugin>"`; its gauges are dropped with it. Must not outlive this.
    std::unique_ptr<Metrics> forPlugin(std::string plugin);

    /// Stops reading the gauges of `plugin` (before the plugin is destroyed: they call into it).
    void dropGauges(std::string_view plugin);

    /// A Metrics that keeps nothing: for a host serving no metrics, and CLI commands.
    static std::unique_ptr<Metrics> discarding();

    /// Everything, in the Prometheus text exposition format (version 0.0.4). One scrape runs at
    /// a time: a scrape that comes while another runs answers the last one's text at once.
    std::string scrape() const;

    /// The media type of scrape()'s text.
    static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

private:
    class PluginView;
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace latchkey::runtime
