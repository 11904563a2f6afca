// The Buzz `/rest` login-token flow: invited users, single-use mailed tokens, cookie sessions,
// roles, and the lost-password path, on the users of one instance.
#pragma once

#include "background_jobs.hpp"
#include "body.hpp"
#include "settings.hpp"

#include <latchkey/context.hpp>
#include <latchkey/key_value_area.hpp>
#include <latchkey/mailer.hpp>
#include <latchkey/password_hasher.hpp>
#include <latchkey/router.hpp>
#include <latchkey/storage/login_tokens.hpp>
#include <latchkey/storage/sessions.hpp>
#include <latchkey/storage/users.hpp>
#include <latchkey/support/json_writer.hpp>
#include <latchkey/user_events.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace latchkey::plugins::buzz {

/// What the flow keeps about a user beyond the instance user (in the store's key/value area).
struct Attributes {
    std::string firstName;
    std::string lastName;
    std::string notes;
    std::optional<std::int64_t> roleId;
    bool active = false;
    bool superUser = false;
};

/// A user of the flow: the instance user (username = email) and its attributes.
struct Member {
    UserRecord user;
    Attributes attributes;
};

/// A role: permission bits per object (read 1, create 2, update 4, delete 8).
struct Role {
    std::int64_t id = 0;
    std::string name;
    std::optional<std::int64_t> parent;
    std::map<std::string, std::int64_t> permissions;
    bool active = true;
};

/// The flow. Thread-safe: handlers run on many request threads.
class BuzzService {
public:
    BuzzService(PluginContext& context, Settings settings);
    ~BuzzService();
    BuzzService(const BuzzService&) = delete;
    BuzzService& operator=(const BuzzService&) = delete;

    /// What the core announced: a password set through the v1.1 API ends the user's sessions
    /// and tokens, a deleted user's attributes go, and so does this flow's data of a deleted
    /// instance.
    void onUserEvent(const UserEvent& event);

    /// Finds (or creates) the instance, seeds the configured roles, creates the configured super
    /// user if it does not exist, and mounts the routes.
    void mount(Router& router);

private:
    // Handlers, one per route.
    Response authenticate(const Request& request);
    Response changeOwnPassword(const Request& request);
    Response logout(const Request& request);
    Response createUser(const Request& request);
    Response listUsers(const Request& request);
    Response updateUser(const Request& request);
    Response deleteUser(const Request& request);
    Response resendUserEmail(const Request& request);
    Response changePassword(const Request& request);
    Response listRoles(const Request& request);
    Response createRole(const Request& request);
    Response updateRole(const Request& request);
    Response deleteRole(const Request& request);

    /// Read, change, compare-and-set on one key of the plugin's namespace, retried on a race.
    /// `change` gets the current value (nullopt: absent) and returns the new one, or nullopt
    /// to leave it. True when written. It may run more than once: keep it free of effects.
    using ValueChange =
        std::function<std::optional<std::string>(const std::optional<std::string>&)>;
    bool updateValue(const std::string& key, const ValueChange& change);

    // Users and their attributes.
    std::string attributesKey(Id userId) const;
    std::optional<Attributes> loadAttributes(Id userId);
    /// Stores the attributes of a user that has none yet.
    void createAttributes(Id userId, const Attributes& attributes);
    /// Changes the stored attributes (404 when the user has none) and returns the result.
    Attributes updateAttributes(Id userId, const std::function<void(Attributes&)>& change);
    std::optional<Member> findByEmail(const std::string& email);
    std::optional<Member> findById(Id userId);
    /// Active super users of the instance.
    std::size_t countActiveSuperUsers();
    /// Sets a new password hash with a new user key (compare-and-set), ends every session.
    UserRecord setPasswordHash(Id userId, const std::string& passwordHash);
    /// Voids the user's login tokens and ends its sessions.
    void endAccess(Id userId);
    void bootstrapSuperUser();
    /// Checks first name, last name and notes; problems go into `body`.
    static void checkAttributes(Body& body, const Attributes& attributes);

    // Roles.
    std::string roleKey(std::int64_t id) const;
    std::vector<Role> roles();
    std::optional<Role> findRole(std::int64_t id);
    bool isConfigRole(std::int64_t id) const;
    /// A role id never handed out before (a sequence in the store).
    std::int64_t nextRoleId();
    void requirePermission(const Member& caller, const char* object, std::int64_t bit);
    /// True when every permission of `role` is one the caller's own role has too.
    bool coveredByOwnRole(const Member& caller, const Role& role);
    /// 403 unless the caller is a super user, or `target` has no permission the caller lacks.
    void requireOutranks(const Member& caller, const Member& target);
    /// The role must exist and be active (else a problem in `body`), and a caller that is not a
    /// super user may only hand out permissions its own role has (else 403).
    void requireAssignableRole(const Member& caller, std::int64_t roleId, Body& body);
    /// Reads name, parent, active and permissions over `role`; problems go into `body`.
    Role readRole(Body& body, Role role, bool creating);

    // Sessions.
    std::optional<std::string> presentedSession(const Request& request) const;
    /// The logged-in caller; 401 in the envelope otherwise. `sessionHash` gets the session's.
    Member requireSession(const Request& request, std::string* sessionHash = nullptr);
    /// Starts a session and returns the Set-Cookie header for it.
    Header startSession(Id userId, bool remember);
    Header clearCookie() const;
    /// Every ten minutes at most: sweeps stale sessions, failure counters and cooldowns.
    void maybeCleanup(Micros t);

    // Tokens and mail.
    std::string issueToken(const Member& member, const char* purpose, std::chrono::milliseconds ttl,
                           Micros& expiresAt);
    MailMessage composeTokenMail(const Member& member, const std::string& token,
                                 const MailTemplate& kind, Micros expiresAt) const;
    /// Sends now (on the calling thread); a failure is logged.
    void deliver(const MailMessage& message, Id userId);
    /// Sends off the request path.
    void queueMail(const MailMessage& message, Id userId);
    /// The failure counters of wrong tokens for this address: from this client, and from all.
    struct FailureKeys {
        std::string client;
        std::string account;
    };
    FailureKeys failureKeys(const std::string& email, const Request& request) const;
    /// 429 when either counter reached its limit within `token_lockout`.
    void checkTokenLockout(const FailureKeys& keys);
    void recordTokenFailure(const std::string& key);

    Micros now() const;
    std::string randomToken(std::size_t bytes);

    PluginContext& context_;
    Settings settings_;
    Users& users_;         ///< Declared storage facets (see plugin.cpp).
    Sessions& sessions_;   ///< ...
    LoginTokens& tokens_;  ///< ...
    KeyValueArea& values_; ///< This plugin's own area.
    Mailer* mailer_;
    PasswordHasher* hasher_ = nullptr;
    InstanceRecord instance_;
    bool secureCookies_ = false;
    std::atomic<Micros> lastCleanup_{0};
    /// Held while a change could leave the instance without an active super user (one host;
    /// see docs/architecture.md for several).
    std::mutex superUsers_;
    std::unique_ptr<BackgroundJobs> jobs_; ///< Drained in the destructor, members still alive.
};

} // namespace latchkey::plugins::buzz
