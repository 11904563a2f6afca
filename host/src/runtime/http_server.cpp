// The HTTP server: the listening socket, the network threads and the worker lanes, started in
// that order and stopped in the reverse one with a drain in between.
#include "runtime/http_server.hpp"

#include "runtime/event_loop.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <thread>

namespace latchkey::runtime {

namespace {

using Clock = std::chrono::steady_clock;

/// Descriptors kept back from the connection cap for everything else the process opens
/// (database connections, log files, outbound calls, plugin libraries).
constexpr std::uint64_t kReservedDescriptors = 256;

/// Raises the soft open-file limit to the hard one; returns the limit now in force.
std::uint64_t raiseOpenFileLimit(spdlog::logger& log) {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
    if (limit.rlim_cur < limit.rlim_max) {
        rlimit raised = limit;
        raised.rlim_cur = limit.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0)
            limit = raised;
        else
            log.warn("could not raise the open-file limit from {} to {}", limit.rlim_cur,
                     limit.rlim_max);
    }
    return limit.rlim_cur == RLIM_INFINITY ? 1U << 20 : limit.rlim_cur;
}

/// What the server can hold, worked out at start from the settings and the machine.
struct ServerCapacity {
    std::size_t maxConnections = 0; ///< server.max_connections, cut to the open-file limit.
    std::uint64_t openFileLimit = 0;
    LaneSettings standard;
    LaneSettings hashing;
    LaneSettings outbound;
};

/// The lane sizes and connection cap a server runs with on this machine.
ServerCapacity capacityFor(const ServerSettings& s, std::uint64_t openFileLimit) {
    const auto cores = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
    ServerCapacity c;
    c.openFileLimit = openFileLimit;
    const std::uint64_t usable = openFileLimit > 2 * kReservedDescriptors
                                     ? openFileLimit - kReservedDescriptors
                                     : openFileLimit / 2;
    c.maxConnections = static_cast<std::size_t>(
        std::min<std::uint64_t>(s.maxConnections, std::max<std::uint64_t>(usable, 1)));
    c.standard = LaneSettings{s.threads, s.queue};
    // Hashing: twice the cores, so one login's database work overlaps another's argon2id, and
    // a short queue, so a flood is answered 503 within milliseconds instead of waiting seconds.
    c.hashing = LaneSettings{s.hashing.threads > 0 ? s.hashing.threads : 2 * cores,
                             s.hashing.queue > 0 ? s.hashing.queue : 4 * cores};
    c.outbound = s.outbound; // its defaults are in ServerSettings
    return c;
}

} // namespace

HttpServer::HttpServer(ServerSettings settings, const HostRouter& router,
                       std::shared_ptr<spdlog::logger> log,
                       std::shared_ptr<spdlog::logger> accessLog)
    : settings_(std::move(settings)), router_(router), log_(std::move(log)),
      accessLog_(std::move(accessLog)) {}

HttpServer::~HttpServer() {
    stop(std::chrono::milliseconds(0));
}

void HttpServer::bind() {
    // SO_REUSEADDR (a restart binds at once) but not SO_REUSEPORT (Poco's bind(address, true)
    // sets both): a second host or listener on a taken port must fail, not share its traffic.
    socket_.bind(Poco::Net::SocketAddress(settings_.host, settings_.port), true, false);
    // The kernel caps the backlog at net.core.somaxconn; accepting is fast, so this only has
    // to absorb a burst of connections between two turns of the network thread.
    socket_.listen(4096);
    port_ = socket_.address().port();
    bound_ = true;
}

void HttpServer::start() {
    if (!bound_) bind();
    const ServerCapacity capacity = capacityFor(settings_, raiseOpenFileLimit(*log_));
    if (capacity.maxConnections < settings_.maxConnections) {
        log_->warn("server.max_connections is {}, but the open-file limit ({}) allows {}",
                   settings_.maxConnections, capacity.openFileLimit, capacity.maxConnections);
    }
    auto shared = std::make_unique<ServerShared>(settings_, router_, log_, accessLog_,
                                                 capacity.maxConnections);
    shared->metrics = metrics_;
    const auto lane = [](Lane which, const char* name, const LaneSettings& size) {
        return std::make_unique<WorkerLane>(which, name, static_cast<std::size_t>(size.threads),
                                            static_cast<std::size_t>(size.queue));
    };
    shared->lanes[static_cast<std::size_t>(Lane::Standard)] =
        lane(Lane::Standard, "lk-std", capacity.standard);
    shared->lanes[static_cast<std::size_t>(Lane::Hashing)] =
        lane(Lane::Hashing, "lk-hash", capacity.hashing);
    shared->lanes[static_cast<std::size_t>(Lane::Outbound)] =
        lane(Lane::Outbound, "lk-out", capacity.outbound);
    {
        const std::lock_guard lock(sharedMutex_);
        shared_ = std::move(shared);
    }

    std::vector<EventLoop*> loops;
    for (int i = 0; i < settings_.ioThreads; ++i) {
        loops_.push_back(std::make_unique<EventLoop>(*shared_, static_cast<std::size_t>(i)));
        loops.push_back(loops_.back().get());
    }
    loops_.front()->acceptOn(socket_, loops);
    for (auto& loop : loops_)
        loop->start();
    log_->info("holding up to {} connections ({} per client address; open-file limit {}) on {} "
               "network thread(s); lanes: standard {} threads + {} queued, hashing {} + {}, "
               "outbound {} + {}",
               capacity.maxConnections,
               settings_.maxConnectionsPerIp == 0 ? std::string("no cap")
                                                  : std::to_string(settings_.maxConnectionsPerIp),
               capacity.openFileLimit, settings_.ioThreads, capacity.standard.threads,
               capacity.standard.queue, capacity.hashing.threads, capacity.hashing.queue,
               capacity.outbound.threads, capacity.outbound.queue);
}

