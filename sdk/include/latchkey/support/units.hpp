// Support (compiled into the plugin): parsing numbers, durations ("30s") and sizes ("1MiB").
#pragma once

#include <latchkey/support/text.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace latchkey {

namespace detail {

inline std::size_t editDistance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
            diagonal = above;
        }
    }
    return row[b.size()];
}

/// Parses a whole decimal number; nullopt on anything else.
inline std::optional<std::int64_t> parseInt(std::string_view text) {
    std::int64_t value = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
    return value;
}

/// "24h" → (24, "h"): leading digits and the lowercase unit after them; nullopt without digits.
inline std::optional<std::pair<std::int64_t, std::string>> splitQuantity(std::string_view text) {
    std::size_t digits = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) {
        ++digits;
    }
    const auto number = parseInt(text.substr(0, digits));
    if (!number) return std::nullopt;
    return std::make_pair(*number, asciiLower(text.substr(digits)));
}

} // namespace detail

/// Parses "1500ms", "30s", "10m", "24h", "7d" or a bare number of seconds.
inline std::optional<std::chrono::milliseconds> parseDuration(std::string_view text) {
    const auto parts = detail::splitQuantity(text);
    if (!parts) return std::nullopt;
    const auto& [number, unit] = *parts;
    std::int64_t factor = 0;
    if (unit == "ms")
        factor = 1;
    else if (unit.empty() || unit == "s")
        factor = 1000;
    else if (unit == "m" || unit == "min")
        factor = 60'000;
    else if (unit == "h")
        factor = 3'600'000;
    else if (unit == "d")
        factor = 86'400'000;
    else
        return std::nullopt;
    if (number > std::numeric_limits<std::int64_t>::max() / factor) return std::nullopt;
    return std::chrono::milliseconds(number * factor);
}

/// Parses "512", "64KiB", "1MiB", "2GiB" (or KB/MB/GB, powers of 1000) into bytes.
inline std::optional<std::uint64_t> parseBytes(std::string_view text) {
    const auto parts = detail::splitQuantity(text);
    if (!parts) return std::nullopt;
    const auto& [number, unit] = *parts;
    std::uint64_t factor = 0;
    if (unit.empty() || unit == "b")
        factor = 1;
    else if (unit == "kib")
        factor = 1ULL << 10;
    else if (unit == "mib")
        factor = 1ULL << 20;
    else if (unit == "gib")
        factor = 1ULL << 30;
    else if (unit == "kb")
        factor = 1000;
    else if (unit == "mb")
        factor = 1'000'000;
    else if (unit == "gb")
        factor = 1'000'000'000;
    else
        return std::nullopt;
    const auto value = static_cast<std::uint64_t>(number);
    if (value > std::numeric_limits<std::uint64_t>::max() / factor) return std::nullopt;
    return value * factor;
}

} // namespace latchkey
