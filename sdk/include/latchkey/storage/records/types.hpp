// ABI: the types every storage record uses: ids, timestamps, sealed keys and pages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace latchkey {

/// Row ids, assigned by the store.
using Id = std::int64_t;
/// Timestamps: microseconds since the Unix epoch, UTC.
using Micros = std::int64_t;

/// A secret key as the store keeps it: never the key itself.
struct SealedKey {
    std::string
        lookup; ///< Keyed hash of the key (hex), unique: finds the row from a presented key.
    std::string
        sealed; ///< The key encrypted under the host's secret, so the API can show it again.
};

/// One page of a keyset scan over ids: rows strictly beyond `after` in scan order.
struct PageRequest {
    std::optional<Id> after; ///< Exclusive bound; none starts at the first row.
    bool ascending = true;   ///< Scan by increasing id (true) or decreasing id (false).
    std::size_t limit = 50;  ///< At most this many rows.
};

} // namespace latchkey
