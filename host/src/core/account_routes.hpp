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
/// `POST /v1.1/account/reset_key/` (account key): the account with a new account key; the old
/// one stops working at once.
Response resetKey(const CoreServices& core, const Request& request);
/// `POST /v1.1/account/password/` (account key) `{current_password, new_password}`: the
/// current password checked (throttled like a login), the new one set, and a new account key.
Response changePassword(const CoreServices& core, const Request& request);

} // namespace latchkey::core::account_handlers
