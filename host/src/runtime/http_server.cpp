// The Poco HTTP server: reads each request (size-limited) into the SDK's Request, dispatches it,
// writes the Response and logs one access line without secrets.
#include "runtime/http_server.hpp"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/URI.h>

#include <array>
#include <thread>

namespace latchkey::host {

namespace {

using Clock = std::chrono::steady_clock;

/// How much of an over-limit body is read and thrown away so the client can read the 413.
constexpr std::uint64_t kDrainAllowance = 8ULL << 20;

/// Query parameters whose values are safe to log.
bool isLoggableParam(std::string_view name) {
    static constexpr std::array<std::string_view, 6> safe{"page_size", "ordering", "direction",
                                                          "last_pk",   "format",   "page"};
    for (auto s : safe) {
        if (s == name) return true;
    }
    return false;
}

/// Splits the raw path on '/' and percent-decodes each segment, so an encoded slash stays
/// inside its segment instead of creating a new one.
std::string decodePath(const std::string& rawPath) {
    std::string out;
    std::size_t start = 0;
    while (start <= rawPath.size()) {
        const std::size_t slash = rawPath.find('/', start);
        const std::size_t end = slash == std::string::npos ? rawPath.size() : slash;
        std::string segment;
        Poco::URI::decode(rawPath.substr(start, end - start), segment);
        // A decoded '/' would change routing; keep it encoded.
        for (char c : segment) {
            if (c == '/')
                out += "%2F";
            else
                out += c;
        }
        if (slash == std::string::npos) break;
        out += '/';
        start = slash + 1;
    }
    return out;
}

class RequestHandler final : public Poco::Net::HTTPRequestHandler {
public:
    explicit RequestHandler(HttpServer::Shared& shared)
        : shared_(shared), settings_(shared.settings), router_(shared.router), log_(*shared.log),
          accessLog_(shared.accessLog.get()) {}

