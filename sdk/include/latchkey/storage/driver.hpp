// ABI: the storage plugin kind's own interface; its data comes in facets (the other headers here).
#pragma once

#include <latchkey/errors.hpp>
#include <latchkey/storage/records/types.hpp>

#include <cstdint>

namespace latchkey {

/// The interface of the storage kind. A driver's object provides it and, through the same
/// Plugin::provide, each facet it implements (Accounts, Users, ...). The host asks for every
/// facet the configuration needs at start and refuses to start, naming the plugin and the
/// facet, when one is missing.
/// Every method is atomic and thread-safe; a write that breaks a uniqueness rule throws Conflict
/// naming the field; an unreachable database throws Unavailable.
class StorageDriver {
public:
    /// The name Plugin::provide is asked with.
    static constexpr const char* kInterfaceId = "latchkey.storage";
    /// The version Plugin::provide is asked with.
    static constexpr std::uint32_t kInterfaceVersion = 1;

    virtual ~StorageDriver() = default;

    /// Checks the database answers; throws Unavailable if not.
    virtual void ping() = 0;
};

} // namespace latchkey
