// An instance as its users are shown: who is calling, the profile schema, and user rendering.
#pragma once

#include "core/caller.hpp"
#include "core/profiles.hpp"
#include "core/views.hpp"

#include <latchkey/router.hpp>

namespace latchkey::core {

/// The resolved caller of an instance route plus what rendering users needs.
struct UserScope {
    InstanceAccess access;
    ClassRecord profileClass;
    std::shared_ptr<const ProfileSchema> parsedSchema; ///< Shared with the render memo.
    const ProfileSchema& schema;                       ///< *parsedSchema.

    UserScope(const CoreServices& core, InstanceAccess resolved)
        : access(std::move(resolved)), profileClass(loadProfileClass(core, access.instance)),
          parsedSchema(core.memo->schema(profileClass.schema)), schema(*parsedSchema) {}

    /// What the views need.
    InstanceView view(const CoreServices& core) const {
        return InstanceView{access.instance, schema, core.publicUrl, core.memo.get()};
    }

    /// A user with the key the caller may see (the stored key, unsealed).
    void renderUser(const CoreServices& core, JsonWriter& out, const UserRecord& user) const {
        core::renderUser(out, view(core), user, core.identities.openKey(user));
    }
};

/// The user `id` of the instance, if the caller may act on it: full access, or the user
/// itself (API key + its user key). Unknown users and other users are both 404 for a user
/// caller, so ids cannot be probed.
UserRecord userForCaller(const CoreServices& core, const UserScope& scope, Id id);

} // namespace latchkey::core
