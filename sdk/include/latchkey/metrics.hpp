// ABI: a plugin's own metrics, kept in the host's registry and served with the host's at
// GET /metrics in the Prometheus text format (since SDK 2.5).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace latchkey {

/// The labels of one series, as (name, value) pairs. Values must come from a small fixed set
/// (a driver's name, an outcome code), never from a request: every distinct value is a series
/// the host keeps for good. The host adds `plugin="<the plugin's name>"` to every series.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

/// A count that only goes up. Thread-safe; owned by the host, valid for the plugin's life.
class MetricCounter {
public:
    virtual ~MetricCounter() = default;
    /// Adds `amount`; a negative amount is ignored.
    virtual void add(double amount = 1) = 0;
};

/// Observations (durations in seconds, sizes) counted into fixed buckets. Thread-safe; owned
/// by the host, valid for the plugin's life.
class MetricHistogram {
public:
    virtual ~MetricHistogram() = default;
    /// Counts one observation.
    virtual void observe(double value) = 0;
};

/// The host's metrics registry as one plugin sees it (PluginContext::metrics()). Names follow
/// the Prometheus rules, begin with `latchkey_` and name one type: a counter's end in `_total`,
/// a duration's in `_seconds`. A name that breaks these rules, or that the host or another
/// plugin already uses for another type, or a label called `plugin`, throws
/// std::invalid_argument. Lookups take a lock: make each series once (at creation) and keep the
/// reference. When the host serves no metrics (`server.metrics: false`, or a CLI command) every
/// call still works and nothing is served. Thread-safe.
class Metrics {
public:
    virtual ~Metrics() = default;

    /// The counter `name` with `labels`: made on the first call, the same object after.
    virtual MetricCounter& counter(std::string_view name, std::string_view help,
                                   const MetricLabels& labels = {}) = 0;

    /// The histogram `name` with `labels`: made on the first call, the same object after.
    /// `bounds` are the buckets' upper bounds, increasing; the first call for a series sets
    /// them.
    virtual MetricHistogram& histogram(std::string_view name, std::string_view help,
                                       const std::vector<double>& bounds,
                                       const MetricLabels& labels = {}) = 0;

    /// A gauge read when the metrics are scraped: `read` runs on the scraping thread, so it
    /// must be quick, thread-safe and never block. The host stops calling it before the plugin
    /// is destroyed. A second gauge with the same name and labels replaces the first; an empty
    /// `read` throws std::invalid_argument.
    virtual void gauge(std::string_view name, std::string_view help, std::function<double()> read,
                       const MetricLabels& labels = {}) = 0;
};

} // namespace latchkey
