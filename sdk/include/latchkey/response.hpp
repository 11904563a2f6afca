// ABI: what a handler answers.
#pragma once

#include <latchkey/errors.hpp>

#include <string>
#include <utility>
#include <vector>

namespace latchkey {

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

} // namespace latchkey
