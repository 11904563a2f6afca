// Who is calling: the keys on a request (in the Syncano v1.1 order) resolved against the store.
#pragma once

#include "core/core_services.hpp"
#include "core/request_input.hpp"

#include <latchkey/router.hpp>
#include <latchkey/storage/records/account.hpp>
#include <latchkey/storage/records/api_key.hpp>
#include <latchkey/storage/records/instance.hpp>
#include <latchkey/storage/records/user.hpp>

#include <optional>
#include <string>

namespace latchkey::core {

/// The API key a request presents: X-API-KEY, then ?api_key= / ?apikey=, then
/// `Authorization: token <key>`, then `_api_key` in the body.
std::optional<std::string> presentedApiKey(const Request& request, const RequestInput* body);

/// The user key a request presents: X-USER-KEY, then ?user_key= / ?userkey=, then `_user_key`
/// in the body.
std::optional<std::string> presentedUserKey(const Request& request, const RequestInput* body);

/// The established identity of a request to an instance route.
struct Caller {
    std::optional<AccountRecord> account; ///< An account key (the instance's owner).
    std::optional<ApiKeyRecord> apiKey;   ///< An API key of the instance.
    std::optional<UserRecord> user;       ///< A user key presented with the API key.

    /// Account key, or an API key with ignore_acl: everything in the instance.
    bool hasFullAccess() const { return account || (apiKey && apiKey->ignoreAcl); }
};

/// An instance and who is calling it.
struct InstanceAccess {
    InstanceRecord instance;
    Caller caller;
};

/// The account whose key the request presents; 403 otherwise.
AccountRecord requireAccount(const CoreServices& core, const Request& request,
                             const RequestInput* body = nullptr);

/// Resolves the presented keys for the instance named in the path. Keys are checked before the
/// instance is looked up, so an unauthenticated caller cannot tell which instances exist.
/// 403 for a missing or unknown key, 404 for an instance the account does not own.
InstanceAccess resolveInstanceAccess(const CoreServices& core, const Request& request,
                                     const RequestInput* body = nullptr);

/// 403 unless the caller has full access to the instance.
void requireFullAccess(const Caller& caller);

/// The 403 every permission failure uses.
[[noreturn]] void throwPermissionDenied(
    const std::string& detail = "You do not have permission to perform this action.");

} // namespace latchkey::core
