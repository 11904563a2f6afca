// The fields of a request body (JSON or form-encoded), read with type checks that produce the
// v1.1 API's per-field error messages.
#pragma once

#include <latchkey/errors.hpp>
#include <latchkey/http.hpp>

#include <Poco/JSON/Object.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace latchkey::host {

/// Rules for a text field.
struct TextRule {
    bool required = false;     ///< Missing → "This field is required."
    bool allowBlank = false;   ///< "" → "This field may not be blank." unless allowed.
    std::size_t maxLength = 0; ///< In characters; 0 = no limit beyond the body limit.
};

/// A parsed request body. Unknown fields are ignored, as the Syncano API and its clients expect
/// (the official client sends read-only fields back); known fields are type-checked.
class RequestInput {
public:
    /// Parses `request.body`: form-encoded when the Content-Type says so, JSON otherwise. An
    /// empty body is an empty object. Malformed JSON or a non-object → HttpError 400.
    static RequestInput parse(const Request& request);

    /// True when the body has the field (even if null).
    bool has(std::string_view name) const;

    /// A text field; nullopt when absent or wrong (the problem is added to `errors`).
    /// Numbers are accepted and written out as text, as the original API did.
    std::optional<std::string> text(std::string_view name, FieldErrors& errors,
                                    const TextRule& rule = {}) const;

    /// A boolean (true/false, 1/0, "true"/"false"); nullopt when absent or wrong.
    std::optional<bool> flag(std::string_view name, FieldErrors& errors) const;

    /// A JSON object field, serialized; nullopt when absent or wrong.
    std::optional<std::string> object(std::string_view name, FieldErrors& errors) const;

    /// The raw string value of a field, without checks (for `_api_key` style credentials).
    std::optional<std::string> rawString(std::string_view name) const;

private:
    explicit RequestInput(Poco::JSON::Object::Ptr fields);
    Poco::JSON::Object::Ptr fields_;
};

/// Appends `message` to the messages for `field`.
void addFieldError(FieldErrors& errors, std::string_view field, std::string message);

/// Throws HttpError::invalid(errors) when there are any.
void throwIfInvalid(FieldErrors errors);

/// True when `text` is well-formed UTF-8.
bool isValidUtf8(std::string_view text);

/// The number of characters (code points) in well-formed UTF-8 `text`.
std::size_t utf8Length(std::string_view text);

} // namespace latchkey::host
