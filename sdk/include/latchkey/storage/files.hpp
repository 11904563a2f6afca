// ABI: the storage facet of uploaded files.
#pragma once

#include <latchkey/errors.hpp>
#include <latchkey/storage/records/file.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace latchkey {

/// Files uploaded into profile fields.
/// Every method is atomic and thread-safe; a write that breaks a uniqueness rule throws Conflict
/// naming the field; an unreachable database throws Unavailable.
class Files {
public:
    /// The name Plugin::provide is asked with.
    static constexpr const char* kInterfaceId = "latchkey.storage.files";
    /// The version Plugin::provide is asked with.
    static constexpr std::uint32_t kInterfaceVersion = 1;

    virtual ~Files() = default;

    /// Inserts a file; returns it with its id.
    virtual FileRecord createFile(const FileRecord& file) = 0;
    /// The file with this token.
    virtual std::optional<FileRecord> findFile(std::string_view token) = 0;
    /// Deletes the file with this token if `ownerUserId` owns it; true when it did.
    virtual bool deleteFile(std::string_view token, Id ownerUserId) = 0;
    /// Deletes every file of the instance stored for profile field `field`; returns how many.
    virtual std::size_t deleteFieldFiles(Id instanceId, std::string_view field) = 0;
};

} // namespace latchkey
