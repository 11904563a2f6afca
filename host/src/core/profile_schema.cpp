// The `user_profile` class's schema: which custom fields a profile has, their types, and how
// values are checked on the way in and shown on the way out.
#include "core/profile_schema.hpp"

#include "core/request_input.hpp"

#include <latchkey/support/time.hpp>

#include <Poco/DateTime.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeParser.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <regex>
#include <set>
#include <sstream>

namespace latchkey::core {

namespace {

constexpr std::size_t kMaxFields = 64;
constexpr std::size_t kMaxNameLength = 64;
constexpr std::size_t kStringMax = 128;
constexpr std::size_t kTextMax = 32000;
constexpr std::size_t kStructuredMax = std::size_t{32} * 1024;

std::string stringify(const Poco::Dynamic::Var& value) {
    std::ostringstream out;
    Poco::JSON::Stringifier::condense(value, out);
    return out.str();
}

bool isValidType(const std::string& type) {
    return std::ranges::any_of(kFieldTypes, [&type](const char* known) { return type == known; });
}

bool isValidFieldName(const std::string& name) {
    if (name.empty() || name.size() > kMaxNameLength) return false;
    if (!std::islower(static_cast<unsigned char>(name[0]))) return false;
    return std::ranges::all_of(name, [](char c) {
        return std::islower(static_cast<unsigned char>(c)) ||
               std::isdigit(static_cast<unsigned char>(c)) || c == '_';
    });
}

/// Parses a JSON array from a Var that is an array, or text holding one.
Poco::JSON::Array::Ptr asArray(const Poco::Dynamic::Var& input) {
    if (input.type() == typeid(Poco::JSON::Array::Ptr)) {
        return input.extract<Poco::JSON::Array::Ptr>();
    }
    if (input.isString()) {
        try {
            Poco::JSON::Parser parser;
            parser.setDepth(8);
            const auto parsed = parser.parse(input.extract<std::string>());
            if (parsed.type() == typeid(Poco::JSON::Array::Ptr)) {
                return parsed.extract<Poco::JSON::Array::Ptr>();
            }
        } catch (const Poco::Exception&) {
            // Reported by the caller as "not a list".
        }
    }
    return nullptr;
}

/// Normalises an ISO 8601 date-time to UTC with microseconds: 2015-04-21T14:19:41.309520Z.
std::optional<std::string> normaliseDateTime(const std::string& text) {
    // Poco's parser skips over almost anything; check the shape first. No zone means UTC.
    static const std::regex shape(
        R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-](\d{2}):?(\d{2}))?)");
    std::smatch match;
    if (text.size() > 40 || !std::regex_match(text, match, shape)) return std::nullopt;
    // Real zone offsets only: at most 14 hours, whole minutes below 60.
    if (match[4].matched && (std::stoi(match[4]) > 14 || std::stoi(match[5]) > 59)) {
        return std::nullopt;
    }
    Poco::DateTime parsed;
    int tzd = 0;
    if (!Poco::DateTimeParser::tryParse(Poco::DateTimeFormat::ISO8601_FRAC_FORMAT, text, parsed,
                                        tzd) &&
        !Poco::DateTimeParser::tryParse(Poco::DateTimeFormat::ISO8601_FORMAT, text, parsed, tzd)) {
        return std::nullopt;
    }
    parsed.makeUTC(tzd);
    // Shifting by the zone may leave the years the format can show.
    if (parsed.year() < 1 || parsed.year() > 9999) return std::nullopt;
    return formatTimestamp(parsed.timestamp().epochMicroseconds());
}

} // namespace

bool isProfileField(const std::string& name) {
    static const std::set<std::string, std::less<>> fields{"id",
                                                           "created_at",
                                                           "updated_at",
                                                           "revision",
                                                           "owner",
                                                           "group",
                                                           "owner_permissions",
                                                           "group_permissions",
                                                           "other_permissions",
                                                           "channel",
                                                           "channel_room",
                                                           "links",
                                                           "expected_revision"};
    return fields.contains(name);
}

bool isReservedFieldName(const std::string& name) {
    // The profile's own fields, and names a user object or a body already uses.
    static const std::set<std::string, std::less<>> alsoReserved{"user",    "username", "user_key",
                                                                 "profile", "groups",   "password"};
    return isProfileField(name) || alsoReserved.contains(name) || name.rfind('_', 0) == 0;
}

ProfileSchema ProfileSchema::fromStored(const std::string& json) {
    ProfileSchema schema;
    schema.storedText_ = json;
    const auto array = asArray(Poco::Dynamic::Var(json));
    if (!array) return schema;
    for (std::size_t i = 0; i < array->size(); ++i) {
        const auto entry = array->getObject(static_cast<unsigned>(i));
        if (!entry) continue;
        FieldSpec field;
        field.name = entry->optValue<std::string>("name", "");
        field.type = entry->optValue<std::string>("type", "");
        field.extra = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        for (const auto& [key, value] : *entry) {
            if (key != "name" && key != "type" && key != "removed") field.extra->set(key, value);
        }
        if (field.name.empty()) continue;
        if (entry->optValue<bool>("removed", false))
            schema.removed_.push_back(std::move(field));
        else
            schema.fields_.push_back(std::move(field));
    }
    return schema;
}