    void handleRequest(Poco::Net::HTTPServerRequest& in,
                       Poco::Net::HTTPServerResponse& out) override {
        const auto started = Clock::now();
        ++shared_.inFlight;
        struct Done {
            std::atomic<int>& count;
            ~Done() { --count; }
        } done{shared_.inFlight};
        // While draining, every answer closes its connection, so keep-alive clients let go.
        if (shared_.draining) out.setKeepAlive(false);
        std::string rawPath;
        std::string rawQuery;
        Response response;
        try {
            response = handle(in, out, rawPath, rawQuery);
        } catch (const std::exception& e) {
            log_.error("request failed before dispatch: {}", e.what());
            response = router_.render(rawPath, HttpError(500, "Internal server error."));
        }
        if (!headersAreSafe(response)) {
            log_.error("{} {}: a handler set a response header with a line break", in.getMethod(),
                       rawPath);
            response = router_.render(rawPath, HttpError(500, "Internal server error."));
        }
        try {
            send(out, response);
        } catch (const std::exception& e) {
            // The client went away or the socket timed out; nothing more to tell it.
            log_.debug("could not send the response: {}", e.what());
        }
        if (accessLog_) {
            const auto micros =
                std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
            const std::string query = HttpServer::redactQuery(rawQuery);
            accessLog_->info("{} {} {}{}{} {} {} {:.3f}ms", in.clientAddress().host().toString(),
                             in.getMethod(), rawPath.empty() ? "-" : rawPath,
                             query.empty() ? "" : "?", query, response.status, response.body.size(),
                             static_cast<double>(micros.count()) / 1000.0);
        }
    }

private:
    Response handle(Poco::Net::HTTPServerRequest& in, Poco::Net::HTTPServerResponse& out,
                    std::string& rawPath, std::string& rawQuery) {
        const std::string& uri = in.getURI();
        const std::size_t q = uri.find('?');
        rawPath = uri.substr(0, q);
        rawQuery = q == std::string::npos ? "" : uri.substr(q + 1);
        if (rawPath.empty() || rawPath.front() != '/') {
            return router_.render(rawPath, HttpError(400, "Malformed request target."));
        }

        Request request;
        request.method = in.getMethod();
        request.remoteAddress = in.clientAddress().toString();
        try {
            request.path = decodePath(rawPath);
            Poco::URI parsed("/?" + rawQuery);
            for (auto& [key, value] : parsed.getQueryParameters()) {
                request.query.emplace_back(key, value);
            }
        } catch (const Poco::Exception&) {
            return router_.render(rawPath, HttpError(400, "Malformed request target."));
        }
        for (const auto& [name, value] : in)
            request.headers.emplace_back(name, value);

        const std::uint64_t limit = settings_.maxBodyBytes;
        std::istream& body = in.stream();
        std::array<char, 16384> buffer{};
        const auto tooLarge = [&](std::uint64_t readSoFar) {
            // A client that sends its whole body before reading (no Expect: 100-continue) only
            // sees the 413 if the body is read: discard a bounded overshoot, and close the
            // connection either way so the rest of a huge body is never read.
            for (std::uint64_t discarded = readSoFar;
                 body && discarded < limit + kDrainAllowance;) {
                body.read(buffer.data(), buffer.size());
                discarded += static_cast<std::uint64_t>(body.gcount());
            }
            out.setKeepAlive(false);
            return router_.render(request.path,
                                  HttpError(413, "Request body too large (limit " +
                                                     std::to_string(limit) + " bytes)."));
        };
        if (in.hasContentLength() && in.getContentLength64() > static_cast<Poco::Int64>(limit)) {
            const auto declared = static_cast<std::uint64_t>(in.getContentLength64());
            // Beyond the allowance nothing is read at all.
            return tooLarge(declared > limit + kDrainAllowance ? declared : 0);
        }
        // A request without Content-Length or chunked encoding has no body (RFC 9112 6.3);
        // reading "until close" would wait for the timeout or swallow the next request.
        if (!in.hasContentLength() && !in.getChunkedTransferEncoding()) {
            return router_.dispatch(request);
        }
        while (body) {
            body.read(buffer.data(), buffer.size());
            const auto got = static_cast<std::size_t>(body.gcount());
            if (request.body.size() + got > limit) return tooLarge(request.body.size() + got);
            request.body.append(buffer.data(), got);
        }
        // istream turns the stream's exceptions (a broken chunk) into badbit; a fixed-length
        // body that ends early just stops. Either way the body is not what the client meant.
        if (body.bad() || (in.hasContentLength() && static_cast<Poco::Int64>(request.body.size()) !=
                                                        in.getContentLength64())) {
            out.setKeepAlive(false);
            return router_.render(request.path, HttpError(400, "Incomplete request body."));
        }
        return router_.dispatch(request);
    }

    /// A line break in a header name or value would let it write further headers.
    static bool headersAreSafe(const Response& response) {
        for (const auto& [name, value] : response.headers) {
            if (name.empty() || name.find_first_of("\r\n: ") != std::string::npos ||
                value.find_first_of("\r\n") != std::string::npos) {
                return false;
            }
        }
        return response.contentType.find_first_of("\r\n") == std::string::npos;
    }

    static void send(Poco::Net::HTTPServerResponse& out, const Response& response) {
        out.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(response.status));
        // Keys and tokens travel in these bodies: no cache may keep them.
        out.set("Cache-Control", "no-store");
        out.set("X-Content-Type-Options", "nosniff");
        for (const auto& [name, value] : response.headers) {
            if (equalsIgnoreCase(name, "Set-Cookie"))
                out.add(name, value);
            else
                out.set(name, value);
        }
        if (response.status == 204 || response.status == 304) {
            out.setContentLength(0);
            out.send();
            return;
        }
        if (!response.contentType.empty()) out.setContentType(response.contentType);
        out.setContentLength64(static_cast<Poco::Int64>(response.body.size()));
        out.send() << response.body;
    }

