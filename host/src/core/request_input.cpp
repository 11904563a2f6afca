// The fields of a request body (JSON or form-encoded), read with type checks that produce the
// v1.1 API's per-field error messages.
#include "core/request_input.hpp"

#include <latchkey/support/json_writer.hpp>

#include <Poco/JSON/JSONException.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>
#include <Poco/Net/MessageHeader.h>
#include <Poco/Net/MultipartReader.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/StreamCopier.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <sstream>

namespace latchkey::core {

namespace {

/// Deep enough for any real payload, shallow enough that nesting cannot exhaust a stack.
constexpr std::size_t kMaxJsonDepth = 32;

/// Parts at most in a multipart body: more is abuse, not a profile update.
constexpr std::size_t kMaxParts = 100;

constexpr const char* kForm = "application/x-www-form-urlencoded";

/// The declared media type, lowercased and without parameters ("" without a Content-Type),
/// and its parameters.
std::string mediaType(const Request& request, Poco::Net::NameValueCollection& params) {
    const auto type = request.header("Content-Type");
    if (!type) return {};
    std::string essence;
    Poco::Net::MessageHeader::splitParameters(std::string(*type), essence, params);
    Poco::trimInPlace(essence);
    return Poco::toLower(essence);
}

std::optional<std::string> multipartBoundary(const Request& request) {
    Poco::Net::NameValueCollection params;
    if (mediaType(request, params) != "multipart/form-data") return std::nullopt;
    return params.get("boundary", "");
}

/// Form-encoded when declared so, unless the body is plainly a JSON object: `curl -d '{...}'`
/// declares every body a form, and no form body starts with '{'.
bool isFormEncoded(const Request& request, const std::string& type) {
    if (type != kForm) return false;
    const std::size_t start = request.body.find_first_not_of(" \t\r\n");
    return start == std::string::npos || request.body[start] != '{';
}

/// Django REST framework's 415 answer, naming the type when it is a plain token/token.
HttpError unsupportedMediaType(const std::string& type) {
    const bool plain = type.size() <= 64 && std::all_of(type.begin(), type.end(), [](char c) {
                           return std::isalnum(static_cast<unsigned char>(c)) ||
                                  std::string_view("/!#$&^_.+-").find(c) != std::string_view::npos;
                       });
    return HttpError(415, plain ? "Unsupported media type \"" + type + "\" in request."
                                : std::string("Unsupported media type in request."));
}

} // namespace

bool isValidUtf8(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (static_cast<unsigned char>(text[i]) < 0x80) continue;
        const std::size_t length = latchkey::detail::utf8SequenceLength(text, i);
        if (length == 0) return false;
        i += length - 1;
    }
    return true;
}

std::size_t utf8Length(std::string_view text) {
    std::size_t count = 0;
    for (const char c : text) {
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
    }
    return count;
}

void addFieldError(FieldErrors& errors, std::string_view field, std::string message) {
    for (auto& [name, messages] : errors) {
        if (name == field) {
            messages.push_back(std::move(message));
            return;
        }
    }
    errors.emplace_back(std::string(field), std::vector<std::string>{std::move(message)});
}

void throwIfInvalid(FieldErrors errors) {
    if (!errors.empty()) throw HttpError::invalid(std::move(errors));
}

RequestInput::RequestInput(Poco::JSON::Object::Ptr fields, bool form)
    : fields_(std::move(fields)), form_(form) {}