std::optional<ProfileSchema> ProfileSchema::fromRequest(const Poco::Dynamic::Var& input,
                                                        const ProfileSchema& current,
                                                        FieldErrors& errors) {
    const auto array = asArray(input);
    if (!array) {
        addFieldError(errors, "schema", "Expected a list of fields.");
        return std::nullopt;
    }
    if (array->size() > kMaxFields) {
        addFieldError(errors, "schema",
                      "A class may have at most " + std::to_string(kMaxFields) + " fields.");
        return std::nullopt;
    }
    ProfileSchema schema;
    std::set<std::string> seen;
    const std::size_t before = errors.size();
    for (std::size_t i = 0; i < array->size(); ++i) {
        const auto entry = array->getObject(static_cast<unsigned>(i));
        const std::string at = "Field " + std::to_string(i + 1) + ": ";
        if (!entry) {
            addFieldError(errors, "schema", at + "expected {\"name\": ..., \"type\": ...}.");
            continue;
        }
        const auto name = entry->get("name");
        const auto type = entry->get("type");
        if (!name.isString() || !type.isString()) {
            addFieldError(errors, "schema", at + "name and type are required text.");
            continue;
        }
        FieldSpec field;
        field.name = name.extract<std::string>();
        field.type = type.extract<std::string>();
        if (!isValidFieldName(field.name)) {
            addFieldError(errors, "schema",
                          at + "name must be lowercase letters, digits and '_', starting with a "
                               "letter, at most 64 characters.");
            continue;
        }
        if (isReservedFieldName(field.name)) {
            addFieldError(errors, "schema", at + "\"" + field.name + "\" is a reserved name.");
            continue;
        }
        if (!seen.insert(field.name).second) {
            addFieldError(errors, "schema", at + "\"" + field.name + "\" appears twice.");
            continue;
        }
        if (!isValidType(field.type)) {
            addFieldError(errors, "schema",
                          at + "type \"" + field.type +
                              "\" is not one of string, text, integer, float, boolean, datetime, "
                              "file, object, array.");
            continue;
        }
        const FieldSpec* old = current.find(field.name);
        for (const auto& gone : current.removed_) {
            if (!old && gone.name == field.name) old = &gone;
        }
        if (old && old->type != field.type) {
            addFieldError(errors, "schema",
                          at + "the type of \"" + field.name + "\" cannot change (from " +
                              old->type + " to " + field.type + ").");
            continue;
        }
        field.extra = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        for (const auto& [key, value] : *entry) {
            if (key == "order_index" || key == "filter_index" || key == "unique") {
                if (!value.isBoolean()) {
                    addFieldError(errors, "schema", at + key + " must be true or false.");
                    continue;
                }
                field.extra->set(key, value);
            }
        }
        schema.fields_.push_back(std::move(field));
    }
    if (errors.size() != before) return std::nullopt;
    // Everything current or removed before that the new schema leaves out is removed now.
    for (const auto* list : {&current.fields_, &current.removed_}) {
        for (const auto& field : *list) {
            if (!seen.contains(field.name)) schema.removed_.push_back(field);
        }
    }
    return schema;
}

const FieldSpec* ProfileSchema::find(const std::string& name) const {
    for (const auto& field : fields_) {
        if (field.name == name) return &field;
    }
    return nullptr;
}

namespace {

void renderField(JsonWriter& out, const FieldSpec& field, bool removed) {
    out.beginObject().field("name", field.name).field("type", field.type);
    if (field.extra) {
        for (const auto& [key, value] : *field.extra)
            out.key(key).raw(stringify(value));
    }
    if (removed) out.field("removed", true);
    out.endObject();
}

} // namespace

std::string ProfileSchema::toJson() const {
    JsonWriter out;
    out.beginArray();
    for (const auto& field : fields_)
        renderField(out, field, false);
    out.endArray();
    return out.take();
}

std::string ProfileSchema::toStoredJson() const {
    JsonWriter out;
    out.beginArray();
    for (const auto& field : fields_)
        renderField(out, field, false);
    for (const auto& field : removed_)
        renderField(out, field, true);
    out.endArray();
    return out.take();
}

