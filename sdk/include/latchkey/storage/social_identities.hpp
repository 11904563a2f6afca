// ABI: the storage facet of provider accounts linked to users.
#pragma once

#include <latchkey/errors.hpp>
#include <latchkey/storage/records/social_identity.hpp>
#include <latchkey/storage/records/user.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace latchkey {

/// Provider accounts linked to users; needed when a social backend is configured.
/// Every method is atomic and thread-safe; a write that breaks a uniqueness rule throws Conflict
/// naming the field; an unreachable database throws Unavailable.
class SocialIdentities {
public:
    /// The name Plugin::provide is asked with.
    static constexpr const char* kInterfaceId = "latchkey.storage.social-identities";
    /// The version Plugin::provide is asked with.
    static constexpr std::uint32_t kInterfaceVersion = 1;

    virtual ~SocialIdentities() = default;

    /// The id of the user linked to (instance, backend, uid), if any.
    virtual std::optional<Id> findSocialIdentity(Id instanceId, std::string_view backend,
                                                 std::string_view uid) = 0;
    /// Links an identity to an existing user; Conflict when (instance, backend, uid) is linked.
    virtual void linkSocialIdentity(const SocialIdentityRecord& identity) = 0;
    /// Creates `user` (as createUser) and links `identity` to it, in one transaction: both or
    /// neither. Conflict when the username is taken or the identity is linked already.
    virtual UserRecord createSocialUser(const UserRecord& user,
                                        const SocialIdentityRecord& identity) = 0;
};

} // namespace latchkey
