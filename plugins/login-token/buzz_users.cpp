// The Buzz `/rest` login-token flow: the handlers of users and roles, and the permission
// checks they make.
#include "buzz_service.hpp"

#include "envelope.hpp"
#include "text.hpp"
#include "value_store.hpp"

#include <latchkey/password_hasher.hpp>
#include <latchkey/support/text.hpp>

#include <Poco/JSON/Object.h>

namespace latchkey::plugins::buzz {

namespace {

HttpError emailTaken() {
    return HttpError(400, "A user with this email exists already.");
}

void requireSuperUser(const Member& caller) {
    if (!caller.attributes.superUser) throw HttpError(403, "Only a super user manages roles.");
}

} // namespace

// --- permissions ------------------------------------------------------------------------------

Standing BuzzService::standing(const Member& member) {
    return {member.attributes.superUser, parts_->roles.find(member.attributes.roleId)};
}

void BuzzService::requirePermission(const Member& caller, const char* object, std::int64_t bit) {
    if (!allows(standing(caller), object, bit)) {
        throw HttpError(403, "You do not have permission to do that.");
    }
}

void BuzzService::requireOutranks(const Member& caller, const Member& target) {
    if (auto reason = refusesChange(standing(caller), standing(target))) {
        throw HttpError(403, *reason);
    }
}

void BuzzService::requireAssignableRole(const Member& caller, std::int64_t roleId, Body& body) {
    const auto role = parts_->roles.find(roleId);
    if (!role || !role->active) {
        body.fail("role_id", "must name an existing, active role");
        return;
    }
    if (auto reason = refusesAssigning(standing(caller), *role)) throw HttpError(403, *reason);
}

void BuzzService::checkAttributes(Body& body, const Attributes& a) {
    checkName(body, "first_name", a.firstName);
    checkName(body, "last_name", a.lastName);
    if (a.notes.size() > 4096) body.fail("notes", "may be at most 4096 characters");
    if (hasControl(a.notes, true)) body.fail("notes", "may not contain control characters");
}

// --- users ------------------------------------------------------------------------------------

Response BuzzService::createUser(const Request& request) {
    const Member caller = requireSession(request);
    requirePermission(caller, "user", kCreate);
    Body body = Body::parse(request);
    body.rejectUnknown({"email", "role_id", "first_name", "last_name", "notes", "password",
                        "active", "super_user"});
    auto email = body.text("email", true);
    const auto roleId = body.integer("role_id", true);
    Attributes attributes;
    attributes.firstName = body.text("first_name").value_or("");
    attributes.lastName = body.text("last_name").value_or("");
    attributes.notes = body.text("notes").value_or("");
    const auto password = body.text("password");
    const auto active = body.flag("active");
    const auto superUser = body.flag("super_user");
    if (email) {
        email = asciiLower(*email);
        if (!isEmail(*email)) body.fail("email", "is not a valid address");
    }
    if ((password || active || superUser) && !caller.attributes.superUser) {
        throw HttpError(403, "Only a super user may set password, active or super_user.");
    }
    if (password) {
        for (auto& problem : context_.passwordHasher()->checkPolicy(*password))
            body.fail("password", problem);
    }
    if (roleId) requireAssignableRole(caller, *roleId, body);
    checkAttributes(body, attributes);
    body.throwIfInvalid();

    attributes.roleId = roleId;
    attributes.superUser = superUser.value_or(false);
    NewUser wanted;
    wanted.instanceId = instance_.id;
    wanted.username = *email;
    wanted.password = password;
    // Without a password the user has none that works: it sets one with the mailed token,
    // which also activates it.
    wanted.active = active.value_or(false);
    UserRecord user;
    try {
        user = identities_->createUser(wanted);
    } catch (const Conflict&) {
        throw emailTaken();
    }
    attributes.address = user.username;
    parts_->members.create(user.id, attributes);
    if (!password) parts_->mail.invite(Member{user, attributes, wanted.active});
    return idEnvelope(201, "user created with ID = " + std::to_string(user.id), user.id);
}

Response BuzzService::listUsers(const Request& request) {
    const Member caller = requireSession(request);
    MemberFilter filter;
    // A user without the read permission still sees itself.
    if (!allows(standing(caller), "user", kRead)) filter.userId = caller.user.id;
    const auto param = [&request](const char* name) -> std::optional<std::string> {
        if (auto value = request.queryParam(name)) return std::string(*value);
        return std::nullopt;
    };
    // Ids match as written ("7", not "07"), as they always did.
    const auto exactId = [](const std::string& text) -> std::int64_t {
        const auto id = idAfter(text, "");
        return id && std::to_string(*id) == text ? *id : -1;
    };
    if (const auto f = param("user_id")) {
        const std::int64_t id = exactId(*f);
        // A second user_id than the caller's own, or none that can match: nobody.
        filter.userId = filter.userId && *filter.userId != id ? 0 : id;
    }
    if (const auto f = param("email")) filter.email = asciiLower(*f);
    if (const auto f = param("first_name")) filter.firstName = *f;
    if (const auto f = param("last_name")) filter.lastName = *f;
    if (const auto f = param("role_id")) filter.roleId = exactId(*f);
    if (const auto f = param("active")) filter.active = *f == "true" || *f == "1";
    const auto found = parts_->members.list(filter);
    return envelope(200, std::to_string(found.size()) + " users", [&found](JsonWriter& out) {
        out.beginArray();
        for (const auto& member : found)
            renderMember(out, member);
        out.endArray();
    });
}

Response BuzzService::updateUser(const Request& request) {
    const Member caller = requireSession(request);
    Body body = Body::parse(request);
    body.rejectUnknown({"user_id", "email", "role_id", "first_name", "last_name", "notes",
                        "password", "active", "super_user", "current_password"});
    const auto userId = body.integer("user_id", true);
    body.throwIfInvalid();
    const bool self = *userId == caller.user.id;
    const bool super = caller.attributes.superUser;
    if (!self) requirePermission(caller, "user", kUpdate);
    const auto member = parts_->members.find(*userId);
    if (!member) throw HttpError(404, "No such user.");
    // The update permission must not be a way to take over a super user, or anyone who may
    // do more than the caller.
    if (!self) requireOutranks(caller, *member);
    auto email = body.text("email");
    const auto roleId = body.integer("role_id");
    const auto password = body.text("password");
    const auto active = body.flag("active");
    const auto superUser = body.flag("super_user");
    const auto firstName = body.text("first_name");
    const auto lastName = body.text("last_name");
    const auto notes = body.text("notes");
    if ((password || active || superUser) && !super) {
        throw HttpError(403, "Only a super user may set password, active or super_user.");
    }
    if (email) {
        email = asciiLower(*email);
        if (!isEmail(*email)) body.fail("email", "is not a valid address");
    }
    const bool emailChanges = email && *email != member->user.username;
    // The address is where the login tokens go: moving someone else's is taking the account.
    if (emailChanges && !self && !super) {
        throw HttpError(403, "Only a super user may change another user's email.");
    }
    // Moving one's own address, or setting one's own password (a super user may), needs the
    // current password: a stolen session cookie must not become the account for good.
    const auto currentPassword = body.text("current_password");
    if ((emailChanges || password) && self) {
        if (!currentPassword) {
            body.fail("current_password", emailChanges ? "is required to change your own email"
                                                       : "is required to set your own password");
            body.throwIfInvalid();
        }
        if (!currentPasswordIs(caller, *currentPassword, request)) {
            throw HttpError(401, "The current password is wrong.");
        }
    }
    // Changing one's own role would be a way around the role's own permissions.
    if (roleId && self && !super) throw HttpError(403, "You cannot change your own role.");
    if (password) {
        for (auto& problem : context_.passwordHasher()->checkPolicy(*password))
            body.fail("password", problem);
    }
    if (roleId) requireAssignableRole(caller, *roleId, body);
    const auto apply = [&](Attributes& a) {
        if (firstName) a.firstName = *firstName;
        if (lastName) a.lastName = *lastName;
        if (notes) a.notes = *notes;
        if (roleId) a.roleId = roleId;
        if (superUser) a.superUser = *superUser;
        if (active) a.deactivated = !*active;
        if (emailChanges) a.address = *email;
    };
    Attributes preview = member->attributes;
    apply(preview);
    checkAttributes(body, preview);
    body.throwIfInvalid();

    // Refused before anything is written: the last active super user stays one.
    const bool activeAfter = active.value_or(member->active);
    std::unique_lock superUsers(superUsers_, std::defer_lock);
    if (member->attributes.superUser && member->active && !(preview.superUser && activeAfter)) {
        superUsers.lock();
        requireAnotherSuperUser(*member);
    }
    if (emailChanges) {
        try {
            // Tokens mailed to the old address and sessions opened under it end with it.
            renameHere(*userId, *email);
        } catch (const Conflict&) {
            throw emailTaken();
        }
    }
    if (password) setPasswordHere(*userId, *password);
    parts_->members.update(*userId, apply);
    // The old address hears of the move, and the user of a password set for it.
    if (emailChanges) noticeAddressChanged(*userId, member->user.username);
    if (password) noticePasswordChanged(*userId, emailChanges ? *email : member->user.username);
    // Deactivating ends what the user holds: sessions, and any mailed token (an invitation too).
    if (active) identities_->setActive(instance_.id, *userId, *active);
    // Deactivating an invited user (inactive already) cancels its invitation.
    if (active && !*active) endAccess(*userId);
    Response response = idEnvelope(200, "user updated", *userId);
    // A user that changed its own address or password continues in a fresh session.
    if ((emailChanges || password) && self && activeAfter) {
        response.headers.push_back(parts_->sessions.start(*userId, false, mountOf(request)));
    }
    return response;
}

Response BuzzService::deleteUser(const Request& request) {
    const Member caller = requireSession(request);
    requirePermission(caller, "user", kDelete);
    Body body = Body::parse(request);
    body.rejectUnknown({"user_id"});
    const auto userId = body.integer("user_id", true);
    body.throwIfInvalid();
    const auto member = parts_->members.find(*userId);
    if (!member) throw HttpError(404, "No such user.");
    if (*userId != caller.user.id) requireOutranks(caller, *member);
    // The identity service asks refuseChange (the last active super user stays) and announces
    // the deletion, which removes the attributes.
    const std::scoped_lock superUsers(superUsers_);
    identities_->deleteUser(instance_.id, *userId);
    return idEnvelope(200, "user deleted", *userId);
}

Response BuzzService::resendUserEmail(const Request& request) {
    const Member caller = requireSession(request);
    requirePermission(caller, "user", kCreate);
    Body body = Body::parse(request);
    body.rejectUnknown({"user_id", "email"});
    const auto userId = body.integer("user_id");
    const auto email = body.text("email");
    if (!userId && !email) body.fail("user_id", "is required (or email)");
    body.throwIfInvalid();
    const auto member =
        userId ? parts_->members.find(*userId) : parts_->members.findByEmail(*email);
    if (!member) throw HttpError(404, "No such user.");
    requireOutranks(caller, *member);
    if (member->active) {
        throw HttpError(400, "This user is active already; a lost password goes through "
                             "change_password.");
    }
    // An invitation makes its user active: it must not undo a super user's deactivation. A
    // user deactivated before the flag existed is told by its password: an invited user that
    // never accepted has none.
    if (member->attributes.deactivated || !member->user.passwordHash.empty()) {
        throw HttpError(400, "This user was deactivated; a super user activates it again "
                             "(active: true) before it can be invited.");
    }
    parts_->mail.invite(*member);
    return envelope(200, "Email sent",
                    [](JsonWriter& out) { out.value("Email sent successfully"); });
}

// --- roles ------------------------------------------------------------------------------------

Role BuzzService::readRole(Body& body, Role role, bool creating) {
    if (auto name = body.text("role_name", creating)) {
        role.name = *name;
        if (role.name.empty()) body.fail("role_name", "may not be empty");
        checkName(body, "role_name", role.name);
    }
    if (body.has("parent_role_id")) {
        role.parent = body.integer("parent_role_id");
        if (role.parent && (*role.parent == role.id || !parts_->roles.find(*role.parent))) {
            body.fail("parent_role_id", "must name another existing role");
        }
    }
    if (auto active = body.flag("active")) role.active = *active;
    if (const auto permissions = body.object("permissions")) {
        role.permissions.clear();
        for (const auto& [name, value] : *permissions) {
            std::optional<Poco::Int64> bits;
            try {
                if (value.isInteger() && !value.isBoolean()) bits = value.convert<Poco::Int64>();
            } catch (const Poco::Exception&) {
                // Out of range: the message below.
            }
            if (!bits || *bits < 0 || *bits > 15 || name.empty() || name.size() > 64) {
                body.fail("permissions", "must map object names to 0..15 (read 1, create 2, "
                                         "update 4, delete 8)");
                continue;
            }
            role.permissions[name] = *bits;
        }
    }
    return role;
}

Response BuzzService::listRoles(const Request& request) {
    requireSession(request);
    const auto all = parts_->roles.all();
    return envelope(200, std::to_string(all.size()) + " roles", [&all](JsonWriter& out) {
        out.beginArray();
        for (const auto& role : all)
            renderRole(out, role);
        out.endArray();
    });
}

Response BuzzService::createRole(const Request& request) {
    requireSuperUser(requireSession(request));
    Body body = Body::parse(request);
    body.rejectUnknown({"role_name", "parent_role_id", "permissions", "active"});
    Role role = readRole(body, Role{}, true);
    body.throwIfInvalid();
    role = parts_->roles.create(role);
    return envelope(201, "role created with ID = " + std::to_string(role.id),
                    [&role](JsonWriter& out) { renderRole(out, role); });
}

Response BuzzService::updateRole(const Request& request) {
    requireSuperUser(requireSession(request));
    Body body = Body::parse(request);
    body.rejectUnknown({"role_id", "role_name", "parent_role_id", "permissions", "active"});
    const auto id = body.integer("role_id", true);
    body.throwIfInvalid();
    if (parts_->roles.isConfigured(*id)) {
        throw HttpError(403, "This role is defined in the configuration; change it there.");
    }
    const Role updated = parts_->roles.update(*id, [&](const Role& current) {
        Body attempt = body; // problems are recorded afresh on a retry
        Role next = readRole(attempt, current, false);
        attempt.throwIfInvalid();
        return next;
    });
    return envelope(200, "role updated", [&updated](JsonWriter& out) { renderRole(out, updated); });
}

Response BuzzService::deleteRole(const Request& request) {
    requireSuperUser(requireSession(request));
    Body body = Body::parse(request);
    body.rejectUnknown({"role_id"});
    const auto id = body.integer("role_id", true);
    body.throwIfInvalid();
    if (parts_->roles.isConfigured(*id)) {
        throw HttpError(403, "This role is defined in the configuration; remove it there.");
    }
    if (!parts_->roles.find(*id)) throw HttpError(404, "No such role.");
    // A deleted role would silently take every permission from its users, or leave a child
    // pointing nowhere: both have to be moved first.
    if (parts_->members.anyWithRole(*id)) {
        throw HttpError(409, "Users still have this role; give them another one first.");
    }
    for (const auto& role : parts_->roles.all()) {
        if (role.parent == id) {
            throw HttpError(409, "Role " + std::to_string(role.id) + " names this role as parent.");
        }
    }
    parts_->roles.remove(*id);
    return idEnvelope(200, "role deleted", *id);
}

} // namespace latchkey::plugins::buzz
