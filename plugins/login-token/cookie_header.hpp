// Reading one cookie out of a request's `Cookie` header (RFC 6265 5.4's "name=value; ..." list).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace latchkey::plugins::buzz {

/// The value of the first cookie called `name` in `header` whose value is not empty and at most
/// `maxLength` bytes; nullopt when there is none. Names match exactly (case-sensitive); spaces
/// before a pair are skipped. Never throws for any input.
std::optional<std::string> cookieValue(std::string_view header, std::string_view name,
                                       std::size_t maxLength);

} // namespace latchkey::plugins::buzz
