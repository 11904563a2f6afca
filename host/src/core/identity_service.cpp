// The identity service: the one place users are created, changed, verified and deleted.
#include "core/identity_service.hpp"

#include "core/auth_events.hpp"

#include <latchkey/errors.hpp>
#include <latchkey/support/retry.hpp>
#include <latchkey/support/text.hpp>
#include <latchkey/support/time.hpp>

#include <algorithm>
#include <exception>

namespace latchkey::core {

IdentityService::IdentityService(IdentityParts parts) : parts_(std::move(parts)) {}

Micros IdentityService::now() const {
    return nowMicros(parts_.clock);
}

std::pair<std::string, SealedKey> IdentityService::newKey() const {
    return parts_.vault.issue(KeyPurpose::UserKey, parts_.random);
}

std::string IdentityService::openKey(const UserRecord& user) const {
    return parts_.vault.open(user.key, KeyPurpose::UserKey);
}

std::string IdentityService::hashChecked(std::string_view password) const {
    auto problems = parts_.hasher.checkPolicy(password);
    if (!problems.empty()) throw HttpError::invalid({{"password", std::move(problems)}});
    // Hashing takes tens of milliseconds: never inside a transaction or a retry.
    return parts_.hasher.hash(password);
}

UserRecord IdentityService::newRecord(Id instanceId, std::string_view username,
                                      std::string passwordHash, SealedKey key,
                                      std::string profileData) const {
    UserRecord user;
    user.instanceId = instanceId;
    user.username = std::string(username);
    user.passwordHash = std::move(passwordHash);
    user.key = std::move(key);
    user.createdAt = user.updatedAt = now();
    user.profile.createdAt = user.profile.updatedAt = user.createdAt;
    user.profile.data = std::move(profileData);
    return user;
}

UserRecord IdentityService::write(Id instanceId, Id userId,
                                  const std::function<void(UserRecord&)>& change) {
    UserRecord written;
    const bool done = retryCompareAndSet([&] {
        auto user = parts_.store.users().findUserById(instanceId, userId);
        if (!user) throw HttpError(404, "Not found.");
        change(*user);
        const Micros expected = user->updatedAt;
        user->updatedAt = std::max(now(), expected + 1);
        if (!parts_.store.users().updateUser(*user, expected)) return false;
        written = std::move(*user);
        return true;
    });
    if (!done) throw HttpError(409, "The user changed while it was being updated; retry.");
    return written;
}

template <class Change>
auto IdentityService::guarded(const UserEvent& proposed, Change&& change) {
    if (auto reason = parts_.guard(proposed)) throw HttpError(409, *reason);
    // The guards may hold a lock from their check until they hear the change is finished, so
    // that no other change on this host comes between.
    struct Finish {
        const IdentityParts& parts;
        const UserEvent& event;
        ~Finish() { parts.guardDone(event); }
    } finish{parts_, proposed};
    return change();
}

void IdentityService::announceAll(const std::vector<UserEvent>& events) const {
    std::exception_ptr failed;
    for (const UserEvent& event : events) {
        try {
            parts_.announce(event);
        } catch (...) {
            if (!failed) failed = std::current_exception();
        }
    }
    if (failed) std::rethrow_exception(failed);
}

// --- reads -------------------------------------------------------------------------------------

InstanceRecord IdentityService::ensureInstance(std::string_view name) {
    return parts_.ensureInstance(name);
}

std::optional<UserRecord> IdentityService::findUser(Id instanceId, Id userId) {
    return parts_.store.users().findUserById(instanceId, userId);
}

std::optional<UserRecord> IdentityService::findUserByUsername(Id instanceId,
                                                              std::string_view username) {
    return parts_.store.users().findUserByUsername(instanceId, username);
}

std::vector<UserRecord> IdentityService::listUsers(Id instanceId, const PageRequest& page) {
    return parts_.store.users().listUsers(instanceId, page);
}

bool IdentityService::recordedActive(Id userId) const {
    UserStates* states = parts_.store.userStatesIfAny();
    return states == nullptr || states->isUserActive(userId);
}

HttpError IdentityService::cannotDeactivate() {
    return HttpError(501, "The storage driver cannot record inactive users.");
}

bool IdentityService::isActive(Id instanceId, Id userId) {
    return parts_.store.users().findUserById(instanceId, userId) && recordedActive(userId);
}

std::vector<Id> IdentityService::inactiveUsers(Id instanceId) {
    UserStates* states = parts_.store.userStatesIfAny();
    return states ? states->listInactiveUsers(instanceId) : std::vector<Id>{};
}

std::optional<UserRecord> IdentityService::findActiveUserByKey(Id instanceId,
                                                               std::string_view userKey) {
    auto user = parts_.store.users().findUserByKey(instanceId, parts_.vault.lookup(userKey));
    if (!user || !recordedActive(user->id)) return std::nullopt;
    return user;
}

// --- creation ----------------------------------------------------------------------------------

KeyedUser IdentityService::create(const NewUser& wanted) {
    if (const std::string problem = usernameProblem(wanted.username); !problem.empty()) {
        throw HttpError::invalid({{"username", {problem}}});
    }
    // A taken name costs no hashing; the store's unique constraint still decides races.
    if (parts_.store.users().findUserByUsername(wanted.instanceId, wanted.username)) {
        throw Conflict("username");
    }
    if (!wanted.active && parts_.store.userStatesIfAny() == nullptr) throw cannotDeactivate();
    // Without a password the user has none that works: the hasher refuses an empty hash.
    std::string hash = wanted.password ? hashChecked(*wanted.password) : std::string();
    auto [plainKey, sealedKey] = newKey();
    if (wanted.active) {
        UserRecord user = parts_.store.users().createUser(
            newRecord(wanted.instanceId, wanted.username, std::move(hash), std::move(sealedKey),
                      wanted.profileData));
        publishCreated(user, wanted.password ? "password" : "without_password");
        return {std::move(user), std::move(plainKey)};
    }
    // Inactive: created without a usable password, deactivated, and only then given its
    // password, so that it can never log in in between (or at all, should a step fail).
    UserRecord user = parts_.store.users().createUser(newRecord(
        wanted.instanceId, wanted.username, std::string(), sealedKey, wanted.profileData));
    parts_.store.userStates().setUserActive(user.instanceId, user.id, false);
    if (!hash.empty()) {
        user = write(user.instanceId, user.id,
                     [&hash](UserRecord& record) { record.passwordHash = hash; });
    }
    publishCreated(user, wanted.password ? "password" : "without_password");
    return {std::move(user), std::move(plainKey)};
}

void IdentityService::publishCreated(const UserRecord& user, std::string_view how) const {
    Event event;
    event.type = "user.created";
    event.instanceId = user.instanceId;
    event.userId = user.id;
    event.data = {{"method", std::string(how)}};
    parts_.publish(std::move(event));
}

UserRecord IdentityService::createUser(const NewUser& user) {
    return create(user).user;
}

UserRecord IdentityService::createLinkedUser(Id instanceId, std::string_view username,
                                             const SocialIdentityRecord& identity) {
    // No usable password: only this provider (or a password set later) logs the user in.
    UserRecord user =
        newRecord(instanceId, username, std::string(), newKey().second, std::string("{}"));
    UserRecord created = parts_.store.socialIdentities().createSocialUser(user, identity);
    publishCreated(created, "social");
    return created;
}

// --- changes -----------------------------------------------------------------------------------

KeyedUser IdentityService::update(Id instanceId, Id userId,
                                  const std::optional<std::string>& username,
                                  const std::optional<std::string>& password) {
    std::optional<std::pair<std::string, SealedKey>> key;
    std::string hash;
    if (password) {
        hash = hashChecked(*password); // once, outside the write and its retries
        key = newKey();                // a new password ends every use of the old key
    }
    bool renamed = false;
    const UserRecord saved = write(instanceId, userId, [&](UserRecord& user) {
        renamed = username && *username != user.username;
        if (renamed) user.username = *username;
        if (key) {
            user.passwordHash = hash;
            user.key = key->second;
        }
    });
    std::vector<UserEvent> events;
    if (renamed) events.push_back({UserEventKind::UsernameChanged, instanceId, userId});
    if (key) events.push_back({UserEventKind::PasswordChanged, instanceId, userId});
    if (renamed)
        logAuthEvent(*parts_.log, parts_.observeAuthEvent,
                     {"username_change", instanceId, userId, {}, "success"});
    if (key)
        logAuthEvent(*parts_.log, parts_.observeAuthEvent,
                     {"password_change", instanceId, userId, {}, "success"});
    announceAll(events);
    return {saved, key ? key->first : openKey(saved)};
}

UserRecord IdentityService::setPassword(Id instanceId, Id userId, std::string_view password) {
    return update(instanceId, userId, std::nullopt, std::string(password)).user;
}

UserRecord IdentityService::rename(Id instanceId, Id userId, std::string_view username) {
    if (const std::string problem = usernameProblem(username); !problem.empty()) {
        throw HttpError::invalid({{"username", {problem}}});
    }
    return update(instanceId, userId, std::string(username), std::nullopt).user;
}

KeyedUser IdentityService::resetKey(Id instanceId, Id userId) {
    std::pair<std::string, SealedKey> key = newKey();
    const UserRecord saved =
        write(instanceId, userId, [&key](UserRecord& user) { user.key = key.second; });
    logAuthEvent(*parts_.log, parts_.observeAuthEvent,
                 {"key_reset", instanceId, userId, {}, "success"});
    return {saved, std::move(key.first)};
}

void IdentityService::setActive(Id instanceId, Id userId, bool active) {
    if (!parts_.store.users().findUserById(instanceId, userId)) {
        throw HttpError(404, "Not found.");
    }
    UserStates* states = parts_.store.userStatesIfAny();
    if (!states) {
        if (active) return; // every user is active on such a driver
        throw cannotDeactivate();
    }
    if (states->isUserActive(userId) == active) return;
    const UserEvent event{active ? UserEventKind::Activated : UserEventKind::Deactivated,
                          instanceId, userId};
    const bool stored =
        active ? states->setUserActive(instanceId, userId, true)
               : guarded(event, [&] { return states->setUserActive(instanceId, userId, false); });
    if (!stored) throw HttpError(404, "Not found.");
    parts_.announce(event);
}

bool IdentityService::deleteUser(Id instanceId, Id userId) {
    if (!parts_.store.users().findUserById(instanceId, userId)) return false;
    const UserEvent event{UserEventKind::UserDeleted, instanceId, userId};
    if (!guarded(event, [&] { return parts_.store.users().deleteUser(instanceId, userId); })) {
        return false;
    }
    parts_.announce(event);
    return true;
}

// --- logins ------------------------------------------------------------------------------------

namespace {

/// The login throttle's name of a user (LoginSubject::account)...
std::string userAccount(Id instanceId, Id userId) {
    return "u/" + std::to_string(instanceId) + "/" + std::to_string(userId);
}

/// ...and of a username no user has.
std::string namedAccount(Id instanceId, std::string_view username) {
    return "n/" + std::to_string(instanceId) + "/" + std::string(username);
}

} // namespace

void rehashBestEffort(PasswordHasher& hasher, spdlog::logger& log, std::string_view password,
                      const std::function<void(const std::string&)>& save) {
    try {
        save(hasher.hash(password));
    } catch (const std::exception& e) {
        log.warn("password rehash skipped: {}", e.what());
    }
}

void IdentityService::refreshHash(const UserRecord& user, std::string_view password) {
    rehashBestEffort(parts_.hasher, *parts_.log, password, [&](const std::string& hash) {
        // Only over the hash that was verified: a password changed meanwhile stays changed.
        parts_.store.users().updateUserPasswordHash(user.id, user.passwordHash, hash);
    });
}

std::optional<UserRecord> IdentityService::verified(Id instanceId,
                                                    const std::optional<UserRecord>& found,
                                                    std::string unknownAccount,
                                                    std::string_view password,
                                                    std::string_view client) {
    // The account is named by id once it is known (a login by username and one by id count
    // together), by what was presented otherwise; the same reads and writes either way.
    const LoginSubject subject{found ? userAccount(instanceId, found->id)
                                     : std::move(unknownAccount),
                               client.empty() ? std::string() : clientNetwork(client)};
    // An unknown user runs the same hashing work as a known one (over an empty hash, which
    // never matches) and gets the same answer: users cannot be probed by answer or timing.
    PasswordCheck check;
    const bool ok = throttledCheck(
        parts_.throttle, subject, *parts_.log, parts_.observeAuthEvent,
        {"login", instanceId, found ? std::optional<Id>(found->id) : std::nullopt, client, {}},
        [&]() -> std::string_view {
            check = parts_.hasher.verify(password, found ? found->passwordHash : std::string());
            if (!found) return "unknown_user";
            if (!check.ok) return "wrong_password";
            return recordedActive(found->id) ? "" : "inactive";
        });
    if (!ok) return std::nullopt;
    if (check.needsRehash) refreshHash(*found, password);
    return found;
}

std::optional<UserRecord> IdentityService::verifyLogin(Id instanceId, std::string_view username,
                                                       std::string_view password) {
    return verified(instanceId, parts_.store.users().findUserByUsername(instanceId, username),
                    namedAccount(instanceId, username), password, {});
}

std::optional<UserRecord> IdentityService::verifyLoginById(Id instanceId, Id userId,
                                                           std::string_view password) {
    return verified(instanceId, parts_.store.users().findUserById(instanceId, userId),
                    userAccount(instanceId, userId), password, {});
}

std::optional<UserRecord> IdentityService::attemptLogin(const LoginAttempt& attempt) {
    if (attempt.userId) {
        return verified(attempt.instanceId,
                        parts_.store.users().findUserById(attempt.instanceId, *attempt.userId),
                        userAccount(attempt.instanceId, *attempt.userId), attempt.password,
                        attempt.client);
    }
    return verified(attempt.instanceId,
                    parts_.store.users().findUserByUsername(attempt.instanceId, attempt.username),
                    namedAccount(attempt.instanceId, attempt.username), attempt.password,
                    attempt.client);
}

} // namespace latchkey::core
