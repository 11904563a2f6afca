// The HTTP server: a listening socket, network threads that hold every connection without a
// thread of its own (event_loop), and worker lanes that run complete requests (worker_lane).
#pragma once

#include "runtime/host_config.hpp"
#include "runtime/host_router.hpp"

#include <Poco/Net/ServerSocket.h>
#include <spdlog/logger.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

namespace latchkey::runtime {

class EventLoop;
struct ServerShared;

/// Owns the listening socket, the network threads and the worker lanes.
class HttpServer {
public:
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
    std::unique_ptr<ServerShared> shared_;
    std::vector<std::unique_ptr<EventLoop>> loops_;
};

} // namespace latchkey::runtime
