// `/v1.1/instances/<name>/users/` (create), `user/auth/` (password login) and `user/` (the
// user of the presented user key).
#include "core/caller.hpp"
#include "core/request_input.hpp"
#include "core/routes.hpp"
#include "core/views.hpp"

namespace latchkey::host {

namespace {

constexpr std::size_t kMaxUsernameLength = 64;

Response userResponse(int status, const InstanceRecord& instance, const UserRecord& user,
                      const std::string& userKey) {
    JsonWriter out;
    writeUser(out, instance, user, userKey);
    return Response::json(status, out.take());
}

HttpError usernameTaken() {
    return HttpError::invalid({{"username", {"User with this username already exists."}}});
}

} // namespace

void mountUserRoutes(Router& router, const CoreServices& core) {
    router.add("POST", "/v1.1/instances/{instance}/users/", [&core](const Request& request) {
        const auto body = RequestInput::parse(request);
        const InstanceAccess access = resolveInstanceAccess(core, request, &body);
        const Caller& caller = access.caller;
        if (!caller.hasFullAccess() && !(caller.apiKey && caller.apiKey->allowUserCreate)) {
            throwPermissionDenied("You do not have permission to create new user.");
        }
        FieldErrors errors;
        const auto username =
            body.text("username", errors, {.required = true, .maxLength = kMaxUsernameLength});
        const auto password = body.text("password", errors, {.required = true});
        if (password) {
            for (auto& problem : core.hasher.checkPolicy(*password)) {
                addFieldError(errors, "password", std::move(problem));
            }
        }
        throwIfInvalid(std::move(errors));

        // Cheap check first, so a taken name costs no hashing; the store's unique constraint
        // still decides races.
        if (core.store.findUserByUsername(access.instance.id, *username)) throw usernameTaken();

        UserRecord user;
        user.instanceId = access.instance.id;
        user.username = *username;
        user.passwordHash = core.hasher.hash(*password); // outside any transaction
        auto [plainKey, sealedKey] = core.newKey(KeyPurpose::UserKey);
        user.key = std::move(sealedKey);
        user.createdAt = user.updatedAt = core.now();
        user.profile.createdAt = user.profile.updatedAt = user.createdAt;
        try {
            user = core.store.createUser(user);
        } catch (const Conflict&) {
            throw usernameTaken();
        }
        return userResponse(201, access.instance, user, plainKey);
    });

    router.add("POST", "/v1.1/instances/{instance}/user/auth/", [&core](const Request& request) {
        const auto body = RequestInput::parse(request);
        const InstanceAccess access = resolveInstanceAccess(core, request, &body);
        FieldErrors errors;
        const auto username = body.text("username", errors, {.required = true});
        const auto password = body.text("password", errors, {.required = true});
        throwIfInvalid(std::move(errors));

        const auto user = core.store.findUserByUsername(access.instance.id, *username);
        // An unknown username runs the same hashing work as a known one and gets the same
        // answer, so usernames cannot be probed by answer or by timing.
        const PasswordCheck check =
            core.hasher.verify(*password, user ? user->passwordHash : std::string());
        if (!user || !check.ok) throw HttpError(401, "Invalid username or password.");
        if (check.needsRehash) {
            core.refreshHash(*password, [&](const std::string& hash) {
                core.store.updateUserPasswordHash(user->id, hash);
            });
        }
        return userResponse(200, access.instance, *user,
                            core.vault.open(user->key, KeyPurpose::UserKey));
    });

    router.add("GET", "/v1.1/instances/{instance}/user/", [&core](const Request& request) {
        const InstanceAccess access = resolveInstanceAccess(core, request);
        if (access.caller.account) {
            throwPermissionDenied(
                "The account key is not accepted here; use an API key with a user key.");
        }
        if (!access.caller.user) throwPermissionDenied("A user key is required (X-USER-KEY).");
        // The key the client presented is the user's key: no need to unseal it.
        return userResponse(200, access.instance, *access.caller.user,
                            *presentedUserKey(request, nullptr));
    });
}

} // namespace latchkey::host
