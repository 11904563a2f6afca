// ABI: the record of a login session.
#pragma once

#include <latchkey/storage/records/types.hpp>

#include <string>

namespace latchkey {

/// A login session (the cookie of the login-token flow). Only a hash of its id is stored.
struct SessionRecord {
    std::string idHash; ///< Hash of the session id the cookie carries.
    Id instanceId = 0;
    Id userId = 0;
    Micros createdAt = 0;
    Micros lastSeenAt = 0; ///< For the idle limit.
    Micros expiresAt = 0;  ///< The absolute limit.
};

} // namespace latchkey
