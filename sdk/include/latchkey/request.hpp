// ABI: the HTTP request a handler sees, with its body already read.
#pragma once

#include <latchkey/errors.hpp>

#include <cctype>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace latchkey {

/// Case-insensitive ASCII comparison, for header names.
inline bool equalsIgnoreCase(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

/// A request as the host received it, with the body already read (and size-limited).
struct Request {
    std::string method;                                     ///< "GET", "POST", ...
    std::string path;                                       ///< Percent-decoded path.
    std::vector<std::pair<std::string, std::string>> query; ///< Decoded query, in order.
    std::vector<Header> headers;                            ///< As received.
    std::string body;                                       ///< The whole body.
    /// The client, "ip:port" ("[ipv6]:port"): the peer, or since SDK 2.3 the address a trusted
    /// proxy forwarded (server.trusted_proxies; port 0).
    std::string remoteAddress;
    std::map<std::string, std::string, std::less<>> params; ///< Values of `{name}` segments.

    /// The first header called `name` (case-insensitive), or nullopt.
    std::optional<std::string_view> header(std::string_view name) const {
        for (const auto& [key, value] : headers) {
            if (equalsIgnoreCase(key, name)) return std::string_view(value);
        }
        return std::nullopt;
    }

    /// The first query parameter called `name`, or nullopt.
    std::optional<std::string_view> queryParam(std::string_view name) const {
        for (const auto& [key, value] : query) {
            if (key == name) return std::string_view(value);
        }
        return std::nullopt;
    }

    /// The value of the `{name}` segment of the route pattern (empty if the pattern has none).
    const std::string& param(std::string_view name) const {
        static const std::string empty;
        const auto it = params.find(name);
        return it == params.end() ? empty : it->second;
    }
};

} // namespace latchkey
