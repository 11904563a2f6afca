// The handlers of `/v1.1/instances/<name>/classes/...` (the user_profile schema and the profile
// objects) and of `/files/<token>`: named functions that the routes bind and that tests call
// directly, in-process.
#pragma once

#include "core/core_services.hpp"

#include <latchkey/request.hpp>
#include <latchkey/response.hpp>

namespace latchkey::core::profile_handlers {

/// `GET classes/`: the instance's classes, one page holding only user_profile (any key).
Response listClasses(const CoreServices& core, const Request& request);
/// `GET classes/user_profile/`: the profile schema (any key of the instance).
Response getClass(const CoreServices& core, const Request& request);
/// `PUT`/`PATCH classes/user_profile/`: schema, description and metadata (full access).
Response updateClass(const CoreServices& core, const Request& request);
/// `DELETE classes/user_profile/`: always refused (403).
Response removeClass(const CoreServices& core, const Request& request);
/// `GET classes/<name>/` for any other class: always 404, user_profile is the only class.
Response getOtherClass(const CoreServices& core, const Request& request);
/// `POST classes/user_profile/objects/`: always refused (403), each user gets its profile.
Response createProfile(const CoreServices& core, const Request& request);
/// `GET classes/user_profile/objects/<id>/`: one profile (full access, or its owner).
Response getProfile(const CoreServices& core, const Request& request);
/// `PATCH classes/user_profile/objects/<id>/`: values and files (full access, or its owner).
Response updateProfile(const CoreServices& core, const Request& request);
/// `DELETE classes/user_profile/objects/<id>/`: always refused (403), delete the user instead.
Response removeProfile(const CoreServices& core, const Request& request);
/// `GET /files/<token>`: an uploaded profile file, public under its token.
Response getFile(const CoreServices& core, const Request& request);

} // namespace latchkey::core::profile_handlers
