// `/v1.1/instances/` and `/v1.1/instances/<name>/`: instances owned by the calling account.
#include "core/instance_routes.hpp"

#include "core/caller.hpp"
#include "core/instance_name.hpp"
#include "core/pagination.hpp"
#include "core/request_input.hpp"
#include "core/routes.hpp"
#include "core/views.hpp"

namespace latchkey::core {

namespace {

/// What an instance body may hold (owner, role and location come back from the client's save).
const std::initializer_list<std::string_view> kInstanceFields = {
    "name", "description", "metadata", "owner", "role", "location"};

Response instanceResponse(int status, const InstanceRecord& instance, const AccountRecord& owner) {
    JsonWriter out;
    renderInstance(out, instance, owner);
    return Response::json(status, out.take());
}

} // namespace

namespace instance_handlers {

Response create(const CoreServices& core, const Request& request) {
    const auto body = RequestInput::parse(request);
    const AccountRecord account = requireAccount(core, request, &body);
    body.rejectUnknown(kInstanceFields);
    FieldErrors errors;
    auto name = body.text("name", errors, {.required = true, .maxLength = 64});
    const auto description =
        body.text("description", errors, {.allowBlank = true, .maxLength = 256});
    const auto metadata = body.object("metadata", errors);
    if (name) {
        name = asciiLower(*name);
        if (!isInstanceName(*name)) {
            addFieldError(errors, "name",
                          "Use 5 to 64 characters: lowercase letters, digits, '-' or '_', "
                          "starting with a letter.");
        }
    }
    throwIfInvalid(std::move(errors));

    InstanceRecord instance;
    instance.name = *name;
    instance.description = description.value_or("");
    instance.metadata = metadata.value_or("{}");
    instance.ownerId = account.id;
    instance.createdAt = instance.updatedAt = core.now();
    try {
        instance = core.store.instances().createInstance(instance);
    } catch (const Conflict&) {
        throw HttpError::invalid({{"name", {"Instance with this name already exists."}}});
    }
    return instanceResponse(201, instance, account);
}

Response list(const CoreServices& core, const Request& request) {
    const AccountRecord account = requireAccount(core, request);
    const PageParams page = readPageParams(request);
    auto rows = core.store.instances().listInstances(account.id, page.scan());
    return Response::json(
        200, renderPage<InstanceRecord>(page, std::move(rows), "/v1.1/instances/",
                                        [&](JsonWriter& out, const InstanceRecord& row) {
                                            renderInstance(out, row, account);
                                        }));
}

Response get(const CoreServices& core, const Request& request) {
    const InstanceAccess access = resolveInstanceAccess(core, request);
    requireFullAccess(access.caller);
    if (access.caller.account) {
        return instanceResponse(200, access.instance, *access.caller.account);
    }
    const auto owner = core.store.accounts().findAccountById(access.instance.ownerId);
    if (!owner) throw HttpError(404, "Instance was not found.");
    return instanceResponse(200, access.instance, *owner);
}

Response update(const CoreServices& core, const Request& request) {
    const auto body = RequestInput::parse(request);
    const InstanceAccess access = resolveInstanceAccess(core, request, &body);
    // Only the owner changes an instance. Its name is fixed: the client sends it back on save,
    // and a different one is refused rather than ignored.
    if (!access.caller.account) throwPermissionDenied();
    body.rejectUnknown(kInstanceFields);
    FieldErrors errors;
    if (auto name = body.text("name", errors); name && asciiLower(*name) != access.instance.name) {
        addFieldError(errors, "name", "An instance cannot be renamed.");
    }
    InstanceRecord instance = access.instance;
    if (auto description =
            body.text("description", errors, {.allowBlank = true, .maxLength = 256})) {
        instance.description = *description;
    }
    if (auto metadata = body.object("metadata", errors)) instance.metadata = *metadata;
    throwIfInvalid(std::move(errors));
    instance.updatedAt = core.now();
    core.store.instances().updateInstance(instance);
    return instanceResponse(200, instance, *access.caller.account);
}

Response remove(const CoreServices& core, const Request& request) {
    const InstanceAccess access = resolveInstanceAccess(core, request);
    // Deleting an instance is for its owner, never for a key of the instance itself.
    if (!access.caller.account) throwPermissionDenied();
    if (!core.store.instances().deleteInstance(access.instance.id)) {
        throw HttpError(404, "Instance was not found.");
    }
    core.log->info("instance {} deleted by account {}", access.instance.name,
                   access.caller.account->id);
    core.announce({UserEventKind::InstanceDeleted, access.instance.id, 0});
    return Response::noContent();
}

} // namespace instance_handlers

void mountInstanceRoutes(Router& router, const CoreServices& core) {
    const auto bind = [&core](CoreHandler handler) { return bindHandler(core, handler); };
    const std::string instances = "/v1.1/instances/";
    const std::string instance = instances + "{instance}/";
    router.add("POST", instances, bind(instance_handlers::create));
    router.add("GET", instances, bind(instance_handlers::list));
    router.add("GET", instance, bind(instance_handlers::get));
    for (const char* method : {"PUT", "PATCH"}) {
        router.add(method, instance, bind(instance_handlers::update));
    }
    router.add("DELETE", instance, bind(instance_handlers::remove));
}

} // namespace latchkey::core
