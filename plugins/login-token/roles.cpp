// Roles of the login-token flow and the permission rules over them, and where roles are kept.
#include "roles.hpp"

#include "value_store.hpp"

#include <latchkey/errors.hpp>

#include <Poco/JSON/Object.h>

#include <algorithm>

namespace latchkey::plugins::buzz {

bool allows(const Standing& who, const std::string& object, std::int64_t bit) {
    if (who.superUser) return true;
    if (!who.role || !who.role->active) return false;
    const auto it = who.role->permissions.find(object);
    return it != who.role->permissions.end() && (it->second & bit) != 0;
}

bool covers(const std::optional<Role>& own, const Role& role) {
    return std::ranges::all_of(role.permissions, [&own](const auto& entry) {
        std::int64_t mine = 0;
        if (own && own->active) {
            if (const auto it = own->permissions.find(entry.first); it != own->permissions.end()) {
                mine = it->second;
            }
        }
        return (entry.second & ~mine) == 0;
    });
}

std::optional<std::string> refusesChange(const Standing& caller, const Standing& target) {
    if (caller.superUser) return std::nullopt;
    if (target.superUser) return "Only a super user may change a super user.";
    if (target.role && target.role->active && !covers(caller.role, *target.role)) {
        return "You cannot change a user whose role has permissions you lack.";
    }
    return std::nullopt;
}

std::optional<std::string> refusesAssigning(const Standing& caller, const Role& role) {
    if (caller.superUser || covers(caller.role, role)) return std::nullopt;
    return "You cannot hand out a role with permissions you do not have.";
}

void renderRole(JsonWriter& out, const Role& role, bool withId) {
    out.beginObject();
    if (withId) out.field("role_id", role.id);
    out.field("role_name", role.name)
        .field("parent_role_id", role.parent)
        .field("active", role.active);
    out.key("permissions").beginObject();
    for (const auto& [object, bits] : role.permissions)
        out.field(object, bits);
    out.endObject().endObject();
}

std::string Roles::serialize(const Role& role) {
    JsonWriter out;
    renderRole(out, role, false);
    return out.take();
}

Role Roles::parse(std::int64_t id, const std::string& text) {
    const auto object = parseStored(text);
    Role role;
    role.id = id;
    role.name = object->optValue<std::string>("role_name", "");
    if (object->has("parent_role_id") && !object->isNull("parent_role_id")) {
        role.parent = object->getValue<Poco::Int64>("parent_role_id");
    }
    role.active = object->optValue<bool>("active", true);
    if (const auto permissions = object->getObject("permissions")) {
        for (const auto& [name, bits] : *permissions) {
            // A value that is not 0..15 grants nothing rather than failing every request.
            try {
                const auto value = bits.convert<Poco::Int64>();
                if (value >= 0 && value <= 15) role.permissions[name] = value;
            } catch (const Poco::Exception&) {}
        }
    }
    return role;
}

Roles::Roles(KeyValueArea& values, Id instanceId, std::vector<RoleSeed> seeds)
    : values_(values), instanceId_(instanceId), seeds_(std::move(seeds)) {}

std::string Roles::prefix() const {
    return "role/" + std::to_string(instanceId_) + "/";
}

void Roles::seed() {
    for (const auto& seed : seeds_) {
        Role role;
        role.id = seed.id;
        role.name = seed.name;
        role.parent = seed.parent;
        role.permissions = seed.permissions;
        values_.put(orderedKey(prefix(), role.id), serialize(role));
    }
}

std::vector<Role> Roles::all() {
    std::vector<Role> out;
    for (const auto& [key, value] : values_.list(prefix())) {
        if (const auto id = idAfter(key, prefix())) out.push_back(parse(*id, value));
    }
    return out;
}

std::optional<Role> Roles::find(std::int64_t id) {
    const auto stored = values_.get(orderedKey(prefix(), id));
    if (!stored) return std::nullopt;
    return parse(id, *stored);
}

std::optional<Role> Roles::find(const std::optional<std::int64_t>& roleId) {
    return roleId ? find(*roleId) : std::nullopt;
}

bool Roles::isConfigured(std::int64_t id) const {
    return std::ranges::any_of(seeds_, [id](const RoleSeed& seed) { return seed.id == id; });
}

std::int64_t Roles::nextId() {
    // Past every id in use and every id handed out before, so a deleted role's id never comes
    // back to mean something else to a client that still holds it.
    std::int64_t floor = 0;
    for (const auto& role : all())
        floor = std::max(floor, role.id);
    for (const auto& seed : seeds_)
        floor = std::max(floor, seed.id);
    std::int64_t id = 0;
    changeValue(values_, "role-sequence/" + std::to_string(instanceId_),
                [&](const std::optional<std::string>& current) -> std::optional<std::string> {
                    std::int64_t last = 0;
                    if (current) last = idAfter(*current, "").value_or(0);
                    id = std::max(last, floor) + 1;
                    return std::to_string(id);
                });
    return id;
}

Role Roles::create(Role role) {
    role.id = nextId();
    if (!values_.putIfAbsent(orderedKey(prefix(), role.id), serialize(role))) {
        throw HttpError(409, "Role ids collided; retry.");
    }
    return role;
}

Role Roles::update(std::int64_t id, const std::function<Role(const Role&)>& change) {
    Role updated;
    changeValue(values_, orderedKey(prefix(), id),
                [&](const std::optional<std::string>& current) -> std::optional<std::string> {
                    if (!current) throw HttpError(404, "No such role.");
                    updated = change(parse(id, *current));
                    return serialize(updated);
                });
    return updated;
}

bool Roles::remove(std::int64_t id) {
    return values_.remove(orderedKey(prefix(), id));
}

void Roles::removeAll() {
    for (const auto& entry : values_.list(prefix()))
        values_.remove(entry.first);
    values_.remove("role-sequence/" + std::to_string(instanceId_));
}

} // namespace latchkey::plugins::buzz
