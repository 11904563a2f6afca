// Roles of the login-token flow and the permission rules over them (pure logic), and where
// roles are kept (the plugin's key/value area).
#pragma once

#include "settings.hpp"

#include <latchkey/key_value_area.hpp>
#include <latchkey/storage/records/types.hpp>
#include <latchkey/support/json_writer.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace latchkey::plugins::buzz {

/// Permission bits of a role, per object.
enum PermissionBit : std::int64_t { kRead = 1, kCreate = 2, kUpdate = 4, kDelete = 8 };

/// A role: permission bits per object (read 1, create 2, update 4, delete 8).
struct Role {
    std::int64_t id = 0;
    std::string name;
    std::optional<std::int64_t> parent;
    std::map<std::string, std::int64_t> permissions;
    bool active = true;
};

/// Who acts or is acted on, for the rules: a super user, or a user with a role (its record,
/// if the role exists).
struct Standing {
    bool superUser = false;
    std::optional<Role> role;
};

/// Whether `who` may do `bit` on `object`: a super user always, else an active role with it.
bool allows(const Standing& who, const std::string& object, std::int64_t bit);
/// Whether every permission of `role` is one that `own` (if active) has too.
bool covers(const std::optional<Role>& own, const Role& role);
/// Why `caller` may not change `target`, or nullopt: only a super user changes a super user,
/// and nobody changes a user whose (active) role has permissions the caller lacks.
std::optional<std::string> refusesChange(const Standing& caller, const Standing& target);
/// Why `caller` may not hand out `role`, or nullopt: a non-super user hands out only what its
/// own role has.
std::optional<std::string> refusesAssigning(const Standing& caller, const Role& role);

/// A role as the API shows it; the stored form leaves out the id (it is in the key).
void renderRole(JsonWriter& out, const Role& role, bool withId = true);

/// The roles of one instance, in the flow's key/value area under `role/<instance>/<id>`.
/// Thread-safe (the area is).
class Roles {
public:
    Roles(KeyValueArea& values, Id instanceId, std::vector<RoleSeed> seeds);

    /// Writes the configured roles: the config is the source of truth for its roles.
    void seed();
    /// Every role, in id order.
    std::vector<Role> all();
    /// The role with this id.
    std::optional<Role> find(std::int64_t id);
    /// The role of `roleId`, if it is given and exists.
    std::optional<Role> find(const std::optional<std::int64_t>& roleId);
    /// Whether the role is one of the configured ones (changed only in the config).
    bool isConfigured(std::int64_t id) const;
    /// Stores a new role under a fresh id (never one handed out before); returns it.
    Role create(Role role);
    /// Changes role `id` with `change` (compare-and-set; 404 when it does not exist).
    Role update(std::int64_t id, const std::function<Role(const Role&)>& change);
    /// Removes role `id`; true when it existed.
    bool remove(std::int64_t id);
    /// Removes every role of the instance (it was deleted).
    void removeAll();

    /// The stored form of a role, and back.
    static std::string serialize(const Role& role);
    static Role parse(std::int64_t id, const std::string& text);

private:
    std::string prefix() const;
    std::int64_t nextId();

    KeyValueArea& values_;
    Id instanceId_;
    std::vector<RoleSeed> seeds_;
};

} // namespace latchkey::plugins::buzz
