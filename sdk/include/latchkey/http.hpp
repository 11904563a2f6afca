// The HTTP request and response a handler sees, and the router plugins mount their routes on.
#pragma once

#include <latchkey/errors.hpp>

#include <cctype>
#include <cstdint>
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

/// The pool of workers a request runs in. Each lane has its own threads and a bounded queue
/// (`server.lanes` in docs/configuration.md), so slow work cannot take the workers cheap requests
/// need; a request whose lane is full is answered 503 with Retry-After at once. (SDK 1.1)
enum class Lane : std::uint8_t {
    Standard = 0, ///< Key and cookie lookups, reads, ordinary writes: the default.
    Hashing = 1,  ///< Anything that hashes or verifies a password (argon2id, seconds of CPU).
    Outbound = 2, ///< Anything that waits on another server (a social provider's API).
};

/// Picks the lane of one request once its head and body have arrived. Runs on the host's network
/// threads, several at once: it must be thread-safe and cheap, and must not block or throw.
/// (SDK 1.1)
using LaneSelector = std::function<Lane(const Request&)>;

/// A selector that always answers `lane`. (SDK 1.1)
inline LaneSelector inLane(Lane lane) {
    return [lane](const Request&) noexcept { return lane; };
}

/// Lane::Hashing when the body may set a password, else Lane::Standard: for routes that hash only
/// when a `password` field is sent. Errs towards hashing: a body containing "password", or any
/// JSON or percent escape (which could spell it), counts. (SDK 1.1)
inline Lane hashingIfPasswordMayBeSet(const Request& request) noexcept {
    const std::string_view body = request.body;
    if (body.find("password") != std::string_view::npos ||
        body.find_first_of("\\%") != std::string_view::npos) {
        return Lane::Hashing;
    }
    return Lane::Standard;
}

/// Renders an HttpError in the error shape of one API (v1.1 `{"detail": ...}`, Buzz envelope).
using ErrorRenderer = std::function<Response(const HttpError&)>;

/// Where handlers are mounted. Patterns are paths whose `{name}` segments match one segment;
/// a trailing slash in the pattern is optional in the request. Called only before serving starts.
class Router {
public:
    virtual ~Router() = default;

    /// Registers `handler` for `method` on `pattern` in Lane::Standard; throws std::logic_error
    /// if the route is already taken.
    virtual void add(std::string_view method, std::string_view pattern, Handler handler) = 0;

    /// Renders errors for every path under `prefix` (the longest matching prefix wins),
    /// including 404 and 405 answers the router gives itself.
    virtual void setErrorRenderer(std::string_view prefix, ErrorRenderer renderer) = 0;

    /// Registers `handler` like add(), in the lane `lane` picks for each request: a route that
    /// hashes passwords or calls another server must not run in Lane::Standard. (SDK 1.1)
    virtual void addInLane(std::string_view method, std::string_view pattern, LaneSelector lane,
                           Handler handler) = 0;
};

} // namespace latchkey
