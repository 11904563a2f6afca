// The host's Prometheus metrics: prometheus-cpp's registry for what is counted as it happens,
// plus the families read at scrape time from counters the host keeps anyway.
#include "runtime/host_metrics.hpp"

#include <latchkey/support/null_metrics.hpp>

#include <prometheus/check_names.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>

namespace latchkey::runtime {

namespace {

/// The statuses a route's series are kept ready for without a lock once seen; any other status
/// is counted through the family's own (locked) lookup.
constexpr std::array<int, 28> kStatuses{200, 201, 202, 204, 301, 302, 303, 304, 400, 401,
                                        403, 404, 405, 408, 409, 410, 411, 413, 415, 422,
                                        429, 431, 500, 501, 502, 503, 504, 505};

/// The names of the host's sampled metrics (HttpServer::countInto, Application::mountMetrics),
/// reserved before any plugin exists; a counter's end in _total.
constexpr std::array<std::string_view, 13> kSampledNames{"latchkey_open_connections",
                                                         "latchkey_refused_connections_total",
                                                         "latchkey_body_memory_refused_total",
                                                         "latchkey_inline_answers_total",
                                                         "latchkey_lane_queued",
                                                         "latchkey_lane_running",
                                                         "latchkey_lane_shed_total",
                                                         "latchkey_password_hashes_in_flight",
                                                         "latchkey_password_hashes_shed_total",
                                                         "latchkey_cache_hits_total",
                                                         "latchkey_cache_misses_total",
                                                         "latchkey_cache_refreshes_total",
                                                         "latchkey_cache_refused_total"};

/// The methods an unmatched request is labelled with; anything else is "other".
constexpr std::array<std::string_view, 7> kMethods{"GET",   "HEAD",   "POST",   "PUT",
                                                   "PATCH", "DELETE", "OPTIONS"};

std::optional<std::size_t> statusIndex(int status) {
    for (std::size_t i = 0; i < kStatuses.size(); ++i) {
        if (kStatuses[i] == status) return i;
    }
    return std::nullopt;
}

std::size_t methodIndex(std::string_view method) {
    for (std::size_t i = 0; i < kMethods.size(); ++i) {
        if (kMethods[i] == method) return i;
    }
    return kMethods.size(); // "other"
}

/// Request latency: from half a millisecond (a cached key lookup) to ten seconds (a request
/// that waited for the database or a provider).
prometheus::Histogram::BucketBoundaries requestBuckets() {
    return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

prometheus::Histogram::BucketBoundaries outboundBuckets() {
    return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

/// What a metric name is registered as, to refuse one name for two types.
enum class Kind : std::uint8_t { Counter, Histogram, Gauge };

/// The plugin's labels with `plugin` first, checked.
prometheus::Labels pluginLabels(const std::string& plugin, const MetricLabels& labels) {
    prometheus::Labels all{{"plugin", plugin}};
    for (const auto& [name, value] : labels) {
        if (name == "plugin") throw std::invalid_argument("the label \"plugin\" is the host's");
        if (!prometheus::CheckLabelName(name) || name.rfind("__", 0) == 0) {
            throw std::invalid_argument("not a metric label name: \"" + name + "\"");
        }
        all[name] = value;
    }
    return all;
}

/// A plugin's metric name, checked against the rules of metrics.hpp.
std::string pluginName(std::string_view name, Kind kind) {
    std::string text(name);
    if (text.rfind("latchkey_", 0) != 0 || !prometheus::CheckMetricName(text)) {
        throw std::invalid_argument("not a latchkey_ metric name: \"" + text + "\"");
    }
    const auto endsWith = [&text](std::string_view end) {
        return text.size() > end.size() &&
               text.compare(text.size() - end.size(), end.size(), end.data(), end.size()) == 0;
    };
    if ((kind == Kind::Counter) != endsWith("_total")) {
        throw std::invalid_argument("\"" + text + "\": a counter's name, and only a counter's, " +
                                    "ends in _total");
    }
    return text;
}

prometheus::MetricType typeOf(SampledMetric::Type type) {
    return type == SampledMetric::Type::Counter ? prometheus::MetricType::Counter
                                                : prometheus::MetricType::Gauge;
}

} // namespace

struct HostMetrics::Impl {
    /// One (route, method, status) series.
    struct Series {
        prometheus::Counter* count = nullptr;
        prometheus::Histogram* duration = nullptr;
    };
    /// One route (or the unmatched requests of one method): its labels, and its series by
    /// status, made on first use.
    struct Slot {
        std::string route;
        std::string method;
        std::array<std::atomic<const Series*>, kStatuses.size()> byStatus{};
    };

    prometheus::Registry registry;
    prometheus::Family<prometheus::Counter>& requests =
        prometheus::BuildCounter()
            .Name("latchkey_http_requests_total")
            .Help("HTTP requests answered, by route pattern, method and status.")
            .Register(registry);
    prometheus::Family<prometheus::Histogram>& durations =
        prometheus::BuildHistogram()
            .Name("latchkey_http_request_duration_seconds")
            .Help("From a request's arrival to its answer, by route pattern, method and status.")
            .Register(registry);
    prometheus::Family<prometheus::Counter>& authEvents =
        prometheus::BuildCounter()
            .Name("latchkey_auth_events_total")
            .Help("Authentication events (logins, refusals, key resets, password and address "
                  "changes) by API, event, outcome and reason.")
            .Register(registry);
    prometheus::Family<prometheus::Counter>& outboundCalls =
        prometheus::BuildCounter()
            .Name("latchkey_outbound_requests_total")
            .Help("Calls to other servers (social providers) by plugin and outcome.")
            .Register(registry);
    prometheus::Family<prometheus::Histogram>& outboundDurations =
        prometheus::BuildHistogram()
            .Name("latchkey_outbound_request_duration_seconds")
            .Help("How long calls to other servers took, by plugin and outcome.")
            .Register(registry);

    /// Every name registered: its kind, and whether it is the host's (plugins share their
    /// names, told apart by the `plugin` label; no plugin may use one of the host's).
    std::mutex naming;
    std::map<std::string, std::pair<Kind, bool>, std::less<>> names;
    /// Plugins' families and gauges (under `naming`).
    std::map<std::string, prometheus::Family<prometheus::Counter>*, std::less<>> pluginCounters;
    std::map<std::string, prometheus::Family<prometheus::Histogram>*, std::less<>> pluginHistograms;
    struct PluginGauge {
        std::string help;
        std::map<prometheus::Labels, std::function<double()>> reads;
    };
    /// Under `gauging`, not `naming`: a slow gauge holds up scrapes only.
    std::mutex gauging;
    std::map<std::string, PluginGauge, std::less<>> pluginGauges;

    /// One scrape at a time; one that finds another running answers the last text instead.
    std::mutex scraping;
    std::mutex lastMutex;
    std::shared_ptr<const std::string> last;

    /// Registers `name` as `kind` (the host's when `host`), or throws when it is another
    /// kind's or, for a plugin, the host's.
    void claim(const std::string& name, Kind kind, bool host = false) {
        const auto [at, added] = names.emplace(name, std::pair{kind, host});
        if (!added && (at->second.first != kind || at->second.second || host)) {
            throw std::invalid_argument("the metric name \"" + name + "\" is taken");
        }
    }

    /// Routes by index, then one unmatched slot per method in kMethods and one for "other".
    std::vector<std::unique_ptr<Slot>> slots;
    std::mutex creating; ///< Held while a series is made; `made` keeps them.
    std::deque<Series> made;
    std::vector<SampledMetric> sampled;

    Slot& slotFor(std::optional<std::size_t> route, std::string_view method) {
        const std::size_t routes = slots.size() - (kMethods.size() + 1);
        if (route && *route < routes) return *slots[*route];
        return *slots[routes + methodIndex(method)];
    }

    Series seriesFor(const Slot& slot, int status) {
        const prometheus::Labels labels{
            {"route", slot.route}, {"method", slot.method}, {"status", std::to_string(status)}};
        return Series{&requests.Add(labels), &durations.Add(labels, requestBuckets())};
    }

    void addUnmatchedSlots() {
        for (const auto method : kMethods) {
            slots.push_back(std::make_unique<Slot>());
            slots.back()->route = "unmatched";
            slots.back()->method = std::string(method);
        }
        slots.push_back(std::make_unique<Slot>());
        slots.back()->route = "unmatched";
        slots.back()->method = "other";
    }
};

/// One plugin's view of the registry.
class HostMetrics::PluginView final : public Metrics {
public:
    PluginView(Impl& registry, std::string plugin)
        : registry_(registry), plugin_(std::move(plugin)) {}
    ~PluginView() override {
        const std::lock_guard lock(registry_.gauging);
        for (const auto& [name, labels] : gauges_) {
            const auto gauge = registry_.pluginGauges.find(name);
            if (gauge != registry_.pluginGauges.end()) gauge->second.reads.erase(labels);
        }
    }
    PluginView(const PluginView&) = delete;
    PluginView& operator=(const PluginView&) = delete;

    MetricCounter& counter(std::string_view name, std::string_view help,
                           const MetricLabels& labels) override {
        const std::string checked = pluginName(name, Kind::Counter);
        const prometheus::Labels all = pluginLabels(plugin_, labels);
        const std::lock_guard lock(registry_.naming);
        registry_.claim(checked, Kind::Counter);
        auto& family = registry_.pluginCounters[checked];
        if (!family) {
            family = &prometheus::BuildCounter()
                          .Name(checked)
                          .Help(std::string(help))
                          .Register(registry_.registry);
        }
        return remember(counters_, family->Add(all));
    }

    MetricHistogram& histogram(std::string_view name, std::string_view help,
                               const std::vector<double>& bounds,
                               const MetricLabels& labels) override {
        const std::string checked = pluginName(name, Kind::Histogram);
        if (bounds.empty() || !std::is_sorted(bounds.begin(), bounds.end()) ||
            std::adjacent_find(bounds.begin(), bounds.end()) != bounds.end()) {
            throw std::invalid_argument("\"" + checked + "\": bucket bounds must increase");
        }
        const prometheus::Labels all = pluginLabels(plugin_, labels);
        const std::lock_guard lock(registry_.naming);
        registry_.claim(checked, Kind::Histogram);
        auto& family = registry_.pluginHistograms[checked];
        if (!family) {
            family = &prometheus::BuildHistogram()
                          .Name(checked)
                          .Help(std::string(help))
                          .Register(registry_.registry);
        }
        return remember(histograms_, family->Add(all, bounds));
    }

    void gauge(std::string_view name, std::string_view help, std::function<double()> read,
               const MetricLabels& labels) override {
        const std::string checked = pluginName(name, Kind::Gauge);
        if (!read) throw std::invalid_argument("\"" + checked + "\": no function to read");
        prometheus::Labels all = pluginLabels(plugin_, labels);
        {
            const std::lock_guard lock(registry_.naming);
            registry_.claim(checked, Kind::Gauge);
        }
        const std::lock_guard lock(registry_.gauging);
        Impl::PluginGauge& gauge = registry_.pluginGauges[checked];
        if (gauge.help.empty()) gauge.help = std::string(help);
        gauge.reads[all] = std::move(read);
        gauges_.emplace_back(checked, std::move(all)); // under `gauging`, like the destructor
    }

private:
    /// The SDK's handles over prometheus-cpp's series, kept as long as the view.
    struct Counter final : MetricCounter {
        explicit Counter(prometheus::Counter& c) : series(c) {}
        void add(double amount) override {
            if (amount > 0) series.Increment(amount);
        }
        prometheus::Counter& series;
    };
    struct Histogram final : MetricHistogram {
        explicit Histogram(prometheus::Histogram& h) : series(h) {}
        void observe(double value) override { series.Observe(value); }
        prometheus::Histogram& series;
    };

    template <class Handle, class Series>
    Handle& remember(std::map<Series*, std::unique_ptr<Handle>>& handles, Series& series) {
        auto& handle = handles[&series];
        if (!handle) handle = std::make_unique<Handle>(series);
        return *handle;
    }

    Impl& registry_;
    const std::string plugin_;
    // Under registry_.naming (gauges_: registry_.gauging).
    std::map<prometheus::Counter*, std::unique_ptr<Counter>> counters_;
    std::map<prometheus::Histogram*, std::unique_ptr<Histogram>> histograms_;
    std::vector<std::pair<std::string, prometheus::Labels>> gauges_;
};

namespace {

/// Keeps nothing, but refuses the names a host with metrics would: a host without metrics, and
/// CLI commands.
class DiscardingMetrics final : public NullMetrics {
public:
    MetricCounter& counter(std::string_view name, std::string_view help,
                           const MetricLabels& labels) override {
        pluginName(name, Kind::Counter);
        return NullMetrics::counter(name, help, labels);
    }
    MetricHistogram& histogram(std::string_view name, std::string_view help,
                               const std::vector<double>& bounds,
                               const MetricLabels& labels) override {
        pluginName(name, Kind::Histogram);
        return NullMetrics::histogram(name, help, bounds, labels);
    }
    void gauge(std::string_view name, std::string_view, std::function<double()>,
               const MetricLabels&) override {
        pluginName(name, Kind::Gauge);
    }
};

} // namespace

HostMetrics::HostMetrics() : impl_(std::make_unique<Impl>()) {
    impl_->addUnmatchedSlots();
    for (const char* name : {"latchkey_http_requests_total", "latchkey_auth_events_total",
                             "latchkey_outbound_requests_total"})
        impl_->claim(name, Kind::Counter, true);
    for (const char* name :
         {"latchkey_http_request_duration_seconds", "latchkey_outbound_request_duration_seconds"})
        impl_->claim(name, Kind::Histogram, true);
    for (const std::string_view name : kSampledNames) {
        const bool counter = name.size() > 6 && name.substr(name.size() - 6) == "_total";
        impl_->claim(std::string(name), counter ? Kind::Counter : Kind::Gauge, true);
    }
}

std::unique_ptr<Metrics> HostMetrics::forPlugin(std::string plugin) {
    return std::make_unique<PluginView>(*impl_, std::move(plugin));
}

std::unique_ptr<Metrics> HostMetrics::discarding() {
    return std::make_unique<DiscardingMetrics>();
}

HostMetrics::~HostMetrics() = default;

void HostMetrics::prepareRoutes(const std::vector<std::pair<std::string, std::string>>& routes) {
    impl_->slots.clear();
    for (const auto& [method, pattern] : routes) {
        impl_->slots.push_back(std::make_unique<Impl::Slot>());
        impl_->slots.back()->route = pattern;
        impl_->slots.back()->method = method;
    }
    impl_->addUnmatchedSlots();
}

void HostMetrics::countRequest(std::optional<std::size_t> route, std::string_view method,
                               int status, double seconds) {
    Impl::Slot& slot = impl_->slotFor(route, method);
    const std::optional<std::size_t> at = statusIndex(status);
    if (!at) {
        const Impl::Series series = impl_->seriesFor(slot, status); // the family's lookup
        series.count->Increment();
        series.duration->Observe(seconds);
        return;
    }
    const Impl::Series* series = slot.byStatus[*at].load(std::memory_order_acquire);
    if (!series) {
        const std::lock_guard lock(impl_->creating);
        series = slot.byStatus[*at].load(std::memory_order_relaxed);
        if (!series) {
            series = &impl_->made.emplace_back(impl_->seriesFor(slot, status));
            slot.byStatus[*at].store(series, std::memory_order_release);
        }
    }
    series->count->Increment();
    series->duration->Observe(seconds);
}

void HostMetrics::countAuthEvent(std::string_view api, std::string_view event,
                                 std::string_view outcome, std::string_view reason) {
    // Reasons the API answers alike are counted alike: anyone who can read the metrics could
    // otherwise try a login and see from the counter that moved whether the account exists, or
    // whether the password was right for a deactivated one. The log keeps the detail.
    if (reason == "unknown_user" || reason == "unknown_account" || reason == "wrong_password" ||
        reason == "inactive")
        reason = "bad_credentials";
    impl_->authEvents
        .Add({{"api", api.empty() ? "-" : std::string(api)},
              {"event", std::string(event)},
              {"outcome", std::string(outcome)},
              {"reason", reason.empty() ? "-" : std::string(reason)}})
        .Increment();
}

void HostMetrics::countOutbound(std::string_view plugin, std::string_view outcome, double seconds) {
    const prometheus::Labels labels{{"plugin", std::string(plugin)},
                                    {"outcome", std::string(outcome)}};
    impl_->outboundCalls.Add(labels).Increment();
    impl_->outboundDurations.Add(labels, outboundBuckets()).Observe(seconds);
}

void HostMetrics::addSampled(SampledMetric metric) {
    {
        const std::lock_guard lock(impl_->naming);
        const auto reserved = impl_->names.find(metric.name);
        const Kind kind = metric.type == SampledMetric::Type::Counter ? Kind::Counter : Kind::Gauge;
        if (reserved == impl_->names.end() || reserved->second != std::pair{kind, true}) {
            throw std::logic_error("sampled metric " + metric.name +
                                   " is not in kSampledNames with its type");
        }
    }
    impl_->sampled.push_back(std::move(metric));
}

void HostMetrics::dropGauges(std::string_view plugin) {
    const std::lock_guard lock(impl_->gauging);
    for (auto& [name, gauge] : impl_->pluginGauges) {
        std::erase_if(gauge.reads, [plugin](const auto& read) {
            const auto label = read.first.find("plugin");
            return label != read.first.end() && label->second == plugin;
        });
    }
}

std::string HostMetrics::scrape() const {
    std::unique_lock scraping(impl_->scraping, std::try_to_lock);
    if (!scraping.owns_lock()) {
        // Scrapes in a flood cost one scrape's work at a time, and never hold a worker waiting.
        {
            const std::lock_guard lock(impl_->lastMutex);
            if (impl_->last) return *impl_->last;
        }
        scraping.lock(); // the first scrape of all is still running: wait for it once
    }
    std::vector<prometheus::MetricFamily> families = impl_->registry.Collect();
    for (const SampledMetric& metric : impl_->sampled) {
        prometheus::MetricFamily family;
        family.name = metric.name;
        family.help = metric.help;
        family.type = typeOf(metric.type);
        for (MetricSample& sample : metric.read()) {
            prometheus::ClientMetric m;
            for (auto& [name, value] : sample.labels)
                m.label.push_back({std::move(name), std::move(value)});
            if (metric.type == SampledMetric::Type::Counter) {
                m.counter.value = sample.value;
            } else {
                m.gauge.value = sample.value;
            }
            family.metric.push_back(std::move(m));
        }
        families.push_back(std::move(family));
    }
    std::unique_lock gauging(impl_->gauging);
    for (const auto& [name, gauge] : impl_->pluginGauges) {
        if (gauge.reads.empty()) continue;
        prometheus::MetricFamily family;
        family.name = name;
        family.help = gauge.help;
        family.type = prometheus::MetricType::Gauge;
        for (const auto& [labels, read] : gauge.reads) {
            prometheus::ClientMetric m;
            for (const auto& [label, value] : labels)
                m.label.push_back({label, value});
            try {
                m.gauge.value = read();
            } catch (...) {
                continue; // a plugin's reader failing leaves its series out of this scrape
            }
            family.metric.push_back(std::move(m));
        }
        families.push_back(std::move(family));
    }
    gauging.unlock();
    auto text =
        std::make_shared<const std::string>(prometheus::TextSerializer().Serialize(families));
    {
        const std::lock_guard lock(impl_->lastMutex);
        impl_->last = text;
    }
    return *text;
}

} // namespace latchkey::runtime
