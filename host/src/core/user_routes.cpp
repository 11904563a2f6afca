// `/v1.1/instances/<name>/users/...` (admin and self), `user/auth/` (password login) and
// `user/` (the user of the presented user key). Every change goes through the identity service.
#include "core/user_routes.hpp"

#include "core/pagination.hpp"
#include "core/request_input.hpp"
#include "core/routes.hpp"
#include "core/user_scope.hpp"

namespace latchkey::core {

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
    renderUser(out, scope.view(core), user, userKey);
    return Response::json(status, out.take());
}

/// A password from a body, with the policy's problems reported under "password".
std::optional<std::string> readPassword(const CoreServices& core, const RequestInput& body,
                                        FieldErrors& errors, bool required) {
    auto password = body.text("password", errors, {.required = required});
    if (password) {
        for (auto& problem : core.hasher.checkPolicy(*password)) {
            addFieldError(errors, "password", std::move(problem));
        }
    }
    return password;
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

/// Applies a PUT/PATCH body to user `id` (username, password, nested profile); a new password
/// gives the user a new key. Both verbs are partial: the official client PUTs whole objects
/// with read-only fields in them, and those are ignored.
Response applyUpdate(const CoreServices& core, const UserScope& scope, Id id,
                     const RequestInput& body) {
    body.rejectUnknown(kUserFields);
    FieldErrors errors;
    const auto username = body.text("username", errors, {.maxLength = kMaxUsernameLength});
    const auto password = readPassword(core, body, errors, false);
    const ProfileUpdate profile = nestedProfileUpdate(core, scope, id, body, errors);
    throwIfInvalid(std::move(errors));

    // The profile first: if it cannot be saved, the password and key stay as they were.
    const UserRecord saved =
        saveProfileUpdate(core, scope.access.instance, id, scope.schema, profile);
    const bool renamed = username && *username != saved.username;
    if (!renamed && !password) {
        return userResponse(core, scope, 200, saved, core.identities.openKey(saved));
    }
    if (renamed && core.identities.findUserByUsername(saved.instanceId, *username)) {
        throw usernameTaken();
    }
    try {
        const KeyedUser updated = core.identities.update(
            saved.instanceId, id, renamed ? username : std::nullopt, password);
        return userResponse(core, scope, 200, updated.user, updated.userKey);
    } catch (const Conflict&) {
        throw usernameTaken();
    }
}

/// `user/`: API key + user key only; the account key is refused, as in Syncano.
UserScope currentUserScope(const CoreServices& core, const Request& request,
                           const RequestInput* body) {
    UserScope scope(core, resolveInstanceAccess(core, request, body));
    if (scope.access.caller.account) {
        throwPermissionDenied(
            "The account key is not accepted here; use an API key with a user key.");
    }
    if (!scope.access.caller.user) throwPermissionDenied("A user key is required (X-USER-KEY).");
    return scope;
}

} // namespace

UserRecord userForCaller(const CoreServices& core, const UserScope& scope, Id id) {
    const Caller& caller = scope.access.caller;
    if (!caller.hasFullAccess()) {
        if (!caller.user) throwPermissionDenied();
        if (caller.user->id != id) throw HttpError(404, "Not found.");
        return *caller.user;
    }
    auto user = core.identities.findUser(scope.access.instance.id, id);
    if (!user) throw HttpError(404, "Not found.");
    return *user;
}

