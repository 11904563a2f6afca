// The storage plugin kind: the identity core's records and the Store that keeps them.
#pragma once

#include <latchkey/errors.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey {

/// Row ids, assigned by the store.
using Id = std::int64_t;
/// Timestamps: microseconds since the Unix epoch, UTC.
using Micros = std::int64_t;

/// A secret key as the store keeps it: never the key itself.
struct SealedKey {
    std::string
        lookup; ///< Keyed hash of the key (hex), unique: finds the row from a presented key.
    std::string
        sealed; ///< The key encrypted under the host's secret, so the API can show it again.
};

/// An administrator account (owner of instances), authenticated by its account key.
struct AccountRecord {
    Id id = 0;
    std::string email; ///< Lowercase, unique.
    std::string firstName;
    std::string lastName;
    std::string passwordHash; ///< From PasswordHasher::hash.
    SealedKey key;            ///< The account key.
    bool active = true;
    std::string metadata = "{}"; ///< JSON object.
    Micros createdAt = 0;
    Micros updatedAt = 0;
};

/// An instance: the namespace users, keys and groups live in.
struct InstanceRecord {
    Id id = 0;
    std::string name; ///< Lowercase, unique.
    std::string description;
    Id ownerId = 0;              ///< AccountRecord::id.
    std::string metadata = "{}"; ///< JSON object.
    Micros createdAt = 0;
    Micros updatedAt = 0;
};

/// An API key of an instance, with its permission flags.
struct ApiKeyRecord {
    Id id = 0;
    Id instanceId = 0;
    std::string description;
    SealedKey key;
    bool ignoreAcl = false;
    bool allowUserCreate = false;
    bool allowGroupCreate = false;
    bool allowAnonymousRead = false;
    Micros createdAt = 0;
};

/// A user's profile object in the instance's `user_profile` class (one per user).
struct ProfileRecord {
    Id id = 0;
    std::int64_t revision = 1;
    std::string ownerPermissions = "full";
    std::optional<Id> groupId;
    std::string groupPermissions = "none";
    std::string otherPermissions = "none";
    std::string data = "{}"; ///< JSON object of the custom schema's fields.
    Micros createdAt = 0;
    Micros updatedAt = 0;
};

/// A group of users in an instance.
struct GroupRecord {
    Id id = 0;
    Id instanceId = 0;
    std::string label;
    std::string description;
    Micros createdAt = 0;
    Micros updatedAt = 0;
};

/// A class of data objects in an instance. Only `user_profile` exists so far; its `schema`
/// lists the custom fields every profile may hold.
struct ClassRecord {
    Id id = 0;
    Id instanceId = 0;
    std::string name;
    std::string description;
    std::string schema = "[]"; ///< JSON array of {name, type, ...}.
    std::int64_t revision = 1;
    std::string metadata = "{}"; ///< JSON object.
    Micros createdAt = 0;
    Micros updatedAt = 0;
};

/// An uploaded file (a profile's `file` field), served back under its unguessable token.
struct FileRecord {
    Id id = 0;
    Id instanceId = 0;
    std::optional<Id> ownerUserId; ///< Deleted with this user.
    std::string field;             ///< The profile field it was uploaded into.
    std::string token;             ///< Random, URL-safe; the file's public name.
    std::string filename;          ///< As uploaded (sanitised), for Content-Disposition.
    std::string contentType;
    std::string data; ///< The bytes.
    Micros createdAt = 0;
};

/// A login session (the cookie of the login-token flow). Only a hash of its id is stored.
struct SessionRecord {
    std::string idHash; ///< Hash of the session id the cookie carries.
    Id instanceId = 0;
    Id userId = 0;
    Micros createdAt = 0;
    Micros lastSeenAt = 0; ///< For the idle limit.
    Micros expiresAt = 0;  ///< The absolute limit.
};

/// A single-use login token (invitation or lost password). Only a hash of it is stored.
struct LoginTokenRecord {
    std::string tokenHash;
    Id userId = 0;
    std::string purpose; ///< "invite" or "reset".
    Micros createdAt = 0;
    Micros expiresAt = 0;
};

