// One connection's requests, on its network thread: reading and framing them, handing complete
// ones to the worker lanes (and the worker's part), answering (or refusing, or timing out), and
// closing gracefully. A worker only ever sees an Exchange.
#include "runtime/event_loop.hpp"

#include "runtime/event_loop_internal.hpp"
#include "runtime/http_message.hpp"

#include "core/log_record.hpp"

#include <Poco/Exception.h>
#include <Poco/Net/SocketAddress.h>

namespace latchkey::runtime {

namespace {

/// A buffer larger than this is given back when its connection goes idle.
constexpr std::size_t kKeepCapacity = 16 << 10;

/// Appends the answer's bytes to `out`, writes its access-log line and lets go of the request
/// (and its share of the body budget). Runs on a worker or on the network thread.
void prepareAnswer(ServerShared& shared, Exchange& x, const std::string& address, Response response,
                   std::string& out) {
    if (!headersAreSafe(response)) {
        shared.log->error("{} {}: a handler set a response header with a line break", x.method,
                          x.rawPath);
        response = shared.router.render(x.request.path, HttpError(500, "Internal server error."));
    } else if (response.status < 200 || response.status > 999) {
        // A 1xx is not a final answer, and the client would wait for one that never comes.
        shared.log->error("{} {}: a handler answered status {}", x.method, x.rawPath,
                          response.status);
        response = shared.router.render(x.request.path, HttpError(500, "Internal server error."));
    }
    if (shared.draining.load(std::memory_order_relaxed)) x.close = true;
    appendResponse(out, response, ResponseFraming{x.headOnly, x.close, x.http10});
    const auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - x.started);
    if (shared.metrics) {
        shared.metrics->countRequest(x.match.routeIndex(), x.method, response.status,
                                     static_cast<double>(micros.count()) / 1e6);
    }
    if (shared.accessLog) {
        const std::string client = escapeForLog(address);
        const std::string method = x.method.empty() ? "-" : escapeForLog(x.method);
        const std::string target = loggableTarget(x.rawPath, x.rawQuery);
        const double millis = static_cast<double>(micros.count()) / 1000.0;
        const std::array<core::LogField, 6> fields{{
            {"client", client},
            {"method", method},
            {"target", target},
            {"status", std::int64_t{response.status}},
            {"bytes", static_cast<std::int64_t>(response.body.size())},
            {"ms", millis},
        }};
        core::logRecord(*shared.accessLog, spdlog::level::info, {"request", fields},
                        fmt::format("{} {} {} {} {} {:.3f}ms", client, method, target,
                                    response.status, response.body.size(), millis));
    }
    x.request = Request{};
    x.client.clear();
    shared.bodies.giveBack(x.bodyBytes);
    x.bodyBytes = 0;
}

/// A worker's part: run the handler, make the answer's bytes, hand the connection back. Never
/// throws: whatever happens, the connection goes back to its network thread.
void runExchange(ServerShared& shared, const std::shared_ptr<Connection>& connection) {
    Exchange& x = connection->exchange;
    try {
        if (!shared.forceClosed.load(std::memory_order_acquire)) {
            Response response;
            try {
                response = shared.router.dispatch(x.request, x.match);
            } catch (const std::exception& e) {
                // dispatch() catches handler errors; this is an error renderer failing.
                shared.log->error("{} {}: rendering the answer failed: {}", x.method, x.rawPath,
                                  e.what());
                response = HostRouter::renderDetail(HttpError(500, "Internal server error."));
            } catch (...) {
                shared.log->error("{} {}: rendering the answer failed", x.method, x.rawPath);
                response = HostRouter::renderDetail(HttpError(500, "Internal server error."));
            }
            prepareAnswer(shared, x, x.client.empty() ? connection->address : x.client,
                          std::move(response), x.answer);
        }
    } catch (...) {
        // Out of memory, or an error renderer failing twice: this connection cannot be
        // answered; the others can.
        x.answer.clear();
        x.failed = true;
    }
    connection->loop.handBack(connection);
}

} // namespace

// ---------------------------------------------------------------------------------------------

void EventLoop::onReadable(const std::shared_ptr<Connection>& connection) {
    Connection& c = *connection;
    if (c.phase == Connection::Phase::InFlight || c.phase == Connection::Phase::Writing ||
        c.paused || c.peerDone) {
        return;
    }
    int n = 0;
    try {
        n = c.socket.receiveBytes(scratch_.data(), static_cast<int>(scratch_.size()));
    } catch (const Poco::Exception&) {
        close(connection); // reset by the peer
        return;
    }
    if (n < 0) return; // nothing after all
    if (n == 0) {
        onPeerDone(connection);
        return;
    }
    if (c.phase == Connection::Phase::Lingering) {
        c.discarded += static_cast<std::size_t>(n);
        if (c.discarded > kLingerBytes) close(connection);
        return;
    }
    consume(connection, std::string_view(scratch_.data(), static_cast<std::size_t>(n)));
}

