// Matches requests to handlers by method and path pattern, and renders every error in the shape
// of the API the path belongs to.
#include "runtime/host_router.hpp"

#include "core/inline_attempt.hpp"

#include <latchkey/support/json_writer.hpp>

#include <algorithm>
#include <set>
#include <stdexcept>

namespace latchkey::runtime {

namespace {

/// The router and route whose handler runs on this thread (dispatch()), for currentApi().
struct Dispatching {
    const HostRouter* router = nullptr;
    const std::string* pattern = nullptr;
};
thread_local Dispatching dispatching;

} // namespace

HostRouter::HostRouter(std::shared_ptr<spdlog::logger> log) : log_(std::move(log)) {}

std::vector<std::string_view> HostRouter::split(std::string_view path) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (start <= path.size()) {
        const std::size_t slash = path.find('/', start);
        const std::size_t end = slash == std::string_view::npos ? path.size() : slash;
        if (end > start) parts.emplace_back(path.substr(start, end - start));
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    return parts;
}

void HostRouter::add(std::string_view method, std::string_view pattern, Handler handler) {
    addInLane(method, pattern, inLane(Lane::Standard), std::move(handler));
}

void HostRouter::addInLane(std::string_view method, std::string_view pattern, LaneSelector lane,
                           Handler handler) {
    if (!lane) throw std::logic_error("route " + std::string(pattern) + " has no lane selector");
    Route route{std::string(method), std::string(pattern), {}, std::move(lane), std::move(handler)};
    for (auto part : split(pattern)) {
        const bool isParam = part.size() > 2 && part.front() == '{' && part.back() == '}';
        route.segments.push_back(
            {std::string(isParam ? part.substr(1, part.size() - 2) : part), isParam});
    }
    for (const auto& existing : routes_) {
        if (existing.method != route.method || existing.segments.size() != route.segments.size()) {
            continue;
        }
        bool same = true;
        for (std::size_t i = 0; i < route.segments.size() && same; ++i) {
            const auto& a = existing.segments[i];
            const auto& b = route.segments[i];
            same = a.isParam == b.isParam && (a.isParam || a.text == b.text);
        }
        if (same) {
            throw std::logic_error("route " + route.method + " " + route.pattern +
                                   " is already taken by " + existing.pattern);
        }
    }
    route.index = routes_.size();
    routes_.push_back(std::move(route));
}

void HostRouter::setErrorRenderer(std::string_view prefix, ErrorRenderer renderer) {
    renderers_.emplace_back(std::string(prefix), std::move(renderer));
    // Longest prefix first, so the most specific renderer wins.
    std::stable_sort(renderers_.begin(), renderers_.end(),
                     [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

bool HostRouter::matches(const Route& route, const std::vector<std::string_view>& parts) {
    if (route.segments.size() != parts.size()) return false;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (!route.segments[i].isParam && route.segments[i].text != parts[i]) return false;
    }
    return true;
}

const std::string& HostRouter::Match::pattern() const {
    static const std::string none;
    return route_ ? route_->pattern : none;
}

std::optional<std::size_t> HostRouter::Match::routeIndex() const {
    if (!route_) return std::nullopt;
    return route_->index;
}

std::vector<std::pair<std::string, std::string>> HostRouter::routeList() const {
    std::vector<std::pair<std::string, std::string>> list;
    list.reserve(routes_.size());
    for (const Route& route : routes_)
        list.emplace_back(route.method, route.pattern);
    return list;
}

std::string HostRouter::currentApi() {
    if (!dispatching.router || !dispatching.pattern) return {};
    const std::string& pattern = *dispatching.pattern;
    for (const auto& [prefix, renderer] : dispatching.router->renderers_) {
        // renderers_ is longest first; a prefix counts only up to a segment boundary.
        if (pattern.rfind(prefix, 0) == 0 &&
            (pattern.size() == prefix.size() || pattern[prefix.size()] == '/'))
            return prefix;
    }
    const std::size_t end = pattern.find('/', 1);
    return pattern.substr(0, end);
}

Response HostRouter::renderDetail(const HttpError& error) {
    std::string body;
    if (error.fieldErrors().empty()) {
        body = "{\"detail\": " + jsonQuote(error.detail()) + "}";
    } else {
        body = "{";
        bool first = true;
        for (const auto& [field, messages] : error.fieldErrors()) {
            if (!first) body += ", ";
            first = false;
            body += jsonQuote(field) + ": [";
            for (std::size_t i = 0; i < messages.size(); ++i) {
                if (i) body += ", ";
                body += jsonQuote(messages[i]);
            }
            body += "]";
        }
        body += "}";
    }
    Response response = Response::json(error.status(), std::move(body));
    response.headers = error.headers();
    return response;
}

Response HostRouter::render(const std::string& path, const HttpError& error) const {
    for (const auto& [prefix, renderer] : renderers_) {
        if (path.rfind(prefix, 0) == 0) return renderer(error);
    }
    return renderDetail(error);
}

Response HostRouter::renderBusy(const std::string& path, int retryAfterSeconds) const {
    return render(path, HttpError(503, "The server is busy; retry shortly.", {},
                                  {{"Retry-After", std::to_string(retryAfterSeconds)}}));
}

HostRouter::Match HostRouter::match(Request& request) const {
    const auto parts = split(request.path);
    Match found;
    std::set<std::string_view> allowed;
    const Route* get = nullptr; // HEAD is GET without the body, unless a route says otherwise
    for (const auto& route : routes_) {
        if (!matches(route, parts)) continue;
        if (route.method == request.method) {
            found.route_ = &route;
            break;
        }
        if (route.method == "GET") get = &route;
        allowed.insert(route.method);
    }
    if (!found.route_ && get && request.method == "HEAD") found.route_ = get;
    request.params.clear();
    if (found.route_) {
        for (std::size_t i = 0; i < parts.size(); ++i) {
            const Segment& segment = found.route_->segments[i];
            if (segment.isParam) request.params[segment.text] = std::string(parts[i]);
        }
        return found;
    }
    for (const auto m : allowed)
        found.allow_ += (found.allow_.empty() ? "" : ", ") + std::string(m);
    return found;
}

Lane HostRouter::laneOf(const Match& match, const Request& request) {
    return match.route_ ? match.route_->lane(request) : Lane::Standard;
}

void HostRouter::allowInline(std::string_view method, std::string_view pattern) {
    for (Route& route : routes_) {
        if (route.method == method && route.pattern == pattern) {
            route.inlineFirst = true;
            return;
        }
    }
    throw std::logic_error("no route " + std::string(method) + " " + std::string(pattern) +
                           " to run inline");
}

bool HostRouter::inlineFirst(const Match& match) {
    return match.route_ && match.route_->inlineFirst;
}

std::optional<Response> HostRouter::tryInline(Request& request, const Match& match) const {
    if (!inlineFirst(match)) return std::nullopt;
    const core::InlineAttempt attempt;
    try {
        return dispatch(request, match);
    } catch (const core::WouldBlock&) {
        return std::nullopt;
    }
}

Response HostRouter::dispatch(Request& request) const {
    const Match found = match(request);
    return dispatch(request, found);
}

Response HostRouter::dispatch(Request& request, const Match& match) const {
    const Route* found = match.route_;
    if (!found) {
        if (match.allow_.empty()) return render(request.path, HttpError(404, "Not found."));
        return render(request.path, HttpError(405, "Method \"" + request.method + "\" not allowed.",
                                              {}, {{"Allow", match.allow_}}));
    }
    struct Scope {
        Dispatching saved;
        ~Scope() { dispatching = saved; }
    } scope{dispatching};
    dispatching = Dispatching{this, &found->pattern};
    try {
        return found->handler(request);
    } catch (const core::WouldBlock&) {
        throw; // for tryInline: the request goes to a worker
    } catch (const HttpError& e) {
        return render(request.path, e);
    } catch (const Overloaded& e) {
        log_->warn("{} {}: overloaded: {}", request.method, found->pattern, e.what());
        return renderBusy(request.path, e.retryAfterSeconds());
    } catch (const Unavailable& e) {
        log_->error("{} {}: unavailable: {}", request.method, found->pattern, e.what());
        return render(request.path,
                      HttpError(503, "Service temporarily unavailable; retry shortly.", {},
                                {{"Retry-After", "5"}}));
    } catch (const std::exception& e) {
        log_->error("{} {}: unhandled error: {}", request.method, found->pattern, e.what());
    } catch (...) {
        log_->error("{} {}: unhandled non-standard exception", request.method, found->pattern);
    }
    return render(request.path, HttpError(500, "Internal server error."));
}

} // namespace latchkey::runtime