/// A provider account linked to a user of an instance; (instance, backend, uid) is unique.
struct SocialIdentityRecord {
    Id instanceId = 0;
    std::string backend; ///< The social plugin's name: "facebook", "google-oauth2", ...
    std::string uid;     ///< The provider's stable user id (`sub`, `id`, `id_str`).
    Id userId = 0;
    Micros createdAt = 0;
};

/// What adding a user to a group did.
enum class MembershipResult {
    Added,         ///< The user is now a member.
    AlreadyMember, ///< Nothing changed.
    LimitReached,  ///< The user is in the maximum number of groups already.
    NotFound,      ///< The user or the group does not exist (any more).
};

/// A user of an instance, with its profile.
struct UserRecord {
    Id id = 0;
    Id instanceId = 0;
    std::string username;     ///< Unique within the instance.
    std::string passwordHash; ///< Empty when the user has no usable password.
    SealedKey key;            ///< The user key.
    Micros createdAt = 0;
    Micros updatedAt = 0;
    ProfileRecord profile;
    std::vector<GroupRecord> groups; ///< Filled by reads, in group id order; ignored by writes.
};

/// One page of a keyset scan over ids: rows strictly beyond `after` in scan order.
struct PageRequest {
    std::optional<Id> after; ///< Exclusive bound; none starts at the first row.
    bool ascending = true;   ///< Scan by increasing id (true) or decreasing id (false).
    std::size_t limit = 50;  ///< At most this many rows.
};

/// The identity core's storage. Every method is atomic and thread-safe; writes that break a
/// uniqueness rule throw Conflict naming the field; an unreachable database throws Unavailable.
class Store {
public:
    /// The name Plugin::provide is asked with.
    static constexpr std::string_view kInterfaceId = "latchkey.store";
    /// The version Plugin::provide is asked with.
    static constexpr std::uint32_t kInterfaceVersion = 1;

    virtual ~Store() = default;

    /// Checks the database answers; throws Unavailable if not.
    virtual void ping() = 0;

    /// @name Key/value area for plugins' own data, namespaced by plugin name.
    ///@{
    /// The value under (ns, key), or nullopt.
    virtual std::optional<std::string> getValue(std::string_view ns, std::string_view key) = 0;
    /// Sets (ns, key) to value, replacing any old value.
    virtual void putValue(std::string_view ns, std::string_view key, std::string_view value) = 0;
    /// Sets (ns, key) only if absent; true when this call inserted it.
    virtual bool putValueIfAbsent(std::string_view ns, std::string_view key,
                                  std::string_view value) = 0;
    /// Replaces the value of (ns, key) only if it is still `expected`; true when replaced.
    /// The way to change a value several hosts may change at once (read, compute, swap).
    virtual bool compareAndSetValue(std::string_view ns, std::string_view key,
                                    std::string_view expected, std::string_view value) = 0;
    /// Removes (ns, key); true when it existed.
    virtual bool deleteValue(std::string_view ns, std::string_view key) = 0;
    /// Every (key, value) of `ns` whose key starts with `prefix`, ordered by key.
    virtual std::vector<std::pair<std::string, std::string>>
    listValues(std::string_view ns, std::string_view prefix) = 0;
    ///@}

    /// @name Accounts
    ///@{
    /// Inserts an account (Conflict "email"); returns it with its id.
    virtual AccountRecord createAccount(const AccountRecord& account) = 0;
    /// The account with this id.
    virtual std::optional<AccountRecord> findAccountById(Id id) = 0;
    /// The account with this (lowercase) email.
    virtual std::optional<AccountRecord> findAccountByEmail(std::string_view email) = 0;
    /// The account whose key has this lookup hash.
    virtual std::optional<AccountRecord> findAccountByKey(std::string_view lookup) = 0;
    /// Replaces the password hash if it is still `expectedHash` (a rehash after login must not
    /// undo a password change that happened meanwhile); true when replaced.
    virtual bool updateAccountPasswordHash(Id id, std::string_view expectedHash,
                                           std::string_view passwordHash) = 0;
    ///@}