void EventLoop::onPeerDone(const std::shared_ptr<Connection>& connection) {
    Connection& c = *connection;
    c.peerDone = true;
    if (c.phase == Connection::Phase::Body) {
        // A body cut short: never processed, and the client may still read why.
        c.parser->finish();
        answerFailure(connection);
        return;
    }
    // Idle, a head that will never end, or lingering: nothing is owed.
    close(connection);
}

void EventLoop::consume(const std::shared_ptr<Connection>& connection, std::string_view data) {
    Connection& c = *connection;
    // Pipelined requests answered right here (a shed, a bad target) are taken one after another
    // by this loop, from one buffer, not by recursion: afterAnswer() leaves them to it.
    c.consuming = true;
    struct Reset {
        bool& flag;
        ~Reset() { flag = false; }
    } reset{c.consuming};
    std::string held;
    std::string_view rest = data;
    if (!c.in.empty()) {
        held = std::move(c.in);
        c.in.clear();
        held.append(data);
        rest = held;
    }
    for (;;) {
        if (!c.parser || !c.parser->started()) {
            // RFC 9112 2.2: empty lines before a request line are ignored.
            while (!rest.empty() && (rest.front() == '\r' || rest.front() == '\n'))
                rest.remove_prefix(1);
            if (rest.empty()) break;
        }
        if (c.phase == Connection::Phase::Idle) enter(c, Connection::Phase::Head);
        if (!c.parser) c.parser = std::make_unique<RequestParser>(shared_.limits);
        rest.remove_prefix(c.parser->feed(rest));
        if (!accountBody(c)) {
            refuseBody(connection);
            return;
        }
        const RequestParser::State state = c.parser->state();
        if (state == RequestParser::State::Done) {
            startExchange(connection);
            // Answered at once and kept open, with the next request already here: go on.
            if (!c.closed && !c.paused && c.phase == Connection::Phase::Idle && !rest.empty())
                continue;
            // Kept for after the answer (with a worker, still being sent, or paused).
            if (!c.closed && c.phase != Connection::Phase::Lingering) c.in.assign(rest);
            return;
        }
        if (state == RequestParser::State::Failed) {
            answerFailure(connection);
            return;
        }
        if (state == RequestParser::State::Body && c.phase != Connection::Phase::Body) {
            enter(c, Connection::Phase::Body);
            // The client waits for a go-ahead before sending its body (RFC 9110 10.1.1).
            if (c.parser->head().expectContinue && c.parser->bodyBytes() == 0) {
                c.out.append(continueResponse());
                flush(c); // what does not go now goes when the socket is writable (rearm)
            }
        }
        break;
    }
    c.in.assign(rest);
}

bool EventLoop::accountBody(Connection& c) {
    const std::uint64_t have = c.parser ? c.parser->bodyBytes() : 0;
    if (have <= c.bodyAccounted) return true;
    if (!shared_.bodies.tryTake(have - c.bodyAccounted)) return false;
    c.bodyAccounted = have;
    return true;
}

void EventLoop::startExchange(const std::shared_ptr<Connection>& connection) {
    Connection& c = *connection;
    RequestHead& head = c.parser->head();
    Exchange& x = c.exchange;
    x.started = SteadyClock::now();
    x.match = {}; // until match(): a bad target is no route's
    x.method = head.method;
    splitTarget(head.target, x.rawPath, x.rawQuery);
    x.headOnly = head.method == "HEAD";
    x.http10 = head.version == 10;
    x.shed = false;
    x.failed = false;
    ++c.served;
    x.close = !head.keepAlive || !shared_.settings.keepAlive ||
              c.served >= static_cast<unsigned>(shared_.settings.maxKeepAliveRequests) ||
              shared_.draining.load(std::memory_order_relaxed);
    Request& request = x.request;
    request.method = head.method;
    request.headers = std::move(head.headers);
    request.body = std::move(c.parser->body());
    x.client.clear();
    if (const auto forwarded =
            shared_.settings.trustedProxies.forwardedClient(c.peer, request.headers)) {
        request.remoteAddress = Poco::Net::SocketAddress(*forwarded, 0).toString();
        x.client = forwarded->toString();
    } else {
        request.remoteAddress = c.peer;
    }
    x.bodyBytes = std::exchange(c.bodyAccounted, 0);
    c.parser.reset();
    if (!decodeTarget(x.rawPath, x.rawQuery, request)) {
        answer(connection,
               shared_.router.render(x.rawPath, HttpError(400, "Malformed request target.")));
        return;
    }
    x.match = shared_.router.match(request);
    Lane lane = Lane::Standard;
    try {
        lane = HostRouter::laneOf(x.match, request);
    } catch (const std::exception& e) {
        shared_.log->error("{} {}: the route's lane selector failed: {}", x.method,
                           x.match.pattern(), e.what());
    }
    if (static_cast<std::size_t>(lane) >= shared_.lanes.size()) lane = Lane::Standard;
    // An inline-first route is answered here when the caches hold everything it reads: no
    // hand-over to a worker and back. Otherwise it goes to its lane as if never tried.
    // Only in the standard lane: a route that hashes or calls out never runs here.
    std::optional<Response> now;
    try {
        if (lane == Lane::Standard) now = shared_.router.tryInline(request, x.match);
    } catch (const std::exception& e) {
        shared_.log->error("{} {}: answering inline failed: {}", x.method, x.match.pattern(),
                           e.what());
    }
    if (now) {
        shared_.inlineAnswers.fetch_add(1, std::memory_order_relaxed);
        answer(connection, std::move(*now));
        return;
    }
    // From the post until handBack() the worker has `exchange`; nothing else of the connection.
    enter(c, Connection::Phase::InFlight);
    ServerShared& shared = shared_;
    if (shared_.lane(lane).tryPost([&shared, connection] { runExchange(shared, connection); })) {
        setInterest(c, 0);
        return;
    }
    // The lane is full: shed at once, from here, without a worker (and without leaving the poll
    // set: shedding has to stay cheap under a flood).
    shared_.shed[static_cast<std::size_t>(lane)].fetch_add(1, std::memory_order_relaxed);
    x.shed = true;
    // No worker has it: out of InFlight before answering, so a failure here closes it.
    enter(c, Connection::Phase::Head);
    answer(connection, shared_.router.renderBusy(request.path, 1));
}

