// What keeps another site from acting with a logged-in user's cookie.
#include "cross_site.hpp"

#include <latchkey/errors.hpp>
#include <latchkey/support/text.hpp>

namespace latchkey::plugins::buzz {

namespace {

std::string_view trimmed(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

} // namespace

std::string originOf(std::string_view url) {
    const auto colon = url.find("://");
    if (colon == std::string_view::npos || colon == 0) return {};
    const std::string scheme = asciiLower(url.substr(0, colon));
    std::string_view rest = url.substr(colon + 3);
    rest = rest.substr(0, rest.find_first_of("/?#"));
    if (rest.empty() || rest.find('@') != std::string_view::npos) return {};
    std::string host = asciiLower(rest);
    // The port, after the last ':' that is not inside an IPv6 literal's brackets.
    const auto close = host.rfind(']');
    const auto portColon = host.rfind(':');
    if (portColon != std::string::npos && (close == std::string::npos || portColon > close)) {
        const std::string port = host.substr(portColon + 1);
        if ((scheme == "http" && port == "80") || (scheme == "https" && port == "443") ||
            port.empty()) {
            host.erase(portColon);
        }
    }
    return scheme + "://" + host;
}

void refuseCrossSite(const Request& request, std::string_view origin) {
    if (const auto site = request.header("Sec-Fetch-Site")) {
        const std::string value = asciiLower(trimmed(*site));
        if (value != "same-origin" && value != "none") {
            throw HttpError(403, "Cross-site request refused.");
        }
    }
    if (const auto sent = request.header("Origin")) {
        // "null" (a sandboxed frame, a redirect across origins) is never this origin.
        if (originOf(trimmed(*sent)) != origin || origin.empty()) {
            throw HttpError(403, "Cross-site request refused.");
        }
    }
}

std::string mediaTypeEssence(std::string_view contentType) {
    return asciiLower(trimmed(contentType.substr(0, contentType.find(';'))));
}

} // namespace latchkey::plugins::buzz
