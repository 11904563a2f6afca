// Support (compiled into the plugin): the text rules host and plugins share: ASCII case folding
// (emails, names, header names: never the locale's) and control characters.
#pragma once

#include <algorithm>
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

} // namespace latchkey
