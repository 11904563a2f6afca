// The identity core's v1.1 routes, one mount function per resource.
#pragma once

#include "core/core_services.hpp"

#include <latchkey/router.hpp>
#include <latchkey/support/text.hpp>

namespace latchkey::core {

/// `/v1.1/account/auth/` and `/v1.1/account/`.
void mountAccountRoutes(Router& router, const CoreServices& core);
/// `/v1.1/instances/` and `/v1.1/instances/<name>/`.
void mountInstanceRoutes(Router& router, const CoreServices& core);
/// `/v1.1/instances/<name>/api_keys/...`.
void mountApiKeyRoutes(Router& router, const CoreServices& core);
/// `/v1.1/instances/<name>/users/...`, `user/`, `user/auth/`.
void mountUserRoutes(Router& router, const CoreServices& core);
/// `/v1.1/instances/<name>/user/auth/<backend>/` (social login).
void mountSocialRoutes(Router& router, const CoreServices& core);
/// `/v1.1/instances/<name>/groups/...` and `users/<id>/groups/...`.
void mountGroupRoutes(Router& router, const CoreServices& core);
/// `/v1.1/instances/<name>/classes/user_profile/...` and `/files/<token>`.
void mountProfileRoutes(Router& router, const CoreServices& core);

/// The path parameter `name` as a positive id; 404 otherwise (as a URL that does not exist).
Id pathId(const Request& request, std::string_view name);

/// A named handler (`Response handler(const CoreServices&, const Request&)`) as a route's
/// Handler, bound to `core` (which outlives the router).
using CoreHandler = Response (*)(const CoreServices&, const Request&);
inline Handler bindHandler(const CoreServices& core, CoreHandler handler) {
    return [&core, handler](const Request& request) { return handler(core, request); };
}

} // namespace latchkey::core
