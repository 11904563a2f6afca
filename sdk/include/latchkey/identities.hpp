// ABI: the identity service, the one place users are written; implemented by the host.
#pragma once

#include <latchkey/storage/records/instance.hpp>
#include <latchkey/storage/records/types.hpp>
#include <latchkey/storage/records/user.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey {

/// A user to create through Identities::createUser.
struct NewUser {
    Id instanceId = 0;    ///< The instance the user belongs to.
    std::string username; ///< Unique within the instance, compared exactly (fold it yourself).
    /// The password, checked against the password policy and hashed by the service; nullopt
    /// for a user without a usable password (one that sets it later, or logs in otherwise).
    std::optional<std::string> password;
    bool active = true;             ///< False: it cannot log in or use its key until activated.
    std::string profileData = "{}"; ///< The profile's JSON object (already checked).
};

/// A password login for Identities::attemptLogin (since SDK 2.3): who is named, the password,
/// and the client it comes from.
struct LoginAttempt {
    Id instanceId = 0;         ///< The instance the user belongs to.
    std::string_view username; ///< The username presented (exact; fold it yourself), or...
    std::optional<Id> userId;  ///< ...the user's id instead, when set.
    std::string_view password; ///< The password presented.
    /// Where the attempt comes from: the request's Request::remoteAddress (the host has already
    /// put the client there when a trusted proxy forwarded it).
    std::string_view client;
};

/// What a user may do, and what happens with it, decided in one place for every API: the
/// host's v1.1 routes, social login, the administrator bootstrap and every plugin change users
/// only through this service (PluginContext::identities()). It hashes passwords outside any
/// transaction, gives a user a new key with each new password, writes with compare-and-set
/// (retrying a concurrent write), and announces what it changed to every UserEventListener
/// after it is stored. An inactive user cannot log in and its key is refused on every API.
///
/// Implemented by the host: a later minor may add functions at the end. Thread-safe.
/// Errors: Conflict naming "username" for a username that is taken; HttpError 400 with field
/// errors under "password" for a password the policy refuses (check it first with
/// PasswordHasher::checkPolicy to report it under your own field), 404 for a user that does not
/// exist, 409 when the user kept changing under the write or a UserChangeGuard refused, 501 for
/// a deactivation the storage driver cannot record; Unavailable when the database cannot be
/// reached or a listener failed after the change was stored.
class Identities {
public:
    virtual ~Identities() = default;

    /// The instance called `name` (folded to lowercase), created and owned by the configured
    /// administrator account if it does not exist. Throws std::runtime_error when it does not
    /// exist and there is no administrator to own it.
    virtual InstanceRecord ensureInstance(std::string_view name) = 0;

    /// The user with this id in this instance, active or not.
    virtual std::optional<UserRecord> findUser(Id instanceId, Id userId) = 0;
    /// The user with exactly this username in this instance, active or not.
    virtual std::optional<UserRecord> findUserByUsername(Id instanceId,
                                                         std::string_view username) = 0;
    /// A page of the instance's users (in id order), active or not.
    virtual std::vector<UserRecord> listUsers(Id instanceId, const PageRequest& page) = 0;
    /// Whether the user may log in and use its key; false for a user that does not exist.
    virtual bool isActive(Id instanceId, Id userId) = 0;
    /// The ids of the instance's inactive users, in id order.
    virtual std::vector<Id> inactiveUsers(Id instanceId) = 0;
    /// Whether users can be deactivated: the storage driver has the UserStates facet. A plugin
    /// whose rules need it refuses to start without it.
    virtual bool canDeactivate() = 0;

    /// Creates a user (with a new user key) and returns it.
    virtual UserRecord createUser(const NewUser& user) = 0;
    /// Sets a new password and a new user key. Announces PasswordChanged: every listener ends
    /// what was opened with the old one (the login-token flow voids mailed tokens and sessions).
    virtual UserRecord setPassword(Id instanceId, Id userId, std::string_view password) = 0;
    /// Changes the username (for the login-token flow, the e-mail address). Announces
    /// UsernameChanged when it differs.
    virtual UserRecord rename(Id instanceId, Id userId, std::string_view username) = 0;
    /// Activates or deactivates the user. A deactivation asks every UserChangeGuard first and
    /// announces Deactivated; an activation announces Activated. No-op when already so.
    virtual void setActive(Id instanceId, Id userId, bool active) = 0;
    /// Deletes the user with every record that belongs to it; asks every UserChangeGuard first,
    /// announces UserDeleted. False when it did not exist.
    virtual bool deleteUser(Id instanceId, Id userId) = 0;

    /// Checks a login by username. The same work and the same answer (nullopt) for an unknown
    /// user, a wrong password and an inactive user, so none can be told apart. On success with
    /// a hash made under older parameters, hashes again (best effort: a failure is logged).
    /// Since SDK 2.3 it counts against the account's ceiling of the login throttle (it has no
    /// client to throttle per client): use attemptLogin.
    [[deprecated(
        "use attemptLogin, which throttles guessing per client")]] virtual std::optional<UserRecord>
    verifyLogin(Id instanceId, std::string_view username, std::string_view password) = 0;
    /// The same check for a user named by id. Deprecated like verifyLogin.
    [[deprecated(
        "use attemptLogin, which throttles guessing per client")]] virtual std::optional<UserRecord>
    verifyLoginById(Id instanceId, Id userId, std::string_view password) = 0;

    /// Checks a password login like verifyLogin (the same work and answer for an unknown user,
    /// a wrong password and an inactive user), throttled on every host that shares the store
    /// (since SDK 2.3): throws HttpError 429 with a Retry-After header when this client has
    /// failed too often at this account, the account too often from everywhere, or this client
    /// at too many accounts (docs/security.md, "Login throttling"); the same for unknown users.
    /// A success clears this client's failures at the account. Every password check a plugin
    /// makes (logins, and the current password before a change) goes through here.
    virtual std::optional<UserRecord> attemptLogin(const LoginAttempt& attempt) = 0;
};

} // namespace latchkey
