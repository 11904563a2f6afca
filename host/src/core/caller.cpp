// Who is calling: the keys on a request (in the Syncano v1.1 order) resolved against the store.
#include "core/caller.hpp"

#include "core/inline_attempt.hpp"

#include <latchkey/support/text.hpp>

#include <cctype>

namespace latchkey::core {

namespace {

std::optional<std::string> nonEmpty(std::optional<std::string_view> value) {
    if (!value || value->empty()) return std::nullopt;
    return std::string(*value);
}

} // namespace

std::optional<std::string> presentedApiKey(const Request& request, const RequestInput* body) {
    if (auto key = nonEmpty(request.header("X-API-KEY"))) return key;
    if (auto key = nonEmpty(request.queryParam("api_key"))) return key;
    if (auto key = nonEmpty(request.queryParam("apikey"))) return key;
    if (const auto auth = request.header("Authorization")) {
        constexpr std::string_view scheme = "token ";
        if (auth->size() > scheme.size() &&
            equalsIgnoreCase(auth->substr(0, scheme.size()), scheme)) {
            return std::string(auth->substr(scheme.size()));
        }
    }
    if (body) {
        if (auto key = body->rawString("_api_key"); key && !key->empty()) return key;
    }
    return std::nullopt;
}

std::optional<std::string> presentedUserKey(const Request& request, const RequestInput* body) {
    if (auto key = nonEmpty(request.header("X-USER-KEY"))) return key;
    if (auto key = nonEmpty(request.queryParam("user_key"))) return key;
    if (auto key = nonEmpty(request.queryParam("userkey"))) return key;
    if (body) {
        if (auto key = body->rawString("_user_key"); key && !key->empty()) return key;
    }
    return std::nullopt;
}

void throwPermissionDenied(const std::string& detail) {
    throw HttpError(403, detail);
}

AccountRecord requireAccount(const CoreServices& core, const Request& request,
                             const RequestInput* body) {
    const auto key = presentedApiKey(request, body);
    if (!key) throwPermissionDenied("Authentication credentials were not provided.");
    auto account = core.store.accounts().findAccountByKey(core.vault.lookup(*key));
    if (!account) throwPermissionDenied("No such API Key.");
    if (!account->active) throwPermissionDenied("This account is inactive.");
    return std::move(*account);
}

InstanceAccess resolveInstanceAccess(const CoreServices& core, const Request& request,
                                     const RequestInput* body) {
    const auto key = presentedApiKey(request, body);
    if (!key) throwPermissionDenied("Authentication credentials were not provided.");
    const std::string lookup = core.vault.lookup(*key);
    const std::string name = asciiLower(request.param("instance"));

    InstanceAccess access;
    if (auto apiKey = core.store.apiKeys().findApiKeyByKey(lookup)) {
        auto instance = core.store.instances().findInstance(name);
        // A key of another instance is as unknown here as a made-up one.
        if (!instance || instance->id != apiKey->instanceId)
            throwPermissionDenied("No such API Key.");
        access.instance = std::move(*instance);
        access.caller.apiKey = std::move(*apiKey);
        if (const auto userKey = presentedUserKey(request, body)) {
            // A deactivated user's key is as unknown as a made-up one.
            auto user = core.identities.findActiveUserByKey(access.instance.id, *userKey);
            if (!user) throwPermissionDenied("No such user key.");
            access.caller.user = std::move(*user);
        }
        return access;
    }
    // Accounts are not cached: an account key's request always goes to a worker.
    mayBlock();
    auto account = core.store.accounts().findAccountByKey(lookup);
    if (!account) throwPermissionDenied("No such API Key.");
    if (!account->active) throwPermissionDenied("This account is inactive.");
    auto instance = core.store.instances().findInstance(name);
    if (!instance || instance->ownerId != account->id) {
        throw HttpError(404, "Instance was not found.");
    }
    access.instance = std::move(*instance);
    access.caller.account = std::move(*account);
    return access;
}

void requireFullAccess(const Caller& caller) {
    if (!caller.hasFullAccess()) throwPermissionDenied();
}

} // namespace latchkey::core
