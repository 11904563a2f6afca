// The connection layer: network threads that hold every connection as a non-blocking socket in a
// Poco PollSet, read and frame requests, hand only complete requests to the worker lanes, and
// write the answers. An open connection costs a buffer and a few hundred bytes, never a thread.
#pragma once

#include "runtime/host_config.hpp"
#include "runtime/host_metrics.hpp"
#include "runtime/host_router.hpp"
#include "runtime/request_parser.hpp"
#include "runtime/worker_lane.hpp"

#include <Poco/Net/PollSet.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <spdlog/logger.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace latchkey::runtime {

using SteadyClock = std::chrono::steady_clock;

/// Counts open connections, in all and per client address, against the configured caps.
class ConnectionCounter {
public:
    /// `perAddress` 0: no per-address cap.
    ConnectionCounter(std::size_t total, std::size_t perAddress);

    /// Counts a new connection from `address` and returns true, or returns false (counting
    /// nothing) when it would pass a cap.
    bool tryOpen(const std::string& address);
    /// Forgets a connection tryOpen() counted.
    void close(const std::string& address);
    /// Connections counted now.
    std::size_t open() const noexcept { return open_.load(std::memory_order_relaxed); }

private:
    const std::size_t total_;
    const std::size_t perAddress_;
    std::atomic<std::size_t> open_{0};
    std::mutex mutex_;
    std::unordered_map<std::string, std::size_t> byAddress_;
};

/// Request body bytes held in memory across all connections, against server.max_body_memory.
class BodyBudget {
public:
    explicit BodyBudget(std::uint64_t limit) : limit_(limit) {}
    /// Takes `bytes` from the budget and returns true, or returns false (taking nothing).
    bool tryTake(std::uint64_t bytes) noexcept;
    /// Gives back what tryTake() took.
    void giveBack(std::uint64_t bytes) noexcept;

private:
    const std::uint64_t limit_;
    std::atomic<std::uint64_t> used_{0};
};

/// What the network threads and the workers share.
struct ServerShared {
    ServerShared(const ServerSettings& settings, const HostRouter& router,
                 std::shared_ptr<spdlog::logger> log, std::shared_ptr<spdlog::logger> accessLog,
                 std::size_t maxConnections);

    ServerSettings settings;
    ParserLimits limits;
    const HostRouter& router;
    std::shared_ptr<spdlog::logger> log;
    std::shared_ptr<spdlog::logger> accessLog; ///< Null when the access log is off.
    ConnectionCounter connections;
    BodyBudget bodies;
    std::array<std::unique_ptr<WorkerLane>, 3> lanes; ///< Indexed by Lane.
    std::atomic<bool> draining{false};    ///< Shutting down: every answer closes its connection.
    std::atomic<bool> forceClosed{false}; ///< Past the drain deadline: cut what is left.
    std::array<std::atomic<std::uint64_t>, 3> shed{}; ///< Requests answered 503: lane full.
    std::atomic<std::uint64_t> inlineAnswers{0};      ///< Answered on a network thread (tryInline).
    std::atomic<std::uint64_t> overBudget{0};         ///< Bodies refused: max_body_memory.
    std::atomic<std::uint64_t> refused{0};            ///< Connections closed at once: over a cap.
    HostMetrics* metrics = nullptr; ///< Where answers are counted; null: not counted.

    WorkerLane& lane(Lane lane) { return *lanes[static_cast<std::size_t>(lane)]; }
};

class EventLoop;
struct Connection;

/// The connections in one phase, oldest first: each enters at the back when its phase begins,
/// so with one timeout per phase the front is always the next to expire. Intrusive, so moving a
/// connection between phases costs no allocation. Used by the network thread only.
class PhaseList {
public:
    void pushBack(Connection& c) noexcept;
    void remove(Connection& c) noexcept;
    Connection* front() const noexcept { return head_; }
    std::size_t size() const noexcept { return size_; }

private:
    Connection* head_ = nullptr;
    Connection* tail_ = nullptr;
    std::size_t size_ = 0;
};

