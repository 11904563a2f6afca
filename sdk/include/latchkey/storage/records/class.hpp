// ABI: the record of a class of data objects (its schema).
#pragma once

#include <latchkey/storage/records/types.hpp>

#include <string>

namespace latchkey {

/// A class of data objects in an instance. Only `user_profile` exists so far; its `schema`
/// lists the custom fields every profile may hold.
struct ClassRecord {
    Id id = 0;
    Id instanceId = 0;
    std::string name;
    std::string description;
    std::string schema = "[]"; ///< JSON array of {name, type, ...}.
    std::int64_t revision = 1;
    std::string metadata = "{}"; ///< JSON object.
    Micros createdAt = 0;
    Micros updatedAt = 0;
};

} // namespace latchkey
