// The fields of a request body (JSON or form-encoded), read with type checks that produce the
// v1.1 API's per-field error messages.
#pragma once

#include <latchkey/errors.hpp>
#include <latchkey/router.hpp>

#include <Poco/JSON/Object.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::core {

/// Rules for a text field.
struct TextRule {
    bool required = false;     ///< Missing → "This field is required."
    bool allowBlank = false;   ///< "" → "This field may not be blank." unless allowed.
    std::size_t maxLength = 0; ///< In characters; 0 = no limit beyond the body limit.
};

/// One part of a multipart/form-data body.
struct UploadedPart {
    std::string filename;    ///< Empty when the client sent none.
    std::string contentType; ///< As declared, or application/octet-stream.
    std::string data;
};

/// A parsed request body. Each endpoint names the fields it knows (rejectUnknown): a field it
/// does not know is a 400, so a typo never passes silently. The read-only fields the official
/// client sends back with every save (`id`, `links`, `instanceName`, ...) count as known.
class RequestInput {
public:
    /// True for the fields every endpoint accepts and ignores: what the official client adds to
    /// bodies (`instanceName`, `id`, `links`, dates, `update`) and the `_api_key`/`_user_key`
    /// credentials.
    static bool isClientField(std::string_view name);

    /// 400 with `{"field": ["Unknown field."]}` for every field that is neither in `allowed` nor
    /// a client field.
    void rejectUnknown(std::initializer_list<std::string_view> allowed) const;
    /// As above, with a test instead of a list.
    void rejectUnknown(const std::function<bool(const std::string&)>& allowed) const;

    /// Parses `request.body`: form-encoded or multipart when the Content-Type says so, JSON
    /// otherwise. An empty body is an empty object. Malformed JSON, a non-object or a broken
    /// multipart body → HttpError 400.
    static RequestInput parse(const Request& request);

    /// The names of the fields present, in no particular order.
    std::vector<std::string> names() const;

    /// The raw value of a field (JSON types; text for form and multipart bodies).
    std::optional<Poco::Dynamic::Var> value(std::string_view name) const;

    /// True when values came from a form or multipart body, where everything is text.
    bool isForm() const { return form_; }

    /// The multipart part called `name`, or nullptr.
    const UploadedPart* part(std::string_view name) const;

    /// True when the body has the field (even if null).
    bool has(std::string_view name) const;

    /// A text field; nullopt when absent or wrong (the problem is added to `errors`).
    /// Numbers are accepted and written out as text, as the original API did.
    std::optional<std::string> text(std::string_view name, FieldErrors& errors,
                                    const TextRule& rule = {}) const;

    /// A boolean (true/false, 1/0, "true"/"false"); nullopt when absent or wrong.
    std::optional<bool> flag(std::string_view name, FieldErrors& errors) const;

    /// A positive id (a JSON integer, or digits as text); nullopt when absent or wrong.
    std::optional<std::int64_t> id(std::string_view name, FieldErrors& errors,
                                   bool required = false) const;

    /// A JSON object field, serialized; nullopt when absent or wrong.
    std::optional<std::string> object(std::string_view name, FieldErrors& errors) const;

    /// The raw string value of a field, without checks (for `_api_key` style credentials).
    std::optional<std::string> rawString(std::string_view name) const;

private:
    RequestInput(Poco::JSON::Object::Ptr fields, bool form);
    Poco::JSON::Object::Ptr fields_;
    bool form_ = false;
    std::map<std::string, UploadedPart, std::less<>> parts_;
};

/// Appends `message` to the messages for `field`.
void addFieldError(FieldErrors& errors, std::string_view field, std::string message);

/// Throws HttpError::invalid(errors) when there are any.
void throwIfInvalid(FieldErrors errors);

/// True when `text` is well-formed UTF-8.
bool isValidUtf8(std::string_view text);

/// The number of characters (code points) in well-formed UTF-8 `text`.
std::size_t utf8Length(std::string_view text);

} // namespace latchkey::core
