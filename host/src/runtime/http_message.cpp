// The pure parts of serving HTTP/1.1: request-target decoding, response bytes, the redacted query.
#include "runtime/http_message.hpp"

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Timestamp.h>
#include <Poco/URI.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <ctime>

namespace latchkey::runtime {

namespace {

/// Query parameters whose values are safe to log.
bool isLoggableParam(std::string_view name) {
    static constexpr std::array<std::string_view, 6> safe{"page_size", "ordering", "direction",
                                                          "last_pk",   "format",   "page"};
    return std::ranges::find(safe, name) != safe.end();
}

/// Headers that frame the message on the connection, or that the server writes itself: a
/// handler's are dropped (Content-Type comes from Response::contentType).
bool isServerHeader(std::string_view name) {
    return equalsIgnoreCase(name, "Content-Length") ||
           equalsIgnoreCase(name, "Transfer-Encoding") || equalsIgnoreCase(name, "Connection") ||
           equalsIgnoreCase(name, "Content-Type") || equalsIgnoreCase(name, "Date");
}

/// The Date header's value, formatted once a second per thread.
const std::string& httpDate() {
    thread_local std::time_t second = 0;
    thread_local std::string text;
    const std::time_t now = std::time(nullptr);
    if (now != second) {
        second = now;
        text = Poco::DateTimeFormatter::format(Poco::Timestamp::fromEpochTime(now),
                                               Poco::DateTimeFormat::HTTP_FORMAT);
    }
    return text;
}

void appendHeader(std::string& out, std::string_view name, std::string_view value) {
    out.append(name);
    out.append(": ");
    out.append(value);
    out.append("\r\n");
}

} // namespace

void appendResponse(std::string& out, const Response& response, const ResponseFraming& framing) {
    const int status = response.status;
    // No body, and no Content-Length, for 1xx, 204 and 304 (RFC 9110 8.6, 15.4.5).
    const bool bodyless = status < 200 || status == 204 || status == 304;
    out.append("HTTP/1.1 ");
    out.append(std::to_string(status));
    out.push_back(' ');
    out.append(Poco::Net::HTTPResponse::getReasonForStatus(
        static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status)));
    out.append("\r\n");
    appendHeader(out, "Date", httpDate());

    // Keys and tokens travel in these bodies: no cache may keep them (unless the handler says
    // otherwise). A handler's header replaces an earlier one of its name; Set-Cookie adds.
    std::vector<std::pair<std::string_view, std::string_view>> headers{
        {"Server", "latchkey"},
        {"Cache-Control", "no-store"},
        {"X-Content-Type-Options", "nosniff"}};
    for (const auto& [name, value] : response.headers) {
        if (isServerHeader(name)) continue;
        bool replaced = false;
        if (!equalsIgnoreCase(name, "Set-Cookie")) {
            for (auto& existing : headers) {
                if (equalsIgnoreCase(existing.first, name)) {
                    existing.second = value;
                    replaced = true;
                    break;
                }
            }
        }
        if (!replaced) headers.emplace_back(name, value);
    }
    for (const auto& [name, value] : headers)
        appendHeader(out, name, value);
    if (!bodyless) {
        if (!response.contentType.empty()) appendHeader(out, "Content-Type", response.contentType);
        appendHeader(out, "Content-Length", std::to_string(response.body.size()));
    }
    if (framing.close)
        appendHeader(out, "Connection", "close");
    else if (framing.http10)
        appendHeader(out, "Connection", "keep-alive");
    out.append("\r\n");
    if (!bodyless && !framing.headOnly) out.append(response.body);
}

std::string_view continueResponse() noexcept {
    return "HTTP/1.1 100 Continue\r\n\r\n";
}

bool headersAreSafe(const Response& response) noexcept {
    for (const auto& [name, value] : response.headers) {
        if (name.empty() || name.find_first_of("\r\n: ") != std::string::npos ||
            value.find_first_of("\r\n") != std::string::npos) {
            return false;
        }
    }
    return response.contentType.find_first_of("\r\n") == std::string::npos;
}

void splitTarget(std::string_view target, std::string& rawPath, std::string& rawQuery) {
    const std::size_t q = target.find('?');
    rawPath.assign(target.substr(0, q));
    if (q == std::string_view::npos)
        rawQuery.clear();
    else
        rawQuery.assign(target.substr(q + 1));
}

bool decodeTarget(const std::string& rawPath, const std::string& rawQuery, Request& request) {
    if (rawPath.empty() || rawPath.front() != '/') return false;
    try {
        std::string out;
        std::size_t start = 0;
        while (start <= rawPath.size()) {
            const std::size_t slash = rawPath.find('/', start);
            const std::size_t end = slash == std::string::npos ? rawPath.size() : slash;
            std::string segment;
            Poco::URI::decode(rawPath.substr(start, end - start), segment);
            // A decoded '/' would change routing; keep it encoded.
            for (char c : segment) {
                if (c == '/')
                    out += "%2F";
                else
                    out += c;
            }
            if (slash == std::string::npos) break;
            out += '/';
            start = slash + 1;
        }
        request.path = std::move(out);
        request.query.clear();
        if (!rawQuery.empty()) {
            const Poco::URI parsed("/?" + rawQuery);
            for (auto& [key, value] : parsed.getQueryParameters())
                request.query.emplace_back(key, value);
        }
    } catch (const Poco::Exception&) {
        return false;
    }
    return true;
}

std::string redactQuery(std::string_view rawQuery) {
    std::string out;
    std::size_t start = 0;
    while (start < rawQuery.size()) {
        std::size_t end = rawQuery.find('&', start);
        if (end == std::string_view::npos) end = rawQuery.size();
        const std::string_view pair = rawQuery.substr(start, end - start);
        const std::size_t eq = pair.find('=');
        const std::string_view name = pair.substr(0, eq);
        if (!out.empty()) out += '&';
        if (eq == std::string_view::npos) {
            out += isLoggableParam(name) ? name : "***";
        } else {
            out += name;
            out += '=';
            out += isLoggableParam(name) ? pair.substr(eq + 1) : "***";
        }
        start = end + 1;
    }
    return out;
}

std::string escapeForLog(std::string_view text) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte > 0x7e || c == '\\') {
            out += "\\x";
            out += kHex[byte >> 4];
            out += kHex[byte & 0xf];
        } else {
            out += c;
        }
    }
    return out;
}

std::string loggableTarget(std::string_view rawPath, std::string_view rawQuery) {
    if (rawPath.empty()) return "-";
    std::string path(rawPath);
    // Capability URLs: the token is the whole of the right to read the file.
    static constexpr std::string_view kFiles = "/files/";
    if (rawPath.substr(0, kFiles.size()) == kFiles && rawPath.size() > kFiles.size()) {
        path = std::string(kFiles) + "***";
    }
    std::string out = escapeForLog(path);
    const std::string query = redactQuery(rawQuery);
    if (!query.empty()) out += "?" + escapeForLog(query);
    return out;
}

} // namespace latchkey::runtime
