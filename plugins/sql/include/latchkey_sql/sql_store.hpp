// The identity core's storage facets over Poco::Data, shared by the SQLite, PostgreSQL and MySQL
// plugins; each plugin supplies its Dialect and how to open a session.
#pragma once

#include "latchkey_sql/connection_pool.hpp"
#include "latchkey_sql/dialect.hpp"

#include <latchkey/logger.hpp>
#include <latchkey/metrics.hpp>
#include <latchkey/plugin.hpp>
#include <latchkey/storage.hpp>

#include <array>
#include <chrono>
#include <memory>
#include <string>

namespace latchkey::sql {

/// Pool settings shared by every SQL driver.
struct PoolOptions {
    std::size_t size = 8;                 ///< Connections at most.
    std::chrono::milliseconds wait{5000}; ///< How long a request waits for one.
};

/// Every storage facet on any SQL database Poco::Data reaches. Thread-safe.
class SqlStore : public Provides<StorageDriver, KeyValues, KeyValuePages, Accounts,
                                 AccountCredentials, Instances, ApiKeys, Users, Groups, Classes,
                                 Files, Sessions, LoginTokens, SocialIdentities, UserStates> {
public:
    SqlStore(std::unique_ptr<Dialect> dialect, SessionFactory factory, PoolOptions options,
             Logger& log);

    /// Brings the schema to the newest version, in one write transaction. Throws
    /// std::runtime_error when the database has a newer schema than this code knows.
    void migrate();
    /// migrate(), with failures prefixed by `where` (the file or server, for the start-up
    /// message), then logs the schema version.
    void migrate(const std::string& where);
    /// The schema version the database is at.
    int schemaVersion();
    /// From now on, times every call that reaches the database into `metrics`
    /// (latchkey_store_call_duration_seconds by driver and outcome) and shows the pool's open
    /// connections (latchkey_store_connections). Call once, at creation.
    void countCalls(Metrics& metrics);

    void ping() override;

    std::optional<std::string> getValue(std::string_view ns, std::string_view key) override;
    void putValue(std::string_view ns, std::string_view key, std::string_view value) override;
    bool putValueIfAbsent(std::string_view ns, std::string_view key,
                          std::string_view value) override;
    bool compareAndSetValue(std::string_view ns, std::string_view key, std::string_view expected,
                            std::string_view value) override;
    bool deleteValue(std::string_view ns, std::string_view key) override;
    std::vector<std::pair<std::string, std::string>> listValues(std::string_view ns,
                                                                std::string_view prefix) override;
    std::vector<std::pair<std::string, std::string>> listValuesAfter(std::string_view ns,
                                                                     std::string_view prefix,
                                                                     std::string_view after,
                                                                     std::size_t limit) override;

    AccountRecord createAccount(const AccountRecord& account) override;
    std::optional<AccountRecord> findAccountById(Id id) override;
    std::optional<AccountRecord> findAccountByEmail(std::string_view email) override;
    std::optional<AccountRecord> findAccountByKey(std::string_view lookup) override;
    bool updateAccountPasswordHash(Id id, std::string_view expectedHash,
                                   std::string_view passwordHash) override;
    bool replaceAccountCredentials(Id id, std::string_view expectedLookup, const SealedKey& key,
                                   std::optional<std::string_view> passwordHash) override;

    InstanceRecord createInstance(const InstanceRecord& instance) override;
    std::optional<InstanceRecord> findInstance(std::string_view name) override;
    std::vector<InstanceRecord> listInstances(Id ownerId, const PageRequest& page) override;
    void updateInstance(const InstanceRecord& instance) override;
    bool deleteInstance(Id id) override;

    ApiKeyRecord createApiKey(const ApiKeyRecord& key) override;
    std::optional<ApiKeyRecord> findApiKey(Id instanceId, Id id) override;
    std::optional<ApiKeyRecord> findApiKeyByKey(std::string_view lookup) override;
    std::vector<ApiKeyRecord> listApiKeys(Id instanceId, const PageRequest& page) override;
    bool updateApiKey(const ApiKeyRecord& key, std::string_view expectedLookup) override;
    bool deleteApiKey(Id instanceId, Id id) override;

    UserRecord createUser(const UserRecord& user) override;
    std::optional<UserRecord> findUserById(Id instanceId, Id id) override;
    std::optional<UserRecord> findUserByUsername(Id instanceId, std::string_view username) override;
    std::optional<UserRecord> findUserByKey(Id instanceId, std::string_view lookup) override;
    std::optional<UserRecord> findUserByProfile(Id instanceId, Id profileId) override;
    bool updateUserPasswordHash(Id userId, std::string_view expectedHash,
                                std::string_view passwordHash) override;
    std::vector<UserRecord> listUsers(Id instanceId, const PageRequest& page) override;
    bool updateUser(const UserRecord& user, Micros expectedUpdatedAt) override;
    bool updateProfile(Id userId, const ProfileRecord& profile,
                       std::int64_t expectedRevision) override;
    bool deleteUser(Id instanceId, Id id) override;

    GroupRecord createGroup(const GroupRecord& group) override;
    std::optional<GroupRecord> findGroup(Id instanceId, Id id) override;
    std::vector<GroupRecord> listGroups(Id instanceId, const PageRequest& page) override;
    void updateGroup(const GroupRecord& group) override;
    bool deleteGroup(Id instanceId, Id id) override;
    MembershipResult addMembership(Id userId, Id groupId, std::size_t maxGroupsPerUser) override;
    bool removeMembership(Id userId, Id groupId) override;
    std::vector<UserRecord> listGroupMembers(Id groupId, const PageRequest& page) override;

    std::optional<ClassRecord> findClass(Id instanceId, std::string_view name) override;
    std::optional<ClassRecord> saveClass(const ClassRecord& record,
                                         std::int64_t expectedRevision) override;

    void createSession(const SessionRecord& record) override;
    std::optional<SessionRecord> findSession(std::string_view idHash) override;
    void touchSession(std::string_view idHash, Micros lastSeenAt) override;
    bool deleteSession(std::string_view idHash) override;
    std::size_t deleteUserSessions(Id userId) override;
    std::size_t deleteStaleSessions(Micros now, Micros idleBefore) override;
    void replaceLoginToken(const LoginTokenRecord& token) override;
    std::optional<std::string> consumeLoginToken(Id userId, std::string_view tokenHash,
                                                 Micros now) override;
    std::size_t revokeLoginTokens(Id userId) override;

    std::optional<Id> findSocialIdentity(Id instanceId, std::string_view backend,
                                         std::string_view uid) override;
    void linkSocialIdentity(const SocialIdentityRecord& identity) override;
    UserRecord createSocialUser(const UserRecord& user,
                                const SocialIdentityRecord& identity) override;

    bool setUserActive(Id instanceId, Id userId, bool active) override;
    bool isUserActive(Id userId) override;
    std::vector<Id> listInactiveUsers(Id instanceId) override;

    FileRecord createFile(const FileRecord& file) override;
    std::optional<FileRecord> findFile(std::string_view token) override;
    bool deleteFile(std::string_view token, Id ownerUserId) override;
    std::size_t deleteFieldFiles(Id instanceId, std::string_view field) override;

protected:
    /// The dialect in use.
    const Dialect& dialect() const { return *dialect_; }

private:
    /// setUserActive's transaction.
    bool recordUserState(Id instanceId, Id userId, bool active);
    /// What withLease() needs to know about the work in progress.
    struct LeaseState {
        bool commitSent = false; ///< Past this, a retry could apply a write twice.
    };
    /// Runs `work(lease, state)` with a pooled session's lease, translating database errors
    /// (unique violations into Conflict(conflictField), busy/unreachable into Unavailable) and
    /// retrying once on a new connection when a pooled one turns out dead (Dialect::isBroken);
    /// timed by outcome when countCalls() was called.
    template <class Work>
    auto withLease(const char* conflictField, Work&& work);
    /// withLease() without the timing.
    template <class Work>
    auto leased(const char* conflictField, Work&& work);
    /// How a call ended, for the metrics.
    enum class CallOutcome : std::uint8_t { Ok, Conflict, Unavailable, Error };
    void countCall(CallOutcome outcome, std::chrono::steady_clock::time_point started) const;
    /// As withLease(), handing `work` just the session.
    template <class Work>
    auto run(const char* conflictField, Work&& work);
    /// As run(), inside a write transaction that commits when `work` returns.
    template <class Work>
    auto write(const char* conflictField, Work&& work);
    /// Applies the migrations past the database's version, inside migrate()'s transaction.
    void applyMigrations(Connection& session, const std::vector<Migration>& migrations, int newest);
    /// The inserts of createUser (user and profile), inside a caller's transaction.
    UserRecord insertUser(Connection& session, const UserRecord& user);
    void insertIdentity(Connection& session, const SocialIdentityRecord& identity);

    std::unique_ptr<Dialect> dialect_;
    ConnectionPool pool_;
    Logger& log_;
    /// By CallOutcome; null until countCalls().
    std::array<MetricHistogram*, 4> calls_{};
};

} // namespace latchkey::sql