RequestInput RequestInput::parse(const Request& request) {
    Poco::JSON::Object::Ptr fields = new Poco::JSON::Object;
    const std::string& body = request.body;
    if (const auto boundary = multipartBoundary(request)) {
        if (boundary->empty()) throw HttpError(400, "Multipart body without a boundary.");
        RequestInput input(fields, true);
        try {
            std::istringstream in(body);
            Poco::Net::MultipartReader reader(in, *boundary);
            // Every part read counts, kept or not: a body of unnamed or repeated parts (or one
            // Poco's reader keeps finding parts in at its end) ends here, not in a loop.
            std::size_t seen = 0;
            while (reader.hasNextPart()) {
                if (++seen > kMaxParts) {
                    throw HttpError(400, "Too many parts in the multipart body.");
                }
                Poco::Net::MessageHeader header;
                reader.nextPart(header);
                std::string disposition;
                Poco::Net::NameValueCollection params;
                Poco::Net::MessageHeader::splitParameters(header.get("Content-Disposition", ""),
                                                          disposition, params);
                const std::string name = params.get("name", "");
                UploadedPart part;
                part.filename = params.get("filename", "");
                part.contentType = header.get("Content-Type", "application/octet-stream");
                Poco::StreamCopier::copyToString(reader.stream(), part.data);
                if (name.empty() || input.parts_.contains(name)) continue;
                // Every part is also a text field, for the fields that are not files (text
                // readers check UTF-8 themselves).
                fields->set(name, part.data);
                input.parts_.emplace(name, std::move(part));
            }
        } catch (const Poco::Exception&) {
            throw HttpError(400, "Malformed multipart body.");
        }
        return input;
    }
    if (body.find_first_not_of(" \t\r\n") == std::string::npos) return RequestInput(fields, false);
    Poco::Net::NameValueCollection params;
    const std::string type = mediaType(request, params);
    // JSON, a form or multipart (above), as Syncano's parsers; no Content-Type is read as JSON
    // (a client that declares nothing is not a browser form).
    if (!type.empty() && type != "application/json" && type != kForm) {
        throw unsupportedMediaType(type);
    }
    if (isFormEncoded(request, type)) {
        try {
            Poco::URI uri("/?" + body);
            for (const auto& [key, value] : uri.getQueryParameters()) {
                if (!fields->has(key)) fields->set(key, value);
            }
        } catch (const Poco::Exception&) {
            throw HttpError(400, "Malformed form data.");
        }
        return RequestInput(fields, true);
    }
    if (!isValidUtf8(body)) throw HttpError(400, "JSON parse error - the body is not UTF-8.");
    Poco::Dynamic::Var parsed;
    try {
        Poco::JSON::Parser parser;
        parser.setDepth(kMaxJsonDepth);
        parsed = parser.parse(body);
    } catch (const Poco::Exception& e) {
        throw HttpError(400, "JSON parse error - " + e.message());
    }
    if (parsed.type() != typeid(Poco::JSON::Object::Ptr)) {
        std::string got = "a value";
        if (parsed.type() == typeid(Poco::JSON::Array::Ptr))
            got = "list";
        else if (parsed.isString())
            got = "str";
        else if (parsed.isBoolean())
            got = "bool";
        else if (parsed.isNumeric())
            got = "number";
        else if (parsed.isEmpty())
            got = "null";
        throw HttpError(400, "Invalid data. Expected a dictionary, but got " + got + ".");
    }
    return RequestInput(parsed.extract<Poco::JSON::Object::Ptr>(), false);
}

bool RequestInput::isClientField(std::string_view name) {
    static constexpr std::string_view fields[] = {"instanceName", "className",  "id",
                                                  "links",        "created_at", "updated_at",
                                                  "update",       "_api_key",   "_user_key"};
    return std::ranges::any_of(fields, [&name](std::string_view field) { return field == name; });
}

void RequestInput::rejectUnknown(std::initializer_list<std::string_view> allowed) const {
    rejectUnknown([&allowed](const std::string& name) {
        return std::ranges::any_of(allowed,
                                   [&name](std::string_view field) { return field == name; });
    });
}

void RequestInput::rejectUnknown(const std::function<bool(const std::string&)>& allowed) const {
    FieldErrors errors;
    for (const auto& name : names()) {
        if (!isClientField(name) && !allowed(name)) addFieldError(errors, name, "Unknown field.");
    }
    // Stable order for clients and tests: the JSON object's own order is not the body's.
    std::sort(errors.begin(), errors.end());
    throwIfInvalid(std::move(errors));
}

std::vector<std::string> RequestInput::names() const {
    std::vector<std::string> out;
    for (const auto& [name, value] : *fields_)
        out.push_back(name);
    return out;
}

std::optional<Poco::Dynamic::Var> RequestInput::value(std::string_view name) const {
    const std::string key(name);
    if (!fields_->has(key)) return std::nullopt;
    return fields_->get(key);
}

