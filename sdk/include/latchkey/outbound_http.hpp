// ABI: calls from a plugin to another server (a social provider), through the host: TLS checked
// against the host's trust store, a deadline on every call, and a bound on answer sizes.
#pragma once

#include <latchkey/errors.hpp>
#include <latchkey/router.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey {

/// A request to another server.
struct OutboundRequest {
    std::string method = "GET";
    std::string url; ///< "https://host[:port]/path?query", query already percent-encoded.
    std::vector<Header> headers;
    std::string body;
    /// For the whole exchange: connecting, sending, and reading the complete answer.
    std::chrono::milliseconds timeout{5000};
};

/// Its answer, whatever the status.
struct OutboundResponse {
    int status = 0;
    std::vector<Header> headers;
    std::string body;

    /// The first header called `name` (case-insensitive), or nullopt.
    std::optional<std::string_view> header(std::string_view name) const {
        for (const auto& [key, value] : headers) {
            if (equalsIgnoreCase(key, name)) return std::string_view(value);
        }
        return std::nullopt;
    }
};

/// The host's HTTP client. Thread-safe.
class OutboundHttp {
public:
    virtual ~OutboundHttp() = default;
    /// Sends `request` and returns the answer, whatever its status. Throws Unavailable when the
    /// server cannot be reached, TLS fails (including a certificate that is not trusted or not
    /// for that host), the timeout passes, or the answer exceeds the host's size limit; throws
    /// std::invalid_argument for a URL that is not http(s) or a header name or value that
    /// holds a line break.
    virtual OutboundResponse send(const OutboundRequest& request) = 0;
};

} // namespace latchkey
