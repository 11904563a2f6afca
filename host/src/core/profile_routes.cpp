// `/v1.1/instances/<name>/classes/user_profile/...`: the profile schema and the profile objects,
// and `/files/<token>`, where uploaded profile files are served.
#include "core/profile_routes.hpp"

#include "core/request_input.hpp"
#include "core/routes.hpp"
#include "core/user_scope.hpp"

#include <latchkey/support/retry.hpp>

#include <algorithm>
#include <cctype>
#include <iterator>

namespace latchkey::core {

namespace {

Response classResponse(const InstanceRecord& instance, const ClassRecord& record) {
    JsonWriter out;
    renderClass(out, instance, record);
    return Response::json(200, out.take());
}

Response profileResponse(const CoreServices& core, const UserScope& scope, const UserRecord& user) {
    JsonWriter out;
    renderProfile(out, scope.view(core), user);
    return Response::json(200, out.take());
}

/// The owner of profile `id`, if the caller may see it: full access, or the owner itself.
UserRecord profileOwner(const CoreServices& core, const UserScope& scope, Id id) {
    const Caller& caller = scope.access.caller;
    if (!caller.hasFullAccess()) {
        if (!caller.user) throwPermissionDenied();
        if (caller.user->profile.id != id) throw HttpError(404, "Not found.");
        return *caller.user;
    }
    auto owner = core.store.users().findUserByProfile(scope.access.instance.id, id);
    if (!owner) throw HttpError(404, "Not found.");
    return *owner;
}

/// Changes the class's schema, description and metadata, re-reading on a concurrent change.
ClassRecord updateProfileClass(const CoreServices& core, const InstanceRecord& instance,
                               const RequestInput& body) {
    body.rejectUnknown({"name", "description", "schema", "status", "objects_count", "revision",
                        "metadata", "group", "group_permissions", "other_permissions"});
    ClassRecord result;
    const bool stored = retryCompareAndSet([&] {
        ClassRecord record = loadProfileClass(core, instance);
        const ProfileSchema current = ProfileSchema::fromStored(record.schema);
        FieldErrors errors;
        std::optional<ProfileSchema> next;
        if (const auto schema = body.value("schema")) {
            next = ProfileSchema::fromRequest(*schema, current, errors);
            if (next) record.schema = next->toStoredJson();
        }
        if (auto description =
                body.text("description", errors, {.allowBlank = true, .maxLength = 256})) {
            record.description = *description;
        }
        if (auto metadata = body.object("metadata", errors)) record.metadata = *metadata;
        throwIfInvalid(std::move(errors));
        const std::int64_t expected = record.revision;
        record.updatedAt = core.now();
        if (record.revision == 0) record.createdAt = record.updatedAt;
        auto saved = core.store.classes().saveClass(record, expected);
        if (!saved) return false;
        // Files of a removed file field are no longer part of any profile: delete them, so
        // they are not served any more.
        for (const auto& field : current.fields()) {
            if (field.type == "file" && next && !next->find(field.name)) {
                core.store.files().deleteFieldFiles(instance.id, field.name);
            }
        }
        result = std::move(*saved);
        return true;
    });
    if (!stored) throw HttpError(409, "The class changed while it was being updated; retry.");
    return result;
}

bool isFileToken(const std::string& token) {
    if (token.size() != 32) return false;
    return std::ranges::all_of(token, [](char c) {
        return std::isxdigit(static_cast<unsigned char>(c)) &&
               !std::isupper(static_cast<unsigned char>(c));
    });
}

} // namespace

namespace profile_handlers {

Response listClasses(const CoreServices& core, const Request& request) {
    const InstanceAccess access = resolveInstanceAccess(core, request);
    JsonWriter out;
    out.beginObject().key("objects").beginArray();
    renderClass(out, access.instance, loadProfileClass(core, access.instance));
    out.endArray().key("next").null().key("prev").null().endObject();
    return Response::json(200, out.take());
}

// Any key of the instance may read the schema: clients need it to show profiles.
Response getClass(const CoreServices& core, const Request& request) {
    const InstanceAccess access = resolveInstanceAccess(core, request);
    return classResponse(access.instance, loadProfileClass(core, access.instance));
}

Response updateClass(const CoreServices& core, const Request& request) {
    const auto body = RequestInput::parse(request);
    const InstanceAccess access = resolveInstanceAccess(core, request, &body);
    requireFullAccess(access.caller);
    return classResponse(access.instance, updateProfileClass(core, access.instance, body));
}

Response removeClass(const CoreServices&, const Request&) {
    throw HttpError(403, "The user_profile class cannot be deleted.");
}

Response getOtherClass(const CoreServices&, const Request&) {
    throw HttpError(404, "Class was not found.");
}

Response createProfile(const CoreServices&, const Request&) {
    throw HttpError(403, "Profiles cannot be created by hand: each user gets one.");
}

Response getProfile(const CoreServices& core, const Request& request) {
    const UserScope scope(core, resolveInstanceAccess(core, request));
    return profileResponse(core, scope, profileOwner(core, scope, pathId(request, "id")));
}

Response updateProfile(const CoreServices& core, const Request& request) {
    const auto body = RequestInput::parse(request);
    const UserScope scope(core, resolveInstanceAccess(core, request, &body));
    const UserRecord owner = profileOwner(core, scope, pathId(request, "id"));
    body.rejectUnknown([&scope](const std::string& name) {
        return scope.schema.find(name) || isProfileField(name);
    });
    FieldErrors errors;
    // The official client sends the whole object back, owner included: the same owner is fine,
    // another is a re-owning attempt.
    if (const auto newOwner = body.id("owner", errors); newOwner && *newOwner != owner.id) {
        throw HttpError::invalid({{"owner", {"The owner of a profile cannot be changed."}}});
    }
    errors.clear();
    ProfileUpdate update = checkProfileValues(core, scope.access.instance, owner.id, scope.schema,
                                              bodyValues(body), &body, body.isForm(), errors);
    update.expectedRevision = body.id("expected_revision", errors);
    if (!errors.empty()) {
        deleteFilesQuietly(core, owner.id, update.createdFiles);
        throwIfInvalid(std::move(errors));
    }
    return profileResponse(
        core, scope,
        saveProfileUpdate(core, scope.access.instance, owner.id, scope.schema, update));
}

Response removeProfile(const CoreServices&, const Request&) {
    throw HttpError(403, "Profiles cannot be deleted: delete the user instead.");
}

// Uploaded files: public under an unguessable 128-bit token, like the storage URLs the original
// API handed out. Served so that a browser never runs them as a page of this host.
Response getFile(const CoreServices& core, const Request& request) {
    const std::string& token = request.param("token");
    if (!isFileToken(token)) throw HttpError(404, "Not found.");
    const auto file = core.store.files().findFile(token);
    if (!file) throw HttpError(404, "Not found.");
    Response response;
    response.status = 200;
    response.contentType = file->contentType;
    response.body = file->data;
    // Inline only for raster images a browser cannot run; everything else (SVG and HTML
    // included) is a download, and never cached: a replaced file must disappear at once.
    static constexpr std::string_view inlineTypes[] = {"image/png", "image/jpeg", "image/gif",
                                                       "image/webp"};
    const bool inlineOk = std::find(std::begin(inlineTypes), std::end(inlineTypes),
                                    file->contentType) != std::end(inlineTypes);
    response.headers = {{"Content-Disposition", std::string(inlineOk ? "inline" : "attachment") +
                                                    "; filename=\"" + file->filename + "\""},
                        {"Content-Security-Policy", "default-src 'none'; sandbox"}};
    return response;
}

} // namespace profile_handlers

void mountProfileRoutes(Router& router, const CoreServices& core) {
    const auto bind = [&core](CoreHandler handler) { return bindHandler(core, handler); };
    const std::string classes = "/v1.1/instances/{instance}/classes/";
    const std::string profileClass = classes + "user_profile/";
    router.add("GET", classes, bind(profile_handlers::listClasses));
    router.add("GET", profileClass, bind(profile_handlers::getClass));
    for (const char* method : {"PUT", "PATCH"}) {
        router.add(method, profileClass, bind(profile_handlers::updateClass));
    }
    router.add("DELETE", profileClass, bind(profile_handlers::removeClass));
    router.add("GET", classes + "{name}/", bind(profile_handlers::getOtherClass));

    const std::string objects = profileClass + "objects/";
    router.add("POST", objects, bind(profile_handlers::createProfile));

    const std::string object = objects + "{id}/";
    router.add("GET", object, bind(profile_handlers::getProfile));
    router.add("PATCH", object, bind(profile_handlers::updateProfile));
    router.add("DELETE", object, bind(profile_handlers::removeProfile));

    router.add("GET", "/files/{token}", bind(profile_handlers::getFile));
}

} // namespace latchkey::core
