// Reading and writing users' profiles: the user_profile class, checked values, file fields,
// and saving with a revision check so concurrent updates never overwrite each other.
#include "core/profiles.hpp"

#include <latchkey/support/retry.hpp>
#include <latchkey/support/text.hpp>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <sodium.h>

#include <cctype>
#include <sstream>

namespace latchkey::core {

namespace {

std::string newFileToken(Random& random) {
    unsigned char bytes[16];
    random.fill(bytes, sizeof bytes);
    char hex[sizeof bytes * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
    return hex;
}

/// The uploaded name reduced to a safe file name for Content-Disposition.
std::string safeFilename(const std::string& uploaded) {
    std::string base = uploaded.substr(
        uploaded.find_last_of("/\\") == std::string::npos ? 0 : uploaded.find_last_of("/\\") + 1);
    std::string out;
    for (const char c : base) {
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_') {
            out += c;
        }
        if (out.size() == 100) break;
    }
    if (out.empty() || out.front() == '.') out = "file" + out;
    return out;
}

/// `type/subtype` made of token characters, in lowercase (MIME types are case-insensitive, and
/// the file server compares them), or application/octet-stream.
std::string safeContentType(const std::string& declared) {
    const std::string type = asciiLower(declared.substr(0, declared.find(';')));
    const auto slash = type.find('/');
    bool ok =
        slash != std::string::npos && slash > 0 && slash + 1 < type.size() && type.size() < 100;
    for (const char c : type) {
        ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '-' ||
                    c == '+' || c == '.');
    }
    return ok ? type : "application/octet-stream";
}

Poco::JSON::Object::Ptr parseObject(const std::string& json) {
    try {
        Poco::JSON::Parser parser;
        return parser.parse(json).extract<Poco::JSON::Object::Ptr>();
    } catch (const Poco::Exception&) {
        return new Poco::JSON::Object;
    }
}

} // namespace

ClassRecord loadProfileClass(const CoreServices& core, const InstanceRecord& instance) {
    if (auto stored = core.store.classes().findClass(instance.id, kProfileClass)) return *stored;
    ClassRecord fresh;
    fresh.instanceId = instance.id;
    fresh.name = kProfileClass;
    fresh.description = "User profiles";
    fresh.createdAt = fresh.updatedAt = instance.createdAt;
    fresh.revision = 0; // never saved
    return fresh;
}

std::vector<std::pair<std::string, Poco::Dynamic::Var>> bodyValues(const RequestInput& body) {
    std::vector<std::pair<std::string, Poco::Dynamic::Var>> out;
    for (const auto& name : body.names()) {
        if (auto value = body.value(name)) out.emplace_back(name, *value);
    }
    return out;
}

std::vector<std::pair<std::string, Poco::Dynamic::Var>>
nestedProfileValues(const RequestInput& body, FieldErrors& errors) {
    std::vector<std::pair<std::string, Poco::Dynamic::Var>> out;
    const auto profile = body.value("profile");
    if (!profile || profile->isEmpty()) return out;
    if (profile->type() != typeid(Poco::JSON::Object::Ptr)) {
        addFieldError(errors, "profile", "Expected a dictionary of items.");
        return out;
    }
    for (const auto& [name, value] : *profile->extract<Poco::JSON::Object::Ptr>()) {
        out.emplace_back(name, value);
    }
    return out;
}

