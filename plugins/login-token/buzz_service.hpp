// The Buzz `/rest` login-token flow: its routes and their handlers, over the flow's parts
// (members, roles, cookie sessions, token mail, lockouts) and the host's identity service.
#pragma once

#include "background_jobs.hpp"
#include "body.hpp"
#include "cookie_sessions.hpp"
#include "lockout.hpp"
#include "members.hpp"
#include "roles.hpp"
#include "settings.hpp"
#include "token_mail.hpp"

#include <latchkey/context.hpp>
#include <latchkey/identities.hpp>
#include <latchkey/router.hpp>
#include <latchkey/user_events.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace latchkey::plugins::buzz {

/// The flow. Thread-safe: handlers run on many request threads.
class BuzzService {
public:
    BuzzService(PluginContext& context, Settings settings);
    ~BuzzService();
    BuzzService(const BuzzService&) = delete;
    BuzzService& operator=(const BuzzService&) = delete;

    /// What the identity service announced, whichever API caused it: a new password, a new
    /// address or a deactivation ends the user's sessions and voids its mailed tokens; a
    /// deleted user's attributes go, and so does this flow's data of a deleted instance.
    void onUserEvent(const UserEvent& event);
    /// Refuses deleting or deactivating the instance's last active super user, on either API;
    /// when it lets a change through, it holds the super-user lock until changeFinished.
    std::optional<std::string> refuseChange(const UserEvent& proposed);
    /// Releases what refuseChange held.
    void changeFinished(const UserEvent& proposed) noexcept;

    /// Finds (or creates) the instance, moves 1.x data, seeds the configured roles, creates the
    /// configured super user if it does not exist, and mounts the routes.
    void mount(Router& router);

private:
    /// The parts that exist once the instance is known (from mount on).
    struct Parts {
        Members members;
        Roles roles;
        CookieSessions sessions;
        TokenMail mail;
        Lockout lockout;
    };

    // Handlers, one per route (buzz_service.cpp: logins and passwords; buzz_users.cpp: users
    // and roles).
    Response authenticate(const Request& request);
    Response changeOwnPassword(const Request& request);
    Response logout(const Request& request);
    Response changePassword(const Request& request);
    Response createUser(const Request& request);
    Response listUsers(const Request& request);
    Response updateUser(const Request& request);
    Response deleteUser(const Request& request);
    Response resendUserEmail(const Request& request);
    Response listRoles(const Request& request);
    Response createRole(const Request& request);
    Response updateRole(const Request& request);
    Response deleteRole(const Request& request);

    /// The logged-in, active caller; 401 in the envelope otherwise. `sessionHash` gets the
    /// session's.
    Member requireSession(const Request& request, std::string* sessionHash = nullptr);
    /// Where `member` stands for the permission rules.
    Standing standing(const Member& member);
    /// 403 unless `caller` may do `bit` on `object`.
    void requirePermission(const Member& caller, const char* object, std::int64_t bit);
    /// 403 unless `caller` may change `target`.
    void requireOutranks(const Member& caller, const Member& target);
    /// The role must exist and be active (else a problem in `body`), and the caller may hand
    /// it out (else 403).
    void requireAssignableRole(const Member& caller, std::int64_t roleId, Body& body);
    /// Reads name, parent, active and permissions over `role`; problems go into `body`.
    Role readRole(Body& body, Role role, bool creating);
    /// Checks first name, last name and notes; problems go into `body`.
    static void checkAttributes(Body& body, const Attributes& attributes);
    /// Whether `member` is the instance's last active super user.
    bool isLastActiveSuperUser(const Member& member);
    /// 409 when `member` is the last active super user.
    void requireAnotherSuperUser(const Member& member);
    void bootstrapSuperUser();
    /// Ends what the user holds: its sessions and mailed tokens.
    void endAccess(Id userId);
    /// Whether `password` is the caller's current one, checked through attemptLogin (so
    /// throttled like a login: 429 when guessed at).
    bool currentPasswordIs(const Member& caller, const std::string& password,
                           const Request& request);
    /// Tells the user at `address` that its password changed (off the request path).
    void noticePasswordChanged(Id userId, const std::string& address);
    /// Sets the password through the identity service as one of this flow's own changes: the
    /// caller sends the notice (or none, for an invitation's first password), so onUserEvent
    /// does not. Every other password change (the v1.1 API, another plugin) is noticed there.
    void setPasswordHere(Id userId, const std::string& password);
    /// Renames the user (its new address) as one of this flow's own changes, likewise.
    void renameHere(Id userId, const std::string& address);
    /// Tells the old address that the account's address changed (off the request path).
    void noticeAddressChanged(Id userId, const std::string& oldAddress);
    /// Every ten minutes at most: sweeps stale sessions, failure counters and cooldowns.
    void maybeCleanup(Micros t);
    Micros now() const;

    PluginContext& context_;
    Settings settings_;
    Sessions& sessionStore_;           ///< Declared storage facets (see plugin.cpp).
    LoginTokens& tokenStore_;          ///< ...
    KeyValueArea& values_;             ///< This plugin's own area.
    Identities* identities_ = nullptr; ///< From mount on.
    InstanceRecord instance_;
    std::string origin_; ///< The public URL's origin, which browsers must send.
    /// The mount `request` came through (its session cookie's path).
    const std::string& mountOf(const Request& request) const;
    std::unique_ptr<Parts> parts_; ///< From mount on.
    std::atomic<Micros> lastCleanup_{0};
    /// Held while a change could leave the instance without an active super user, from the
    /// check to the write, whichever API made it (one host; see docs/architecture.md for
    /// several). Recursive: the identity service asks the guard while a handler holds it.
    std::recursive_mutex superUsers_;
    std::atomic<bool> migrating_{false};   ///< Moving 1.x data: the guard stands aside.
    std::unique_ptr<BackgroundJobs> jobs_; ///< Drained in the destructor, members still alive.
};

} // namespace latchkey::plugins::buzz