    HttpServer::Shared& shared_;
    const ServerSettings& settings_;
    const HostRouter& router_;
    spdlog::logger& log_;
    spdlog::logger* accessLog_;
};

class HandlerFactory final : public Poco::Net::HTTPRequestHandlerFactory {
public:
    explicit HandlerFactory(HttpServer::Shared& shared) : shared_(shared) {}

    Poco::Net::HTTPRequestHandler*
    createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
        return new RequestHandler(shared_);
    }

private:
    HttpServer::Shared& shared_;
};

} // namespace

HttpServer::HttpServer(const ServerSettings& settings, const HostRouter& router,
                       std::shared_ptr<spdlog::logger> log,
                       std::shared_ptr<spdlog::logger> accessLog)
    : shared_{settings, router, std::move(log), std::move(accessLog)} {}

HttpServer::~HttpServer() {
    if (server_) stop(std::chrono::milliseconds(0));
}

void HttpServer::bind() {
    const ServerSettings& settings = shared_.settings;
    socket_ = std::make_unique<Poco::Net::ServerSocket>();
    socket_->bind(Poco::Net::SocketAddress(settings.host, settings.port), true);
    socket_->listen(settings.queue);
    port_ = socket_->address().port();
}

void HttpServer::start() {
    const ServerSettings& settings = shared_.settings;
    if (!socket_) bind();

    auto params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(settings.threads);
    params->setMaxQueued(settings.queue);
    params->setKeepAlive(settings.keepAlive);
    params->setKeepAliveTimeout(Poco::Timespan(settings.keepAliveTimeout.count() * 1000));
    params->setMaxKeepAliveRequests(settings.maxKeepAliveRequests);
    params->setTimeout(Poco::Timespan(settings.requestTimeout.count() * 1000));
    params->setSoftwareVersion("latchkey");

    pool_ = std::make_unique<Poco::ThreadPool>(2, settings.threads);
    server_ = std::make_unique<Poco::Net::HTTPServer>(new HandlerFactory(shared_), *pool_, *socket_,
                                                      params);
    server_->start();
}

std::uint16_t HttpServer::port() const {
    return port_;
}

bool HttpServer::stop(std::chrono::milliseconds drainTimeout) {
    if (!server_) return true;
    // Poco's graceful stopAll(false) waits for every in-flight request while holding locks a
    // later stopAll(true) needs, so a stalled client could hold shutdown forever. Instead:
    // stop accepting, let answers close their connections, wait for in-flight requests up to
    // the deadline, then shut every socket down.
    shared_.draining = true;
    server_->stop();
    const auto deadline = Clock::now() + drainTimeout;
    while (shared_.inFlight > 0 && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const bool drained = shared_.inFlight == 0;
    if (!drained) {
        shared_.log->warn("{} request(s) still busy after the drain timeout; closing them",
                          shared_.inFlight.load());
    }
    // Closes idle keep-alive connections, and cuts requests still waiting on the network. A
    // handler busy in code is waited for: it uses the router and the plugins.
    server_->stopAll(true);
    while (server_->currentThreads() > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    server_.reset();
    pool_->joinAll();
    pool_.reset();
    return drained;
}

std::string HttpServer::redactQuery(const std::string& rawQuery) {
    std::string out;
    std::size_t start = 0;
    while (start < rawQuery.size()) {
        std::size_t end = rawQuery.find('&', start);
        if (end == std::string::npos) end = rawQuery.size();
        const std::string pair = rawQuery.substr(start, end - start);
        const std::size_t eq = pair.find('=');
        const std::string name = pair.substr(0, eq);
        if (!out.empty()) out += '&';
        if (eq == std::string::npos)
            out += isLoggableParam(name) ? name : "***";
        else
            out += name + "=" + (isLoggableParam(name) ? pair.substr(eq + 1) : "***");
        start = end + 1;
    }
    return out;
}

} // namespace latchkey::host
