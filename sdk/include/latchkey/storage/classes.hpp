// ABI: the storage facet of classes (the profile schema).
#pragma once

#include <latchkey/errors.hpp>
#include <latchkey/storage/records/class.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace latchkey {

/// Classes of data objects: their schemas.
/// Every method is atomic and thread-safe; a write that breaks a uniqueness rule throws Conflict
/// naming the field; an unreachable database throws Unavailable.
class Classes {
public:
    /// The name Plugin::provide is asked with.
    static constexpr const char* kInterfaceId = "latchkey.storage.classes";
    /// The version Plugin::provide is asked with.
    static constexpr std::uint32_t kInterfaceVersion = 1;

    virtual ~Classes() = default;

    /// The class `name` of the instance, or nullopt if it was never saved.
    virtual std::optional<ClassRecord> findClass(Id instanceId, std::string_view name) = 0;
    /// Inserts the class (id 0) or stores its description, schema, metadata and updatedAt with
    /// revision + 1 if its revision is still `expectedRevision`. Returns the stored record, or
    /// nullopt when someone else changed it first.
    virtual std::optional<ClassRecord> saveClass(const ClassRecord& record,
                                                 std::int64_t expectedRevision) = 0;
};

} // namespace latchkey
