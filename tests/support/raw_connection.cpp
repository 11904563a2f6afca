// A raw TCP connection to the host for framing tests.
#include "support/raw_connection.hpp"

#include <Poco/Exception.h>
#include <Poco/NumberParser.h>
#include <Poco/URI.h>

#include <strings.h>

namespace latchkey::test {

std::string RawAnswer::header(const std::string& name) const {
    for (const auto& [key, value] : headers) {
        if (strcasecmp(key.c_str(), name.c_str()) == 0) return value;
    }
    return "";
}

RawConnection::RawConnection(const std::string& baseUrl, const std::string& sourceIp)
    : socket_(Poco::Net::IPAddress::IPv4) {
    const Poco::URI uri(baseUrl);
    if (!sourceIp.empty()) socket_.impl()->bind(Poco::Net::SocketAddress(sourceIp, 0));
    socket_.connect(Poco::Net::SocketAddress(uri.getHost(), uri.getPort()));
}

void RawConnection::send(const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        const int n = socket_.sendBytes(bytes.data() + sent, static_cast<int>(bytes.size() - sent));
        if (n <= 0) throw std::runtime_error("send failed");
        sent += static_cast<std::size_t>(n);
    }
}

void RawConnection::shutdownSend() {
    socket_.shutdownSend();
}

bool RawConnection::receive(std::chrono::milliseconds wait) {
    if (closed_) return false;
    char chunk[65536];
    try {
        socket_.setReceiveTimeout(Poco::Timespan(wait.count() * 1000));
        const int n = socket_.receiveBytes(chunk, sizeof chunk);
        if (n <= 0) {
            closed_ = true;
            return false;
        }
        buffer_.append(chunk, static_cast<std::size_t>(n));
        return true;
    } catch (const Poco::TimeoutException&) {
        return false;
    } catch (const Poco::Exception&) {
        closed_ = true; // reset
        return false;
    }
}

std::optional<RawAnswer> RawConnection::read(std::chrono::milliseconds wait, bool head) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    const auto left = [&] {
        return std::max(std::chrono::milliseconds(1),
                        std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - std::chrono::steady_clock::now()));
    };
    for (;;) {
        const std::size_t end = buffer_.find("\r\n\r\n");
        if (end != std::string::npos) {
            RawAnswer answer;
            std::size_t lineEnd = buffer_.find("\r\n");
            answer.statusLine = buffer_.substr(0, lineEnd);
            if (answer.statusLine.size() >= 12)
                answer.status = Poco::NumberParser::parse(answer.statusLine.substr(9, 3));
            std::size_t at = lineEnd + 2;
            while (at < end) {
                lineEnd = buffer_.find("\r\n", at);
                const std::string line = buffer_.substr(at, lineEnd - at);
                const std::size_t colon = line.find(':');
                std::string value = line.substr(colon + 1);
                while (!value.empty() && value.front() == ' ')
                    value.erase(0, 1);
                answer.headers.emplace_back(line.substr(0, colon), value);
                at = lineEnd + 2;
            }
            const std::string length = answer.header("Content-Length");
            const std::size_t size =
                length.empty() || head ? 0 : static_cast<std::size_t>(std::stoull(length));
            const std::size_t total = end + 4 + size;
            if (buffer_.size() >= total) {
                answer.body = buffer_.substr(end + 4, size);
                buffer_.erase(0, total);
                return answer;
            }
        }
        if (std::chrono::steady_clock::now() >= deadline || closed_) return std::nullopt;
        receive(left());
    }
}

bool RawConnection::closedWithin(std::chrono::milliseconds wait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (!closed_ && std::chrono::steady_clock::now() < deadline) {
        receive(std::max(std::chrono::milliseconds(1),
                         std::chrono::duration_cast<std::chrono::milliseconds>(
                             deadline - std::chrono::steady_clock::now())));
    }
    return closed_;
}

std::string RawConnection::readAll(std::chrono::milliseconds wait) {
    closedWithin(wait);
    std::string all;
    all.swap(buffer_);
    return all;
}

} // namespace latchkey::test