std::optional<std::string> checkFieldValue(const FieldSpec& field, const Poco::Dynamic::Var& value,
                                           bool fromForm, FieldErrors& errors) {
    const auto fail = [&](const std::string& message) -> std::optional<std::string> {
        addFieldError(errors, field.name, message);
        return std::nullopt;
    };
    if (value.isEmpty()) return std::string("null");
    const std::string& type = field.type;
    if (type == "string" || type == "text") {
        if (!value.isString()) return fail("Not a valid string.");
        const auto& text = value.extract<std::string>();
        const std::size_t max = type == "string" ? kStringMax : kTextMax;
        if (!isValidUtf8(text)) return fail("Not a valid string.");
        if (utf8Length(text) > max) {
            return fail("Ensure this field has no more than " + std::to_string(max) +
                        " characters.");
        }
        return stringify(value);
    }
    if (type == "integer") {
        try {
            if (value.isInteger() && !value.isBoolean()) {
                return std::to_string(value.convert<Poco::Int64>());
            }
            if (fromForm && value.isString()) {
                const auto& text = value.extract<std::string>();
                std::size_t used = 0;
                const long long n = std::stoll(text, &used);
                if (used == text.size()) return std::to_string(n);
            }
        } catch (const std::exception&) {
            // Out of range or not a number: the message below.
        }
        return fail("A valid integer is required.");
    }
    if (type == "float") {
        try {
            double n = 0;
            if (value.isNumeric() && !value.isBoolean())
                n = value.convert<double>();
            else if (fromForm && value.isString()) {
                const auto& text = value.extract<std::string>();
                std::size_t used = 0;
                n = std::stod(text, &used);
                if (used != text.size()) return fail("A valid number is required.");
            } else {
                return fail("A valid number is required.");
            }
            if (!std::isfinite(n)) return fail("A valid number is required.");
            return stringify(Poco::Dynamic::Var(n));
        } catch (const std::exception&) {
            return fail("A valid number is required.");
        }
    }
    if (type == "boolean") {
        if (value.isBoolean()) return std::string(value.extract<bool>() ? "true" : "false");
        if (fromForm && value.isString()) {
            const auto& text = value.extract<std::string>();
            if (text == "true" || text == "1") return std::string("true");
            if (text == "false" || text == "0") return std::string("false");
        }
        return fail("Must be a valid boolean.");
    }
    if (type == "datetime") {
        if (!value.isString()) return fail("Expected a date and time in ISO 8601.");
        const auto normal = normaliseDateTime(value.extract<std::string>());
        if (!normal) return fail("Expected a date and time in ISO 8601.");
        return "\"" + *normal + "\"";
    }
    if (type == "object" || type == "array") {
        Poco::Dynamic::Var parsed = value;
        if (fromForm && value.isString()) {
            try {
                Poco::JSON::Parser parser;
                parser.setDepth(32);
                parsed = parser.parse(value.extract<std::string>());
            } catch (const Poco::Exception&) {
                return fail(type == "object" ? "Expected a dictionary of items."
                                             : "Expected a list.");
            }
        }
        const bool matches = type == "object" ? parsed.type() == typeid(Poco::JSON::Object::Ptr)
                                              : parsed.type() == typeid(Poco::JSON::Array::Ptr);
        if (!matches) {
            return fail(type == "object" ? "Expected a dictionary of items." : "Expected a list.");
        }
        std::string json = stringify(parsed);
        if (json.size() > kStructuredMax) {
            return fail("Ensure this value is at most " + std::to_string(kStructuredMax) +
                        " bytes of JSON.");
        }
        return json;
    }
    return fail("Upload a file (multipart/form-data) to set this field.");
}

std::string fileUrl(const std::string& fileBaseUrl, const std::string& token) {
    return fileBaseUrl + "/files/" + token;
}

RenderedFields renderedProfileFields(const std::string& storedData, const ProfileSchema& schema,
                                     const std::string& fileBaseUrl) {
    RenderedFields out;
    if (schema.fields().empty()) return out;
    Poco::JSON::Object::Ptr data;
    try {
        Poco::JSON::Parser parser;
        data = parser.parse(storedData).extract<Poco::JSON::Object::Ptr>();
    } catch (const Poco::Exception&) {
        data = new Poco::JSON::Object;
    }
    out.reserve(schema.fields().size());
    for (const auto& field : schema.fields()) {
        if (!data->has(field.name) || data->isNull(field.name)) {
            out.emplace_back(field.name, "null");
            continue;
        }
        const auto value = data->get(field.name);
        if (field.type == "file" || field.type == "datetime") {
            const auto text = value.convert<std::string>();
            JsonWriter typed;
            typed.beginObject()
                .field("type", field.type)
                .field("value", field.type == "file" ? fileUrl(fileBaseUrl, text) : text)
                .endObject();
            out.emplace_back(field.name, typed.take());
        } else {
            out.emplace_back(field.name, stringify(value));
        }
    }
    return out;
}

void writeProfileFields(JsonWriter& out, const RenderedFields& fields) {
    for (const auto& [name, json] : fields)
        out.key(name).raw(json);
}

} // namespace latchkey::core