void EventLoop::endReceipt(Connection& c) {
    Exchange& x = c.exchange;
    x.started = c.since;
    x.match = {};
    x.method.clear();
    x.rawPath.clear();
    x.rawQuery.clear();
    x.http10 = false;
    if (c.parser) {
        const RequestHead& head = c.parser->head();
        x.method = head.method;
        splitTarget(head.target, x.rawPath, x.rawQuery);
        x.http10 = head.version == 10;
    }
    x.headOnly = false;
    x.shed = false;
    x.close = true; // what follows is not trusted to be a request
    c.parser.reset();
    shared_.bodies.giveBack(std::exchange(c.bodyAccounted, 0));
    c.in.clear();
}

void EventLoop::answerFailure(const std::shared_ptr<Connection>& connection) {
    Connection& c = *connection;
    const RequestParser::Failure failure = c.parser->failure();
    endReceipt(c);
    answer(connection,
           shared_.router.render(c.exchange.rawPath, HttpError(failure.status, failure.message)));
}

void EventLoop::timeOut(const std::shared_ptr<Connection>& connection) {
    Connection& c = *connection;
    endReceipt(c);
    try {
        answer(connection,
               shared_.router.render(c.exchange.rawPath, HttpError(408, "Request timeout.")));
        if (!c.closed) rearm(c);
    } catch (const std::exception&) {
        close(connection);
    }
}

void EventLoop::refuseBody(const std::shared_ptr<Connection>& connection) {
    Connection& c = *connection;
    shared_.overBudget.fetch_add(1, std::memory_order_relaxed);
    endReceipt(c); // the rest of the body is not read
    answer(connection, shared_.router.renderBusy(c.exchange.rawPath, 1));
}

void EventLoop::answer(const std::shared_ptr<Connection>& connection, Response response) {
    Connection& c = *connection;
    prepareAnswer(shared_, c.exchange, c.exchange.client.empty() ? c.address : c.exchange.client,
                  std::move(response), c.out);
    enter(c, Connection::Phase::Writing);
    if (flush(c)) afterAnswer(connection);
}

void EventLoop::onReturned(const std::shared_ptr<Connection>& connection) {
    Connection& c = *connection;
    if (c.closed) return;
    enter(c, Connection::Phase::Writing);
    if (c.abandoned || c.exchange.failed || shared_.forceClosed.load(std::memory_order_acquire)) {
        close(connection);
        return;
    }
    c.out.append(c.exchange.answer);
    std::string().swap(c.exchange.answer);
    if (flush(c)) afterAnswer(connection);
    if (!c.closed) rearm(c);
}

void EventLoop::afterAnswer(const std::shared_ptr<Connection>& connection) {
    Connection& c = *connection;
    if (c.exchange.close) {
        closeGracefully(connection);
        return;
    }
    enter(c, Connection::Phase::Idle);
    if (c.out.capacity() > kKeepCapacity) std::string().swap(c.out);
    if (c.exchange.shed && shared_.settings.shedPause.count() > 0) {
        // A client that retries at once, ignoring Retry-After, waits here: a flood then costs
        // the network thread a shed per pause per connection, not one per round trip.
        c.paused = true;
        paused_.emplace_back(c.since + shared_.settings.shedPause, connection);
        return;
    }
    // Inside consume(), what follows is consume()'s to take.
    if (c.consuming) return;
    if (!c.in.empty()) {
        consume(connection, {});
        return;
    }
    if (c.in.capacity() > kKeepCapacity) std::string().swap(c.in);
    if (c.peerDone) close(connection);
}

void EventLoop::closeGracefully(const std::shared_ptr<Connection>& connection) {
    Connection& c = *connection;
    if (c.peerDone) {
        close(connection);
        return;
    }
    // Say we are done, then read and discard what the client still sends for a while: closing
    // with unread bytes would reset the connection and could destroy the answer on its way.
    try {
        c.socket.shutdownSend();
        enter(c, Connection::Phase::Lingering);
        c.in.clear();
        c.discarded = 0;
    } catch (const Poco::Exception&) {
        close(connection);
    }
}

} // namespace latchkey::runtime
