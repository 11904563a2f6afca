// A request body of the Buzz API (a JSON object), read with Buzz-style messages.
#pragma once

#include <latchkey/errors.hpp>
#include <latchkey/router.hpp>

#include <Poco/JSON/Object.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace latchkey::plugins::buzz {

/// The fields of one request body. Problems collect in `errors()` as (field, message), which
/// the envelope shows as "field message".
class Body {
public:
    /// Parses a JSON object (415 for forms and text/plain, 400 for anything else).
    static Body parse(const Request& request);

    bool has(std::string_view name) const;
    /// Text; numbers are accepted as text.
    std::optional<std::string> text(std::string_view name, bool required = false);
    /// A whole number (or digits as text).
    std::optional<std::int64_t> integer(std::string_view name, bool required = false);
    /// true/false (or 1/0, "true"/"false").
    std::optional<bool> flag(std::string_view name);
    /// A nested JSON object; null when absent (or not an object, which is recorded).
    Poco::JSON::Object::Ptr object(std::string_view name);
    /// Records `name` as unknown unless in `allowed`.
    void rejectUnknown(std::initializer_list<std::string_view> allowed);
    /// Records a problem.
    void fail(std::string_view name, std::string message);
    /// Throws HttpError 400 with every problem recorded.
    void throwIfInvalid();

private:
    explicit Body(Poco::JSON::Object::Ptr fields) : fields_(std::move(fields)) {}
    Poco::JSON::Object::Ptr fields_;
    FieldErrors errors_;
};

} // namespace latchkey::plugins::buzz
