// What an instance may be called: the rule `POST /v1.1/instances/` enforces, and the config's
// per-instance settings (`auth.social.<backend>.instances.<name>`) check their names against.
#pragma once

#include <algorithm>
#include <cctype>
#include <string_view>

namespace latchkey::core {

/// The rule below, for messages.
inline constexpr const char* kInstanceNameRule =
    "5 to 64 lowercase letters, digits, '-' and '_', starting with a letter";

/// Syncano's rule (at least 5 characters), kept URL-safe and bounded. Names are stored
/// lowercase: the API lowercases what the client sends before it checks.
inline bool isInstanceName(std::string_view name) noexcept {
    if (name.size() < 5 || name.size() > 64) return false;
    if (!std::islower(static_cast<unsigned char>(name.front()))) return false;
    return std::ranges::all_of(name, [](char c) {
        return std::islower(static_cast<unsigned char>(c)) ||
               std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    });
}

} // namespace latchkey::core
