// The handlers of `/v1.1/account/auth/` and `/v1.1/account/`: named functions that the routes
// bind and that tests call directly, in-process.
#pragma once

#include "core/core_services.hpp"

#include <latchkey/request.hpp>
#include <latchkey/response.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace latchkey::core {

/// Stores a new account key (and `passwordHash`, if given) over `account`'s current one, and
/// logs `event` as done by `client` (an address, or "cli"): the account as stored and its new
/// key in plain text, or nullopt when another change came first. The old key stops working at
/// once: nothing caches accounts by key. HttpError 501 when the driver lacks the
/// AccountCredentials facet.
std::optional<std::pair<AccountRecord, std::string>>
rotateAccountCredentials(const CoreServices& core, const AccountRecord& account,
                         std::optional<std::string_view> passwordHash, std::string_view event,
                         std::string_view client);

} // namespace latchkey::core

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
