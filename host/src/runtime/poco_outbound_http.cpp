// The host's HTTP client for plugins (OutboundHttp) over Poco.
#include "runtime/poco_outbound_http.hpp"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/URI.h>

#include <sys/socket.h>

#include <istream>
#include <memory>
#include <optional>
#include <stdexcept>

namespace latchkey::runtime {

namespace {

using Clock = SocketWatchdog::Clock;

Poco::Timespan remaining(Clock::time_point deadline, const std::string& where) {
    const auto left =
        std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now()).count();
    if (left <= 0) throw Unavailable(where + ": no complete answer in time");
    return Poco::Timespan(left);
}

bool hasLineBreak(std::string_view text) {
    return text.find_first_of("\r\n") != std::string_view::npos;
}

/// Disarms the watchdog when the exchange ends, however it ends.
class Armed {
public:
    Armed(SocketWatchdog& watchdog, int fd, Clock::time_point deadline)
        : watchdog_(watchdog), ticket_(watchdog.arm(fd, deadline)) {}
    ~Armed() { disarm(); }
    Armed(const Armed&) = delete;
    Armed& operator=(const Armed&) = delete;
    /// True if the deadline cut the exchange off.
    bool disarm() {
        if (ticket_ != 0) fired_ = watchdog_.disarm(ticket_);
        ticket_ = 0;
        return fired_;
    }

private:
    SocketWatchdog& watchdog_;
    std::uint64_t ticket_;
    bool fired_ = false;
};

} // namespace

SocketWatchdog::~SocketWatchdog() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    changed_.notify_all();
    if (thread_.joinable()) thread_.join();
}

std::uint64_t SocketWatchdog::arm(int fd, Clock::time_point deadline) {
    std::lock_guard lock(mutex_);
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
    const std::uint64_t ticket = next_++;
    entries_.emplace(ticket, Entry{fd, deadline});
    changed_.notify_all();
    return ticket;
}

bool SocketWatchdog::disarm(std::uint64_t ticket) {
    std::lock_guard lock(mutex_);
    const auto found = entries_.find(ticket);
    if (found == entries_.end()) return false;
    const bool fired = found->second.fired;
    entries_.erase(found);
    return fired;
}

void SocketWatchdog::run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        auto next = Clock::time_point::max();
        const auto now = Clock::now();
        for (auto& [ticket, entry] : entries_) {
            if (entry.fired) continue;
            if (entry.deadline <= now) {
                // A shutdown wakes a thread blocked in recv (plain or under OpenSSL) with EOF;
                // the owner still closes the socket. The fd stays open while the entry exists.
                ::shutdown(entry.fd, SHUT_RDWR);
                entry.fired = true;
            } else {
                next = std::min(next, entry.deadline);
            }
        }
        if (next == Clock::time_point::max()) {
            changed_.wait(lock);
        } else {
            changed_.wait_until(lock, next);
        }
    }
}

PocoOutboundHttp::PocoOutboundHttp(OutboundSettings settings) : settings_(std::move(settings)) {}

Poco::Net::Context::Ptr PocoOutboundHttp::tlsContext() {
    std::lock_guard lock(tlsMutex_);
    if (!tls_) {
        Poco::Net::initializeSSL();
        // Peer certificates are checked against the CAs and the URL's host name; there is no
        // way to turn this off: a test provider gets a CA file instead. VERIFY_STRICT because
        // under RELAXED Poco skips the name check for any name that resolves to loopback.
        tls_ =
            new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", settings_.caFile,
                                   Poco::Net::Context::VERIFY_STRICT, 9, settings_.caFile.empty());
    }
    return tls_;
}