/// The request being answered, and the answer. This is all a worker ever touches: the network
/// thread fills it and posts it (phase InFlight), the worker runs the handler and puts the
/// answer's bytes in `answer`, and hands it back; the socket and everything else of the
/// Connection stay with the network thread.
struct Exchange {
    Request request;
    HostRouter::Match match;
    std::string method;  ///< As received (empty when the request line did not parse).
    std::string rawPath; ///< Not decoded: for the access log and the error shape of framing errors.
    std::string rawQuery; ///< Not decoded: for the access log (redacted).
    /// The client's IP for the access log when a trusted proxy forwarded it (else empty: the
    /// connection's address).
    std::string client;
    bool headOnly = false;
    bool close = false; ///< Close the connection after this answer.
    bool http10 = false;
    bool shed = false;           ///< Answered 503 because its lane was full.
    bool failed = false;         ///< The worker could not make an answer: close the connection.
    std::uint64_t bodyBytes = 0; ///< Of the BodyBudget, held by `request.body`.
    SteadyClock::time_point started;
    std::string answer; ///< The answer's bytes, made by the worker.
};

/// One client connection, owned by its network thread; while its request is with a worker
/// (phase InFlight) the worker has `exchange` and nothing else.
struct Connection : std::enable_shared_from_this<Connection> {
    /// Where the connection is in its life.
    enum class Phase : std::uint8_t {
        Idle,      ///< Between requests (or new): keep_alive_timeout applies.
        Head,      ///< Receiving a request head: header_timeout applies.
        Body,      ///< Receiving a body: request_timeout and body_min_rate apply.
        InFlight,  ///< The request is queued for, or running in, a worker.
        Writing,   ///< Sending an answer the client has not taken yet: write_timeout applies.
        Lingering, ///< Answered and closing: the rest of what the client sends is thrown away.
    };

    Connection(const Poco::Net::StreamSocket& accepted, std::string peerAddress,
               std::string clientAddress, std::string counted, EventLoop& owner);

    Poco::Net::StreamSocket socket;
    const std::string peer;    ///< "ip:port", the Request's remoteAddress.
    const std::string address; ///< The client's IP, for the log.
    const std::string capKey;  ///< What max_connections_per_ip counts (an IPv6 /64).
    EventLoop& loop;

    Phase phase = Phase::Idle;
    SteadyClock::time_point since; ///< When the phase began.
    PhaseList* list = nullptr;     ///< The phase list it is in (none while InFlight).
    Connection* previous = nullptr;
    Connection* next = nullptr;
    int interest = 0;       ///< The PollSet mode it is registered with (0: none).
    bool peerDone = false;  ///< The client shut its sending side.
    bool closed = false;    ///< Closed and out of the loop's table.
    bool abandoned = false; ///< To be closed as soon as its worker hands it back.
    bool consuming = false; ///< Inside EventLoop::consume() (pipelined requests).
    bool paused = false;    ///< Not read until its shed_pause ends.
    std::string in;         ///< Bytes received and not parsed yet (kept while InFlight too).
    std::unique_ptr<RequestParser> parser;
    std::uint64_t bodyAccounted = 0; ///< Of the BodyBudget, held by the parser's body.
    std::string out;                 ///< Bytes to send.
    std::size_t sent = 0;            ///< Of `out`, already sent.
    std::size_t discarded = 0;       ///< Bytes thrown away while lingering.
    unsigned served = 0;             ///< Requests on this connection.
    Exchange exchange;
};

/// One network thread: a PollSet of connections (and, on the first loop, the listening socket),
/// their deadlines, and the hand-over of complete requests to the lanes.
class EventLoop {
public:
    EventLoop(ServerShared& shared, std::size_t index);
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    /// Makes this loop accept on `listener` (non-blocking), spreading new connections over
    /// `loops` (which includes this one). Before start() only.
    void acceptOn(const Poco::Net::ServerSocket& listener, std::vector<EventLoop*> loops);
    /// Starts the thread.
    void start();
    /// Wakes the thread so it notices the shared drain flags now.
    void wake();
    /// Stops the thread and closes every connection it holds. Call after the lanes are stopped.
    void stop();

