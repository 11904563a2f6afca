// Support (compiled into the plugin): JSON output, string quoting and a streaming writer (std
// only). The SDK reads no JSON: a plugin that must (a provider's answer) uses Poco::JSON, linked
// by itself (see docs/plugin-authoring.md).
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey {

namespace detail {

/// Length of the well-formed UTF-8 sequence starting at `text[i]` (2-4), or 0 if there is none.
inline std::size_t utf8SequenceLength(std::string_view text, std::size_t i) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    std::uint32_t codepoint = 0;
    if ((lead & 0xE0) == 0xC0) {
        length = 2;
        codepoint = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
        length = 3;
        codepoint = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
        length = 4;
        codepoint = lead & 0x07;
    } else {
        return 0;
    }
    if (i + length > text.size()) return 0;
    for (std::size_t k = 1; k < length; ++k) {
        const auto next = static_cast<unsigned char>(text[i + k]);
        if ((next & 0xC0) != 0x80) return 0;
        codepoint = (codepoint << 6) | (next & 0x3F);
    }
    static constexpr std::uint32_t minimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (codepoint < minimum[length] || codepoint > 0x10FFFF ||
        (codepoint >= 0xD800 && codepoint <= 0xDFFF)) {
        return 0;
    }
    return length;
}

/// True for an ASCII character a JSON string holds as it is.
constexpr bool plainJsonChar(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x80 && c != '"' && c != '\\';
}

} // namespace detail

/// `text` as a JSON string literal, quotes included; control characters and quotes escaped.
/// Bytes that are not well-formed UTF-8 become U+FFFD, so the output is always valid JSON.
inline std::string jsonQuote(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    out += '"';
    for (std::size_t i = 0; i < text.size(); ++i) {
        // Copy a run of characters that need no escaping in one append.
        std::size_t end = i;
        while (end < text.size() && detail::plainJsonChar(text[end]))
            ++end;
        if (end > i) {
            out.append(text.data() + i, end - i);
            i = end;
            if (i == text.size()) break;
        }
        const char c = text[i];
        if (static_cast<unsigned char>(c) >= 0x80) {
            const std::size_t length = detail::utf8SequenceLength(text, i);
            if (length == 0) {
                out += "\\ufffd";
            } else {
                out.append(text.substr(i, length));
                i += length - 1;
            }
            continue;
        }
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
                out += buf;
            } else {
                out += c;
            }
        }
    }
    out += '"';
    return out;
}

/// Builds one JSON text for a response body. Calls must nest correctly; the writer adds commas
/// and quoting. Keeps key order; `raw` embeds JSON that is already serialized.
class JsonWriter {
public:
    JsonWriter& beginObject() {
        separate();
        out_ += '{';
        first_.push_back(1);
        return *this;
    }
    JsonWriter& endObject() {
        out_ += '}';
        first_.pop_back();
        return *this;
    }
    JsonWriter& beginArray() {
        separate();
        out_ += '[';
        first_.push_back(1);
        return *this;
    }
    JsonWriter& endArray() {
        out_ += ']';
        first_.pop_back();
        return *this;
    }
    /// The key of the next member of the current object.
    JsonWriter& key(std::string_view name) {
        separate();
        out_ += jsonQuote(name);
        out_ += ": ";
        afterKey_ = true;
        return *this;
    }

    JsonWriter& value(std::string_view text) {
        separate();
        out_ += jsonQuote(text);
        return *this;
    }
    JsonWriter& value(const char* text) { return value(std::string_view(text)); }
    JsonWriter& value(std::int64_t number) {
        separate();
        out_ += std::to_string(number);
        return *this;
    }
    JsonWriter& value(int number) { return value(static_cast<std::int64_t>(number)); }
    JsonWriter& value(bool flag) {
        separate();
        out_ += flag ? "true" : "false";
        return *this;
    }
    JsonWriter& null() {
        separate();
        out_ += "null";
        return *this;
    }
    /// Inserts already-serialized JSON (for example a stored JSON object).
    JsonWriter& raw(std::string_view json) {
        separate();
        out_ += json;
        return *this;
    }

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
    void separate() {
        if (afterKey_) {
            afterKey_ = false;
            return;
        }
        if (!first_.empty()) {
            if (!first_.back()) out_ += ", ";
            first_.back() = 0;
        }
    }

    std::string out_;
    std::vector<unsigned char> first_; ///< Per open container: 1 until a member is written.
    bool afterKey_ = false;
};

} // namespace latchkey
