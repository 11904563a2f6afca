// The Buzz `/rest` login-token flow: invited users, single-use mailed tokens, cookie sessions,
// roles, and the lost-password path, on the users of one instance.
#pragma once

#include "background_jobs.hpp"
#include "body.hpp"
#include "settings.hpp"

#include <latchkey/context.hpp>
#include <latchkey/http.hpp>
#include <latchkey/json.hpp>
#include <latchkey/password_hasher.hpp>
#include <latchkey/store.hpp>

#include <atomic>
#include <map>
#include <memory>
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

    // Users and their attributes.
    std::string attributesKey(Id userId) const;
    std::optional<Attributes> loadAttributes(Id userId);
    void saveAttributes(Id userId, const Attributes& attributes);
    std::optional<Member> findByEmail(const std::string& email);
    std::optional<Member> findById(Id userId);
    /// Sets a new password hash with a new user key (compare-and-set), ends every session.
    UserRecord setPasswordHash(Id userId, const std::string& passwordHash);
    void bootstrapSuperUser();

    // Roles.
    std::string roleKey(std::int64_t id) const;
    std::vector<Role> roles();
    std::optional<Role> findRole(std::int64_t id);
    void saveRole(const Role& role);
    void requirePermission(const Member& caller, const char* object, std::int64_t bit);
    Role readRole(Body& body, Role role, bool requireName);

    // Sessions.
    std::optional<std::string> presentedSession(const Request& request) const;
    /// The logged-in caller; 401 in the envelope otherwise. `sessionHash` gets the session's.
    Member requireSession(const Request& request, std::string* sessionHash = nullptr);
    /// Starts a session and returns the Set-Cookie header for it.
    Header startSession(Id userId, bool remember);
    Header clearCookie() const;

    // Tokens and mail.
    std::string issueToken(const Member& member, const char* purpose, std::chrono::milliseconds ttl,
                           Micros& expiresAt);
    void sendTokenMail(const Member& member, const std::string& token, const MailTemplate& kind,
                       Micros expiresAt);
    void checkTokenLockout(Id userId);
    void recordTokenFailure(Id userId);

    Micros now() const;
    std::string randomToken(std::size_t bytes);

    PluginContext& context_;
    Settings settings_;
    Store& store_;
    PasswordHasher* hasher_ = nullptr;
    InstanceRecord instance_;
    bool secureCookies_ = false;
    std::atomic<Micros> lastCleanup_{0};
    std::unique_ptr<BackgroundJobs> jobs_; ///< Last: destroyed (and drained) first.
};

} // namespace latchkey::plugins::buzz
