// ABI: the record of an instance.
#pragma once

#include <latchkey/storage/records/types.hpp>

#include <string>

namespace latchkey {

/// An instance: the namespace users, keys and groups live in.
struct InstanceRecord {
    Id id = 0;
    std::string name; ///< Lowercase, unique.
    std::string description;
    Id ownerId = 0;              ///< AccountRecord::id.
    std::string metadata = "{}"; ///< JSON object.
    Micros createdAt = 0;
    Micros updatedAt = 0;
};

} // namespace latchkey
