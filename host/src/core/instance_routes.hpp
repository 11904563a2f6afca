// The handlers of `/v1.1/instances/` and `/v1.1/instances/<name>/`: named functions that the
// routes bind and that tests call directly, in-process.
#pragma once

#include "core/core_services.hpp"

#include <latchkey/request.hpp>
#include <latchkey/response.hpp>

namespace latchkey::core::instance_handlers {

/// `POST /v1.1/instances/`: creates an instance owned by the calling account.
Response create(const CoreServices& core, const Request& request);
/// `GET /v1.1/instances/`: a page of the calling account's instances.
Response list(const CoreServices& core, const Request& request);
/// `GET /v1.1/instances/<name>/`: one instance (full access).
Response get(const CoreServices& core, const Request& request);
/// `PUT`/`PATCH /v1.1/instances/<name>/`: description and metadata (the owner; no renaming).
Response update(const CoreServices& core, const Request& request);
/// `DELETE /v1.1/instances/<name>/` (the owner's account key only).
Response remove(const CoreServices& core, const Request& request);

} // namespace latchkey::core::instance_handlers
