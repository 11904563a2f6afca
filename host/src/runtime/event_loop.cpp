// The connection layer: non-blocking sockets in a Poco PollSet per network thread; only complete
// requests reach the worker lanes, every socket operation and every deadline is here, and a
// worker only ever sees an Exchange.
#include "runtime/event_loop.hpp"

#include "runtime/http_message.hpp"

#include <Poco/Exception.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SocketImpl.h>

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <system_error>

namespace latchkey::host {

namespace {

using std::chrono::milliseconds;

constexpr int kRead = Poco::Net::PollSet::POLL_READ;
constexpr int kWrite = Poco::Net::PollSet::POLL_WRITE;

/// Bytes read from a socket at a time (one buffer per network thread, not per connection).
constexpr std::size_t kScratchBytes = 64 << 10;
/// Connections accepted per wake-up, so one burst cannot starve the connections already open.
constexpr int kAcceptBatch = 256;
/// How often deadlines are checked (and how late one may be enforced).
constexpr milliseconds kTick{100};
/// While draining, how often the loop looks again.
constexpr milliseconds kDrainTick{10};
/// After an answer that closes the connection, how long (and how much) the rest of what the
/// client sends is read and thrown away, so it sees the answer instead of a reset.
constexpr milliseconds kLingerTime{2000};
constexpr std::size_t kLingerBytes = 8 << 20;
/// A buffer larger than this is given back when its connection goes idle.
constexpr std::size_t kKeepCapacity = 16 << 10;
/// How often a run of shed requests is logged, at most.
constexpr std::chrono::seconds kShedLogInterval{10};

/// An eventfd in a Poco socket, so a PollSet can wait on it: other threads wake the loop with it
/// (Poco 1.11's PollSet has no wake-up of its own).
class WakeupImpl final : public Poco::Net::SocketImpl {
public:
    WakeupImpl() : SocketImpl(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
        if (sockfd() < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
    }
};

class WakeupSocket final : public Poco::Net::Socket {
public:
    WakeupSocket() : Socket(new WakeupImpl) {}
};

void signal(const Poco::Net::Socket& wakeup) {
    const std::uint64_t one = 1;
    // Fails only when the counter is saturated, which still wakes the loop.
    [[maybe_unused]] const auto written = ::write(wakeup.impl()->sockfd(), &one, sizeof one);
}

void drainWakeup(const Poco::Net::Socket& wakeup) {
    std::uint64_t count = 0;
    [[maybe_unused]] const auto got = ::read(wakeup.impl()->sockfd(), &count, sizeof count);
}

bool wouldBlock(const Poco::Exception& e) {
    return e.code() == EAGAIN || e.code() == EWOULDBLOCK;
}

/// Errors of accept(2) that say this process is out of something: worth a pause. Others (the
/// new connection's own, which Linux passes on) are not.
bool outOfResources(const Poco::Exception& e) {
    return e.code() == EMFILE || e.code() == ENFILE || e.code() == ENOBUFS || e.code() == ENOMEM;
}

/// What max_connections_per_ip counts: the address, or for IPv6 its /64 (one host usually has a
/// whole /64 to pick addresses from).
std::string capKeyOf(const Poco::Net::IPAddress& ip) {
    if (ip.family() != Poco::Net::IPAddress::IPv6 || ip.isIPv4Mapped()) return ip.toString();
    const Poco::Net::IPAddress prefix = ip & Poco::Net::IPAddress("ffff:ffff:ffff:ffff::");
    return prefix.toString() + "/64";
}

/// Sends what is left of `c.out`; true when all of it is sent. Throws when the connection is
/// broken.
bool flush(Connection& c) {
    while (c.sent < c.out.size()) {
        const std::size_t left = c.out.size() - c.sent;
        int n = 0;
        try {
            n = c.socket.sendBytes(c.out.data() + c.sent,
                                   static_cast<int>(std::min<std::size_t>(left, INT_MAX)));
        } catch (const Poco::IOException& e) {
            if (wouldBlock(e)) return false;
            throw;
        }
        if (n <= 0) return false;
        c.sent += static_cast<std::size_t>(n);
    }
    c.out.clear();
    c.sent = 0;
    return true;
}

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
    if (shared.accessLog) {
        const auto micros =
            std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - x.started);
        const std::string query = redactQuery(x.rawQuery);
        shared.accessLog->info(
            "{} {} {}{}{} {} {} {:.3f}ms", address, x.method.empty() ? "-" : x.method,
            x.rawPath.empty() ? "-" : x.rawPath, query.empty() ? "" : "?", query, response.status,
            response.body.size(), static_cast<double>(micros.count()) / 1000.0);
    }
    x.request = Request{};
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
            prepareAnswer(shared, x, connection->address, std::move(response), x.answer);
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

ConnectionCounter::ConnectionCounter(std::size_t total, std::size_t perAddress)
    : total_(total), perAddress_(perAddress) {}

bool ConnectionCounter::tryOpen(const std::string& address) {
    std::lock_guard lock(mutex_);
    if (open_.load(std::memory_order_relaxed) >= total_) return false;
    const auto it = byAddress_.find(address);
    if (perAddress_ != 0 && it != byAddress_.end() && it->second >= perAddress_) return false;
    if (it == byAddress_.end())
        byAddress_.emplace(address, 1);
    else
        ++it->second;
    open_.fetch_add(1, std::memory_order_relaxed);
    return true;
}

void ConnectionCounter::close(const std::string& address) {
    std::lock_guard lock(mutex_);
    const auto it = byAddress_.find(address);
    if (it == byAddress_.end()) return;
    if (--it->second == 0) byAddress_.erase(it);
    open_.fetch_sub(1, std::memory_order_relaxed);
}

bool BodyBudget::tryTake(std::uint64_t bytes) noexcept {
    std::uint64_t current = used_.load(std::memory_order_relaxed);
    do {
        if (current + bytes > limit_) return false;
    } while (!used_.compare_exchange_weak(current, current + bytes, std::memory_order_relaxed));
    return true;
}

void BodyBudget::giveBack(std::uint64_t bytes) noexcept {
    if (bytes != 0) used_.fetch_sub(bytes, std::memory_order_relaxed);
}

ServerShared::ServerShared(const ServerSettings& s, const HostRouter& r,
                           std::shared_ptr<spdlog::logger> l, std::shared_ptr<spdlog::logger> a,
                           std::size_t maxConnections)
    : settings(s), limits{s.maxHeaderBytes, s.maxHeaders, s.maxBodyBytes}, router(r),
      log(std::move(l)), accessLog(std::move(a)),
      connections(maxConnections, s.maxConnectionsPerIp), bodies(s.maxBodyMemory) {}

Connection::Connection(const Poco::Net::StreamSocket& accepted, std::string peerAddress,
                       std::string clientAddress, std::string counted, EventLoop& owner)
    : socket(accepted), peer(std::move(peerAddress)), address(std::move(clientAddress)),
      capKey(std::move(counted)), loop(owner), since(SteadyClock::now()) {}

void PhaseList::pushBack(Connection& c) noexcept {
    c.previous = tail_;
    c.next = nullptr;
    if (tail_)
        tail_->next = &c;
    else
        head_ = &c;
    tail_ = &c;
    ++size_;
}

void PhaseList::remove(Connection& c) noexcept {
    if (c.previous)
        c.previous->next = c.next;
    else
        head_ = c.next;
    if (c.next)
        c.next->previous = c.previous;
    else
        tail_ = c.previous;
    c.previous = c.next = nullptr;
    --size_;
}

// ---------------------------------------------------------------------------------------------

EventLoop::EventLoop(ServerShared& shared, std::size_t index)
    : shared_(shared), index_(index), wakeup_(WakeupSocket()), scratch_(kScratchBytes) {
    poll_.add(wakeup_, kRead);
}

EventLoop::~EventLoop() {
    stop();
}

void EventLoop::acceptOn(const Poco::Net::ServerSocket& listener, std::vector<EventLoop*> loops) {
    // Poco sockets are handles to one shared socket: copying shares it.
    listener_ = listener;
    listener_.setBlocking(false);
    loops_ = std::move(loops);
    poll_.add(listener_, kRead);
    listening_ = true;
}

void EventLoop::start() {
    thread_ = std::thread([this] {
        const std::string name = "lk-net-" + std::to_string(index_);
        pthread_setname_np(pthread_self(), name.c_str());
        run();
    });
}

void EventLoop::wake() {
    std::lock_guard lock(inboxMutex_);
    sleeping_ = false;
    signal(wakeup_);
}

void EventLoop::stop() {
    if (!thread_.joinable()) return;
    stopping_ = true;
    wake();
    thread_.join();
}

void EventLoop::adopt(const Poco::Net::StreamSocket& socket, std::string peer, std::string address,
                      std::string capKey) {
    bool wake = false;
    {
        std::lock_guard lock(inboxMutex_);
        inbox_.push_back(
            Message{nullptr, socket, std::move(peer), std::move(address), std::move(capKey)});
        wake = std::exchange(sleeping_, false);
    }
    if (wake) signal(wakeup_);
}

void EventLoop::handBack(std::shared_ptr<Connection> connection) {
    bool wake = false;
    {
        std::lock_guard lock(inboxMutex_);
        inbox_.push_back(Message{std::move(connection), {}, {}, {}, {}});
        wake = std::exchange(sleeping_, false);
    }
    if (wake) signal(wakeup_);
}

void EventLoop::run() {
    lastSweep_ = SteadyClock::now();
    while (!stopping_.load(std::memory_order_acquire)) {
        try {
            turn();
        } catch (const std::exception& e) {
            // Nothing may stop a network thread: the connections it holds would hang.
            shared_.log->error("network thread {}: {}", index_, e.what());
        } catch (...) {
            shared_.log->error("network thread {}: unknown error", index_);
        }
    }
    // The lanes are stopped: nothing is with a worker any more.
    processInbox();
    std::vector<std::shared_ptr<Connection>> all;
    all.reserve(connections_.size());
    for (const auto& [key, connection] : connections_)
        all.push_back(connection);
    for (const auto& connection : all)
        close(connection);
    paused_.clear();
    if (listening_) {
        if (!acceptPaused_) poll_.remove(listener_);
        listener_.close();
        listening_ = false;
    }
    busy_ = 0;
}

void EventLoop::turn() {
    processInbox();
    const bool draining = shared_.draining.load(std::memory_order_acquire);
    milliseconds timeout = draining ? kDrainTick : kTick;
    if (!paused_.empty()) {
        const auto untilResume =
            std::chrono::duration_cast<milliseconds>(paused_.front().first - SteadyClock::now());
        timeout = std::clamp(untilResume + milliseconds(1), milliseconds(0), timeout);
    }
    {
        std::lock_guard lock(inboxMutex_);
        if (inbox_.empty())
            sleeping_ = true;
        else
            timeout = milliseconds(0);
    }
    Poco::Net::PollSet::SocketModeMap events;
    try {
        events = poll_.poll(Poco::Timespan(timeout.count() * 1000));
    } catch (const Poco::Exception& e) {
        shared_.log->error("network thread {}: poll failed: {}", index_, e.displayText());
    }
    {
        std::lock_guard lock(inboxMutex_);
        sleeping_ = false;
    }
    for (const auto& [socket, mode] : events) {
        const void* key = socket.impl();
        if (key == wakeup_.impl()) {
            drainWakeup(wakeup_);
        } else if (listening_ && key == listener_.impl()) {
            accept();
        } else if (const auto it = connections_.find(key); it != connections_.end()) {
            // Copied: handling may close it, which erases it from the map.
            const std::shared_ptr<Connection> connection = it->second;
            onEvent(connection, mode);
        }
    }
    const auto now = SteadyClock::now();
    if (!paused_.empty()) resumePaused(now);
    if (draining || now - lastSweep_ >= kTick) {
        lastSweep_ = now;
        sweep(now);
    }
}

void EventLoop::processInbox() {
    std::vector<Message> messages;
    {
        std::lock_guard lock(inboxMutex_);
        messages.swap(inbox_);
    }
    for (auto& message : messages) {
        if (message.connection) {
            try {
                onReturned(message.connection);
            } catch (const std::exception& e) {
                shared_.log->debug("connection from {} failed: {}", message.connection->peer,
                                   e.what());
                close(message.connection);
            }
        } else {
            add(message.socket, std::move(message.peer), std::move(message.address),
                std::move(message.capKey));
        }
    }
}

void EventLoop::accept() {
    for (int i = 0; i < kAcceptBatch; ++i) {
        Poco::Net::SocketAddress client;
        Poco::Net::StreamSocket socket;
        try {
            socket = listener_.acceptConnection(client);
        } catch (const Poco::Exception& e) {
            if (wouldBlock(e)) return;
            if (!outOfResources(e)) continue; // that connection's own trouble
            // Out of descriptors or memory: back off instead of spinning on a listener that
            // stays readable.
            shared_.log->error("accepting a connection failed: {}; pausing accepts for 100ms",
                               e.displayText());
            poll_.remove(listener_);
            acceptPaused_ = true;
            acceptPausedUntil_ = SteadyClock::now() + milliseconds(100);
            return;
        }
        std::string address = client.host().toString();
        std::string capKey = capKeyOf(client.host());
        if (shared_.draining.load(std::memory_order_relaxed) ||
            !shared_.connections.tryOpen(capKey)) {
            // Over a cap: closed at once, before it costs anything.
            shared_.refused.fetch_add(1, std::memory_order_relaxed);
            socket.close();
            continue;
        }
        try {
            socket.setBlocking(false);
            socket.setNoDelay(true);
        } catch (const Poco::Exception&) {
            shared_.connections.close(capKey);
            continue; // the client is already gone
        }
        EventLoop* target = loops_.empty() ? this : loops_[nextLoop_++ % loops_.size()];
        if (target == this)
            add(socket, client.toString(), std::move(address), std::move(capKey));
        else
            target->adopt(socket, client.toString(), std::move(address), std::move(capKey));
    }
}

void EventLoop::add(const Poco::Net::StreamSocket& socket, std::string peer, std::string address,
                    std::string capKey) {
    std::shared_ptr<Connection> connection;
    const std::string counted = capKey;
    try {
        connection = std::make_shared<Connection>(socket, std::move(peer), std::move(address),
                                                  std::move(capKey), *this);
        connections_.emplace(connection->socket.impl(), connection);
    } catch (const std::exception&) {
        shared_.connections.close(counted);
        Poco::Net::StreamSocket(socket).close();
        return;
    }
    idle_.pushBack(*connection);
    connection->list = &idle_;
    if (shared_.draining.load(std::memory_order_relaxed)) {
        close(connection);
        return;
    }
    try {
        rearm(*connection);
    } catch (const Poco::Exception&) {
        close(connection);
    }
}

void EventLoop::onEvent(const std::shared_ptr<Connection>& connection, int mode) {
    Connection& c = *connection;
    try {
        if ((mode & kWrite) && !c.out.empty() && flush(c) &&
            c.phase == Connection::Phase::Writing) {
            afterAnswer(connection);
        }
        if ((mode & (kRead | Poco::Net::PollSet::POLL_ERROR)) && !c.closed) onReadable(connection);
        if (!c.closed) rearm(c);
    } catch (const Poco::Exception& e) {
        shared_.log->debug("connection from {} failed: {}", c.peer, e.displayText());
        close(connection);
    } catch (const std::exception& e) {
        // An error renderer (plugin code) failed on the network thread: drop this connection,
        // keep the thread.
        shared_.log->error("connection from {} failed: {}", c.peer, e.what());
        close(connection);
    } catch (...) {
        shared_.log->error("connection from {} failed", c.peer);
        close(connection);
    }
}

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
    request.remoteAddress = c.peer;
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
    prepareAnswer(shared_, c.exchange, c.address, std::move(response), c.out);
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

void EventLoop::close(const std::shared_ptr<Connection>& connection) {
    Connection& c = *connection;
    if (c.closed) return;
    if (c.phase == Connection::Phase::InFlight) {
        // Its worker has the exchange: closed when it comes back.
        c.abandoned = true;
        return;
    }
    c.closed = true;
    if (c.list) c.list->remove(c);
    c.list = nullptr;
    try {
        setInterest(c, 0);
    } catch (const Poco::Exception&) {
        // Not registered after all; closing it is what matters.
    }
    connections_.erase(c.socket.impl());
    shared_.connections.close(c.capKey);
    shared_.bodies.giveBack(std::exchange(c.bodyAccounted, 0));
    shared_.bodies.giveBack(std::exchange(c.exchange.bodyBytes, 0));
    try {
        c.socket.close();
    } catch (const Poco::Exception&) {
        // Closed already.
    }
}

void EventLoop::rearm(Connection& c) {
    if (c.closed) return;
    int mode = 0;
    switch (c.phase) {
    case Connection::Phase::Idle:
    case Connection::Phase::Head:
    case Connection::Phase::Body:
        if (!c.paused && !c.peerDone) mode = kRead;
        if (!c.out.empty()) mode |= kWrite; // a 100 Continue not sent yet
        break;
    case Connection::Phase::InFlight: mode = 0; break;
    case Connection::Phase::Writing: mode = kWrite; break;
    case Connection::Phase::Lingering: mode = kRead; break;
    }
    setInterest(c, mode);
}

void EventLoop::setInterest(Connection& c, int mode) {
    if (mode == c.interest) return;
    if (mode == 0)
        poll_.remove(c.socket);
    else if (c.interest == 0)
        poll_.add(c.socket, mode);
    else
        poll_.update(c.socket, mode);
    c.interest = mode;
}

PhaseList* EventLoop::listFor(Connection::Phase phase) noexcept {
    switch (phase) {
    case Connection::Phase::Idle: return &idle_;
    case Connection::Phase::Head: return &head_;
    case Connection::Phase::Body: return &body_;
    case Connection::Phase::InFlight: return nullptr;
    case Connection::Phase::Writing: return &writing_;
    case Connection::Phase::Lingering: return &lingering_;
    }
    return nullptr;
}

void EventLoop::enter(Connection& c, Connection::Phase phase) {
    if (c.closed) return;
    if (c.list) c.list->remove(c);
    if (c.phase == Connection::Phase::InFlight) --inFlight_;
    c.phase = phase;
    c.since = SteadyClock::now();
    c.list = listFor(phase);
    if (c.list) c.list->pushBack(c);
    if (phase == Connection::Phase::InFlight) ++inFlight_;
}

void EventLoop::resumePaused(SteadyClock::time_point now) {
    while (!paused_.empty() && paused_.front().first <= now) {
        const std::shared_ptr<Connection> connection = std::move(paused_.front().second);
        paused_.pop_front();
        Connection& c = *connection;
        if (c.closed || !c.paused) continue;
        c.paused = false;
        try {
            if (!c.in.empty()) consume(connection, {});
            if (!c.closed) rearm(c);
        } catch (const std::exception& e) {
            shared_.log->debug("connection from {} failed: {}", c.peer, e.what());
            close(connection);
        }
    }
}

void EventLoop::sweep(SteadyClock::time_point now) {
    const ServerSettings& s = shared_.settings;
    const bool draining = shared_.draining.load(std::memory_order_acquire);
    const bool forced = shared_.forceClosed.load(std::memory_order_acquire);
    if (draining && !drainSeen_) {
        drainSeen_ = true;
        if (listening_) {
            // Stop accepting: new clients get a refused connection, not a half-served one.
            if (!acceptPaused_) poll_.remove(listener_);
            listener_.close();
            listening_ = false;
        }
    }
    if (listening_ && acceptPaused_ && now >= acceptPausedUntil_) {
        poll_.add(listener_, kRead);
        acceptPaused_ = false;
    }
    // Each list is oldest first: only its expired front is looked at. Every action below takes
    // the connection out of the list it was in.
    const auto expired = [now](const PhaseList& list, SteadyClock::duration timeout) {
        const Connection* c = list.front();
        return c && now - c->since > timeout;
    };
    const auto take = [](const PhaseList& list) { return list.front()->shared_from_this(); };
    while (idle_.size() != 0 && (draining || expired(idle_, s.keepAliveTimeout)))
        close(take(idle_));
    while (head_.size() != 0 && (draining || expired(head_, s.headerTimeout))) {
        const auto connection = take(head_);
        if (draining)
            close(connection);
        else
            timeOut(connection);
    }
    while (writing_.size() != 0 && (forced || expired(writing_, s.writeTimeout)))
        close(take(writing_));
    while (lingering_.size() != 0 && (forced || expired(lingering_, kLingerTime)))
        close(take(lingering_));
    // Bodies in progress are few (each is a client uploading now): every one is checked. After
    // a grace of header_timeout, a body must keep up body_min_rate on average.
    std::vector<std::shared_ptr<Connection>> slowBodies;
    for (Connection* c = body_.front(); c; c = c->next) {
        const auto age = now - c->since;
        const auto grace = age - s.headerTimeout;
        const double owed = grace.count() > 0 ? static_cast<double>(s.bodyMinRate) *
                                                    std::chrono::duration<double>(grace).count()
                                              : 0.0;
        if (forced || age > s.requestTimeout ||
            static_cast<double>(c->parser ? c->parser->bodyBytes() : 0) < owed) {
            slowBodies.push_back(c->shared_from_this());
        }
    }
    for (const auto& connection : slowBodies) {
        if (forced)
            close(connection);
        else
            timeOut(connection);
    }
    busy_.store(body_.size() + inFlight_ + writing_.size(), std::memory_order_release);
    if (draining) drainCounted_.store(true, std::memory_order_release);
    if (index_ == 0) logShedding(now);
}

void EventLoop::logShedding(SteadyClock::time_point now) {
    if (now - lastShedLog_ < kShedLogInterval) return;
    std::array<std::uint64_t, 5> current{};
    for (std::size_t i = 0; i < 3; ++i)
        current[i] = shared_.shed[i].load(std::memory_order_relaxed);
    current[3] = shared_.overBudget.load(std::memory_order_relaxed);
    current[4] = shared_.refused.load(std::memory_order_relaxed);
    if (current == shedLogged_) return;
    std::string parts;
    for (std::size_t i = 0; i < 3; ++i) {
        if (current[i] == shedLogged_[i]) continue;
        parts += (parts.empty() ? "" : ", ") + std::to_string(current[i] - shedLogged_[i]) + " " +
                 laneName(static_cast<Lane>(i));
    }
    if (!parts.empty()) {
        shared_.log->warn("answered 503 (lane queue full) since the last report: {}", parts);
    }
    if (current[3] != shedLogged_[3]) {
        shared_.log->warn("answered 503 to {} request(s) whose bodies would pass "
                          "server.max_body_memory since the last report",
                          current[3] - shedLogged_[3]);
    }
    if (current[4] != shedLogged_[4]) {
        shared_.log->warn("refused {} connection(s) over server.max_connections or "
                          "max_connections_per_ip since the last report",
                          current[4] - shedLogged_[4]);
    }
    shedLogged_ = current;
    lastShedLog_ = now;
}

} // namespace latchkey::host
