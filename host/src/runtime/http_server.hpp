// The HTTP server: a listening socket, network threads that hold every connection without a
// thread of its own (event_loop), and worker lanes that run complete requests (worker_lane).
#pragma once

#include "runtime/host_config.hpp"
#include "runtime/host_metrics.hpp"
#include "runtime/host_router.hpp"

#include <Poco/Net/ServerSocket.h>
#include <spdlog/logger.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace latchkey::runtime {

class EventLoop;
struct ServerShared;

/// Owns the listening socket, the network threads and the worker lanes.
class HttpServer {
public:
    /// What the server holds and has refused, read at one moment.
    struct Stats {
        struct LaneStats {
            std::size_t queued = 0;
            std::size_t running = 0;
            std::uint64_t shed = 0; ///< Answered 503: the lane's queue was full.
        };
        std::size_t openConnections = 0;
        std::array<LaneStats, 3> lanes{};     ///< Indexed by Lane.
        std::uint64_t inlineAnswers = 0;      ///< Answered on a network thread.
        std::uint64_t overBudget = 0;         ///< Bodies refused: server.max_body_memory.
        std::uint64_t refusedConnections = 0; ///< Closed at once: over a connection cap.
    };

    /// Binds nothing yet.
    HttpServer(ServerSettings settings, const HostRouter& router,
               std::shared_ptr<spdlog::logger> log, std::shared_ptr<spdlog::logger> accessLog);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    /// Binds the listening socket (nothing is accepted yet); throws on a bind failure.
    void bind();
    /// Raises the open-file limit, starts the lanes and network threads, and accepts.
    void start();
    /// Counts every answer into `metrics` and adds its own sampled metrics (connections, lanes)
    /// there. Before start(); `metrics` must outlive every scrape.
    void countInto(HostMetrics& metrics);
    /// A snapshot; thread-safe, also before start() and after stop() (all 0 then).
    Stats stats() const;
    /// The bound port (useful when the config asked for port 0).
    std::uint16_t port() const;
    /// Stops accepting, closes idle connections, lets begun requests finish and their answers
    /// go out (up to `drainTimeout`), then closes the rest and waits for handlers still running
    /// (they use the router and the plugins). Returns false if requests were still running at
    /// the deadline.
    bool stop(std::chrono::milliseconds drainTimeout);

private:
    ServerSettings settings_;
    const HostRouter& router_;
    std::shared_ptr<spdlog::logger> log_;
    std::shared_ptr<spdlog::logger> accessLog_;
    Poco::Net::ServerSocket socket_;
    bool bound_ = false;
    std::uint16_t port_ = 0;
    HostMetrics* metrics_ = nullptr;
    mutable std::mutex sharedMutex_; ///< Held to replace shared_ and by stats().
    std::unique_ptr<ServerShared> shared_;
    std::vector<std::unique_ptr<EventLoop>> loops_;
};

} // namespace latchkey::runtime
