// ABI: the record of an administrator account.
#pragma once

#include <latchkey/storage/records/types.hpp>

#include <string>

namespace latchkey {

/// An administrator account (owner of instances), authenticated by its account key.
struct AccountRecord {
    Id id = 0;
    std::string email; ///< Lowercase, unique.
    std::string firstName;
    std::string lastName;
    std::string passwordHash; ///< From PasswordHasher::hash.
    SealedKey key;            ///< The account key.
    bool active = true;
    std::string metadata = "{}"; ///< JSON object.
    Micros createdAt = 0;
    Micros updatedAt = 0;
};

} // namespace latchkey
