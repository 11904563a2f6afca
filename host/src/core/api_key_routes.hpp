// The handlers of `/v1.1/instances/<name>/api_keys/...`: named functions that the routes bind and
// that tests call directly, in-process.
#pragma once

#include "core/core_services.hpp"

#include <latchkey/request.hpp>
#include <latchkey/response.hpp>

namespace latchkey::core::api_key_handlers {

/// `POST api_keys/`: creates an API key with its flags (the account key only).
Response create(const CoreServices& core, const Request& request);
/// `GET api_keys/`: a page of the instance's API keys (the account key only).
Response list(const CoreServices& core, const Request& request);
/// `GET api_keys/<id>/`: one key (the account key, or an API key reading its own record).
Response get(const CoreServices& core, const Request& request);
/// `PUT`/`PATCH api_keys/<id>/`: description and flags, partially (the account key only).
Response update(const CoreServices& core, const Request& request);
/// `DELETE api_keys/<id>/` (the account key only).
Response remove(const CoreServices& core, const Request& request);
/// `POST api_keys/<id>/reset_key/`: a new key value, same flags (the account key only).
Response resetKey(const CoreServices& core, const Request& request);

} // namespace latchkey::core::api_key_handlers