OutboundResponse PocoOutboundHttp::send(const OutboundRequest& request) {
    Poco::URI uri;
    try {
        uri = Poco::URI(request.url);
    } catch (const Poco::SyntaxException&) {
        throw std::invalid_argument("not a URL");
    }
    const bool https = uri.getScheme() == "https";
    // For logs and errors: scheme, host and path; never the query (it may hold a token).
    const std::string where = uri.getScheme() + "://" + uri.getAuthority() + uri.getPath();
    if ((!https && uri.getScheme() != "http") || uri.getHost().empty()) {
        throw std::invalid_argument("not an http(s) URL: " + where);
    }
    for (const auto& [name, value] : request.headers) {
        if (name.empty() || hasLineBreak(name) || name.find(':') != std::string::npos ||
            hasLineBreak(value)) {
            throw std::invalid_argument("a header name or value that cannot be sent: " + where);
        }
    }
    const auto deadline = Clock::now() + request.timeout;

    // The watchdog entry must go before the session closes its socket: declared in this order,
    // `armed` is destroyed first.
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    std::optional<Armed> armed;
    const auto timedOut = [&armed] { return armed && armed->disarm(); };
    try {
        if (https) {
            session = std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(),
                                                                      tlsContext());
        } else {
            session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
        }
        session->setKeepAlive(false);
        // Connecting, the TLS handshake and sending are bounded by timeouts per step, each
        // what is left of the deadline; from then on the watchdog holds the deadline.
        session->setTimeout(remaining(deadline, where));
        Poco::Net::HTTPRequest out(request.method, uri.getPathEtc(),
                                   Poco::Net::HTTPMessage::HTTP_1_1);
        out.set("User-Agent", "latchkey");
        for (const auto& [name, value] : request.headers)
            out.set(name, value);
        if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
            out.setContentLength64(static_cast<Poco::Int64>(request.body.size()));
        }
        session->sendRequest(out) << request.body;

        armed.emplace(watchdog_, session->socket().impl()->sockfd(), deadline);
        session->setTimeout(remaining(deadline, where));
        Poco::Net::HTTPResponse answer;
        std::istream& in = session->receiveResponse(answer);
        OutboundResponse response;
        response.status = static_cast<int>(answer.getStatus());
        for (const auto& [name, value] : answer)
            response.headers.emplace_back(name, value);
        if (answer.hasContentLength() &&
            static_cast<std::uint64_t>(answer.getContentLength64()) > settings_.maxResponseBytes) {
            throw Unavailable(where + ": answer larger than outbound.max_response");
        }
        char buffer[8192];
        while (in) {
            in.read(buffer, sizeof buffer);
            response.body.append(buffer, static_cast<std::size_t>(in.gcount()));
            if (response.body.size() > settings_.maxResponseBytes) {
                throw Unavailable(where + ": answer larger than outbound.max_response");
            }
        }
        // A shut-down socket reads as the end of the answer: only the watchdog knows better.
        if (timedOut()) throw Unavailable(where + ": no complete answer in time");
        if (in.bad()) throw Unavailable(where + ": the answer broke off");
        if (answer.hasContentLength() &&
            response.body.size() != static_cast<std::uint64_t>(answer.getContentLength64())) {
            throw Unavailable(where + ": the answer broke off");
        }
        return response;
    } catch (const Poco::TimeoutException&) {
        throw Unavailable(where + ": no complete answer in time");
    } catch (const Poco::Net::SSLException& e) {
        if (timedOut()) throw Unavailable(where + ": no complete answer in time");
        throw Unavailable(where + ": TLS failed: " + e.displayText());
    } catch (const Poco::Exception& e) {
        if (timedOut()) throw Unavailable(where + ": no complete answer in time");
        // Includes a CA file that cannot be read (the config check makes that unlikely).
        throw Unavailable(where + ": " + e.displayText());
    }
}

OutboundResponse CountedOutboundHttp::send(const OutboundRequest& request) {
    const auto started = std::chrono::steady_clock::now();
    const auto seconds = [&started] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    };
    try {
        OutboundResponse response = inner_.send(request);
        const int status = response.status;
        const std::string outcome =
            status >= 100 && status <= 599 ? std::to_string(status / 100) + "xx" : "error";
        metrics_.countOutbound(plugin_, outcome, seconds());
        return response;
    } catch (const std::invalid_argument&) {
        throw; // the plugin's mistake, not a call: nothing was sent
    } catch (...) {
        metrics_.countOutbound(plugin_, "error", seconds());
        throw;
    }
}

} // namespace latchkey::runtime
