// The v1.1 JSON representations of the identity core's records (field names as Syncano's).
#pragma once

#include "core/json_writer.hpp"

#include <latchkey/store.hpp>

#include <optional>
#include <string>

namespace latchkey::host {

/// `2015-04-21T14:19:41.309520Z`.
std::string formatTimestamp(Micros micros);

/// `/v1.1/instances/<name>`, the prefix of every instance path (no trailing slash).
std::string instancePath(const InstanceRecord& instance);

/// An account; `accountKey` is included when given (login and account detail).
void writeAccount(JsonWriter& out, const AccountRecord& account,
                  const std::optional<std::string>& accountKey);

/// An instance with its owner.
void writeInstance(JsonWriter& out, const InstanceRecord& instance, const AccountRecord& owner);

/// An API key, showing the key itself.
void writeApiKey(JsonWriter& out, const InstanceRecord& instance, const ApiKeyRecord& key,
                 const std::string& plainKey);

/// A user with its profile and its user key.
void writeUser(JsonWriter& out, const InstanceRecord& instance, const UserRecord& user,
               const std::string& userKey);

/// A user's `user_profile` data object.
void writeProfile(JsonWriter& out, const InstanceRecord& instance, const UserRecord& user);

} // namespace latchkey::host
