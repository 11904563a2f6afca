// The connection layer's loop: a network thread's life, its inbox, accepting, poll events,
// which phase each connection is in and what that phase polls for, and every deadline.
// A connection's requests (reading, framing, the hand-over to the lanes, answering) are in
// event_loop_exchange.cpp.
#include "runtime/event_loop.hpp"

#include "runtime/event_loop_internal.hpp"

#include <Poco/Exception.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SocketImpl.h>

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace latchkey::runtime {

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

} // namespace

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

} // namespace latchkey::runtime
