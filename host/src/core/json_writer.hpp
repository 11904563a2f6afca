// A small streaming JSON writer for response bodies (keeps key order, embeds stored JSON as is).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::host {

/// Builds one JSON text. Calls must nest correctly; the writer adds commas and quoting.
class JsonWriter {
public:
    JsonWriter& beginObject();
    JsonWriter& endObject();
    JsonWriter& beginArray();
    JsonWriter& endArray();
    /// The key of the next member of the current object.
    JsonWriter& key(std::string_view name);

    JsonWriter& value(std::string_view text);
    JsonWriter& value(const char* text) { return value(std::string_view(text)); }
    JsonWriter& value(std::int64_t number);
    JsonWriter& value(int number) { return value(static_cast<std::int64_t>(number)); }
    JsonWriter& value(bool flag);
    JsonWriter& null();
    /// Inserts already-serialized JSON (for example a stored JSON object).
    JsonWriter& raw(std::string_view json);

    /// key(name).value(v) in one call.
    template <class T>
    JsonWriter& field(std::string_view name, const T& v) {
        key(name);
        return value(v);
    }
    /// key(name) then the value, or null when empty.
    template <class T>
    JsonWriter& field(std::string_view name, const std::optional<T>& v) {
        key(name);
        return v ? value(*v) : null();
    }

    /// The text written so far.
    const std::string& text() const noexcept { return out_; }
    /// Moves the text out.
    std::string take() { return std::move(out_); }

private:
    void separate();

    std::string out_;
    std::vector<bool> first_; ///< Per open container: no member written yet.
    bool afterKey_ = false;
};

} // namespace latchkey::host