const UploadedPart* RequestInput::part(std::string_view name) const {
    const auto it = parts_.find(name);
    return it == parts_.end() ? nullptr : &it->second;
}

bool RequestInput::has(std::string_view name) const {
    return fields_->has(std::string(name));
}

std::optional<std::string> RequestInput::text(std::string_view name, FieldErrors& errors,
                                              const TextRule& rule) const {
    const std::string key(name);
    if (!fields_->has(key)) {
        if (rule.required) addFieldError(errors, name, "This field is required.");
        return std::nullopt;
    }
    const Poco::Dynamic::Var value = fields_->get(key);
    if (value.isEmpty()) {
        addFieldError(errors, name, "This field may not be null.");
        return std::nullopt;
    }
    std::string out;
    if (value.isString()) {
        out = value.extract<std::string>();
    } else if (value.isNumeric() && !value.isBoolean()) {
        out = value.convert<std::string>();
    } else {
        addFieldError(errors, name, "Not a valid string.");
        return std::nullopt;
    }
    if (!isValidUtf8(out)) {
        addFieldError(errors, name, "Not a valid string.");
        return std::nullopt;
    }
    if (out.empty() && !rule.allowBlank) {
        addFieldError(errors, name, "This field may not be blank.");
        return std::nullopt;
    }
    if (rule.maxLength && utf8Length(out) > rule.maxLength) {
        addFieldError(errors, name,
                      "Ensure this field has no more than " + std::to_string(rule.maxLength) +
                          " characters.");
        return std::nullopt;
    }
    return out;
}

std::optional<bool> RequestInput::flag(std::string_view name, FieldErrors& errors) const {
    const std::string key(name);
    if (!fields_->has(key)) return std::nullopt;
    const Poco::Dynamic::Var value = fields_->get(key);
    if (value.isBoolean()) return value.extract<bool>();
    if (value.isInteger()) {
        try {
            const auto n = value.convert<Poco::Int64>();
            if (n == 0 || n == 1) return n == 1;
        } catch (const Poco::Exception&) {
            // Out of range for Int64 (a huge unsigned number): not a boolean either.
        }
    }
    if (value.isString()) {
        const auto& text = value.extract<std::string>();
        if (text == "true" || text == "True" || text == "1") return true;
        if (text == "false" || text == "False" || text == "0") return false;
    }
    addFieldError(errors, name, "Must be a valid boolean.");
    return std::nullopt;
}

std::optional<std::int64_t> RequestInput::id(std::string_view name, FieldErrors& errors,
                                             bool required) const {
    const std::string key(name);
    if (!fields_->has(key)) {
        if (required) addFieldError(errors, name, "This field is required.");
        return std::nullopt;
    }
    const Poco::Dynamic::Var value = fields_->get(key);
    std::int64_t id = 0;
    try {
        if (value.isInteger() && !value.isBoolean()) {
            id = value.convert<Poco::Int64>();
        } else if (value.isString()) {
            const auto& text = value.extract<std::string>();
            auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
            if (ec != std::errc() || ptr != text.data() + text.size()) id = 0;
        }
    } catch (const Poco::Exception&) {
        id = 0;
    }
    if (id < 1) {
        addFieldError(errors, name, "A valid integer is required.");
        return std::nullopt;
    }
    return id;
}

std::optional<std::string> RequestInput::object(std::string_view name, FieldErrors& errors) const {
    const std::string key(name);
    if (!fields_->has(key)) return std::nullopt;
    const Poco::Dynamic::Var value = fields_->get(key);
    if (value.type() != typeid(Poco::JSON::Object::Ptr)) {
        addFieldError(errors, name, "Expected a dictionary of items.");
        return std::nullopt;
    }
    std::ostringstream out;
    Poco::JSON::Stringifier::condense(value, out);
    return out.str();
}

std::optional<std::string> RequestInput::rawString(std::string_view name) const {
    const std::string key(name);
    if (!fields_->has(key)) return std::nullopt;
    const Poco::Dynamic::Var value = fields_->get(key);
    if (!value.isString()) return std::nullopt;
    return value.extract<std::string>();
}

} // namespace latchkey::core
