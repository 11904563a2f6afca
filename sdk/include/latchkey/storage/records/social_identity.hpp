// ABI: the record of a provider account linked to a user.
#pragma once

#include <latchkey/storage/records/types.hpp>

#include <string>

namespace latchkey {

/// A provider account linked to a user of an instance; (instance, backend, uid) is unique.
struct SocialIdentityRecord {
    Id instanceId = 0;
    std::string backend; ///< The social plugin's name: "facebook", "google-oauth2", ...
    std::string uid;     ///< The provider's stable user id (`sub`, `id`, `id_str`).
    Id userId = 0;
    Micros createdAt = 0;
};

} // namespace latchkey
