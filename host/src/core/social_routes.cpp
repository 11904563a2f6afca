// `user/auth/<backend>/`: logging in with a social provider's token. The backend plugin checks
// the token with the provider (and that it was issued to this app); the core maps the
// provider's identity to a user of the instance, creating one on the first login.
#include "core/social_routes.hpp"

#include "core/auth_events.hpp"

#include "core/key_vault.hpp"
#include "core/request_input.hpp"
#include "core/routes.hpp"
#include "core/user_scope.hpp"

#include <sodium.h>

#include <algorithm>

namespace latchkey::core {

namespace {

constexpr std::size_t kMaxUsernameLength = 64;
constexpr std::size_t kMaxCredentialLength = 8192;
constexpr std::size_t kMaxUidLength = 255;
constexpr int kCreateAttempts = 4;

/// The username of a user made by a first social login, attempt by attempt: the email when
/// the provider verified it (as the original server did), else `<backend>-<uid>`; a random
/// suffix once those are taken. Never an unverified email: that would let someone claim
/// another person's address as a username.
std::string usernameFor(const CoreServices& core, const std::string& backend,
                        const SocialIdentity& identity, int attempt) {
    std::string email = asciiLower(identity.email);
    if (attempt == 0 && identity.emailVerified && !email.empty() &&
        email.size() <= kMaxUsernameLength && !hasControlCharacters(email)) {
        return email;
    }
    std::string base = backend + "-" + identity.uid;
    if (base.size() > kMaxUsernameLength - 7 || hasControlCharacters(base)) {
        unsigned char digest[16];
        crypto_generichash(digest, sizeof digest,
                           reinterpret_cast<const unsigned char*>(identity.uid.data()),
                           identity.uid.size(), nullptr, 0);
        base = backend.substr(0, 24) + "-" + toHex(digest, sizeof digest);
    }
    if (attempt <= 1) return base;
    unsigned char suffix[3];
    core.random.fill(suffix, sizeof suffix);
    return base + "-" + toHex(suffix, sizeof suffix);
}

/// The credentials the backend asks for, checked, verified with the provider: the
/// provider's identity of the user (401 for a refused token, 502/503 for a provider failure).
SocialIdentity verifiedIdentity(const CoreServices& core, const std::string& backendName,
                                SocialBackend& backend, const RequestInput& body) {
    const std::vector<std::string> fields = backend.credentialFields();
    body.rejectUnknown([&fields](const std::string& name) {
        return std::find(fields.begin(), fields.end(), name) != fields.end();
    });
    FieldErrors errors;
    std::map<std::string, std::string> credentials;
    for (const auto& field : fields) {
        if (auto value = body.text(field, errors, {.maxLength = kMaxCredentialLength})) {
            credentials[field] = std::move(*value);
        }
    }
    throwIfInvalid(std::move(errors));
    // No provider issues tokens with control characters, and a line break would end up
    // in a header of the call to the provider.
    for (const auto& [field, value] : credentials) {
        if (hasControlCharacters(value)) throw HttpError(401, "Invalid authorization token.");
    }

    SocialIdentity identity;
    try {
        identity = backend.verify(credentials);
    } catch (const Unavailable& e) {
        core.log->error("social login with {}: provider unavailable: {}", backendName, e.what());
        throw HttpError(503, "The " + backendName + " provider is unavailable; retry shortly.", {},
                        {{"Retry-After", "5"}});
    }
    if (identity.uid.empty() || identity.uid.size() > kMaxUidLength ||
        hasControlCharacters(identity.uid)) {
        core.log->error("social login with {}: the provider gave no usable user id", backendName);
        throw HttpError(502, "The " + backendName + " provider gave no usable user id.");
    }

    return identity;
}

/// The user linked to `identity`: found, linked to a user with the provider-verified address
/// (when the deployment allows it), or created.
UserRecord userFor(const CoreServices& core, const UserScope& scope, const std::string& backendName,
                   SocialBackend& backend, const SocialIdentity& identity) {
    const Id instanceId = scope.access.instance.id;
    const auto linkedUser = [&]() -> std::optional<UserRecord> {
        const auto userId =
            core.store.socialIdentities().findSocialIdentity(instanceId, backendName, identity.uid);
        if (!userId) return std::nullopt;
        return core.identities.findUser(instanceId, *userId);
    };
    if (auto user = linkedUser()) return *user;

    SocialIdentityRecord record;
    record.instanceId = instanceId;
    record.backend = backendName;
    record.uid = identity.uid;
    record.createdAt = core.now();

    // Linking to an existing user by email: only when the deployment turned it on and
    // the provider says the address is verified.
    if (backend.linksVerifiedEmail() && identity.emailVerified && !identity.email.empty()) {
        if (auto existing =
                core.identities.findUserByUsername(instanceId, asciiLower(identity.email))) {
            // Never linked to a deactivated user: it could not log in with it anyway.
            if (!core.identities.isActive(instanceId, existing->id)) {
                throw HttpError(403, "This user is deactivated.");
            }
            record.userId = existing->id;
            try {
                core.store.socialIdentities().linkSocialIdentity(record);
            } catch (const Conflict&) {
                // Linked by a concurrent login: answer with whichever user won.
            }
            if (auto user = linkedUser()) return *user;
        }
    }

    const Caller& caller = scope.access.caller;
    if (!caller.hasFullAccess() && !(caller.apiKey && caller.apiKey->allowUserCreate)) {
        throwPermissionDenied("You do not have permission to create new user.");
    }
    for (int attempt = 0; attempt < kCreateAttempts; ++attempt) {
        const std::string username = usernameFor(core, backendName, identity, attempt);
        if (core.identities.findUserByUsername(instanceId, username)) continue;
        try {
            UserRecord created = core.identities.createLinkedUser(instanceId, username, record);
            core.log->info("social login with {} created user {}", backendName, created.id);
            return created;
        } catch (const Conflict&) {
            // A concurrent first login with the same identity won: use its user.
            if (auto linked = linkedUser()) return *linked;
            // Otherwise the username was taken meanwhile: try the next one.
        }
    }
    throw HttpError(409, "Could not pick a free username for this user; retry.");
}

} // namespace

namespace social_handlers {

Response login(const CoreServices& core, const Request& request) {
    const auto body = RequestInput::parse(request);
    const UserScope scope(core, resolveInstanceAccess(core, request, &body));
    const std::string& name = request.param("backend");
    SocialBackend* backend = core.social.find(name, scope.access.instance.name);
    if (!backend) throw HttpError(400, "Unsupported social backend.");
    AuthEvent event{"social_login", scope.access.instance.id, std::nullopt, request.remoteAddress,
                    "failure"};
    const auto refused = [&](std::string_view reason) {
        event.reason = reason;
        logAuthEvent(*core.log, core.observeAuthEvent, event);
    };
    SocialIdentity identity;
    try {
        identity = verifiedIdentity(core, name, *backend, body);
    } catch (const HttpError& e) {
        // A malformed body (400) is not an attempt; the provider's answers are.
        if (e.status() == 401) refused("invalid_token");
        if (e.status() == 502) refused("provider_error");
        if (e.status() == 503) refused("provider_unavailable");
        throw;
    }
    const UserRecord user = userFor(core, scope, name, *backend, identity);
    event.userId = user.id;
    // The provider proved who this is: a deactivated user may be told so.
    if (!core.identities.isActive(user.instanceId, user.id)) {
        refused("inactive");
        throw HttpError(403, "This user is deactivated.");
    }
    event.outcome = "success";
    logAuthEvent(*core.log, core.observeAuthEvent, event);
    JsonWriter out;
    scope.renderUser(core, out, user);
    return Response::json(200, out.take());
}

} // namespace social_handlers

void mountSocialRoutes(Router& router, const CoreServices& core) {
    // Verifying a token waits on the provider: the outbound lane, so a slow provider cannot
    // hold the workers key lookups need.
    router.addInLane(
        "POST", "/v1.1/instances/{instance}/user/auth/{backend}/", inLane(Lane::Outbound),
        [&core](const Request& request) { return social_handlers::login(core, request); });
}

} // namespace latchkey::core
