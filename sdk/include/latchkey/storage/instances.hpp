// ABI: the storage facet of instances.
#pragma once

#include <latchkey/errors.hpp>
#include <latchkey/storage/records/instance.hpp>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace latchkey {

/// Instances. Deleting one deletes every record of every facet that belongs to it.
/// Every method is atomic and thread-safe; a write that breaks a uniqueness rule throws Conflict
/// naming the field; an unreachable database throws Unavailable.
class Instances {
public:
    /// The name Plugin::provide is asked with.
    static constexpr const char* kInterfaceId = "latchkey.storage.instances";
    /// The version Plugin::provide is asked with.
    static constexpr std::uint32_t kInterfaceVersion = 1;

    virtual ~Instances() = default;

    /// Inserts an instance (Conflict "name"); returns it with its id.
    virtual InstanceRecord createInstance(const InstanceRecord& instance) = 0;
    /// The instance with this name.
    virtual std::optional<InstanceRecord> findInstance(std::string_view name) = 0;
    /// A page of the instances owned by `ownerId`.
    virtual std::vector<InstanceRecord> listInstances(Id ownerId, const PageRequest& page) = 0;
    /// Stores the instance's description, metadata and updatedAt.
    virtual void updateInstance(const InstanceRecord& instance) = 0;
    /// Deletes the instance and everything in it; true when it existed.
    virtual bool deleteInstance(Id id) = 0;
};

} // namespace latchkey
