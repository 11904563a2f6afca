// Reading one cookie out of a `Cookie` header.
#include "cookie_header.hpp"

namespace latchkey::plugins::buzz {

std::optional<std::string> cookieValue(std::string_view header, std::string_view name,
                                       std::size_t maxLength) {
    std::string_view rest = header;
    while (!rest.empty()) {
        const auto end = rest.find(';');
        std::string_view pair = rest.substr(0, end);
        while (!pair.empty() && pair.front() == ' ')
            pair.remove_prefix(1);
        if (pair.size() > name.size() && pair.substr(0, name.size()) == name &&
            pair[name.size()] == '=') {
            const auto value = pair.substr(name.size() + 1);
            if (!value.empty() && value.size() <= maxLength) return std::string(value);
        }
        if (end == std::string_view::npos) break;
        rest.remove_prefix(end + 1);
    }
    return std::nullopt;
}

} // namespace latchkey::plugins::buzz
