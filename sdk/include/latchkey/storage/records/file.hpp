// ABI: the record of an uploaded file.
#pragma once

#include <latchkey/storage/records/types.hpp>

#include <optional>
#include <string>

namespace latchkey {

/// An uploaded file (a profile's `file` field), served back under its unguessable token.
struct FileRecord {
    Id id = 0;
    Id instanceId = 0;
    std::optional<Id> ownerUserId; ///< Deleted with this user.
    std::string field;             ///< The profile field it was uploaded into.
    std::string token;             ///< Random, URL-safe; the file's public name.
    std::string filename;          ///< As uploaded (sanitised), for Content-Disposition.
    std::string contentType;
    std::string data; ///< The bytes.
    Micros createdAt = 0;
};

} // namespace latchkey
