// The handlers of `/v1.1/instances/<name>/groups/...` and of the membership routes from both sides
// (`groups/<id>/users/`, `users/<id>/groups/`): named functions that the routes bind and that
// tests call directly, in-process.
#pragma once

#include "core/core_services.hpp"

#include <latchkey/request.hpp>
#include <latchkey/response.hpp>

namespace latchkey::core::group_handlers {

/// `POST groups/`: creates a group (full access, or an API key that may create groups).
Response create(const CoreServices& core, const Request& request);
/// `GET groups/`: a page of groups (full access).
Response list(const CoreServices& core, const Request& request);
/// `GET groups/<id>/`: one group (full access).
Response get(const CoreServices& core, const Request& request);
/// `PUT groups/<id>/`: label (required) and description (full access).
Response replace(const CoreServices& core, const Request& request);
/// `PATCH groups/<id>/`: label and description, partially (full access).
Response update(const CoreServices& core, const Request& request);
/// `DELETE groups/<id>/` (full access).
Response remove(const CoreServices& core, const Request& request);
/// `GET groups/<id>/users/`: a page of the group's members (full access).
Response listMembers(const CoreServices& core, const Request& request);
/// `POST groups/<id>/users/`: adds the user of the body to the group (full access).
Response addMember(const CoreServices& core, const Request& request);
/// `GET groups/<id>/users/<user>/`: one member of the group (full access).
Response getMember(const CoreServices& core, const Request& request);
/// `DELETE groups/<id>/users/<user>/`: takes the user out of the group (full access).
Response removeMember(const CoreServices& core, const Request& request);
/// `GET users/<id>/groups/`: the user's groups, one page (full access, or the user itself).
Response listUserGroups(const CoreServices& core, const Request& request);
/// `POST users/<id>/groups/`: adds the user to the group of the body (full access).
Response addUserGroup(const CoreServices& core, const Request& request);
/// `GET users/<id>/groups/<group>/`: one group of the user (full access, or the user itself).
Response getUserGroup(const CoreServices& core, const Request& request);
/// `DELETE users/<id>/groups/<group>/`: takes the user out of the group (full access).
Response removeUserGroup(const CoreServices& core, const Request& request);

} // namespace latchkey::core::group_handlers