namespace user_handlers {

Response create(const CoreServices& core, const Request& request) {
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
    const auto password = readPassword(core, body, errors, true);
    // The user has no id yet: nested profile values cannot include files.
    const ProfileUpdate profile = nestedProfileUpdate(core, scope, 0, body, errors);
    throwIfInvalid(std::move(errors));

    NewUser wanted;
    wanted.instanceId = scope.access.instance.id;
    wanted.username = *username;
    wanted.password = *password;
    wanted.profileData = mergeProfileData("{}", profile);
    try {
        const KeyedUser created = core.identities.create(wanted);
        return userResponse(core, scope, 201, created.user, created.userKey);
    } catch (const Conflict&) {
        throw usernameTaken();
    }
}

Response list(const CoreServices& core, const Request& request) {
    const UserScope scope(core, resolveInstanceAccess(core, request));
    requireFullAccess(scope.access.caller);
    const PageParams page = readPageParams(request);
    auto rows = core.identities.listUsers(scope.access.instance.id, page.scan());
    return Response::json(200,
                          renderPage<UserRecord>(page, std::move(rows),
                                                 instancePath(scope.access.instance) + "/users/",
                                                 [&](JsonWriter& out, const UserRecord& user) {
                                                     scope.renderUser(core, out, user);
                                                 }));
}

Response get(const CoreServices& core, const Request& request) {
    const UserScope scope(core, resolveInstanceAccess(core, request));
    const UserRecord found = userForCaller(core, scope, pathId(request, "id"));
    return userResponse(core, scope, 200, found, core.identities.openKey(found));
}

Response update(const CoreServices& core, const Request& request) {
    const auto body = RequestInput::parse(request);
    const UserScope scope(core, resolveInstanceAccess(core, request, &body));
    return applyUpdate(core, scope, userForCaller(core, scope, pathId(request, "id")).id, body);
}

Response remove(const CoreServices& core, const Request& request) {
    const InstanceAccess access = resolveInstanceAccess(core, request);
    // Users may read and update themselves, never delete.
    requireFullAccess(access.caller);
    if (!core.identities.deleteUser(access.instance.id, pathId(request, "id"))) {
        throw HttpError(404, "Not found.");
    }
    return Response::noContent();
}

Response resetKey(const CoreServices& core, const Request& request) {
    const auto body = RequestInput::parse(request);
    const UserScope scope(core, resolveInstanceAccess(core, request, &body));
    const UserRecord found = userForCaller(core, scope, pathId(request, "id"));
    body.rejectUnknown({});
    const KeyedUser saved = core.identities.resetKey(found.instanceId, found.id);
    return userResponse(core, scope, 200, saved.user, saved.userKey);
}

Response login(const CoreServices& core, const Request& request) {
    const auto body = RequestInput::parse(request);
    const UserScope scope(core, resolveInstanceAccess(core, request, &body));
    body.rejectUnknown({"username", "password"});
    FieldErrors errors;
    const auto username = body.text("username", errors, {.required = true});
    const auto password = body.text("password", errors, {.required = true});
    throwIfInvalid(std::move(errors));
    // Unknown, wrong and deactivated get the same work and the same answer; guessing is
    // throttled (429).
    const auto found = core.identities.attemptLogin({.instanceId = scope.access.instance.id,
                                                     .username = *username,
                                                     .userId = std::nullopt,
                                                     .password = *password,
                                                     .client = request.remoteAddress});
    if (!found) throw HttpError(401, "Invalid username or password.");
    return userResponse(core, scope, 200, *found, core.identities.openKey(*found));
}

Response current(const CoreServices& core, const Request& request) {
    const UserScope scope = currentUserScope(core, request, nullptr);
    // The key the client presented is the user's key: no need to unseal it.
    return userResponse(core, scope, 200, *scope.access.caller.user,
                        *presentedUserKey(request, nullptr));
}

Response updateCurrent(const CoreServices& core, const Request& request) {
    const auto body = RequestInput::parse(request);
    const UserScope scope = currentUserScope(core, request, &body);
    return applyUpdate(core, scope, scope.access.caller.user->id, body);
}

} // namespace user_handlers

void mountUserRoutes(Router& router, const CoreServices& core) {
    const auto bind = [&core](CoreHandler handler) { return bindHandler(core, handler); };
    const std::string users = "/v1.1/instances/{instance}/users/";
    const std::string user = users + "{id}/";
    const std::string me = kCurrentUserPattern;
    router.addInLane("POST", users, hashingIfPasswordMayBeSet, bind(user_handlers::create));
    router.add("GET", users, bind(user_handlers::list));
    router.add("GET", user, bind(user_handlers::get));
    router.add("DELETE", user, bind(user_handlers::remove));
    router.add("POST", user + "reset_key/", bind(user_handlers::resetKey));
    router.addInLane("POST", "/v1.1/instances/{instance}/user/auth/", inLane(Lane::Hashing),
                     bind(user_handlers::login));
    router.add("GET", me, bind(user_handlers::current));
    for (const char* method : {"PUT", "PATCH"}) {
        router.addInLane(method, user, hashingIfPasswordMayBeSet, bind(user_handlers::update));
        router.addInLane(method, me, hashingIfPasswordMayBeSet, bind(user_handlers::updateCurrent));
    }
}

} // namespace latchkey::core
