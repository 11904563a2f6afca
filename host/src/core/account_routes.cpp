// `/v1.1/account/auth/` (email + password → account key) and `/v1.1/account/`.
#include "core/account_routes.hpp"

#include "core/auth_events.hpp"
#include "core/caller.hpp"
#include "core/request_input.hpp"
#include "core/routes.hpp"
#include "core/views.hpp"

#include <cctype>
#include <charconv>

namespace latchkey::core {

Id pathId(const Request& request, std::string_view name) {
    const std::string& text = request.param(name);
    Id id = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc() || ptr != text.data() + text.size() || id < 1) {
        throw HttpError(404, "Not found.");
    }
    return id;
}

namespace {

Response accountResponse(const CoreServices& core, const AccountRecord& account) {
    JsonWriter out;
    renderAccount(out, account, core.vault.open(account.key, KeyPurpose::AccountKey));
    return Response::json(200, out.take());
}

} // namespace

std::optional<std::pair<AccountRecord, std::string>>
rotateAccountCredentials(const CoreServices& core, const AccountRecord& account,
                         std::optional<std::string_view> passwordHash, std::string_view event,
                         std::string_view client) {
    auto* facet = static_cast<AccountCredentials*>(
        core.store.find(AccountCredentials::kInterfaceId, AccountCredentials::kInterfaceVersion));
    if (!facet) {
        throw HttpError(501, "This storage driver cannot change account credentials.");
    }
    auto [plainKey, sealedKey] = core.newKey(KeyPurpose::AccountKey);
    if (!facet->replaceAccountCredentials(account.id, account.key.lookup, sealedKey,
                                          passwordHash)) {
        return std::nullopt;
    }
    logAuthEvent(*core.log, core.observeAuthEvent,
                 {event, std::nullopt, account.id, client, "success", {}});
    AccountRecord saved = account;
    saved.key = std::move(sealedKey);
    if (passwordHash) saved.passwordHash = std::string(*passwordHash);
    return std::make_pair(std::move(saved), std::move(plainKey));
}

namespace account_handlers {

Response login(const CoreServices& core, const Request& request) {
    const auto body = RequestInput::parse(request);
    body.rejectUnknown({"email", "password"});
    FieldErrors errors;
    const auto email = body.text("email", errors, {.required = true, .maxLength = 254});
    const auto password = body.text("password", errors, {.required = true});
    throwIfInvalid(std::move(errors));

    const std::string address = asciiLower(*email);
    const auto account = core.store.accounts().findAccountByEmail(address);
    // Guessing is throttled like users' logins (429), the same for unknown addresses.
    const LoginSubject subject{account ? "a/id/" + std::to_string(account->id)
                                       : "a/email/" + address,
                               clientNetwork(request.remoteAddress)};
    // Unknown emails cost the same hashing work and get the same answer.
    PasswordCheck check;
    const bool ok = throttledCheck(
        core.throttle, subject, *core.log, core.observeAuthEvent,
        {"account_login",
         std::nullopt,
         account ? std::optional<Id>(account->id) : std::nullopt,
         request.remoteAddress,
         {}},
        [&]() -> std::string_view {
            check = core.hasher.verify(*password, account ? account->passwordHash : std::string());
            if (!account) return "unknown_account";
            if (!check.ok) return "wrong_password";
            return account->active ? "" : "inactive";
        });
    if (!ok) throw HttpError(401, "Invalid email or password.");
    if (check.needsRehash) {
        core.refreshHash(*password, [&](const std::string& hash) {
            core.store.accounts().updateAccountPasswordHash(account->id, account->passwordHash,
                                                            hash);
        });
    }
    return accountResponse(core, *account);
}

Response current(const CoreServices& core, const Request& request) {
    return accountResponse(core, requireAccount(core, request));
}

namespace {

/// rotateAccountCredentials as an answer: the account as stored, with its new key in plain
/// text; 409 when another change came first.
Response rotate(const CoreServices& core, const AccountRecord& account,
                std::optional<std::string_view> passwordHash, std::string_view event,
                const Request& request) {
    auto saved =
        rotateAccountCredentials(core, account, passwordHash, event, request.remoteAddress);
    if (!saved) throw HttpError(409, "The account changed meanwhile; try again.");
    JsonWriter out;
    renderAccount(out, saved->first, saved->second);
    return Response::json(200, out.take());
}

} // namespace

Response resetKey(const CoreServices& core, const Request& request) {
    const auto body = RequestInput::parse(request);
    const AccountRecord account = requireAccount(core, request, &body);
    body.rejectUnknown({});
    // The old key stops working at once: nothing caches accounts by key.
    return rotate(core, account, std::nullopt, "account_key_reset", request);
}

Response changePassword(const CoreServices& core, const Request& request) {
    const auto body = RequestInput::parse(request);
    const AccountRecord account = requireAccount(core, request, &body);
    body.rejectUnknown({"current_password", "new_password"});
    FieldErrors errors;
    const auto current = body.text("current_password", errors, {.required = true});
    const auto wanted = body.text("new_password", errors, {.required = true});
    if (wanted) {
        for (auto& problem : core.hasher.checkPolicy(*wanted))
            errors.push_back({"new_password", {std::move(problem)}});
    }
    throwIfInvalid(std::move(errors));
    // Checked like a login (throttled): a leaked account key does not make guessing free.
    const LoginSubject subject{"a/id/" + std::to_string(account.id),
                               clientNetwork(request.remoteAddress)};
    if (core.throttle) core.throttle->begin(subject);
    if (!core.hasher.verify(*current, account.passwordHash).ok) {
        if (core.throttle) core.throttle->failed(subject);
        logAuthEvent(*core.log, core.observeAuthEvent,
                     {"account_password_change", std::nullopt, account.id, request.remoteAddress,
                      "failure", "wrong_password"});
        throw HttpError::invalid({{"current_password", {"Invalid password."}}});
    }
    if (core.throttle) core.throttle->succeeded(subject);
    // A new password brings a new account key, as it does a user's: whoever held the old
    // credentials holds nothing now.
    return rotate(core, account, core.hasher.hash(*wanted), "account_password_change", request);
}

} // namespace account_handlers

void mountAccountRoutes(Router& router, const CoreServices& core) {
    const auto bind = [&core](CoreHandler handler) { return bindHandler(core, handler); };
    router.addInLane("POST", "/v1.1/account/auth/", inLane(Lane::Hashing),
                     bind(account_handlers::login));
    router.add("GET", "/v1.1/account/", bind(account_handlers::current));
    router.add("POST", "/v1.1/account/reset_key/", bind(account_handlers::resetKey));
    router.addInLane("POST", "/v1.1/account/password/", inLane(Lane::Hashing),
                     bind(account_handlers::changePassword));
}

} // namespace latchkey::core
