// Incremental framing of one HTTP/1.x request (head, then a Content-Length or chunked body) over
// Boost.Beast's parser, with the host's limits. Knows nothing of sockets: the network thread
// feeds it whatever bytes arrived, in pieces of any size.
#pragma once

#include <latchkey/errors.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::runtime {

/// The bounds a request must stay within.
struct ParserLimits {
    std::size_t maxHeadBytes = 16 << 10; ///< Request line and header fields together (431).
    std::size_t maxHeaders = 100;        ///< Header fields (431).
    std::uint64_t maxBody = 1 << 20;     ///< Body bytes (413).
};

/// A request head as received, checked for the framing rules of RFC 9112.
struct RequestHead {
    std::string method;          ///< As sent ("GET", "POST", or any token).
    std::string target;          ///< The request-target, not decoded ("/path?query").
    int version = 11;            ///< 10 for HTTP/1.0, 11 for HTTP/1.1.
    std::vector<Header> headers; ///< In order, as received (names as sent).
    bool keepAlive = true;       ///< What the client asked for (its version and Connection).
    bool expectContinue = false; ///< `Expect: 100-continue` on an HTTP/1.1 request with a body.
    bool hasBody = false;        ///< A Content-Length above zero, or chunked.
};

/// Parses one request. Feed it bytes until state() is Done or Failed; a parser is used for one
/// request only (make a new one for the next request on the connection).
class RequestParser {
public:
    /// Where the parser is.
    enum class State {
        Head,   ///< Waiting for (the rest of) the head.
        Body,   ///< The head is complete and checked; waiting for body bytes.
        Done,   ///< The whole request has arrived.
        Failed, ///< The request is malformed or over a limit: answer failure() and close.
    };

    /// Why a request failed: the status to answer and a message for the client.
    struct Failure {
        int status = 400;
        std::string message;
    };

    explicit RequestParser(const ParserLimits& limits);
    ~RequestParser();
    RequestParser(const RequestParser&) = delete;
    RequestParser& operator=(const RequestParser&) = delete;

    /// Parses as much of `data` as belongs to this request and returns how many bytes that was.
    /// Bytes of a head that is not complete yet are not consumed: present them again, with
    /// whatever arrived after them, on the next call. Bytes after the end of the request (a
    /// pipelined next request) are never consumed.
    std::size_t feed(std::string_view data);

    /// The client closed its side: a request cut short fails ("Incomplete request." in the head,
    /// "Incomplete request body." in the body); before any byte nothing happens.
    void finish();

    State state() const noexcept { return state_; }
    /// True once any byte of this request has been seen (an idle connection has none).
    bool started() const noexcept { return started_; }
    /// The head; complete once state() is Body or Done.
    const RequestHead& head() const noexcept { return head_; }
    RequestHead& head() noexcept { return head_; }
    /// The body received so far; all of it once state() is Done.
    std::string& body() noexcept { return body_; }
    /// Body bytes received so far.
    std::uint64_t bodyBytes() const noexcept { return body_.size(); }
    /// What went wrong; meaningful when state() is Failed.
    const Failure& failure() const noexcept { return failure_; }

private:
    class Beast;

    void fail(int status, std::string message);
    void checkHead();

    ParserLimits limits_;
    std::unique_ptr<Beast> beast_;
    State state_ = State::Head;
    bool started_ = false;
    std::size_t headBytes_ = 0; ///< Bytes of the head taken so far.
    RequestHead head_;
    std::string body_;
    Failure failure_;
    std::size_t hostHeaders_ = 0;
    std::optional<std::string> transferEncoding_;
    std::optional<std::string> expect_;
};

} // namespace latchkey::runtime
