// ABI: the storage facet of instances' API keys.
#pragma once

#include <latchkey/errors.hpp>
#include <latchkey/storage/records/api_key.hpp>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace latchkey {

/// The API keys of instances.
/// Every method is atomic and thread-safe; a write that breaks a uniqueness rule throws Conflict
/// naming the field; an unreachable database throws Unavailable.
class ApiKeys {
public:
    /// The name Plugin::provide is asked with.
    static constexpr const char* kInterfaceId = "latchkey.storage.api-keys";
    /// The version Plugin::provide is asked with.
    static constexpr std::uint32_t kInterfaceVersion = 1;

    virtual ~ApiKeys() = default;

    /// Inserts an API key; returns it with its id.
    virtual ApiKeyRecord createApiKey(const ApiKeyRecord& key) = 0;
    /// The key with this id in this instance.
    virtual std::optional<ApiKeyRecord> findApiKey(Id instanceId, Id id) = 0;
    /// The key (of any instance) whose lookup hash this is.
    virtual std::optional<ApiKeyRecord> findApiKeyByKey(std::string_view lookup) = 0;
    /// A page of the instance's keys.
    virtual std::vector<ApiKeyRecord> listApiKeys(Id instanceId, const PageRequest& page) = 0;
    /// Stores the key's description, flags and key (a reset) if its key is still the one
    /// looked up as `expectedLookup`; false when a reset happened meanwhile.
    virtual bool updateApiKey(const ApiKeyRecord& key, std::string_view expectedLookup) = 0;
    /// Deletes the key; true when it existed.
    virtual bool deleteApiKey(Id instanceId, Id id) = 0;
};

} // namespace latchkey
