// The host's HTTP client for plugins (OutboundHttp) over Poco: http and https, certificates
// checked against the system's CAs (or outbound.ca_file) and the host name, a deadline on the
// whole exchange, and a bound on the answer's size.
#pragma once

#include "runtime/host_config.hpp"
#include "runtime/host_metrics.hpp"

#include <latchkey/outbound_http.hpp>

#include <Poco/Net/Context.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>

namespace latchkey::runtime {

/// Shuts a socket down when its deadline passes, so a read blocked on a server that sends one
/// byte now and then (each byte restarts Poco's per-read timeout) ends at the deadline. One
/// thread, started by the first arm().
class SocketWatchdog {
public:
    using Clock = std::chrono::steady_clock;

    SocketWatchdog() = default;
    ~SocketWatchdog();
    SocketWatchdog(const SocketWatchdog&) = delete;
    SocketWatchdog& operator=(const SocketWatchdog&) = delete;

    /// Watches the connected socket `fd` until disarm(); returns a ticket for disarm().
    std::uint64_t arm(int fd, Clock::time_point deadline);
    /// Stops watching; true if the deadline passed and the socket was shut down. Must be called
    /// before the socket is closed (the watchdog shuts it down under the same lock).
    bool disarm(std::uint64_t ticket);

private:
    struct Entry {
        int fd = -1;
        Clock::time_point deadline;
        bool fired = false;
    };
    void run();

    std::mutex mutex_;
    std::condition_variable changed_;
    std::map<std::uint64_t, Entry> entries_;
    std::uint64_t next_ = 1;
    bool stopping_ = false;
    std::thread thread_;
};

/// Thread-safe; one per host, shared by every plugin.
class PocoOutboundHttp final : public OutboundHttp {
public:
    explicit PocoOutboundHttp(OutboundSettings settings);
    OutboundResponse send(const OutboundRequest& request) override;

private:
    Poco::Net::Context::Ptr tlsContext();

    OutboundSettings settings_;
    std::mutex tlsMutex_;
    Poco::Net::Context::Ptr tls_; ///< Created on the first https call.
    SocketWatchdog watchdog_;
};

/// One plugin's view of the host's client: every call counted in the host's metrics under the
/// plugin's name (latchkey_outbound_requests_total, ..._duration_seconds). Thread-safe.
class CountedOutboundHttp final : public OutboundHttp {
public:
    CountedOutboundHttp(OutboundHttp& inner, HostMetrics& metrics, std::string plugin)
        : inner_(inner), metrics_(metrics), plugin_(std::move(plugin)) {}
    OutboundResponse send(const OutboundRequest& request) override;

private:
    OutboundHttp& inner_;
    HostMetrics& metrics_;
    const std::string plugin_;
};

} // namespace latchkey::runtime
