// Matches requests to handlers by method and path pattern, and renders every error in the shape
// of the API the path belongs to.
#pragma once

#include <latchkey/router.hpp>

#include <spdlog/logger.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace latchkey::runtime {

/// The router plugins and the identity core mount routes on. add(), addInLane() and
/// setErrorRenderer() are for start-up only; match() and dispatch() are thread-safe once serving
/// starts.
class HostRouter final : public Router {
    struct Route;

public:
    /// Errors under no registered prefix are rendered as `{"detail": ...}`.
    explicit HostRouter(std::shared_ptr<spdlog::logger> log);

    void add(std::string_view method, std::string_view pattern, Handler handler) override;
    void setErrorRenderer(std::string_view prefix, ErrorRenderer renderer) override;
    void addInLane(std::string_view method, std::string_view pattern, LaneSelector lane,
                   Handler handler) override;

    /// What a request path and method resolved to: a route, or the methods the path allows
    /// (none: 404). Valid while the router lives.
    class Match {
    public:
        /// The route's pattern, or empty when nothing matched.
        const std::string& pattern() const;
        /// The route's index in routeList(), or nullopt when nothing matched.
        std::optional<std::size_t> routeIndex() const;

    private:
        friend class HostRouter;
        const Route* route_ = nullptr;
        std::string allow_; ///< With no route: the methods the path has (405), or none (404).
    };

    /// Lets the route `method` `pattern` (already added) be tried on a network thread first
    /// (tryInline). Only for handlers that read through the per-host caches and nothing else:
    /// whatever else they reach must call core::mayBlock() before waiting. Start-up only; throws
    /// std::logic_error when there is no such route.
    void allowInline(std::string_view method, std::string_view pattern) override;

    /// Runs the matched (inline-first) handler on this thread inside a core::InlineAttempt: its
    /// response, or nullopt when it would have had to wait (the request is then for a worker, as
    /// if never tried; the handler only read).
    std::optional<Response> tryInline(Request& request, const Match& match) const;

    /// Finds the route for `request` and fills its `params`; cheap enough for the network thread.
    Match match(Request& request) const;

    /// The lane the matched route wants for `request` (Lane::Standard when nothing matched, since
    /// a 404 or 405 costs nothing).
    static Lane laneOf(const Match& match, const Request& request);

    /// Runs the matched handler and turns whatever it throws into a response: HttpError as the
    /// API's error shape, Overloaded/Unavailable as 503, anything else as a logged 500.
    Response dispatch(Request& request, const Match& match) const;

    /// match() then dispatch().
    Response dispatch(Request& request) const;

    /// Renders `error` with the renderer for `path`.
    Response render(const std::string& path, const HttpError& error) const;

    /// The 503 "busy" answer for `path`, with Retry-After: what an overloaded lane or hashing pool
    /// answers.
    Response renderBusy(const std::string& path, int retryAfterSeconds) const;

    /// Every route as `{method, pattern}`, by route index (Match::routeIndex()).
    std::vector<std::pair<std::string, std::string>> routeList() const;

    /// While a handler runs on this thread (dispatch()): the API its route belongs to, as the
    /// longest error-renderer prefix its pattern starts with ("/rest", "/buzz/rest"), else the
    /// pattern's first segment ("/v1.1"); empty outside dispatch(). Bounded by the route table,
    /// never by input: a label for metrics and events.
    static std::string currentApi();

    /// The v1.1 error shape: `{"detail": ...}`, or `{"field": ["..."]}` for field errors.
    static Response renderDetail(const HttpError& error);

private:
    struct Segment {
        std::string text;
        bool isParam;
    };
    struct Route {
        std::string method;
        std::string pattern;
        std::vector<Segment> segments;
        LaneSelector lane;
        Handler handler;
        bool inlineFirst = false;
        std::size_t index = 0; ///< In routes_.
    };

    /// Whether the matched route may be tried inline.
    static bool inlineFirst(const Match& match);
    static std::vector<std::string_view> split(std::string_view path);
    static bool matches(const Route& route, const std::vector<std::string_view>& parts);

    std::shared_ptr<spdlog::logger> log_;
    std::vector<Route> routes_;
    std::vector<std::pair<std::string, ErrorRenderer>> renderers_;
};

} // namespace latchkey::runtime