    /// @name Instances
    ///@{
    /// Inserts an instance (Conflict "name"); returns it with its id.
    virtual InstanceRecord createInstance(const InstanceRecord& instance) = 0;
    /// The instance with this name.
    virtual std::optional<InstanceRecord> findInstance(std::string_view name) = 0;
    /// A page of the instances owned by `ownerId`.
    virtual std::vector<InstanceRecord> listInstances(Id ownerId, const PageRequest& page) = 0;
    /// Stores the instance's description, metadata and updatedAt.
    virtual void updateInstance(const InstanceRecord& instance) = 0;
    /// Deletes the instance and everything in it; true when it existed.
    virtual bool deleteInstance(Id id) = 0;
    ///@}

    /// @name API keys
    ///@{
    /// Inserts an API key; returns it with its id.
    virtual ApiKeyRecord createApiKey(const ApiKeyRecord& key) = 0;
    /// The key with this id in this instance.
    virtual std::optional<ApiKeyRecord> findApiKey(Id instanceId, Id id) = 0;
    /// The key (of any instance) whose lookup hash this is.
    virtual std::optional<ApiKeyRecord> findApiKeyByKey(std::string_view lookup) = 0;
    /// A page of the instance's keys.
    virtual std::vector<ApiKeyRecord> listApiKeys(Id instanceId, const PageRequest& page) = 0;
    /// Stores the key's description, flags and key (a reset) if its key is still the one
    /// looked up as `expectedLookup`; false when a reset happened meanwhile.
    virtual bool updateApiKey(const ApiKeyRecord& key, std::string_view expectedLookup) = 0;
    /// Deletes the key; true when it existed.
    virtual bool deleteApiKey(Id instanceId, Id id) = 0;
    ///@}

    /// @name Users
    ///@{
    /// Inserts a user and its profile in one transaction (Conflict "username"); returns both
    /// with their ids.
    virtual UserRecord createUser(const UserRecord& user) = 0;
    /// The user with this id in this instance.
    virtual std::optional<UserRecord> findUserById(Id instanceId, Id id) = 0;
    /// The user with this username in this instance.
    virtual std::optional<UserRecord> findUserByUsername(Id instanceId,
                                                         std::string_view username) = 0;
    /// The user of this instance whose key has this lookup hash.
    virtual std::optional<UserRecord> findUserByKey(Id instanceId, std::string_view lookup) = 0;
    /// The user of this instance who owns the profile with this id.
    virtual std::optional<UserRecord> findUserByProfile(Id instanceId, Id profileId) = 0;
    /// Replaces the password hash if it is still `expectedHash` (a rehash: the user key stays);
    /// true when replaced.
    virtual bool updateUserPasswordHash(Id userId, std::string_view expectedHash,
                                        std::string_view passwordHash) = 0;
    /// A page of the instance's users.
    virtual std::vector<UserRecord> listUsers(Id instanceId, const PageRequest& page) = 0;
    /// Stores the user's username, password hash, key and updatedAt (Conflict "username") if
    /// its stored updatedAt is still `expectedUpdatedAt`; false when another write came first.
    virtual bool updateUser(const UserRecord& user, Micros expectedUpdatedAt) = 0;
    /// Stores the profile's data, permissions and updatedAt with revision + 1, only if its
    /// revision is still `expectedRevision`; false when someone else changed it first.
    virtual bool updateProfile(Id userId, const ProfileRecord& profile,
                               std::int64_t expectedRevision) = 0;
    /// Deletes the user with its profile, memberships and files; true when it existed.
    virtual bool deleteUser(Id instanceId, Id id) = 0;
    ///@}

