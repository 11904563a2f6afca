// `/v1.1/instances/<name>/api_keys/`: the instance's API keys and their permission flags.
//
// Keys are administered with the account key only. An API key, even one with ignore_acl, sees
// just its own record (as Syncano did): otherwise one leaked backend key could mint new keys
// that outlive it, or read every other key of the instance.
#include "core/caller.hpp"
#include "core/pagination.hpp"
#include "core/request_input.hpp"
#include "core/routes.hpp"
#include "core/views.hpp"

namespace latchkey::host {

void mountApiKeyRoutes(Router& router, const CoreServices& core) {
    const auto writeKey = [&core](const InstanceRecord& instance) {
        return [&core, &instance](JsonWriter& out, const ApiKeyRecord& key) {
            writeApiKey(out, instance, key, core.vault.open(key.key, KeyPurpose::ApiKey));
        };
    };

    router.add(
        "POST", "/v1.1/instances/{instance}/api_keys/", [&core, writeKey](const Request& request) {
            const auto body = RequestInput::parse(request);
            const InstanceAccess access = resolveInstanceAccess(core, request, &body);
            if (!access.caller.account) throwPermissionDenied();
            FieldErrors errors;
            ApiKeyRecord key;
            key.description =
                body.text("description", errors, {.allowBlank = true, .maxLength = 256})
                    .value_or("");
            key.ignoreAcl = body.flag("ignore_acl", errors).value_or(false);
            key.allowUserCreate = body.flag("allow_user_create", errors).value_or(false);
            key.allowGroupCreate = body.flag("allow_group_create", errors).value_or(false);
            key.allowAnonymousRead = body.flag("allow_anonymous_read", errors).value_or(false);
            throwIfInvalid(std::move(errors));

            key.instanceId = access.instance.id;
            key.createdAt = core.now();
            auto [plain, sealed] = core.newKey(KeyPurpose::ApiKey);
            key.key = std::move(sealed);
            key = core.store.createApiKey(key);
            JsonWriter out;
            writeApiKey(out, access.instance, key, plain);
            return Response::json(201, out.take());
        });

    router.add("GET", "/v1.1/instances/{instance}/api_keys/",
               [&core, writeKey](const Request& request) {
                   const InstanceAccess access = resolveInstanceAccess(core, request);
                   const PageParams page = readPageParams(request);
                   std::vector<ApiKeyRecord> rows;
                   if (access.caller.account) {
                       rows = core.store.listApiKeys(access.instance.id, page.scan());
                   } else if (!page.lastPk) {
                       rows.push_back(*access.caller.apiKey);
                   }
                   return Response::json(
                       200, writePage<ApiKeyRecord>(page, std::move(rows),
                                                    instancePath(access.instance) + "/api_keys/",
                                                    writeKey(access.instance)));
               });

    router.add("GET", "/v1.1/instances/{instance}/api_keys/{id}/",
               [&core, writeKey](const Request& request) {
                   const InstanceAccess access = resolveInstanceAccess(core, request);
                   const Id id = pathId(request, "id");
                   const auto key = access.caller.account
                                        ? core.store.findApiKey(access.instance.id, id)
                                        : std::optional<ApiKeyRecord>(access.caller.apiKey);
                   if (!key || key->id != id) throw HttpError(404, "Not found.");
                   JsonWriter out;
                   writeKey(access.instance)(out, *key);
                   return Response::json(200, out.take());
               });
}

} // namespace latchkey::host
