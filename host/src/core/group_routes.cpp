// `/v1.1/instances/<name>/groups/...` and the membership routes from both sides
// (`groups/<id>/users/`, `users/<id>/groups/`).
#include "core/group_routes.hpp"

#include "core/pagination.hpp"
#include "core/request_input.hpp"
#include "core/routes.hpp"
#include "core/user_scope.hpp"

namespace latchkey::core {

namespace {

/// At most this many groups per user (as Syncano).
constexpr std::size_t kMaxGroupsPerUser = 32;
constexpr std::size_t kMaxLabelLength = 64;
constexpr std::size_t kMaxDescriptionLength = 2048;

GroupRecord groupOf(const CoreServices& core, const InstanceRecord& instance, Id id) {
    auto group = core.store.groups().findGroup(instance.id, id);
    if (!group) throw HttpError(404, "Not found.");
    return *group;
}

Response groupResponse(int status, const InstanceRecord& instance, const GroupRecord& group) {
    JsonWriter out;
    renderGroup(out, instance, group);
    return Response::json(status, out.take());
}

/// `{"user": {...}}`, the membership shape seen from a group.
Response memberResponse(const CoreServices& core, const UserScope& scope, int status,
                        const UserRecord& user) {
    JsonWriter out;
    out.beginObject().key("user");
    scope.renderUser(core, out, user);
    out.endObject();
    return Response::json(status, out.take());
}

/// `{"group": {...}}`, the membership shape seen from a user.
Response membershipGroupResponse(int status, const InstanceRecord& instance,
                                 const GroupRecord& group) {
    JsonWriter out;
    out.beginObject().key("group");
    renderGroup(out, instance, group);
    out.endObject();
    return Response::json(status, out.take());
}

/// Adds `userId` to `groupId`; answers the two refusals the API documents.
void addMembership(const CoreServices& core, Id userId, Id groupId) {
    switch (core.store.groups().addMembership(userId, groupId, kMaxGroupsPerUser)) {
    case MembershipResult::Added: return;
    case MembershipResult::AlreadyMember:
        throw HttpError(400, "User is already a part of that group.");
    case MembershipResult::LimitReached:
        throw HttpError(400, "A user can be a member of at most " +
                                 std::to_string(kMaxGroupsPerUser) + " groups.");
    case MembershipResult::NotFound: throw HttpError(404, "Not found.");
    }
}

/// Reads label and description; for PUT and POST the label is required.
void readGroupFields(const RequestInput& body, GroupRecord& group, bool labelRequired) {
    body.rejectUnknown({"label", "description", "name"});
    FieldErrors errors;
    if (auto label =
            body.text("label", errors, {.required = labelRequired, .maxLength = kMaxLabelLength})) {
        group.label = *label;
    }
    if (auto description = body.text("description", errors,
                                     {.allowBlank = true, .maxLength = kMaxDescriptionLength})) {
        group.description = *description;
    }
    throwIfInvalid(std::move(errors));
}

/// PUT and PATCH of group `id`: for PUT the label is required.
Response updateGroup(const CoreServices& core, const Request& request, bool put) {
    const auto body = RequestInput::parse(request);
    const InstanceAccess access = resolveInstanceAccess(core, request, &body);
    requireFullAccess(access.caller);
    GroupRecord record = groupOf(core, access.instance, pathId(request, "id"));
    readGroupFields(body, record, put);
    record.updatedAt = core.now();
    core.store.groups().updateGroup(record);
    return groupResponse(200, access.instance, record);
}

} // namespace

namespace group_handlers {

Response create(const CoreServices& core, const Request& request) {
    const auto body = RequestInput::parse(request);
    const InstanceAccess access = resolveInstanceAccess(core, request, &body);
    const Caller& caller = access.caller;
    if (!caller.hasFullAccess() && !(caller.apiKey && caller.apiKey->allowGroupCreate)) {
        throwPermissionDenied("You do not have permission to create new group.");
    }
    GroupRecord record;
    readGroupFields(body, record, true);
    record.instanceId = access.instance.id;
    record.createdAt = record.updatedAt = core.now();
    return groupResponse(201, access.instance, core.store.groups().createGroup(record));
}

Response list(const CoreServices& core, const Request& request) {
    const InstanceAccess access = resolveInstanceAccess(core, request);
    requireFullAccess(access.caller);
    const PageParams page = readPageParams(request);
    return Response::json(
        200,
        renderPage<GroupRecord>(
            page, core.store.groups().listGroups(access.instance.id, page.scan()),
            instancePath(access.instance) + "/groups/",
            [&](JsonWriter& out, const GroupRecord& g) { renderGroup(out, access.instance, g); }));
}

Response get(const CoreServices& core, const Request& request) {
    const InstanceAccess access = resolveInstanceAccess(core, request);
    requireFullAccess(access.caller);
    return groupResponse(200, access.instance,
                         groupOf(core, access.instance, pathId(request, "id")));
}

Response replace(const CoreServices& core, const Request& request) {
    return updateGroup(core, request, true);
}

Response update(const CoreServices& core, const Request& request) {
    return updateGroup(core, request, false);
}

Response remove(const CoreServices& core, const Request& request) {
    const InstanceAccess access = resolveInstanceAccess(core, request);
    requireFullAccess(access.caller);
    if (!core.store.groups().deleteGroup(access.instance.id, pathId(request, "id"))) {
        throw HttpError(404, "Not found.");
    }
    return Response::noContent();
}

// --- members of a group -------------------------------------------------------------------

Response listMembers(const CoreServices& core, const Request& request) {
    const UserScope scope(core, resolveInstanceAccess(core, request));
    requireFullAccess(scope.access.caller);
    const GroupRecord found = groupOf(core, scope.access.instance, pathId(request, "id"));
    const PageParams page = readPageParams(request);
    return Response::json(
        200,
        renderPage<UserRecord>(page, core.store.groups().listGroupMembers(found.id, page.scan()),
                               instancePath(scope.access.instance) + "/groups/" +
                                   std::to_string(found.id) + "/users/",
                               [&](JsonWriter& out, const UserRecord& user) {
                                   out.beginObject().key("user");
                                   scope.renderUser(core, out, user);
                                   out.endObject();
                               }));
}

Response addMember(const CoreServices& core, const Request& request) {
    const auto body = RequestInput::parse(request);
    const UserScope scope(core, resolveInstanceAccess(core, request, &body));
    requireFullAccess(scope.access.caller);
    const GroupRecord found = groupOf(core, scope.access.instance, pathId(request, "id"));
    body.rejectUnknown({"user"});
    FieldErrors errors;
    const auto userId = body.id("user", errors, true);
    throwIfInvalid(std::move(errors));
    if (!core.store.users().findUserById(scope.access.instance.id, *userId)) {
        throw HttpError::invalid({{"user", {"No such user."}}});
    }
    addMembership(core, *userId, found.id);
    const auto member = core.store.users().findUserById(scope.access.instance.id, *userId);
    if (!member) throw HttpError(404, "Not found."); // deleted just now
    return memberResponse(core, scope, 201, *member);
}

Response getMember(const CoreServices& core, const Request& request) {
    const UserScope scope(core, resolveInstanceAccess(core, request));
    requireFullAccess(scope.access.caller);
    const Id groupId = pathId(request, "id");
    const auto user =
        core.store.users().findUserById(scope.access.instance.id, pathId(request, "user"));
    const bool member = user && std::any_of(user->groups.begin(), user->groups.end(),
                                            [&](const GroupRecord& g) { return g.id == groupId; });
    if (!member) throw HttpError(404, "Not found.");
    return memberResponse(core, scope, 200, *user);
}

Response removeMember(const CoreServices& core, const Request& request) {
    const InstanceAccess access = resolveInstanceAccess(core, request);
    requireFullAccess(access.caller);
    const GroupRecord found = groupOf(core, access.instance, pathId(request, "id"));
    if (!core.store.groups().removeMembership(pathId(request, "user"), found.id)) {
        throw HttpError(404, "Not found.");
    }
    return Response::noContent();
}

// --- groups of a user ---------------------------------------------------------------------

Response listUserGroups(const CoreServices& core, const Request& request) {
    const UserScope scope(core, resolveInstanceAccess(core, request));
    const UserRecord user = userForCaller(core, scope, pathId(request, "id"));
    // At most 32 groups: one page, in group id order.
    JsonWriter out;
    out.beginObject().key("objects").beginArray();
    for (const auto& g : user.groups) {
        out.beginObject().key("group");
        renderGroup(out, scope.access.instance, g);
        out.endObject();
    }
    out.endArray().key("next").null().key("prev").null().endObject();
    return Response::json(200, out.take());
}

Response addUserGroup(const CoreServices& core, const Request& request) {
    const auto body = RequestInput::parse(request);
    const InstanceAccess access = resolveInstanceAccess(core, request, &body);
    requireFullAccess(access.caller);
    const Id userId = pathId(request, "id");
    if (!core.store.users().findUserById(access.instance.id, userId))
        throw HttpError(404, "Not found.");
    body.rejectUnknown({"group"});
    FieldErrors errors;
    const auto groupId = body.id("group", errors, true);
    throwIfInvalid(std::move(errors));
    const auto found = core.store.groups().findGroup(access.instance.id, *groupId);
    if (!found) throw HttpError::invalid({{"group", {"No such group."}}});
    addMembership(core, userId, found->id);
    return membershipGroupResponse(201, access.instance, *found);
}

Response getUserGroup(const CoreServices& core, const Request& request) {
    const UserScope scope(core, resolveInstanceAccess(core, request));
    const UserRecord user = userForCaller(core, scope, pathId(request, "id"));
    const Id groupId = pathId(request, "group");
    for (const auto& g : user.groups) {
        if (g.id == groupId) return membershipGroupResponse(200, scope.access.instance, g);
    }
    throw HttpError(404, "Not found.");
}

Response removeUserGroup(const CoreServices& core, const Request& request) {
    const InstanceAccess access = resolveInstanceAccess(core, request);
    requireFullAccess(access.caller);
    const Id userId = pathId(request, "id");
    if (!core.store.users().findUserById(access.instance.id, userId) ||
        !core.store.groups().findGroup(access.instance.id, pathId(request, "group")) ||
        !core.store.groups().removeMembership(userId, pathId(request, "group"))) {
        throw HttpError(404, "Not found.");
    }
    return Response::noContent();
}

} // namespace group_handlers

void mountGroupRoutes(Router& router, const CoreServices& core) {
    const auto bind = [&core](CoreHandler handler) { return bindHandler(core, handler); };
    const std::string groups = "/v1.1/instances/{instance}/groups/";
    const std::string group = groups + "{id}/";
    router.add("POST", groups, bind(group_handlers::create));
    router.add("GET", groups, bind(group_handlers::list));
    router.add("GET", group, bind(group_handlers::get));
    router.add("PUT", group, bind(group_handlers::replace));
    router.add("PATCH", group, bind(group_handlers::update));
    router.add("DELETE", group, bind(group_handlers::remove));

    router.add("GET", group + "users/", bind(group_handlers::listMembers));
    router.add("POST", group + "users/", bind(group_handlers::addMember));
    router.add("GET", group + "users/{user}/", bind(group_handlers::getMember));
    router.add("DELETE", group + "users/{user}/", bind(group_handlers::removeMember));

    const std::string userGroups = "/v1.1/instances/{instance}/users/{id}/groups/";
    router.add("GET", userGroups, bind(group_handlers::listUserGroups));
    router.add("POST", userGroups, bind(group_handlers::addUserGroup));
    router.add("GET", userGroups + "{group}/", bind(group_handlers::getUserGroup));
    router.add("DELETE", userGroups + "{group}/", bind(group_handlers::removeUserGroup));
}

} // namespace latchkey::core
