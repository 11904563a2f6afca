// The handlers of `/v1.1/account/auth/` and `/v1.1/account/`: named functions that the routes
// bind and that tests call directly, in-process.
#pragma once

#include "core/core_services.hpp"

#include <latchkey/request.hpp>
#include <latchkey/response.hpp>

namespace latchkey::core::account_handlers {

/// `POST /v1.1/account/auth/`: email + password → the account with its account key.
Response login(const CoreServices& core, const Request& request);
/// `GET /v1.1/account/`: the account of the presented account key.
Response current(const CoreServices& core, const Request& request);

} // namespace latchkey::core::account_handlers
