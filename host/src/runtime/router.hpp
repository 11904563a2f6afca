// Matches requests to handlers by method and path pattern, and renders every error in the shape
// of the API the path belongs to.
#pragma once

#include <latchkey/http.hpp>

#include <spdlog/logger.h>

#include <memory>
#include <string>
#include <vector>

namespace latchkey::host {

/// The router plugins and the identity core mount routes on. add() and setErrorRenderer() are
/// for start-up only; dispatch() is thread-safe once serving starts.
class HostRouter final : public Router {
public:
    /// Errors under no registered prefix are rendered as `{"detail": ...}`.
    explicit HostRouter(std::shared_ptr<spdlog::logger> log);

    void add(std::string_view method, std::string_view pattern, Handler handler) override;
    void setErrorRenderer(std::string_view prefix, ErrorRenderer renderer) override;

    /// Runs the matching handler and turns whatever it throws into a response: HttpError as the
    /// API's error shape, Overloaded/Unavailable as 503, anything else as a logged 500.
    Response dispatch(Request& request) const;

    /// Renders `error` with the renderer for `path`.
    Response render(const std::string& path, const HttpError& error) const;

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
        Handler handler;
    };

    static std::vector<std::string> split(std::string_view path);
    static bool match(const Route& route, const std::vector<std::string>& parts, Request& request);

    std::shared_ptr<spdlog::logger> log_;
    std::vector<Route> routes_;
    std::vector<std::pair<std::string, ErrorRenderer>> renderers_;
};

} // namespace latchkey::host
