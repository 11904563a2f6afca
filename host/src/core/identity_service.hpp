// The identity service: the one place users are created, changed, verified and deleted, for
// the v1.1 routes, social login and every plugin (the SDK's Identities, implemented here).
#pragma once

#include "core/key_vault.hpp"
#include "core/login_throttle.hpp"

#include <latchkey/clock.hpp>
#include <latchkey/events.hpp>
#include <latchkey/identities.hpp>
#include <latchkey/password_hasher.hpp>
#include <latchkey/random.hpp>
#include <latchkey/storage/records/social_identity.hpp>
#include <latchkey/support/storage_facets.hpp>
#include <latchkey/user_events.hpp>

#include <spdlog/logger.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::core {

/// After a successful login with a hash made under older parameters: hashes the password again
/// and hands the new hash to `save`. Best effort: a full hashing queue or a store error is
/// logged and the login still succeeds.
void rehashBestEffort(PasswordHasher& hasher, spdlog::logger& log, std::string_view password,
                      const std::function<void(const std::string&)>& save);

/// What the identity service works with; the runtime keeps each alive longer than the service.
struct IdentityParts {
    StorageFacets store; ///< The facets the core uses were checked at start.
    PasswordHasher& hasher;
    const KeyVault& vault;
    const Clock& clock;
    Random& random;
    std::shared_ptr<spdlog::logger> log;
    /// Tells every UserEventListener what happened, after it is stored.
    std::function<void(const UserEvent&)> announce = [](const UserEvent&) {};
    /// Asks every UserChangeGuard about a deletion or deactivation: the first refusal, if any.
    std::function<std::optional<std::string>(const UserEvent&)> guard =
        [](const UserEvent&) -> std::optional<std::string> { return std::nullopt; };
    /// Tells every guard that a change they let through is finished (stored or failed).
    std::function<void(const UserEvent&)> guardDone = [](const UserEvent&) {};
    /// Finds or creates an instance for a plugin (owned by the configured administrator).
    std::function<InstanceRecord(std::string_view)> ensureInstance;
    /// Throttles password logins; nullptr: none (tests of other parts only).
    LoginThrottle* throttle = nullptr;
    /// Told of every authentication event after its log line (the host's metrics).
    AuthEventObserver observeAuthEvent = {};
    /// Hands an event to the event sinks (user.created; the rest come through the
    /// authentication events and the announcements).
    std::function<void(Event)> publish = [](const Event&) {};
};

/// A user with its key in plain text: the v1.1 API shows the key with the user.
struct KeyedUser {
    UserRecord user;     ///< As stored.
    std::string userKey; ///< The user key, unsealed.
};

/// The identity service. Thread-safe; holds references only.
class IdentityService final : public Identities {
public:
    explicit IdentityService(IdentityParts parts);

    // The SDK's Identities (see latchkey/identities.hpp).
    InstanceRecord ensureInstance(std::string_view name) override;
    std::optional<UserRecord> findUser(Id instanceId, Id userId) override;
    std::optional<UserRecord> findUserByUsername(Id instanceId, std::string_view username) override;
    std::vector<UserRecord> listUsers(Id instanceId, const PageRequest& page) override;
    bool isActive(Id instanceId, Id userId) override;
    std::vector<Id> inactiveUsers(Id instanceId) override;
    bool canDeactivate() override { return parts_.store.userStatesIfAny() != nullptr; }
    UserRecord createUser(const NewUser& user) override;
    UserRecord setPassword(Id instanceId, Id userId, std::string_view password) override;
    UserRecord rename(Id instanceId, Id userId, std::string_view username) override;
    void setActive(Id instanceId, Id userId, bool active) override;
    bool deleteUser(Id instanceId, Id userId) override;
    std::optional<UserRecord> verifyLogin(Id instanceId, std::string_view username,
                                          std::string_view password) override;
    std::optional<UserRecord> verifyLoginById(Id instanceId, Id userId,
                                              std::string_view password) override;
    std::optional<UserRecord> attemptLogin(const LoginAttempt& attempt) override;

    /// createUser, with the new user's key in plain text.
    KeyedUser create(const NewUser& wanted);
    /// Changes the username and/or the password in one compare-and-set write (a new password
    /// brings a new key); with the key in plain text. Announces what changed.
    KeyedUser update(Id instanceId, Id userId, const std::optional<std::string>& username,
                     const std::optional<std::string>& password);
    /// Gives the user a new key (the old one stops working at once).
    KeyedUser resetKey(Id instanceId, Id userId);
    /// Creates a user without a password, linked to a provider's identity, in one write.
    /// Conflict when the identity was linked meanwhile or the username is taken.
    UserRecord createLinkedUser(Id instanceId, std::string_view username,
                                const SocialIdentityRecord& identity);
    /// The user of this instance whose key is `userKey`, if it is active.
    std::optional<UserRecord> findActiveUserByKey(Id instanceId, std::string_view userKey);
    /// The user's key in plain text.
    std::string openKey(const UserRecord& user) const;

private:
    /// Re-reads user `userId`, applies `change`, stores it with a compare-and-set on updatedAt;
    /// retried on a concurrent write (404 when gone, 409 when it never settles). Conflict when
    /// the new username is taken.
    UserRecord write(Id instanceId, Id userId, const std::function<void(UserRecord&)>& change);
    /// A new user record: the folded username, `passwordHash`, a new sealed key, timestamps.
    UserRecord newRecord(Id instanceId, std::string_view username, std::string passwordHash,
                         SealedKey key, std::string profileData) const;
    /// The password hashed after a policy check (400 under "password" when it fails).
    std::string hashChecked(std::string_view password) const;
    /// A fresh key (plain) and its sealed form.
    std::pair<std::string, SealedKey> newKey() const;
    /// Best effort: stores a fresh hash of `password` over `user`'s (older-parameter) hash.
    void refreshHash(const UserRecord& user, std::string_view password);
    /// The common end of every login: the throttle's count (for `client`; empty: the account's
    /// ceiling only), the password check, and the success taken back from the count.
    std::optional<UserRecord> verified(Id instanceId, const std::optional<UserRecord>& found,
                                       std::string unknownAccount, std::string_view password,
                                       std::string_view client);
    /// Asks the guards about `proposed` (409 with the reason when one refuses), runs `change`
    /// while they hold what they need, then tells them it is finished.
    template <class Change>
    auto guarded(const UserEvent& proposed, Change&& change);
    /// Announces each event in turn; every one is announced even when an earlier one fails
    /// (the first failure is rethrown after the last).
    void announceAll(const std::vector<UserEvent>& events) const;
    /// Publishes user.created for `user`, made by `how` ("password", "social").
    void publishCreated(const UserRecord& user, std::string_view how) const;
    /// False when the driver records the user as inactive (never without UserStates).
    bool recordedActive(Id userId) const;
    /// 501: the driver has no UserStates facet.
    static HttpError cannotDeactivate();
    Micros now() const;

    IdentityParts parts_;
};

} // namespace latchkey::core
