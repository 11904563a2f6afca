// The Buzz API's envelope: {"success": true, "message", "payload"} and its error form.
#pragma once

#include "members.hpp"

#include <latchkey/errors.hpp>
#include <latchkey/response.hpp>
#include <latchkey/support/json_writer.hpp>

#include <functional>
#include <string>

namespace latchkey::plugins::buzz {

/// A success: {"success": true, "message": ..., "payload": ...} (payload left out when null).
Response envelope(int status, const std::string& message,
                  const std::function<void(JsonWriter&)>& payload = nullptr);
/// A success whose payload is {"id": id}.
Response idEnvelope(int status, const std::string& message, Id id);
/// A failure: {"success": false, "errors": [...]} with each field problem as "field: message";
/// the error's headers (Retry-After) kept.
Response renderError(const HttpError& error);
/// A member as the API shows it: never its password or a login token (the original API
/// returned both; this one does not).
void renderMember(JsonWriter& out, const Member& member);

} // namespace latchkey::plugins::buzz
