// Reading and writing users' profiles: the user_profile class, checked values, file fields,
// and saving with a revision check so concurrent updates never overwrite each other.
#pragma once

#include "core/core_services.hpp"
#include "core/profile_schema.hpp"
#include "core/request_input.hpp"

#include <Poco/Dynamic/Var.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace latchkey::core {

/// The instance's user_profile class as stored, or the default (no fields) if never saved.
ClassRecord loadProfileClass(const CoreServices& core, const InstanceRecord& instance);

/// Checked new values for some of a profile's fields, ready to be merged into its data.
struct ProfileUpdate {
    std::vector<std::pair<std::string, std::string>> values; ///< Field → stored JSON.
    std::vector<std::string> createdFiles;        ///< Uploaded for this update: removed if unsaved.
    std::optional<std::int64_t> expectedRevision; ///< `expected_revision`: 400 on a mismatch.
    bool empty() const { return values.empty(); }
};

/// Checks `values` (name → value) against `schema`: the profile's own read-only fields and the
/// client's fields are ignored, other names outside the schema are "Unknown field.". File
/// fields take the multipart part of the same name
/// from `uploads` (stored now, owned by `ownerId`); without `uploads` a file field can only be
/// cleared. Problems are added to `errors`, keyed by field name.
ProfileUpdate
checkProfileValues(const CoreServices& core, const InstanceRecord& instance, Id ownerId,
                   const ProfileSchema& schema,
                   const std::vector<std::pair<std::string, Poco::Dynamic::Var>>& values,
                   const RequestInput* uploads, bool fromForm, FieldErrors& errors);

/// The profile fields given in a request body: its top-level fields.
std::vector<std::pair<std::string, Poco::Dynamic::Var>> bodyValues(const RequestInput& body);

/// The fields of a nested `profile` object in a request body; problems go to errors["profile"].
std::vector<std::pair<std::string, Poco::Dynamic::Var>>
nestedProfileValues(const RequestInput& body, FieldErrors& errors);

/// `data` (a stored profile's JSON) with `update`'s values set.
std::string mergeProfileData(const std::string& data, const ProfileUpdate& update);

/// Merges `update` into the user's stored profile and saves it, re-reading and retrying when
/// another request changed the profile in between. Files replaced by the update are deleted
/// once it is saved; files it uploaded are deleted if it is not. Returns the user as saved.
UserRecord saveProfileUpdate(const CoreServices& core, const InstanceRecord& instance, Id userId,
                             const ProfileSchema& schema, const ProfileUpdate& update);

/// Deletes the given files of `ownerId`, logging failures (cleanup never fails a request).
void deleteFilesQuietly(const CoreServices& core, Id ownerId,
                        const std::vector<std::string>& tokens);

} // namespace latchkey::core