    /// @name Groups and membership
    ///@{
    /// Inserts a group; returns it with its id.
    virtual GroupRecord createGroup(const GroupRecord& group) = 0;
    /// The group with this id in this instance.
    virtual std::optional<GroupRecord> findGroup(Id instanceId, Id id) = 0;
    /// A page of the instance's groups.
    virtual std::vector<GroupRecord> listGroups(Id instanceId, const PageRequest& page) = 0;
    /// Stores the group's label, description and updatedAt.
    virtual void updateGroup(const GroupRecord& group) = 0;
    /// Deletes the group and its memberships; true when it existed.
    virtual bool deleteGroup(Id instanceId, Id id) = 0;
    /// Adds the user to the group unless already a member or already in `maxGroupsPerUser`
    /// groups, decided atomically.
    virtual MembershipResult addMembership(Id userId, Id groupId, std::size_t maxGroupsPerUser) = 0;
    /// Removes the membership; true when it existed.
    virtual bool removeMembership(Id userId, Id groupId) = 0;
    /// A page of the group's members, paged by user id.
    virtual std::vector<UserRecord> listGroupMembers(Id groupId, const PageRequest& page) = 0;
    ///@}

    /// @name Classes (data object schemas)
    ///@{
    /// The class `name` of the instance, or nullopt if it was never saved.
    virtual std::optional<ClassRecord> findClass(Id instanceId, std::string_view name) = 0;
    /// Inserts the class (id 0) or stores its description, schema, metadata and updatedAt with
    /// revision + 1 if its revision is still `expectedRevision`. Returns the stored record, or
    /// nullopt when someone else changed it first.
    virtual std::optional<ClassRecord> saveClass(const ClassRecord& record,
                                                 std::int64_t expectedRevision) = 0;
    ///@}

    /// @name Sessions and login tokens
    ///@{
    /// Inserts a session.
    virtual void createSession(const SessionRecord& session) = 0;
    /// The session whose id hashes to `idHash`.
    virtual std::optional<SessionRecord> findSession(std::string_view idHash) = 0;
    /// Records activity on a session.
    virtual void touchSession(std::string_view idHash, Micros lastSeenAt) = 0;
    /// Ends a session; true when it existed.
    virtual bool deleteSession(std::string_view idHash) = 0;
    /// Ends every session of a user (a password change); returns how many.
    virtual std::size_t deleteUserSessions(Id userId) = 0;
    /// Removes sessions past their absolute limit or idle since `idleBefore`; returns how many.
    virtual std::size_t deleteStaleSessions(Micros now, Micros idleBefore) = 0;
    /// Stores a new token for its user and voids every older one of that user, atomically.
    virtual void replaceLoginToken(const LoginTokenRecord& token) = 0;
    /// Uses up the user's token with this hash if it exists and has not expired at `now`, and
    /// returns its purpose: a value exactly once per token, whatever the concurrency.
    virtual std::optional<std::string> consumeLoginToken(Id userId, std::string_view tokenHash,
                                                         Micros now) = 0;
    /// Voids every token of the user; returns how many.
    virtual std::size_t revokeLoginTokens(Id userId) = 0;
    ///@}

    /// @name Social identities
    ///@{
    /// The id of the user linked to (instance, backend, uid), if any.
    virtual std::optional<Id> findSocialIdentity(Id instanceId, std::string_view backend,
                                                 std::string_view uid) = 0;
    /// Links an identity to an existing user; Conflict when (instance, backend, uid) is linked.
    virtual void linkSocialIdentity(const SocialIdentityRecord& identity) = 0;
    /// Creates `user` (as createUser) and links `identity` to it, in one transaction: both or
    /// neither. Conflict when the username is taken or the identity is linked already.
    virtual UserRecord createSocialUser(const UserRecord& user,
                                        const SocialIdentityRecord& identity) = 0;
    ///@}

    /// @name Files
    ///@{
    /// Inserts a file; returns it with its id.
    virtual FileRecord createFile(const FileRecord& file) = 0;
    /// The file with this token.
    virtual std::optional<FileRecord> findFile(std::string_view token) = 0;
    /// Deletes the file with this token if `ownerUserId` owns it; true when it did.
    virtual bool deleteFile(std::string_view token, Id ownerUserId) = 0;
    /// Deletes every file of the instance stored for profile field `field`; returns how many.
    virtual std::size_t deleteFieldFiles(Id instanceId, std::string_view field) = 0;
    ///@}
};

} // namespace latchkey
