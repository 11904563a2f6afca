// The Poco HTTP server: reads each request (size-limited) into the SDK's Request, dispatches it,
// writes the Response and logs one access line without secrets.
#pragma once

#include "runtime/host_config.hpp"
#include "runtime/router.hpp"

#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>
#include <spdlog/logger.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace latchkey::host {

/// Owns the listening socket, the worker pool and the Poco server.
class HttpServer {
public:
    /// Binds nothing yet.
    HttpServer(const ServerSettings& settings, const HostRouter& router,
               std::shared_ptr<spdlog::logger> log, std::shared_ptr<spdlog::logger> accessLog);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    /// Binds the listening socket (nothing is accepted yet); throws on a bind failure.
    void bind();
    /// Starts accepting on the bound socket.
    void start();
    /// The bound port (useful when the config asked for port 0).
    std::uint16_t port() const;
    /// Stops accepting, lets in-flight requests finish (up to `drainTimeout`), closes idle
    /// keep-alive connections. Returns false if requests were still running at the deadline.
    bool stop(std::chrono::milliseconds drainTimeout);

    /// The query string with the values of every parameter not known to be harmless replaced by
    /// "***", so keys and tokens passed in URLs never reach the log.
    static std::string redactQuery(const std::string& rawQuery);

    /// What every request handler shares with the server.
    struct Shared {
        ServerSettings settings;
        const HostRouter& router;
        std::shared_ptr<spdlog::logger> log;
        std::shared_ptr<spdlog::logger> accessLog; ///< Null when the access log is off.
        std::atomic<int> inFlight{0};              ///< Requests being handled now.
        std::atomic<bool> draining{false};         ///< Shutting down: close after each answer.
    };

private:
    Shared shared_;
    std::unique_ptr<Poco::Net::ServerSocket> socket_;
    std::unique_ptr<Poco::ThreadPool> pool_;
    std::unique_ptr<Poco::Net::HTTPServer> server_;
    std::uint16_t port_ = 0;
};

} // namespace latchkey::host
