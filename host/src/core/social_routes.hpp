// The handler of `/v1.1/instances/<name>/user/auth/<backend>/` (social login): a named function
// that the route binds and that tests call directly, in-process.
#pragma once

#include "core/core_services.hpp"

#include <latchkey/request.hpp>
#include <latchkey/response.hpp>

namespace latchkey::core::social_handlers {

/// `POST user/auth/<backend>/`: the provider's token → the user it maps to (created at the
/// first login when the caller may create users), with its key.
Response login(const CoreServices& core, const Request& request);

} // namespace latchkey::core::social_handlers