    /// Takes over a freshly accepted connection (from the accepting loop's thread).
    void adopt(const Poco::Net::StreamSocket& socket, std::string peer, std::string address,
               std::string capKey);
    /// Takes back a connection whose request a worker has answered (from a worker thread).
    void handBack(std::shared_ptr<Connection> connection);

    /// Connections with a request that has begun and is not answered yet (a body arriving, with
    /// a worker, or an answer being sent): what a drain waits for.
    std::size_t busy() const noexcept { return busy_.load(std::memory_order_acquire); }
    /// True once busy() has been counted since the drain began.
    bool drainCounted() const noexcept { return drainCounted_.load(std::memory_order_acquire); }

private:
    struct Message {
        std::shared_ptr<Connection> connection; ///< Handed back; or, when null, an adoption:
        Poco::Net::StreamSocket socket;
        std::string peer;
        std::string address;
        std::string capKey;
    };

    void run();
    void turn();
    void processInbox();
    void accept();
    void add(const Poco::Net::StreamSocket& socket, std::string peer, std::string address,
             std::string capKey);
    void onEvent(const std::shared_ptr<Connection>& connection, int mode);
    void onReadable(const std::shared_ptr<Connection>& connection);
    void onPeerDone(const std::shared_ptr<Connection>& connection);
    void consume(const std::shared_ptr<Connection>& connection, std::string_view data);
    bool accountBody(Connection& connection);
    void startExchange(const std::shared_ptr<Connection>& connection);
    /// Ends the request being received (failed, timed out, refused): the exchange takes what of
    /// its head was parsed and will close the connection; the parser, its body and whatever was
    /// held back are dropped.
    void endReceipt(Connection& connection);
    void answerFailure(const std::shared_ptr<Connection>& connection);
    void timeOut(const std::shared_ptr<Connection>& connection);
    void refuseBody(const std::shared_ptr<Connection>& connection);
    void answer(const std::shared_ptr<Connection>& connection, Response response);
    void onReturned(const std::shared_ptr<Connection>& connection);
    void afterAnswer(const std::shared_ptr<Connection>& connection);
    void closeGracefully(const std::shared_ptr<Connection>& connection);
    void close(const std::shared_ptr<Connection>& connection);
    /// Registers the connection for what its phase needs, and only that.
    void rearm(Connection& connection);
    void setInterest(Connection& connection, int mode);
    /// Moves `connection` into `phase` (from now), and into that phase's list.
    void enter(Connection& connection, Connection::Phase phase);
    PhaseList* listFor(Connection::Phase phase) noexcept;
    void sweep(SteadyClock::time_point now);
    void resumePaused(SteadyClock::time_point now);
    void logShedding(SteadyClock::time_point now);

    ServerShared& shared_;
    const std::size_t index_;
    Poco::Net::PollSet poll_;
    Poco::Net::Socket wakeup_;
    Poco::Net::ServerSocket listener_;
    bool listening_ = false;
    bool acceptPaused_ = false; ///< Accepting failed (no descriptors left): retry later.
    SteadyClock::time_point acceptPausedUntil_{};
    std::vector<EventLoop*> loops_;
    std::size_t nextLoop_ = 0;
    std::unordered_map<const void*, std::shared_ptr<Connection>> connections_;
    PhaseList idle_;
    PhaseList head_;
    PhaseList body_;
    PhaseList writing_;
    PhaseList lingering_;
    std::size_t inFlight_ = 0;
    /// Connections in their shed_pause, in the order their pauses end.
    std::deque<std::pair<SteadyClock::time_point, std::shared_ptr<Connection>>> paused_;
    std::vector<char> scratch_;
    SteadyClock::time_point lastSweep_{};
    SteadyClock::time_point lastShedLog_{};
    std::array<std::uint64_t, 5> shedLogged_{};
    bool drainSeen_ = false;
    std::atomic<std::size_t> busy_{0};
    std::atomic<bool> drainCounted_{false};

    std::mutex inboxMutex_;
    std::vector<Message> inbox_;
    bool sleeping_ = false;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

} // namespace latchkey::runtime
