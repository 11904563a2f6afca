// The v1.1 JSON representations of the identity core's records (field names as Syncano's).
#include "core/views.hpp"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <cstdio>
#include <ctime>
#include <sstream>

namespace latchkey::host {

std::string formatTimestamp(Micros micros) {
    // Floor division, so times before 1970 still get a fraction in [0, 999999].
    Micros seconds = micros / 1'000'000;
    Micros fraction = micros % 1'000'000;
    if (fraction < 0) {
        fraction += 1'000'000;
        seconds -= 1;
    }
    const auto whole = static_cast<std::time_t>(seconds);
    std::tm utc{};
    gmtime_r(&whole, &utc);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", utc.tm_year + 1900,
                  utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                  static_cast<int>(fraction));
    return buf;
}

std::string instancePath(const InstanceRecord& instance) {
    return "/v1.1/instances/" + instance.name;
}

void writeAccount(JsonWriter& out, const AccountRecord& account,
                  const std::optional<std::string>& accountKey) {
    out.beginObject()
        .field("id", account.id)
        .field("email", account.email)
        .field("first_name", account.firstName)
        .field("last_name", account.lastName)
        .field("is_active", account.active)
        .field("has_password", !account.passwordHash.empty());
    out.key("metadata").raw(account.metadata);
    if (accountKey) out.field("account_key", *accountKey);
    out.key("links").beginObject().field("self", "/v1.1/account/").endObject();
    out.endObject();
}

void writeInstance(JsonWriter& out, const InstanceRecord& instance, const AccountRecord& owner) {
    const std::string base = instancePath(instance);
    out.beginObject().field("name", instance.name).field("description", instance.description);
    out.key("owner");
    writeAccount(out, owner, std::nullopt);
    out.key("metadata").raw(instance.metadata);
    out.field("role", "full")
        .field("created_at", formatTimestamp(instance.createdAt))
        .field("updated_at", formatTimestamp(instance.updatedAt));
    out.key("links")
        .beginObject()
        .field("self", base + "/")
        .field("api_keys", base + "/api_keys/")
        .field("users", base + "/users/")
        .field("groups", base + "/groups/")
        .field("classes", base + "/classes/")
        .endObject();
    out.endObject();
}

void writeApiKey(JsonWriter& out, const InstanceRecord& instance, const ApiKeyRecord& key,
                 const std::string& plainKey) {
    const std::string self = instancePath(instance) + "/api_keys/" + std::to_string(key.id) + "/";
    out.beginObject()
        .field("id", key.id)
        .field("description", key.description)
        .field("api_key", plainKey)
        .field("ignore_acl", key.ignoreAcl)
        .field("allow_user_create", key.allowUserCreate)
        .field("allow_group_create", key.allowGroupCreate)
        .field("allow_anonymous_read", key.allowAnonymousRead)
        .field("created_at", formatTimestamp(key.createdAt));
    out.key("links")
        .beginObject()
        .field("self", self)
        .field("reset_key", self + "reset_key/")
        .endObject();
    out.endObject();
}

void writeProfile(JsonWriter& out, const InstanceView& view, const UserRecord& user) {
    const ProfileRecord& profile = user.profile;
    const std::string base = instancePath(view.instance);
    out.beginObject()
        .field("id", profile.id)
        .field("created_at", formatTimestamp(profile.createdAt))
        .field("updated_at", formatTimestamp(profile.updatedAt))
        .field("revision", profile.revision)
        .field("owner", user.id)
        .field("owner_permissions", profile.ownerPermissions)
        .field("group", profile.groupId)
        .field("group_permissions", profile.groupPermissions)
        .field("other_permissions", profile.otherPermissions)
        .key("channel")
        .null()
        .key("channel_room")
        .null();
    writeProfileFields(out, profile.data, view.schema, view.fileBaseUrl);
    out.key("links")
        .beginObject()
        .field("owner", base + "/users/" + std::to_string(user.id) + "/")
        .field("self", base + "/classes/user_profile/objects/" + std::to_string(profile.id) + "/")
        .endObject();
    out.endObject();
}

void writeGroup(JsonWriter& out, const InstanceRecord& instance, const GroupRecord& group) {
    const std::string self = instancePath(instance) + "/groups/" + std::to_string(group.id) + "/";
    out.beginObject()
        .field("id", group.id)
        .field("label", group.label)
        .field("description", group.description)
        .field("created_at", formatTimestamp(group.createdAt))
        .field("updated_at", formatTimestamp(group.updatedAt));
    out.key("links").beginObject().field("self", self).field("users", self + "users/").endObject();
    out.endObject();
}

void writeUser(JsonWriter& out, const InstanceView& view, const UserRecord& user,
               const std::string& userKey) {
    const std::string self =
        instancePath(view.instance) + "/users/" + std::to_string(user.id) + "/";
    out.beginObject()
        .field("id", user.id)
        .field("username", user.username)
        .field("user_key", userKey);
    out.key("profile");
    writeProfile(out, view, user);
    out.key("groups").beginArray();
    for (const auto& group : user.groups)
        writeGroup(out, view.instance, group);
    out.endArray();
    out.key("links")
        .beginObject()
        .field("self", self)
        .field("groups", self + "groups/")
        .field("reset-key", self + "reset_key/")
        .endObject();
    out.endObject();
}

void writeClass(JsonWriter& out, const InstanceRecord& instance, const ClassRecord& record) {
    const std::string self = instancePath(instance) + "/classes/" + record.name + "/";
    out.beginObject().field("name", record.name).field("description", record.description);
    out.key("schema").raw(ProfileSchema::fromStored(record.schema).toJson());
    out.field("status", "ready")
        .field("revision", record.revision)
        .field("created_at", formatTimestamp(record.createdAt))
        .field("updated_at", formatTimestamp(record.updatedAt));
    out.key("metadata").raw(record.metadata);
    out.key("group").null();
    out.field("group_permissions", "none").field("other_permissions", "none");
    out.key("links")
        .beginObject()
        .field("self", self)
        .field("objects", self + "objects/")
        .endObject();
    out.endObject();
}

} // namespace latchkey::host