ProfileUpdate
checkProfileValues(const CoreServices& core, const InstanceRecord& instance, Id ownerId,
                   const ProfileSchema& schema,
                   const std::vector<std::pair<std::string, Poco::Dynamic::Var>>& values,
                   const RequestInput* uploads, bool fromForm, FieldErrors& errors) {
    ProfileUpdate update;
    for (const auto& [name, value] : values) {
        const FieldSpec* field = schema.find(name);
        if (!field) {
            if (!isProfileField(name) && !RequestInput::isClientField(name)) {
                addFieldError(errors, name, "Unknown field.");
            }
            continue;
        }
        if (field->type != "file") {
            if (auto stored = checkFieldValue(*field, value, fromForm, errors)) {
                update.values.emplace_back(name, std::move(*stored));
            }
            continue;
        }
        const UploadedPart* part = uploads ? uploads->part(name) : nullptr;
        if (!part) {
            // Without an upload a file field can only be cleared (null, or "" in a form).
            const bool clears = value.isEmpty() || (fromForm && value.isString() &&
                                                    value.extract<std::string>().empty());
            if (clears)
                update.values.emplace_back(name, "null");
            else
                addFieldError(errors, name,
                              "Upload a file (multipart/form-data) to set this field.");
            continue;
        }
        if (part->data.size() > core.maxFileSize) {
            addFieldError(errors, name,
                          "Ensure this file is at most " + std::to_string(core.maxFileSize) +
                              " bytes.");
            continue;
        }
        FileRecord file;
        file.instanceId = instance.id;
        file.ownerUserId = ownerId;
        file.field = name;
        file.token = newFileToken(core.random);
        file.filename = safeFilename(part->filename.empty() ? name : part->filename);
        file.contentType = safeContentType(part->contentType);
        file.data = part->data;
        file.createdAt = core.now();
        if (errors.empty()) {
            core.store.files().createFile(file);
            update.createdFiles.push_back(file.token);
        }
        update.values.emplace_back(name, "\"" + file.token + "\"");
    }
    if (!errors.empty()) {
        deleteFilesQuietly(core, ownerId, update.createdFiles);
        update.createdFiles.clear();
    }
    return update;
}

std::string mergeProfileData(const std::string& data, const ProfileUpdate& update) {
    Poco::JSON::Object::Ptr merged = parseObject(data);
    for (const auto& [name, json] : update.values) {
        // Poco's parser wants a document, not a bare scalar: wrap the value in an array.
        Poco::JSON::Parser parser;
        const auto wrapped = parser.parse("[" + json + "]").extract<Poco::JSON::Array::Ptr>();
        merged->set(name, wrapped->get(0));
    }
    std::ostringstream out;
    Poco::JSON::Stringifier::condense(merged, out);
    return out.str();
}

void deleteFilesQuietly(const CoreServices& core, Id ownerId,
                        const std::vector<std::string>& tokens) {
    for (const auto& token : tokens) {
        try {
            core.store.files().deleteFile(token, ownerId);
        } catch (const std::exception& e) {
            core.log->warn("could not delete an unused file: {}", e.what());
        }
    }
}

UserRecord saveProfileUpdate(const CoreServices& core, const InstanceRecord& instance, Id userId,
                             const ProfileSchema& schema, const ProfileUpdate& update) {
    try {
        UserRecord result;
        const bool saved = retryCompareAndSet([&] {
            auto user = core.store.users().findUserById(instance.id, userId);
            if (!user) throw HttpError(404, "Not found.");
            if (update.expectedRevision && *update.expectedRevision != user->profile.revision) {
                throw HttpError::invalid({{"expected_revision",
                                           {"Revision mismatch: the profile is at revision " +
                                            std::to_string(user->profile.revision) + "."}}});
            }
            if (update.empty()) {
                result = std::move(*user);
                return true;
            }
            // Files the update replaces: deleted only once the new data is saved.
            std::vector<std::string> replaced;
            const Poco::JSON::Object::Ptr current = parseObject(user->profile.data);
            for (const auto& [name, json] : update.values) {
                const FieldSpec* field = schema.find(name);
                if (field && field->type == "file" && current->has(name) &&
                    current->get(name).isString()) {
                    replaced.push_back(current->getValue<std::string>(name));
                }
            }
            ProfileRecord profile = user->profile;
            profile.data = mergeProfileData(user->profile.data, update);
            profile.updatedAt = core.now();
            if (!core.store.users().updateProfile(userId, profile, user->profile.revision)) {
                return false;
            }
            deleteFilesQuietly(core, userId, replaced);
            auto stored = core.store.users().findUserById(instance.id, userId);
            if (!stored) throw HttpError(404, "Not found.");
            result = std::move(*stored);
            return true;
        });
        if (saved) return result;
        throw HttpError(409, "The profile changed while it was being updated; retry.");
    } catch (...) {
        // Whatever went wrong, files uploaded for this update are nobody's now.
        deleteFilesQuietly(core, userId, update.createdFiles);
        throw;
    }
}

} // namespace latchkey::core
