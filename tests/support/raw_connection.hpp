// A raw TCP connection to the host for framing tests: send any bytes, read answers one by one.
#pragma once

#include <Poco/Net/StreamSocket.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace latchkey::test {

/// One HTTP answer as read off the wire.
struct RawAnswer {
    std::string statusLine; ///< "HTTP/1.1 200 OK"
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;

    /// The first header called `name` (case-insensitive), or "".
    std::string header(const std::string& name) const;
};

/// A connection to `baseUrl` ("http://127.0.0.1:PORT"), optionally from `sourceIp`.
class RawConnection {
public:
    explicit RawConnection(const std::string& baseUrl, const std::string& sourceIp = "");

    /// Sends `bytes` as they are.
    void send(const std::string& bytes);
    /// Shuts down the sending side (the server sees end of stream).
    void shutdownSend();
    /// Reads one answer (head, then a Content-Length body unless `head` says it answers a
    /// HEAD request); nullopt if the connection closed or nothing complete arrived in `wait`.
    std::optional<RawAnswer> read(std::chrono::milliseconds wait = std::chrono::seconds(5),
                                  bool head = false);
    /// True if the server closes (or resets) the connection within `wait`; bytes that arrive
    /// meanwhile are kept for read().
    bool closedWithin(std::chrono::milliseconds wait);
    /// Everything received until the server closes or `wait` passes.
    std::string readAll(std::chrono::milliseconds wait = std::chrono::seconds(5));
    /// Bytes received and not yet read as an answer.
    const std::string& pending() const { return buffer_; }

private:
    /// Receives once, waiting up to `wait`; false on close, reset or timeout (`closed_` tells).
    bool receive(std::chrono::milliseconds wait);

    Poco::Net::StreamSocket socket_;
    std::string buffer_;
    bool closed_ = false;
};

} // namespace latchkey::test
