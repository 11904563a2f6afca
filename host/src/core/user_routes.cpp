// `/v1.1/instances/<name>/users/...` (admin and self), `user/auth/` (password login) and
// `user/` (the user of the presented user key).
#include "core/pagination.hpp"
#include "core/request_input.hpp"
#include "core/routes.hpp"
#include "core/user_scope.hpp"

#include <algorithm>

namespace latchkey::host {

namespace {

constexpr std::size_t kMaxUsernameLength = 64;

/// What a user body may hold (groups and user_key come back from the client's save).
const std::initializer_list<std::string_view> kUserFields = {"username", "password", "profile",
                                                             "groups", "user_key"};

HttpError usernameTaken() {
    return HttpError::invalid({{"username", {"User with this username already exists."}}});
}

Response userResponse(const CoreServices& core, const UserScope& scope, int status,
                      const UserRecord& user, const std::string& userKey) {
    JsonWriter out;
    writeUser(out, scope.view(core), user, userKey);
    return Response::json(status, out.take());
}

/// Profile values nested under `profile` in a user body, checked; problems are reported under
/// "profile" as "field: message".
ProfileUpdate nestedProfileUpdate(const CoreServices& core, const UserScope& scope, Id ownerId,
                                  const RequestInput& body, FieldErrors& errors) {
    FieldErrors profileErrors;
    const auto values = nestedProfileValues(body, profileErrors);
    ProfileUpdate update = checkProfileValues(core, scope.access.instance, ownerId, scope.schema,
                                              values, nullptr, body.isForm(), profileErrors);
    for (const auto& [field, messages] : profileErrors) {
        for (const auto& message : messages) {
            addFieldError(errors, "profile", field == "profile" ? message : field + ": " + message);
        }
    }
    return update;
}

/// Attempts at a compare-and-set write before giving up with 409.
constexpr int kWriteAttempts = 5;

/// Writes `change` into user `id` with a compare-and-set on updatedAt, re-reading on a
/// concurrent write, so an overlapping rename, password change or reset is never undone.
template <class Change>
UserRecord writeUser(const CoreServices& core, Id instanceId, Id id, Change&& change) {
    for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
        auto user = core.store.users().findUserById(instanceId, id);
        if (!user) throw HttpError(404, "Not found.");
        change(*user);
        const Micros expected = user->updatedAt;
        user->updatedAt = std::max(core.now(), expected + 1);
        try {
            if (core.store.users().updateUser(*user, expected)) return *user;
        } catch (const Conflict&) {
            throw usernameTaken();
        }
    }
    throw HttpError(409, "The user changed while it was being updated; retry.");
}

/// Applies a PUT/PATCH body to user `id` (username, password, nested profile); a new password
/// gives the user a new key. Both verbs are partial: the official client PUTs whole objects
/// with read-only fields in them, and those are ignored.
Response updateUser(const CoreServices& core, const UserScope& scope, Id id,
                    const RequestInput& body) {
    body.rejectUnknown(kUserFields);
    FieldErrors errors;
    const auto username = body.text("username", errors, {.maxLength = kMaxUsernameLength});
    const auto password = body.text("password", errors);
    if (password) {
        for (auto& problem : core.hasher.checkPolicy(*password)) {
            addFieldError(errors, "password", std::move(problem));
        }
    }
    const ProfileUpdate profile = nestedProfileUpdate(core, scope, id, body, errors);
    throwIfInvalid(std::move(errors));

    // The profile first: if it cannot be saved, the password and key stay as they were.
    UserRecord saved = saveProfileUpdate(core, scope.access.instance, id, scope.schema, profile);
    const bool renamed = username && *username != saved.username;
    if (!renamed && !password) {
        return userResponse(core, scope, 200, saved,
                            core.vault.open(saved.key, KeyPurpose::UserKey));
    }
    if (renamed && core.store.users().findUserByUsername(saved.instanceId, *username)) {
        throw usernameTaken();
    }
    std::optional<std::pair<std::string, SealedKey>> newKey;
    std::string newHash;
    if (password) {
        // A new password ends every session of the old one: the user key changes too. Hashed
        // once, outside the write and its retries.
        newHash = core.hasher.hash(*password);
        newKey = core.newKey(KeyPurpose::UserKey);
    }
    saved = writeUser(core, saved.instanceId, id, [&](UserRecord& user) {
        if (renamed) user.username = *username;
        if (newKey) {
            user.passwordHash = newHash;
            user.key = newKey->second;
        }
    });
    // Flows that open sessions end them (the login-token flow's cookies go with the password).
    if (newKey) core.announce({UserEventKind::PasswordChanged, saved.instanceId, id});
    return userResponse(core, scope, 200, saved,
                        newKey ? newKey->first : core.vault.open(saved.key, KeyPurpose::UserKey));
}

} // namespace

