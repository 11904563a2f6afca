// Matches requests to handlers by method and path pattern, and renders every error in the shape
// of the API the path belongs to.
#include "runtime/router.hpp"

#include <latchkey/json.hpp>

#include <algorithm>
#include <set>
#include <stdexcept>

namespace latchkey::host {

HostRouter::HostRouter(std::shared_ptr<spdlog::logger> log) : log_(std::move(log)) {}

std::vector<std::string> HostRouter::split(std::string_view path) {
    std::vector<std::string> parts;
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
    Route route{std::string(method), std::string(pattern), {}, std::move(handler)};
    for (auto& part : split(pattern)) {
        const bool isParam = part.size() > 2 && part.front() == '{' && part.back() == '}';
        route.segments.push_back({isParam ? part.substr(1, part.size() - 2) : part, isParam});
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
    routes_.push_back(std::move(route));
}

void HostRouter::setErrorRenderer(std::string_view prefix, ErrorRenderer renderer) {
    renderers_.emplace_back(std::string(prefix), std::move(renderer));
    // Longest prefix first, so the most specific renderer wins.
    std::stable_sort(renderers_.begin(), renderers_.end(),
                     [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

bool HostRouter::match(const Route& route, const std::vector<std::string>& parts,
                       Request& request) {
    if (route.segments.size() != parts.size()) return false;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (!route.segments[i].isParam && route.segments[i].text != parts[i]) return false;
    }
    request.params.clear();
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (route.segments[i].isParam) request.params[route.segments[i].text] = parts[i];
    }
    return true;
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

Response HostRouter::dispatch(Request& request) const {
    const auto parts = split(request.path);
    const Route* found = nullptr;
    std::set<std::string> allowed;
    for (const auto& route : routes_) {
        if (!match(route, parts, request)) continue;
        allowed.insert(route.method);
        if (route.method == request.method) {
            found = &route;
            break;
        }
    }
    if (!found) {
        if (allowed.empty()) return render(request.path, HttpError(404, "Not found."));
        std::string allow;
        for (const auto& m : allowed)
            allow += (allow.empty() ? "" : ", ") + m;
        return render(request.path, HttpError(405, "Method \"" + request.method + "\" not allowed.",
                                              {}, {{"Allow", allow}}));
    }
    // The params of the matched route (match() refilled them on every candidate).
    match(*found, parts, request);
    try {
        return found->handler(request);
    } catch (const HttpError& e) {
        return render(request.path, e);
    } catch (const Overloaded& e) {
        log_->warn("{} {}: overloaded: {}", request.method, found->pattern, e.what());
        return render(request.path,
                      HttpError(503, "The server is busy; retry shortly.", {},
                                {{"Retry-After", std::to_string(e.retryAfterSeconds())}}));
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

} // namespace latchkey::host
