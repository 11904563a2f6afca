// ABI: the record of an instance's API key.
#pragma once

#include <latchkey/storage/records/types.hpp>

#include <string>

namespace latchkey {

/// An API key of an instance, with its permission flags.
struct ApiKeyRecord {
    Id id = 0;
    Id instanceId = 0;
    std::string description;
    SealedKey key;
    bool ignoreAcl = false;
    bool allowUserCreate = false;
    bool allowGroupCreate = false;
    bool allowAnonymousRead = false;
    Micros createdAt = 0;
};

} // namespace latchkey
