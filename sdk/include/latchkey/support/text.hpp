// Support (compiled into the plugin): the text rules host and plugins share: ASCII case folding
// (emails, names, header names: never the locale's) and control characters.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

namespace latchkey {

/// `text` with A-Z folded to a-z and every other byte as it is (UTF-8 passes untouched),
/// whatever the process's locale.
inline std::string asciiLower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

/// True when `text` holds an ASCII control character (0x00-0x1F or DEL), which may not reach a
/// header, a log line or a mail.
inline bool hasControlCharacters(std::string_view text) noexcept {
    return std::any_of(text.begin(), text.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte < 0x20 || byte == 0x7f;
    });
}

/// The longest username (in characters) every storage driver keeps: the SQL drivers' column
/// is VARCHAR(64), and the identity service refuses longer ones on every driver alike.
inline constexpr std::size_t kMaxUsernameLength = 64;

/// Characters in UTF-8 `text` (bytes that do not continue a sequence).
inline std::size_t utf8Characters(std::string_view text) noexcept {
    return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
}

/// Why `username` cannot be one (empty, longer than kMaxUsernameLength characters, or holding
/// a control character), or an empty string when it can.
inline std::string usernameProblem(std::string_view username) {
    if (username.empty()) return "may not be empty";
    if (utf8Characters(username) > kMaxUsernameLength) {
        return "has more than " + std::to_string(kMaxUsernameLength) + " characters";
    }
    if (hasControlCharacters(username)) return "may not contain control characters";
    return {};
}

} // namespace latchkey