UserRecord userForCaller(const CoreServices& core, const UserScope& scope, Id id) {
    const Caller& caller = scope.access.caller;
    if (!caller.hasFullAccess()) {
        if (!caller.user) throwPermissionDenied();
        if (caller.user->id != id) throw HttpError(404, "Not found.");
        return *caller.user;
    }
    auto user = core.store.users().findUserById(scope.access.instance.id, id);
    if (!user) throw HttpError(404, "Not found.");
    return *user;
}

void mountUserRoutes(Router& router, const CoreServices& core) {
    const std::string users = "/v1.1/instances/{instance}/users/";

    router.addInLane("POST", users, hashingIfPasswordMayBeSet, [&core](const Request& request) {
        const auto body = RequestInput::parse(request);
        const UserScope scope(core, resolveInstanceAccess(core, request, &body));
        const Caller& caller = scope.access.caller;
        if (!caller.hasFullAccess() && !(caller.apiKey && caller.apiKey->allowUserCreate)) {
            throwPermissionDenied("You do not have permission to create new user.");
        }
        body.rejectUnknown(kUserFields);
        FieldErrors errors;
        const auto username =
            body.text("username", errors, {.required = true, .maxLength = kMaxUsernameLength});
        const auto password = body.text("password", errors, {.required = true});
        if (password) {
            for (auto& problem : core.hasher.checkPolicy(*password)) {
                addFieldError(errors, "password", std::move(problem));
            }
        }
        // The user has no id yet: nested profile values cannot include files.
        const ProfileUpdate profile = nestedProfileUpdate(core, scope, 0, body, errors);
        throwIfInvalid(std::move(errors));

        // Cheap check first, so a taken name costs no hashing; the store's unique constraint
        // still decides races.
        if (core.store.users().findUserByUsername(scope.access.instance.id, *username)) {
            throw usernameTaken();
        }
        UserRecord user;
        user.instanceId = scope.access.instance.id;
        user.username = *username;
        user.passwordHash = core.hasher.hash(*password); // outside any transaction
        auto [plainKey, sealedKey] = core.newKey(KeyPurpose::UserKey);
        user.key = std::move(sealedKey);
        user.createdAt = user.updatedAt = core.now();
        user.profile.createdAt = user.profile.updatedAt = user.createdAt;
        user.profile.data = mergeProfileData("{}", profile);
        try {
            user = core.store.users().createUser(user);
        } catch (const Conflict&) {
            throw usernameTaken();
        }
        return userResponse(core, scope, 201, user, plainKey);
    });

    router.add("GET", users, [&core](const Request& request) {
        const UserScope scope(core, resolveInstanceAccess(core, request));
        requireFullAccess(scope.access.caller);
        const PageParams page = readPageParams(request);
        auto rows = core.store.users().listUsers(scope.access.instance.id, page.scan());
        return Response::json(200,
                              writePage<UserRecord>(page, std::move(rows),
                                                    instancePath(scope.access.instance) + "/users/",
                                                    [&](JsonWriter& out, const UserRecord& user) {
                                                        scope.writeUser(core, out, user);
                                                    }));
    });

    const std::string user = users + "{id}/";
    router.add("GET", user, [&core](const Request& request) {
        const UserScope scope(core, resolveInstanceAccess(core, request));
        const UserRecord found = userForCaller(core, scope, pathId(request, "id"));
        return userResponse(core, scope, 200, found,
                            core.vault.open(found.key, KeyPurpose::UserKey));
    });
    for (const char* method : {"PUT", "PATCH"}) {
        router.addInLane(method, user, hashingIfPasswordMayBeSet, [&core](const Request& request) {
            const auto body = RequestInput::parse(request);
            const UserScope scope(core, resolveInstanceAccess(core, request, &body));
            return updateUser(core, scope, userForCaller(core, scope, pathId(request, "id")).id,
                              body);
        });
    }
    router.add("DELETE", user, [&core](const Request& request) {
        const InstanceAccess access = resolveInstanceAccess(core, request);
        // Users may read and update themselves, never delete.
        requireFullAccess(access.caller);
        const Id id = pathId(request, "id");
        if (!core.store.users().deleteUser(access.instance.id, id)) {
            throw HttpError(404, "Not found.");
        }
        core.announce({UserEventKind::UserDeleted, access.instance.id, id});
        return Response::noContent();
    });

    router.add("POST", user + "reset_key/", [&core](const Request& request) {
        const auto body = RequestInput::parse(request);
        const UserScope scope(core, resolveInstanceAccess(core, request, &body));
        const UserRecord found = userForCaller(core, scope, pathId(request, "id"));
        body.rejectUnknown({});
        const std::pair<std::string, SealedKey> fresh = core.newKey(KeyPurpose::UserKey);
        const UserRecord saved = writeUser(core, found.instanceId, found.id,
                                           [&](UserRecord& record) { record.key = fresh.second; });
        return userResponse(core, scope, 200, saved, fresh.first);
    });

    router.addInLane(
        "POST", "/v1.1/instances/{instance}/user/auth/", inLane(Lane::Hashing),
        [&core](const Request& request) {
            const auto body = RequestInput::parse(request);
            const UserScope scope(core, resolveInstanceAccess(core, request, &body));
            body.rejectUnknown({"username", "password"});
            FieldErrors errors;
            const auto username = body.text("username", errors, {.required = true});
            const auto password = body.text("password", errors, {.required = true});
            throwIfInvalid(std::move(errors));

            const auto found =
                core.store.users().findUserByUsername(scope.access.instance.id, *username);
            // An unknown username runs the same hashing work as a known one and gets the same
            // answer, so usernames cannot be probed by answer or by timing.
            const PasswordCheck check =
                core.hasher.verify(*password, found ? found->passwordHash : std::string());
            if (!found || !check.ok) throw HttpError(401, "Invalid username or password.");
            if (check.needsRehash) {
                // Only over the hash that was verified: a password changed meanwhile stays changed.
                core.refreshHash(*password, [&](const std::string& hash) {
                    core.store.users().updateUserPasswordHash(found->id, found->passwordHash, hash);
                });
            }
            return userResponse(core, scope, 200, *found,
                                core.vault.open(found->key, KeyPurpose::UserKey));
        });

    // `user/`: API key + user key only; the account key is refused, as in Syncano.
    const auto currentUser = [&core](const Request& request, const RequestInput* body) {
        UserScope scope(core, resolveInstanceAccess(core, request, body));
        if (scope.access.caller.account) {
            throwPermissionDenied(
                "The account key is not accepted here; use an API key with a user key.");
        }
        if (!scope.access.caller.user)
            throwPermissionDenied("A user key is required (X-USER-KEY).");
        return scope;
    };
    const std::string me = "/v1.1/instances/{instance}/user/";
    router.add("GET", me, [&core, currentUser](const Request& request) {
        const UserScope scope = currentUser(request, nullptr);
        // The key the client presented is the user's key: no need to unseal it.
        return userResponse(core, scope, 200, *scope.access.caller.user,
                            *presentedUserKey(request, nullptr));
    });
    for (const char* method : {"PUT", "PATCH"}) {
        router.addInLane(method, me, hashingIfPasswordMayBeSet,
                         [&core, currentUser](const Request& request) {
                             const auto body = RequestInput::parse(request);
                             const UserScope scope = currentUser(request, &body);
                             return updateUser(core, scope, scope.access.caller.user->id, body);
                         });
    }
}

} // namespace latchkey::host
