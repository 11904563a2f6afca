// ABI: the record of a single-use login token.
#pragma once

#include <latchkey/storage/records/types.hpp>

#include <string>

namespace latchkey {

/// A single-use login token (invitation or lost password). Only a hash of it is stored.
struct LoginTokenRecord {
    std::string tokenHash;
    Id userId = 0;
    std::string purpose; ///< "invite" or "reset".
    Micros createdAt = 0;
    Micros expiresAt = 0;
};

} // namespace latchkey
