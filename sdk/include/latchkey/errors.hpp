// ABI: exceptions that cross the plugin boundary and that the host turns into HTTP answers.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#if defined(__GNUC__)
#define LATCHKEY_SDK_VISIBLE __attribute__((visibility("default")))
#else
#define LATCHKEY_SDK_VISIBLE
#endif

namespace latchkey {

/// Field name → messages, in the order they were found (the v1.1 API's field error shape).
using FieldErrors = std::vector<std::pair<std::string, std::vector<std::string>>>;

/// A response header as name and value.
using Header = std::pair<std::string, std::string>;

/// An error with an HTTP status and a message meant for the client. The router renders it in the
/// error shape of the API the path belongs to; anything else thrown by a handler becomes a 500.
class LATCHKEY_SDK_VISIBLE HttpError : public std::runtime_error {
public:
    /// An error whose message is shown to the client as it is.
    HttpError(int status, std::string detail, FieldErrors fields = {},
              std::vector<Header> headers = {})
        : std::runtime_error(detail), status_(status), detail_(std::move(detail)),
          fields_(std::move(fields)), headers_(std::move(headers)) {}

    /// A 400 carrying field errors (`{"username": ["This field is required."]}`).
    static HttpError invalid(FieldErrors fields) {
        return HttpError(400, "Invalid input.", std::move(fields));
    }

    /// The HTTP status code.
    int status() const noexcept { return status_; }
    /// The client-facing message.
    const std::string& detail() const noexcept { return detail_; }
    /// Per-field messages; empty unless the error is about specific fields.
    const FieldErrors& fieldErrors() const noexcept { return fields_; }
    /// Extra response headers (for example Retry-After).
    const std::vector<Header>& headers() const noexcept { return headers_; }

private:
    int status_;
    std::string detail_;
    FieldErrors fields_;
    std::vector<Header> headers_;
};

/// Thrown when a bounded resource (the hashing pool, the connection pool) is full; the host
/// answers 503 with Retry-After.
class LATCHKEY_SDK_VISIBLE Overloaded : public std::runtime_error {
public:
    /// `what` is logged; the client sees a generic message.
    explicit Overloaded(const std::string& what, int retryAfterSeconds = 1)
        : std::runtime_error(what), retryAfter_(retryAfterSeconds) {}
    /// Seconds the client should wait before retrying.
    int retryAfterSeconds() const noexcept { return retryAfter_; }

private:
    int retryAfter_;
};

/// Thrown when a dependency (the database, a provider) cannot be reached; the host answers 503.
class LATCHKEY_SDK_VISIBLE Unavailable : public std::runtime_error {
public:
    /// `what` is logged; the client sees a generic message.
    explicit Unavailable(const std::string& what) : std::runtime_error(what) {}
};

/// Thrown by a Store when a write breaks a uniqueness rule (a taken username, a duplicate key).
class LATCHKEY_SDK_VISIBLE Conflict : public std::runtime_error {
public:
    /// `field` names what collided (for example "username"), so the caller can say which.
    explicit Conflict(std::string field)
        : std::runtime_error("unique constraint on " + field), field_(std::move(field)) {}
    /// The field whose value is already taken.
    const std::string& field() const noexcept { return field_; }

private:
    std::string field_;
};

} // namespace latchkey
