// The handlers of `/v1.1/instances/<name>/users/...`, `user/auth/` and `user/`: named functions
// that the routes bind and that tests call directly, in-process.
#pragma once

#include "core/core_services.hpp"

#include <latchkey/request.hpp>
#include <latchkey/response.hpp>

namespace latchkey::core {

/// `user/`: the route of "who is this", the request every application makes most.
inline constexpr const char* kCurrentUserPattern = "/v1.1/instances/{instance}/user/";

} // namespace latchkey::core

namespace latchkey::core::user_handlers {

/// `POST users/`: creates a user (full access, or an API key that may create users).
Response create(const CoreServices& core, const Request& request);
/// `GET users/`: a page of users (full access).
Response list(const CoreServices& core, const Request& request);
/// `GET users/<id>/`: one user (full access, or the user itself).
Response get(const CoreServices& core, const Request& request);
/// `PUT`/`PATCH users/<id>/`: username, password and nested profile, partially.
Response update(const CoreServices& core, const Request& request);
/// `DELETE users/<id>/` (full access).
Response remove(const CoreServices& core, const Request& request);
/// `POST users/<id>/reset_key/`: a new user key.
Response resetKey(const CoreServices& core, const Request& request);
/// `POST user/auth/`: username + password → the user with its key.
Response login(const CoreServices& core, const Request& request);
/// `GET user/`: the user of the presented user key.
Response current(const CoreServices& core, const Request& request);
/// `PUT`/`PATCH user/`: the user of the presented user key changes itself.
Response updateCurrent(const CoreServices& core, const Request& request);

} // namespace latchkey::core::user_handlers
