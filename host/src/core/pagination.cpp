// Syncano v1.1 list pages: `page_size`, `ordering`, and the `last_pk`/`direction` cursor.
#include "core/pagination.hpp"

#include "core/request_input.hpp"

#include <charconv>

namespace latchkey::core {

namespace {

std::optional<std::int64_t> parseWhole(std::string_view text) {
    std::int64_t value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
    return value;
}

} // namespace

PageRequest PageParams::scan() const {
    PageRequest request;
    request.after = lastPk;
    // Forward in ascending order reads upwards; each flip (desc, or backward) reverses it.
    request.ascending = descending == backward;
    request.limit = size + 1;
    return request;
}

PageParams readPageParams(const Request& request) {
    PageParams params;
    FieldErrors errors;
    if (const auto size = request.queryParam("page_size")) {
        const auto n = parseWhole(*size);
        if (!n || *n < 1 || *n > static_cast<std::int64_t>(kMaxPageSize)) {
            addFieldError(errors, "page_size",
                          "Ensure this value is a whole number from 1 to " +
                              std::to_string(kMaxPageSize) + ".");
        } else {
            params.size = static_cast<std::size_t>(*n);
        }
    }
    if (const auto ordering = request.queryParam("ordering")) {
        if (*ordering == "desc")
            params.descending = true;
        else if (*ordering != "asc")
            addFieldError(errors, "ordering", "Must be asc or desc.");
    }
    if (const auto direction = request.queryParam("direction")) {
        if (*direction == "0")
            params.backward = true;
        else if (*direction != "1")
            addFieldError(errors, "direction", "Must be 0 or 1.");
    }
    if (const auto lastPk = request.queryParam("last_pk")) {
        const auto n = parseWhole(*lastPk);
        if (!n || *n < 1)
            addFieldError(errors, "last_pk", "A valid positive integer is required.");
        else
            params.lastPk = *n;
    }
    throwIfInvalid(std::move(errors));
    return params;
}

std::string pageLink(const std::string& basePath, const PageParams& params, bool backward, Id pk) {
    std::string link = basePath + "?direction=" + (backward ? "0" : "1") +
                       "&last_pk=" + std::to_string(pk) +
                       "&page_size=" + std::to_string(params.size);
    if (params.descending) link += "&ordering=desc";
    return link;
}

} // namespace latchkey::core
