// `/v1.1/instances/<name>/api_keys/`: the instance's API keys and their permission flags.
//
// Keys are administered with the account key only. An API key, even one with ignore_acl, may
// read just its own record (GET api_keys/<its id>/): otherwise one leaked backend key could mint
// keys that outlive it, or read every other key of the instance.
#include "core/api_key_routes.hpp"

#include "core/caller.hpp"
#include "core/pagination.hpp"
#include "core/request_input.hpp"
#include "core/routes.hpp"
#include "core/views.hpp"

#include <latchkey/support/retry.hpp>

namespace latchkey::core {

namespace {

/// The key `id` of the instance, for the account key only.
ApiKeyRecord keyForAccount(const CoreServices& core, const InstanceAccess& access, Id id) {
    if (!access.caller.account) throwPermissionDenied();
    auto key = core.store.apiKeys().findApiKey(access.instance.id, id);
    if (!key) throw HttpError(404, "Not found.");
    return *key;
}

/// Applies `change` to key `id` with a compare-and-set on the key itself, re-reading after a
/// concurrent reset, so a flags update never brings an old key back.
template <class Change>
ApiKeyRecord saveApiKey(const CoreServices& core, const InstanceAccess& access, Id id,
                        Change&& change) {
    ApiKeyRecord key;
    const bool saved = retryCompareAndSet([&] {
        key = keyForAccount(core, access, id);
        const std::string expected = key.key.lookup;
        change(key);
        return core.store.apiKeys().updateApiKey(key, expected);
    });
    if (!saved) throw HttpError(409, "The API key changed while it was being updated; retry.");
    return key;
}

/// Reads description and flags present in `body` into `key`.
void readKeyFields(const RequestInput& body, ApiKeyRecord& key) {
    body.rejectUnknown({"description", "api_key", "ignore_acl", "allow_user_create",
                        "allow_group_create", "allow_anonymous_read"});
    FieldErrors errors;
    if (auto d = body.text("description", errors, {.allowBlank = true, .maxLength = 256})) {
        key.description = *d;
    }
    if (auto v = body.flag("ignore_acl", errors)) key.ignoreAcl = *v;
    if (auto v = body.flag("allow_user_create", errors)) key.allowUserCreate = *v;
    if (auto v = body.flag("allow_group_create", errors)) key.allowGroupCreate = *v;
    if (auto v = body.flag("allow_anonymous_read", errors)) key.allowAnonymousRead = *v;
    throwIfInvalid(std::move(errors));
}

/// Renders a key of `instance` with its unsealed value: for a page of keys, or a single one.
auto keyRenderer(const CoreServices& core, const InstanceRecord& instance) {
    return [&core, &instance](JsonWriter& out, const ApiKeyRecord& key) {
        renderApiKey(out, instance, key, core.vault.open(key.key, KeyPurpose::ApiKey));
    };
}

/// api_key.created or api_key.deleted for key `id`, by the account.
Event apiKeyEvent(const char* type, const InstanceAccess& access, Id id) {
    Event event;
    event.type = type;
    event.instanceId = access.instance.id;
    if (access.caller.account) event.userId = access.caller.account->id;
    event.data = {{"api_key_id", std::to_string(id)}};
    return event;
}

} // namespace

namespace api_key_handlers {

Response create(const CoreServices& core, const Request& request) {
    const auto body = RequestInput::parse(request);
    const InstanceAccess access = resolveInstanceAccess(core, request, &body);
    if (!access.caller.account) throwPermissionDenied();
    ApiKeyRecord key;
    readKeyFields(body, key);

    key.instanceId = access.instance.id;
    key.createdAt = core.now();
    auto [plain, sealed] = core.newKey(KeyPurpose::ApiKey);
    key.key = std::move(sealed);
    key = core.store.apiKeys().createApiKey(key);
    core.publish(apiKeyEvent("api_key.created", access, key.id));
    JsonWriter out;
    renderApiKey(out, access.instance, key, plain);
    return Response::json(201, out.take());
}

Response list(const CoreServices& core, const Request& request) {
    const InstanceAccess access = resolveInstanceAccess(core, request);
    const PageParams page = readPageParams(request);
    // Listing keys is administration: the account key only.
    if (!access.caller.account) throwPermissionDenied();
    auto rows = core.store.apiKeys().listApiKeys(access.instance.id, page.scan());
    return Response::json(200,
                          renderPage<ApiKeyRecord>(page, std::move(rows),
                                                   instancePath(access.instance) + "/api_keys/",
                                                   keyRenderer(core, access.instance)));
}

Response get(const CoreServices& core, const Request& request) {
    const InstanceAccess access = resolveInstanceAccess(core, request);
    const Id id = pathId(request, "id");
    const auto key = access.caller.account ? core.store.apiKeys().findApiKey(access.instance.id, id)
                                           : std::optional<ApiKeyRecord>(access.caller.apiKey);
    if (!key || key->id != id) throw HttpError(404, "Not found.");
    JsonWriter out;
    keyRenderer(core, access.instance)(out, *key);
    return Response::json(200, out.take());
}

Response update(const CoreServices& core, const Request& request) {
    const auto body = RequestInput::parse(request);
    const InstanceAccess access = resolveInstanceAccess(core, request, &body);
    const ApiKeyRecord key = saveApiKey(core, access, pathId(request, "id"),
                                        [&](ApiKeyRecord& k) { readKeyFields(body, k); });
    JsonWriter out;
    renderApiKey(out, access.instance, key, core.vault.open(key.key, KeyPurpose::ApiKey));
    return Response::json(200, out.take());
}

Response remove(const CoreServices& core, const Request& request) {
    const InstanceAccess access = resolveInstanceAccess(core, request);
    const ApiKeyRecord key = keyForAccount(core, access, pathId(request, "id"));
    // Published by the request that deleted it, once, however many ask at the same time.
    if (core.store.apiKeys().deleteApiKey(access.instance.id, key.id))
        core.publish(apiKeyEvent("api_key.deleted", access, key.id));
    return Response::noContent();
}

Response resetKey(const CoreServices& core, const Request& request) {
    const auto body = RequestInput::parse(request);
    const InstanceAccess access = resolveInstanceAccess(core, request, &body);
    body.rejectUnknown({});
    // Not a structured binding: lambdas may not capture those before C++20 in every compiler.
    const std::pair<std::string, SealedKey> fresh = core.newKey(KeyPurpose::ApiKey);
    const ApiKeyRecord key = saveApiKey(core, access, pathId(request, "id"),
                                        [&](ApiKeyRecord& k) { k.key = fresh.second; });
    JsonWriter out;
    renderApiKey(out, access.instance, key, fresh.first);
    return Response::json(200, out.take());
}

} // namespace api_key_handlers

void mountApiKeyRoutes(Router& router, const CoreServices& core) {
    const auto bind = [&core](CoreHandler handler) { return bindHandler(core, handler); };
    const std::string keys = "/v1.1/instances/{instance}/api_keys/";
    const std::string detail = keys + "{id}/";
    router.add("POST", keys, bind(api_key_handlers::create));
    router.add("GET", keys, bind(api_key_handlers::list));
    router.add("GET", detail, bind(api_key_handlers::get));
    for (const char* method : {"PUT", "PATCH"}) {
        router.add(method, detail, bind(api_key_handlers::update));
    }
    router.add("DELETE", detail, bind(api_key_handlers::remove));
    router.add("POST", detail + "reset_key/", bind(api_key_handlers::resetKey));
}

} // namespace latchkey::core