void HttpServer::countInto(HostMetrics& metrics) {
    metrics_ = &metrics;
    using Type = SampledMetric::Type;
    const auto one = [this](auto field) {
        return [this, field]() -> std::vector<MetricSample> {
            return {{{}, static_cast<double>(field(stats()))}};
        };
    };
    const auto byLane = [this](auto field) {
        return [this, field]() -> std::vector<MetricSample> {
            const Stats s = stats();
            std::vector<MetricSample> samples;
            for (std::size_t i = 0; i < s.lanes.size(); ++i) {
                samples.push_back({{{"lane", laneName(static_cast<Lane>(i))}},
                                   static_cast<double>(field(s.lanes[i]))});
            }
            return samples;
        };
    };
    metrics.addSampled({"latchkey_open_connections", "Client connections open now.", Type::Gauge,
                        one([](const Stats& s) { return s.openConnections; })});
    metrics.addSampled({"latchkey_refused_connections_total",
                        "Connections closed at once: over server.max_connections or "
                        "max_connections_per_ip.",
                        Type::Counter, one([](const Stats& s) { return s.refusedConnections; })});
    metrics.addSampled({"latchkey_body_memory_refused_total",
                        "Requests answered 503 because server.max_body_memory was in use.",
                        Type::Counter, one([](const Stats& s) { return s.overBudget; })});
    metrics.addSampled({"latchkey_inline_answers_total",
                        "Requests answered on a network thread from the caches.", Type::Counter,
                        one([](const Stats& s) { return s.inlineAnswers; })});
    metrics.addSampled({"latchkey_lane_queued",
                        "Requests waiting for a worker, by lane (hashing: password checks).",
                        Type::Gauge, byLane([](const Stats::LaneStats& l) { return l.queued; })});
    metrics.addSampled({"latchkey_lane_running", "Requests a worker is running, by lane.",
                        Type::Gauge, byLane([](const Stats::LaneStats& l) { return l.running; })});
    metrics.addSampled({"latchkey_lane_shed_total",
                        "Requests answered 503 because their lane's queue was full, by lane.",
                        Type::Counter, byLane([](const Stats::LaneStats& l) { return l.shed; })});
}

HttpServer::Stats HttpServer::stats() const {
    Stats s;
    const std::lock_guard lock(sharedMutex_);
    if (!shared_) return s;
    s.openConnections = shared_->connections.open();
    for (std::size_t i = 0; i < s.lanes.size(); ++i) {
        if (const auto& lane = shared_->lanes[i]) {
            s.lanes[i].queued = lane->queued();
            s.lanes[i].running = lane->running();
        }
        s.lanes[i].shed = shared_->shed[i].load(std::memory_order_relaxed);
    }
    s.inlineAnswers = shared_->inlineAnswers.load(std::memory_order_relaxed);
    s.overBudget = shared_->overBudget.load(std::memory_order_relaxed);
    s.refusedConnections = shared_->refused.load(std::memory_order_relaxed);
    return s;
}

std::uint16_t HttpServer::port() const {
    return port_;
}

bool HttpServer::stop(std::chrono::milliseconds drainTimeout) {
    if (!shared_) {
        if (bound_) socket_.close();
        bound_ = false;
        return true;
    }
    // Stop accepting and close idle connections; answers from now on close their connections.
    shared_->draining = true;
    for (auto& loop : loops_)
        loop->wake();
    const auto deadline = Clock::now() + drainTimeout;
    // Each network thread counts what is busy at its next turn (within 10 ms): wait for that
    // count even when there is no time to drain.
    const auto counted = [this] {
        return std::all_of(loops_.begin(), loops_.end(),
                           [](const auto& loop) { return loop->drainCounted(); });
    };
    const auto countBy = std::max(deadline, Clock::now() + std::chrono::milliseconds(200));
    while (!counted() && Clock::now() < countBy)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const auto busy = [this] {
        std::size_t total = 0;
        for (const auto& loop : loops_)
            total += loop->busy();
        return total;
    };
    while (busy() > 0 && Clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const std::size_t left = busy();
    if (left > 0) {
        log_->warn("{} request(s) still busy after the drain timeout; closing them", left);
    }
    // Cut what is left. A handler busy in code is waited for: it uses the router and the
    // plugins. Requests still queued are handed back unanswered, and their connections closed.
    shared_->forceClosed = true;
    for (auto& lane : shared_->lanes)
        lane->stop();
    for (auto& loop : loops_)
        loop->stop();
    loops_.clear();
    {
        const std::lock_guard lock(sharedMutex_);
        shared_.reset();
    }
    bound_ = false;
    return left == 0;
}

} // namespace latchkey::runtime
