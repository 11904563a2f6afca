// ABI: the router flows mount their routes on, the lanes routes run in, and the handler type.
#pragma once

#include <latchkey/errors.hpp>
#include <latchkey/request.hpp>
#include <latchkey/response.hpp>

#include <cstdint>
#include <functional>
#include <string_view>

namespace latchkey {

/// Handles one request; may throw HttpError (rendered for the client) or anything else (a 500).
using Handler = std::function<Response(const Request&)>;

/// The pool of workers a request runs in. Each lane has its own threads and a bounded queue
/// (`server.lanes` in docs/configuration.md), so slow work cannot take the workers cheap requests
/// need; a request whose lane is full is answered 503 with Retry-After at once.
enum class Lane : std::uint8_t {
    Standard = 0, ///< Key and cookie lookups, reads, ordinary writes: the default.
    Hashing = 1,  ///< Anything that hashes or verifies a password (argon2id, seconds of CPU).
    Outbound = 2, ///< Anything that waits on another server (a social provider's API).
};

/// Picks the lane of one request once its head and body have arrived. Runs on the host's network
/// threads, several at once: it must be thread-safe and cheap, and must not block or throw.
///
using LaneSelector = std::function<Lane(const Request&)>;

/// A selector that always answers `lane`.
inline LaneSelector inLane(Lane lane) {
    return [lane](const Request&) noexcept { return lane; };
}

/// Lane::Hashing when the body may set a password, else Lane::Standard: for routes that hash only
/// when a `password` field is sent. Errs towards hashing: a body containing "password", or any
/// JSON or percent escape (which could spell it), counts.
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
    /// hashes passwords or calls another server must not run in Lane::Standard.
    virtual void addInLane(std::string_view method, std::string_view pattern, LaneSelector lane,
                           Handler handler) = 0;

    /// Lets the route `method` `pattern`, already added with add(), be tried first on the
    /// network thread that read the request, which saves the hand-over to a worker and back
    /// (it costs more than a cached lookup). Since SDK 2.2.
    ///
    /// Only for handlers that read through the facets the host caches (instances, API keys,
    /// users, user states, classes, groups, sessions), the key/value area and the identity
    /// service, or only compute. A read the caches cannot answer, any write through those, and
    /// any password hashing then throws an exception of the host's own (not a std::exception)
    /// through the handler: let it pass (a `catch (...)` must rethrow), and the request runs
    /// again from the start on a worker. So do nothing before such a call that must not happen
    /// twice. Other facets (accounts, login tokens, social identities, files), the mailer and
    /// outbound calls are not checked: never use them from such a handler, nor a lock a worker
    /// may hold. Only routes in Lane::Standard are tried. Throws std::logic_error when there is
    /// no such route.
    virtual void allowInline(std::string_view method, std::string_view pattern) = 0;
};

} // namespace latchkey
