// The v1.1 JSON representations of the identity core's records (field names as Syncano's).
#include "core/views.hpp"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <cstdio>
#include <ctime>
#include <sstream>

namespace latchkey::core {

std::string instancePath(const InstanceRecord& instance) {
    return "/v1.1/instances/" + instance.name;
}

void renderAccount(JsonWriter& out, const AccountRecord& account,
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

void renderInstance(JsonWriter& out, const InstanceRecord& instance, const AccountRecord& owner) {
    const std::string base = instancePath(instance);
    out.beginObject().field("name", instance.name).field("description", instance.description);
    out.key("owner");
    renderAccount(out, owner, std::nullopt);
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

void renderApiKey(JsonWriter& out, const InstanceRecord& instance, const ApiKeyRecord& key,
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

void renderProfile(JsonWriter& out, const InstanceView& view, const UserRecord& user) {
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
    if (view.memo) {
        writeProfileFields(out,
                           *view.memo->profileFields(profile.data, view.schema, view.fileBaseUrl));
    } else {
        writeProfileFields(out, renderedProfileFields(profile.data, view.schema, view.fileBaseUrl));
    }
    out.key("links")
        .beginObject()
        .field("owner", base + "/users/" + std::to_string(user.id) + "/")
        .field("self", base + "/classes/user_profile/objects/" + std::to_string(profile.id) + "/")
        .endObject();
    out.endObject();
}

void renderGroup(JsonWriter& out, const InstanceRecord& instance, const GroupRecord& group) {
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

void renderUser(JsonWriter& out, const InstanceView& view, const UserRecord& user,
                const std::string& userKey) {
    const std::string self =
        instancePath(view.instance) + "/users/" + std::to_string(user.id) + "/";
    out.beginObject()
        .field("id", user.id)
        .field("username", user.username)
        .field("user_key", userKey);
    out.key("profile");
    renderProfile(out, view, user);
    out.key("groups").beginArray();
    for (const auto& group : user.groups)
        renderGroup(out, view.instance, group);
    out.endArray();
    out.key("links")
        .beginObject()
        .field("self", self)
        .field("groups", self + "groups/")
        .field("reset-key", self + "reset_key/")
        .endObject();
    out.endObject();
}

void renderClass(JsonWriter& out, const InstanceRecord& instance, const ClassRecord& record) {
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

} // namespace latchkey::core
