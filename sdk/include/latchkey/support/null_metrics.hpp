// Support: a Metrics that keeps nothing, for a plugin's own tests and for contexts that serve
// no metrics (a test harness that creates a plugin without a host).
#pragma once

#include <latchkey/metrics.hpp>

namespace latchkey {

/// Every call works and nothing is kept or checked. Thread-safe.
class NullMetrics : public Metrics {
public:
    MetricCounter& counter(std::string_view, std::string_view, const MetricLabels&) override {
        return counter_;
    }
    MetricHistogram& histogram(std::string_view, std::string_view, const std::vector<double>&,
                               const MetricLabels&) override {
        return histogram_;
    }
    void gauge(std::string_view, std::string_view, std::function<double()>,
               const MetricLabels&) override {}

private:
    struct NoCounter final : MetricCounter {
        void add(double) override {}
    };
    struct NoHistogram final : MetricHistogram {
        void observe(double) override {}
    };
    NoCounter counter_;
    NoHistogram histogram_;
};

} // namespace latchkey
