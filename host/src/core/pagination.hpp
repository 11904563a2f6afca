// Syncano v1.1 list pages: `page_size`, `ordering`, and the `last_pk`/`direction` cursor, turned
// into a keyset scan and back into `{"objects": [...], "next": path|null, "prev": path|null}`.
#pragma once

#include <latchkey/support/json_writer.hpp>

#include <latchkey/router.hpp>
#include <latchkey/storage/records/types.hpp>

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace latchkey::core {

/// The largest page a client may ask for.
inline constexpr std::size_t kMaxPageSize = 100;

/// A list request's paging parameters.
struct PageParams {
    std::size_t size = kMaxPageSize;
    bool descending = false;  ///< ordering=desc
    bool backward = false;    ///< direction=0: the page before last_pk
    std::optional<Id> lastPk; ///< The cursor.

    /// The store scan: one row more than the page, to learn whether another page follows.
    PageRequest scan() const;
};

/// Reads the paging parameters; malformed values are a 400 with field errors.
PageParams readPageParams(const Request& request);

/// Writes one page. `rows` come from the store in scan order (up to size + 1 of them);
/// `basePath` is the list's path without query.
template <class Row>
std::string renderPage(const PageParams& params, std::vector<Row> rows, const std::string& basePath,
                       const std::function<void(JsonWriter&, const Row&)>& renderRow);

/// Builds the next/prev link for a page boundary.
std::string pageLink(const std::string& basePath, const PageParams& params, bool backward, Id pk);

template <class Row>
std::string renderPage(const PageParams& params, std::vector<Row> rows, const std::string& basePath,
                       const std::function<void(JsonWriter&, const Row&)>& renderRow) {
    const bool more = rows.size() > params.size;
    if (more) rows.resize(params.size);
    // A backward scan reads away from the cursor; show the page in the list's own order.
    if (params.backward) std::reverse(rows.begin(), rows.end());

    const bool hasNext = params.backward ? params.lastPk.has_value() : more;
    const bool hasPrev = params.backward ? more : params.lastPk.has_value();

    JsonWriter out;
    out.beginObject().key("objects").beginArray();
    for (const auto& row : rows)
        renderRow(out, row);
    out.endArray();
    out.key("next");
    if (hasNext && !rows.empty())
        out.value(pageLink(basePath, params, false, rows.back().id));
    else
        out.null();
    out.key("prev");
    if (hasPrev && !rows.empty())
        out.value(pageLink(basePath, params, true, rows.front().id));
    else
        out.null();
    out.endObject();
    return out.take();
}

} // namespace latchkey::core
