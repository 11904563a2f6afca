// The `user_profile` class's schema: which custom fields a profile has, their types, and how
// values are checked on the way in and shown on the way out.
#pragma once

#include <latchkey/support/json_writer.hpp>

#include <latchkey/errors.hpp>

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Object.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace latchkey::core {

/// The class every instance has; its objects are the users' profiles.
inline constexpr const char* kProfileClass = "user_profile";

/// The field types a profile schema accepts.
inline constexpr const char* kFieldTypes[] = {"string",   "text", "integer", "float", "boolean",
                                              "datetime", "file", "object",  "array"};

/// One custom field.
struct FieldSpec {
    std::string name;
    std::string type;
    Poco::JSON::Object::Ptr extra; ///< order_index, filter_index, unique...: kept as given.
};

/// An ordered list of custom fields, plus the fields removed from it. A removed field keeps its
/// type for good: profiles still hold its old values, and giving the name another type would
/// hand those values (a string holding a file token, say) to code expecting that type.
class ProfileSchema {
public:
    /// Reads a stored schema (a JSON array); an empty or broken one reads as no fields.
    static ProfileSchema fromStored(const std::string& json);

    /// Checks a new schema from a request against the current one and returns it; problems are
    /// recorded under "schema". `input` is a JSON array, or a string holding one (form bodies).
    static std::optional<ProfileSchema>
    fromRequest(const Poco::Dynamic::Var& input, const ProfileSchema& current, FieldErrors& errors);

    /// The field called `name`, or nullptr (removed fields are not found).
    const FieldSpec* find(const std::string& name) const;
    /// The fields in order.
    const std::vector<FieldSpec>& fields() const { return fields_; }
    /// The fields removed over time, with their last type.
    const std::vector<FieldSpec>& removed() const { return removed_; }
    /// The schema as shown: a JSON array of the fields.
    std::string toJson() const;
    /// The schema as stored: the fields, then the removed ones marked `"removed": true`.
    std::string toStoredJson() const;
    /// The stored text fromStored() read (what the schema is remembered by); empty otherwise.
    const std::string& storedText() const { return storedText_; }

private:
    std::string storedText_;
    std::vector<FieldSpec> fields_;
    std::vector<FieldSpec> removed_;
};

/// A value for a field, checked against its type. Form bodies send every value as text, so
/// text is accepted for numbers and booleans when `fromForm`. Returns the JSON to store (files
/// are handled by the caller), or nullopt with the problem added to `errors`.
std::optional<std::string> checkFieldValue(const FieldSpec& field, const Poco::Dynamic::Var& value,
                                           bool fromForm, FieldErrors& errors);

/// A profile's custom fields as the API shows them, in schema order: each field's name and its
/// value as serialized JSON (null where the profile has none).
using RenderedFields = std::vector<std::pair<std::string, std::string>>;

/// The profile's custom fields as the API shows them: only fields in the schema, files as
/// `{"type": "file", "value": url}` and datetimes as `{"type": "datetime", "value": ...}`.
RenderedFields renderedProfileFields(const std::string& storedData, const ProfileSchema& schema,
                                     const std::string& fileBaseUrl);

/// Writes renderedProfileFields() into the object `out` is in.
void writeProfileFields(JsonWriter& out, const RenderedFields& fields);

/// The public URL of an uploaded file.
std::string fileUrl(const std::string& fileBaseUrl, const std::string& token);

/// True for a profile object's own fields (read-only here, sent back by the official client).
bool isProfileField(const std::string& name);

/// Names a schema may not use: the profile's own fields, and a few a user object uses.
bool isReservedFieldName(const std::string& name);

} // namespace latchkey::core
