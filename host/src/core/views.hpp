// The v1.1 JSON representations of the identity core's records (field names as Syncano's).
#pragma once

#include "core/profile_schema.hpp"
#include "core/render_memo.hpp"

#include <latchkey/support/json_writer.hpp>
#include <latchkey/support/time.hpp>

#include <latchkey/storage/records/account.hpp>
#include <latchkey/storage/records/api_key.hpp>
#include <latchkey/storage/records/class.hpp>
#include <latchkey/storage/records/instance.hpp>
#include <latchkey/storage/records/user.hpp>

#include <optional>
#include <string>

namespace latchkey::core {

/// `/v1.1/instances/<name>`, the prefix of every instance path (no trailing slash).
std::string instancePath(const InstanceRecord& instance);

/// An account; `accountKey` is included when given (login and account detail).
void renderAccount(JsonWriter& out, const AccountRecord& account,
                   const std::optional<std::string>& accountKey);

/// An instance with its owner.
void renderInstance(JsonWriter& out, const InstanceRecord& instance, const AccountRecord& owner);

/// An API key, showing the key itself.
void renderApiKey(JsonWriter& out, const InstanceRecord& instance, const ApiKeyRecord& key,
                  const std::string& plainKey);

/// What rendering an instance's users and profiles needs besides the records.
struct InstanceView {
    const InstanceRecord& instance;
    const ProfileSchema& schema;    ///< The user_profile class's fields.
    const std::string& fileBaseUrl; ///< The server's public URL, for file links.
    RenderMemo* memo = nullptr;     ///< Where rendered profiles are remembered, if anywhere.
};

/// A user with its profile, its groups and its user key.
void renderUser(JsonWriter& out, const InstanceView& view, const UserRecord& user,
                const std::string& userKey);

/// A user's `user_profile` data object.
void renderProfile(JsonWriter& out, const InstanceView& view, const UserRecord& user);

/// A group.
void renderGroup(JsonWriter& out, const InstanceRecord& instance, const GroupRecord& group);

/// A class (only `user_profile` exists) with its schema.
void renderClass(JsonWriter& out, const InstanceRecord& instance, const ClassRecord& record);

} // namespace latchkey::core
