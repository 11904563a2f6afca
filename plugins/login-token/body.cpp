// A request body of the Buzz API (a JSON object), read with Buzz-style messages.
#include "body.hpp"

#include "cross_site.hpp"

#include <Poco/JSON/Parser.h>

#include <charconv>

namespace latchkey::plugins::buzz {

Body Body::parse(const Request& request) {
    Poco::JSON::Object::Ptr fields = new Poco::JSON::Object;
    const std::string& text = request.body;
    const auto start = text.find_first_not_of(" \t\r\n");
    if (start == std::string::npos) return Body(fields);
    // JSON only, by the declared media type's essence (never a substring: "text/plain;
    // charset=application/json" is text/plain). A browser can post a form or text/plain
    // across sites without asking, and a text/plain body can be shaped into JSON: refusing
    // both closes login CSRF (the origin check, cross_site.hpp, is the other half).
    // `curl -d '{...}'` declares a form but sends JSON, and a form a browser encodes never
    // starts with '{'. No Content-Type at all is a client that is not a form: JSON.
    const auto type = request.header("Content-Type");
    const std::string essence = type ? mediaTypeEssence(*type) : std::string();
    const bool declaredForm = essence == "application/x-www-form-urlencoded";
    const bool declaredJson = !type || essence == "application/json";
    if (!declaredJson && !(declaredForm && text[start] == '{')) {
        throw HttpError(415, "Send the body as JSON (Content-Type: application/json).");
    }
    try {
        Poco::JSON::Parser parser;
        parser.setDepth(16);
        const auto parsed = parser.parse(text);
        if (parsed.type() != typeid(Poco::JSON::Object::Ptr)) {
            throw HttpError(400, "The body must be a JSON object.");
        }
        return Body(parsed.extract<Poco::JSON::Object::Ptr>());
    } catch (const Poco::Exception&) {
        throw HttpError(400, "The body is not valid JSON.");
    }
}

bool Body::has(std::string_view name) const {
    return fields_->has(std::string(name));
}

void Body::fail(std::string_view name, std::string message) {
    for (auto& [field, messages] : errors_) {
        if (field == name) {
            messages.push_back(std::move(message));
            return;
        }
    }
    errors_.emplace_back(std::string(name), std::vector<std::string>{std::move(message)});
}

void Body::throwIfInvalid() {
    if (!errors_.empty()) throw HttpError(400, "Invalid input.", std::move(errors_));
}

std::optional<std::string> Body::text(std::string_view name, bool required) {
    const std::string key(name);
    if (!fields_->has(key) || fields_->isNull(key)) {
        if (required) fail(name, "is required");
        return std::nullopt;
    }
    const auto value = fields_->get(key);
    if (value.isString()) return value.extract<std::string>();
    if (value.isNumeric() && !value.isBoolean()) return value.convert<std::string>();
    fail(name, "must be text");
    return std::nullopt;
}

std::optional<std::int64_t> Body::integer(std::string_view name, bool required) {
    const std::string key(name);
    if (!fields_->has(key) || fields_->isNull(key)) {
        if (required) fail(name, "is required");
        return std::nullopt;
    }
    const auto value = fields_->get(key);
    try {
        if (value.isInteger() && !value.isBoolean()) return value.convert<Poco::Int64>();
        if (value.isString()) {
            const auto& text = value.extract<std::string>();
            std::int64_t n = 0;
            auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
            if (ec == std::errc() && ptr == text.data() + text.size() && !text.empty()) return n;
        }
    } catch (const Poco::Exception&) {
        // Out of range: the message below.
    }
    fail(name, "must be a whole number");
    return std::nullopt;
}

std::optional<bool> Body::flag(std::string_view name) {
    const std::string key(name);
    if (!fields_->has(key) || fields_->isNull(key)) return std::nullopt;
    const auto value = fields_->get(key);
    if (value.isBoolean()) return value.extract<bool>();
    if (value.isString()) {
        const auto& text = value.extract<std::string>();
        if (text == "true" || text == "1") return true;
        if (text == "false" || text == "0") return false;
    }
    if (value.isInteger()) {
        try {
            const auto n = value.convert<Poco::Int64>();
            if (n == 0 || n == 1) return n == 1;
        } catch (const Poco::Exception&) {}
    }
    fail(name, "must be true or false");
    return std::nullopt;
}

Poco::JSON::Object::Ptr Body::object(std::string_view name) {
    const std::string key(name);
    if (!fields_->has(key) || fields_->isNull(key)) return nullptr;
    if (auto nested = fields_->getObject(key)) return nested;
    fail(name, "must be an object");
    return nullptr;
}

void Body::rejectUnknown(std::initializer_list<std::string_view> allowed) {
    for (const auto& [name, value] : *fields_) {
        bool known = false;
        for (const auto field : allowed)
            known = known || field == name;
        if (!known) fail(name, "is not a known field");
    }
}

} // namespace latchkey::plugins::buzz
