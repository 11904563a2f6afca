// The pure parts of serving HTTP/1.1: turning a request-target into the SDK's decoded path and
// query, turning a Response into bytes, and the access log's redacted query.
#pragma once

#include <latchkey/router.hpp>

#include <string>
#include <string_view>

namespace latchkey::runtime {

/// How an answer is framed on its connection.
struct ResponseFraming {
    bool headOnly = false; ///< The request was HEAD: headers only.
    bool close = false;    ///< Say `Connection: close` (the server closes after it).
    bool http10 = false;   ///< The client speaks HTTP/1.0: say `keep-alive` to keep it.
};

/// Appends the bytes of `response` to `out`: status line, `Date`, `Server`, `Cache-Control:
/// no-store` and `X-Content-Type-Options: nosniff` (a handler's header of the same name replaces
/// them), the handler's headers (Set-Cookie may repeat; framing headers are the server's and are
/// dropped), Content-Type and Content-Length, then the body. Headers must have been checked with
/// headersAreSafe().
void appendResponse(std::string& out, const Response& response, const ResponseFraming& framing);

/// The bytes of `HTTP/1.1 100 Continue`.
std::string_view continueResponse() noexcept;

/// False if a header name or value (or the content type) holds a line break, or a name is empty
/// or holds a colon or space: such a header could write further headers.
bool headersAreSafe(const Response& response) noexcept;

/// `target` ("/a%20b/c?x=1") split into the raw path and raw query.
void splitTarget(std::string_view target, std::string& rawPath, std::string& rawQuery);

/// Fills `request.path` (percent-decoded segment by segment: an encoded '/' stays "%2F", so it
/// cannot change routing) and `request.query` (decoded, in order) from the raw parts. Returns
/// false for a target that is not an origin-form path or does not decode.
bool decodeTarget(const std::string& rawPath, const std::string& rawQuery, Request& request);

/// The query string with the values of every parameter not known to be harmless replaced by
/// "***", so keys and tokens passed in URLs never reach the log.
std::string redactQuery(std::string_view rawQuery);

/// The request target as the access log writes it: the path with capability tokens replaced
/// (`/files/<token>` is `/files/***`), the query through redactQuery, and every byte that is not
/// printable ASCII (controls, DEL, anything past 0x7e) written as `\xNN`, so a request cannot
/// forge or break a log line. "-" for an empty path.
std::string loggableTarget(std::string_view rawPath, std::string_view rawQuery);

/// `text` with every byte that is not printable ASCII written as `\xNN` (and `\` as `\\`).
std::string escapeForLog(std::string_view text);

} // namespace latchkey::runtime
