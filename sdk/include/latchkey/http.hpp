// The HTTP request and response a handler sees, and the router plugins mount their routes on.
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
    std::string remoteAddress;                              ///< Peer "ip:port".
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

/// What a handler answers.
struct Response {
    int status = 200;                             ///< HTTP status code.
    std::string contentType = "application/json"; ///< Content-Type of the body.
    std::string body;                             ///< The body; empty for 204.
    std::vector<Header> headers;                  ///< Extra headers (Set-Cookie, Location, ...).

    /// A JSON response with the given status.
    static Response json(int status, std::string body) {
        Response r;
        r.status = status;
        r.body = std::move(body);
        return r;
    }

    /// 204 No Content.
    static Response noContent() {
        Response r;
        r.status = 204;
        r.contentType.clear();
        return r;
    }
};

/// Handles one request; may throw HttpError (rendered for the client) or anything else (a 500).
using Handler = std::function<Response(const Request&)>;

/// Renders an HttpError in the error shape of one API (v1.1 `{"detail": ...}`, Buzz envelope).
using ErrorRenderer = std::function<Response(const HttpError&)>;

/// Where handlers are mounted. Patterns are paths whose `{name}` segments match one segment;
/// a trailing slash in the pattern is optional in the request. Called only before serving starts.
class Router {
public:
    virtual ~Router() = default;

    /// Registers `handler` for `method` on `pattern`; throws std::logic_error if already taken.
    virtual void add(std::string_view method, std::string_view pattern, Handler handler) = 0;

    /// Renders errors for every path under `prefix` (the longest matching prefix wins),
    /// including 404 and 405 answers the router gives itself.
    virtual void setErrorRenderer(std::string_view prefix, ErrorRenderer renderer) = 0;
};

} // namespace latchkey
