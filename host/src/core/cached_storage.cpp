// The storage driver seen through per-host caches: read-through on the lookups every request
// makes, invalidation after every write through this host.
#include "core/cached_storage.hpp"

#include "core/background_refresher.hpp"
#include "core/inline_attempt.hpp"

#include <latchkey/storage.hpp>

#include <optional>
#include <string>
#include <utility>

namespace latchkey::core {

namespace {

using IdText = std::pair<Id, std::string>;

std::size_t bytesOf(const std::string& text) {
    return text.capacity();
}

std::size_t bytesOf(const SealedKey& key) {
    return bytesOf(key.lookup) + bytesOf(key.sealed);
}

std::size_t bytesOf(const InstanceRecord& r) {
    return sizeof r + bytesOf(r.name) + bytesOf(r.description) + bytesOf(r.metadata);
}

std::size_t bytesOf(const ApiKeyRecord& r) {
    return sizeof r + bytesOf(r.description) + bytesOf(r.key);
}

std::size_t bytesOf(const GroupRecord& r) {
    return sizeof r + bytesOf(r.label) + bytesOf(r.description);
}

std::size_t bytesOf(const UserRecord& r) {
    std::size_t bytes = sizeof r + bytesOf(r.username) + bytesOf(r.passwordHash) + bytesOf(r.key) +
                        bytesOf(r.profile.ownerPermissions) + bytesOf(r.profile.groupPermissions) +
                        bytesOf(r.profile.otherPermissions) + bytesOf(r.profile.data);
    for (const auto& group : r.groups)
        bytes += bytesOf(group);
    return bytes;
}

std::size_t bytesOf(const SessionRecord& r) {
    return sizeof r + bytesOf(r.idHash);
}

std::size_t bytesOf(const std::optional<ClassRecord>& r) {
    if (!r) return sizeof r;
    return sizeof r + bytesOf(r->name) + bytesOf(r->description) + bytesOf(r->schema) +
           bytesOf(r->metadata);
}

std::size_t bytesOf(const IdText& key) {
    return sizeof key + bytesOf(key.second);
}

std::size_t bytesOf(const std::pair<Id, Id>& key) {
    return sizeof key;
}

std::size_t bytesOf(Id) {
    return sizeof(Id);
}

std::size_t bytesOf(bool) {
    return sizeof(bool);
}

/// A key/value cache key: namespace and key, separated by a byte neither holds.
std::string valueKey(std::string_view ns, std::string_view key) {
    std::string out;
    out.reserve(ns.size() + key.size() + 1);
    out.append(ns).push_back('\0');
    out.append(key);
    return out;
}

/// The share of the budget each cache gets: users (one entry per signed-in user) take most.
CacheLimits share(const CacheSettings& settings, std::size_t percent) {
    return CacheLimits{settings.ttl, settings.maxBytes / 100 * percent};
}

/// Read-through of an answer that may be absent: the cached record, or the driver's answer,
/// kept when there is one (and what was kept forgotten when there is none). `read(key)` asks the
/// driver; it may run later on the refresh thread, so it captures nothing but its wrapper.
/// `tagOf(record)` gives an entry's tag.
template <class Cache, class Key, class Read, class TagOf>
auto readThrough(Cache& cache, const Key& key, Read read, TagOf tagOf) -> decltype(read(key)) {
    using Record = typename decltype(read(key))::value_type;
    const auto kept = cache.getOrRead(
        key,
        [read](const Key& k) -> std::shared_ptr<const Record> {
            mayBlock();
            auto fresh = read(k);
            if (!fresh) return nullptr;
            return std::make_shared<const Record>(std::move(*fresh));
        },
        [](const Key& k, const Record& record) { return bytesOf(record) + bytesOf(k); }, tagOf);
    if (!kept) return std::nullopt;
    return *kept;
}

/// readThrough() of entries without a tag.
template <class Cache, class Key, class Read>
auto readThrough(Cache& cache, const Key& key, Read read) -> decltype(read(key)) {
    return readThrough(cache, key, std::move(read),
                       [](const auto&) { return std::optional<Id>(); });
}

/// Read-through that keeps every answer, absent ones too (a class never saved, a user's state).
template <class Cache, class Key, class Read>
auto keepEvery(Cache& cache, const Key& key, Read read) -> decltype(read(key)) {
    using Answer = decltype(read(key));
    return *cache.getOrRead(
        key,
        [read](const Key& k) {
            mayBlock();
            return std::make_shared<const Answer>(read(k));
        },
        [](const Key& k, const Answer& answer) { return bytesOf(answer) + bytesOf(k); });
}

/// Runs the driver's `write`, then `forget`s what it may have changed; also when the write
/// throws, since one that failed after its commit (a connection lost) may have stored it.
template <class Write, class Forget>
auto afterWrite(Write write, Forget forget) -> decltype(write()) {
    // A forget() that throws is run once more by the handler: forgetting is idempotent.
    try {
        if constexpr (std::is_void_v<decltype(write())>) {
            write();
            forget();
        } else {
            auto result = write();
            forget();
            return result;
        }
    } catch (const WouldBlock&) {
        throw; // nothing was written: the write goes to a worker
    } catch (...) {
        forget();
        throw;
    }
}

/// The caches, shared by the facet wrappers (a write to one facet can invalidate another's:
/// deleting an instance forgets its users).
struct Caches {
    template <class Background>
    Caches(const CacheSettings& s, const MonotonicMicros& now, const Background& b)
        : instances(share(s, 3), now, b), apiKeys(share(s, 3), now, b), users(share(s, 35), now, b),
          usersById(share(s, 20), now, b), userStates(share(s, 10), now, b),
          classes(share(s, 3), now, b), sessions(share(s, 13), now, b),
          values(share(s, 13), now, b) {}

    ReadCache<std::string, InstanceRecord> instances; ///< By name.
    ReadCache<std::string, ApiKeyRecord> apiKeys;     ///< By key lookup (unique in the store).
    ReadCache<IdText, UserRecord, IdPairHash<std::string>>
        users; ///< By (instance, key lookup), tag user id.
    ReadCache<std::pair<Id, Id>, UserRecord, IdPairHash<Id>>
        usersById;                  ///< By (instance, id), tag id.
    ReadCache<Id, bool> userStates; ///< Active or not, by user id.
    ReadCache<IdText, std::optional<ClassRecord>, IdPairHash<std::string>>
        classes;                                    ///< By (instance, name).
    ReadCache<std::string, SessionRecord> sessions; ///< By id hash, tag user id.
    ReadCache<std::string, std::string> values;     ///< Key/values by valueKey().

    /// Forgets user `id` as looked up by key and by id.
    void forgetUser(Id id) {
        users.eraseTagged(id);
        usersById.eraseTagged(id);
    }
    /// Forgets every user of instance `id` (a group they are shown with changed).
    void forgetUsersOf(Id id) {
        users.eraseIf([id](const IdText& key, const UserRecord&) { return key.first == id; });
        usersById.eraseIf(
            [id](const std::pair<Id, Id>& key, const UserRecord&) { return key.first == id; });
    }

    /// Forgets what belongs to instance `id`.
    void forgetInstance(Id id) {
        instances.eraseIf([id](const std::string&, const InstanceRecord& r) { return r.id == id; });
        apiKeys.eraseIf(
            [id](const std::string&, const ApiKeyRecord& r) { return r.instanceId == id; });
        forgetUsersOf(id);
        classes.eraseIf(
            [id](const IdText& key, const std::optional<ClassRecord>&) { return key.first == id; });
        sessions.eraseIf(
            [id](const std::string&, const SessionRecord& r) { return r.instanceId == id; });
        userStates.clear(); // keyed by user alone
    }
};

class CachedInstances final : public Instances {
public:
    CachedInstances(Instances& inner, Caches& caches) : inner_(inner), caches_(caches) {}

    InstanceRecord createInstance(const InstanceRecord& instance) override {
        return inner().createInstance(instance);
    }
    std::optional<InstanceRecord> findInstance(std::string_view name) override {
        return readThrough(caches_.instances, std::string(name),
                           [this](const std::string& key) { return inner().findInstance(key); });
    }
    std::vector<InstanceRecord> listInstances(Id ownerId, const PageRequest& page) override {
        return inner().listInstances(ownerId, page);
    }
    void updateInstance(const InstanceRecord& instance) override {
        const Id id = instance.id;
        afterWrite([&] { inner().updateInstance(instance); },
                   [&] {
                       caches_.instances.eraseIf([id](const std::string&, const InstanceRecord& r) {
                           return r.id == id;
                       });
                   });
    }
    bool deleteInstance(Id id) override {
        return afterWrite([&] { return inner().deleteInstance(id); },
                          [&] { caches_.forgetInstance(id); });
    }

private:
    /// The driver's facet, for a call that goes to the database.
    Instances& inner() {
        mayBlock();
        return inner_;
    }

    Instances& inner_;
    Caches& caches_;
};

class CachedApiKeys final : public ApiKeys {
public:
    CachedApiKeys(ApiKeys& inner, Caches& caches) : inner_(inner), caches_(caches) {}

    ApiKeyRecord createApiKey(const ApiKeyRecord& key) override {
        return inner().createApiKey(key);
    }
    std::optional<ApiKeyRecord> findApiKey(Id instanceId, Id id) override {
        return inner().findApiKey(instanceId, id);
    }
    std::optional<ApiKeyRecord> findApiKeyByKey(std::string_view lookup) override {
        return readThrough(caches_.apiKeys, std::string(lookup),
                           [this](const std::string& key) { return inner().findApiKeyByKey(key); });
    }
    std::vector<ApiKeyRecord> listApiKeys(Id instanceId, const PageRequest& page) override {
        return inner().listApiKeys(instanceId, page);
    }
    bool updateApiKey(const ApiKeyRecord& key, std::string_view expectedLookup) override {
        return afterWrite([&] { return inner().updateApiKey(key, expectedLookup); },
                          [&] { forget(key.instanceId, key.id); });
    }
    bool deleteApiKey(Id instanceId, Id id) override {
        return afterWrite([&] { return inner().deleteApiKey(instanceId, id); },
                          [&] { forget(instanceId, id); });
    }

private:
    /// By id, not by lookup: an update may have changed the lookup (a key reset).
    void forget(Id instanceId, Id id) {
        caches_.apiKeys.eraseIf([=](const std::string&, const ApiKeyRecord& r) {
            return r.id == id && r.instanceId == instanceId;
        });
    }

    ApiKeys& inner() {
        mayBlock();
        return inner_;
    }

    ApiKeys& inner_;
    Caches& caches_;
};

class CachedUsers final : public Users {
public:
    CachedUsers(Users& inner, Caches& caches) : inner_(inner), caches_(caches) {}

    UserRecord createUser(const UserRecord& user) override { return inner().createUser(user); }
    std::optional<UserRecord> findUserById(Id instanceId, Id id) override {
        // A compare-and-set that read a stale copy fails, and its failure forgets the copy:
        // the retry reads the database.
        return readThrough(
            caches_.usersById, std::pair<Id, Id>{instanceId, id},
            [this](const std::pair<Id, Id>& key) {
                return inner().findUserById(key.first, key.second);
            },
            [](const UserRecord& user) { return user.id; });
    }
    std::optional<UserRecord> findUserByUsername(Id instanceId,
                                                 std::string_view username) override {
        return inner().findUserByUsername(instanceId, username);
    }
    std::optional<UserRecord> findUserByKey(Id instanceId, std::string_view lookup) override {
        return readThrough(
            caches_.users, IdText{instanceId, std::string(lookup)},
            [this](const IdText& key) { return inner().findUserByKey(key.first, key.second); },
            [](const UserRecord& user) { return user.id; });
    }
    std::optional<UserRecord> findUserByProfile(Id instanceId, Id profileId) override {
        return inner().findUserByProfile(instanceId, profileId);
    }
    bool updateUserPasswordHash(Id userId, std::string_view expectedHash,
                                std::string_view passwordHash) override {
        return afterWrite(
            [&] { return inner().updateUserPasswordHash(userId, expectedHash, passwordHash); },
            [&] { caches_.forgetUser(userId); });
    }
    std::vector<UserRecord> listUsers(Id instanceId, const PageRequest& page) override {
        return inner().listUsers(instanceId, page);
    }
    bool updateUser(const UserRecord& user, Micros expectedUpdatedAt) override {
        return afterWrite([&] { return inner().updateUser(user, expectedUpdatedAt); },
                          [&] { caches_.forgetUser(user.id); });
    }
    bool updateProfile(Id userId, const ProfileRecord& profile,
                       std::int64_t expectedRevision) override {
        return afterWrite([&] { return inner().updateProfile(userId, profile, expectedRevision); },
                          [&] { caches_.forgetUser(userId); });
    }
    bool deleteUser(Id instanceId, Id id) override {
        return afterWrite([&] { return inner().deleteUser(instanceId, id); },
                          [&] {
                              caches_.forgetUser(id);
                              caches_.userStates.erase(id);
                              caches_.sessions.eraseTagged(id);
                          });
    }

private:
    /// The driver's facet, for a call that goes to the database.
    Users& inner() {
        mayBlock();
        return inner_;
    }

    Users& inner_;
    Caches& caches_;
};

class CachedUserStates final : public UserStates {
public:
    CachedUserStates(UserStates& inner, Caches& caches) : inner_(inner), caches_(caches) {}

    bool setUserActive(Id instanceId, Id userId, bool active) override {
        return afterWrite([&] { return inner().setUserActive(instanceId, userId, active); },
                          [&] { caches_.userStates.erase(userId); });
    }
    bool isUserActive(Id userId) override {
        return keepEvery(caches_.userStates, userId,
                         [this](Id key) { return inner().isUserActive(key); });
    }
    std::vector<Id> listInactiveUsers(Id instanceId) override {
        return inner().listInactiveUsers(instanceId);
    }

private:
    /// The driver's facet, for a call that goes to the database.
    UserStates& inner() {
        mayBlock();
        return inner_;
    }

    UserStates& inner_;
    Caches& caches_;
};

class CachedClasses final : public Classes {
public:
    CachedClasses(Classes& inner, Caches& caches) : inner_(inner), caches_(caches) {}

    std::optional<ClassRecord> findClass(Id instanceId, std::string_view name) override {
        // A class never saved is remembered too: most instances never save their profile
        // class, and every user lookup asks for it.
        return keepEvery(
            caches_.classes, IdText{instanceId, std::string(name)},
            [this](const IdText& key) { return inner().findClass(key.first, key.second); });
    }
    std::optional<ClassRecord> saveClass(const ClassRecord& record,
                                         std::int64_t expectedRevision) override {
        return afterWrite([&] { return inner().saveClass(record, expectedRevision); },
                          [&] {
                              caches_.classes.erase(IdText{record.instanceId, record.name});
                          });
    }

private:
    /// The driver's facet, for a call that goes to the database.
    Classes& inner() {
        mayBlock();
        return inner_;
    }

    Classes& inner_;
    Caches& caches_;
};

/// Nothing of groups is cached, but users are shown with their groups: a membership change
/// forgets the user, a changed or deleted group every user of its instance.
class CachedGroups final : public Groups {
public:
    CachedGroups(Groups& inner, Caches& caches) : inner_(inner), caches_(caches) {}

    GroupRecord createGroup(const GroupRecord& group) override {
        return inner().createGroup(group);
    }
    std::optional<GroupRecord> findGroup(Id instanceId, Id id) override {
        return inner().findGroup(instanceId, id);
    }
    std::vector<GroupRecord> listGroups(Id instanceId, const PageRequest& page) override {
        return inner().listGroups(instanceId, page);
    }
    void updateGroup(const GroupRecord& group) override {
        afterWrite([&] { inner().updateGroup(group); },
                   [&] { caches_.forgetUsersOf(group.instanceId); });
    }
    bool deleteGroup(Id instanceId, Id id) override {
        return afterWrite([&] { return inner().deleteGroup(instanceId, id); },
                          [&] { caches_.forgetUsersOf(instanceId); });
    }
    MembershipResult addMembership(Id userId, Id groupId, std::size_t maxGroupsPerUser) override {
        return afterWrite([&] { return inner().addMembership(userId, groupId, maxGroupsPerUser); },
                          [&] { caches_.forgetUser(userId); });
    }
    bool removeMembership(Id userId, Id groupId) override {
        return afterWrite([&] { return inner().removeMembership(userId, groupId); },
                          [&] { caches_.forgetUser(userId); });
    }
    std::vector<UserRecord> listGroupMembers(Id groupId, const PageRequest& page) override {
        return inner().listGroupMembers(groupId, page);
    }

private:
    Groups& inner() {
        mayBlock();
        return inner_;
    }

    Groups& inner_;
    Caches& caches_;
};

/// Sessions by the hash of their id: the cookie check of the /rest flow. A touch (the idle
/// clock), an end, or a stale sweep forgets what it changed.
class CachedSessions final : public Sessions {
public:
    CachedSessions(Sessions& inner, Caches& caches) : inner_(inner), caches_(caches) {}

    void createSession(const SessionRecord& session) override { inner().createSession(session); }
    std::optional<SessionRecord> findSession(std::string_view idHash) override {
        return readThrough(
            caches_.sessions, std::string(idHash),
            [this](const std::string& key) { return inner().findSession(key); },
            [](const SessionRecord& session) { return session.userId; });
    }
    void touchSession(std::string_view idHash, Micros lastSeenAt) override {
        afterWrite([&] { inner().touchSession(idHash, lastSeenAt); },
                   [&] { caches_.sessions.erase(std::string(idHash)); });
    }
    bool deleteSession(std::string_view idHash) override {
        return afterWrite([&] { return inner().deleteSession(idHash); },
                          [&] { caches_.sessions.erase(std::string(idHash)); });
    }
    std::size_t deleteUserSessions(Id userId) override {
        return afterWrite([&] { return inner().deleteUserSessions(userId); },
                          [&] { caches_.sessions.eraseTagged(userId); });
    }
    std::size_t deleteStaleSessions(Micros now, Micros idleBefore) override {
        return afterWrite([&] { return inner().deleteStaleSessions(now, idleBefore); },
                          [&] { caches_.sessions.clear(); });
    }

private:
    Sessions& inner() {
        mayBlock();
        return inner_;
    }

    Sessions& inner_;
    Caches& caches_;
};

/// Plugins' key/values: single values are cached (every write of a key forgets it, and a failed
/// compare-and-set forgets what it was compared with, so a retry reads the database); prefix
/// lists are not.
class CachedKeyValues final : public KeyValues {
public:
    CachedKeyValues(KeyValues& inner, Caches& caches) : inner_(inner), caches_(caches) {}

    std::optional<std::string> getValue(std::string_view ns, std::string_view key) override {
        return readThrough(caches_.values, valueKey(ns, key), [this](const std::string& both) {
            const std::string_view view(both);
            const std::size_t nul = view.find('\0');
            return inner().getValue(view.substr(0, nul), view.substr(nul + 1));
        });
    }
    void putValue(std::string_view ns, std::string_view key, std::string_view value) override {
        afterWrite([&] { inner().putValue(ns, key, value); }, [&] { forget(ns, key); });
    }
    bool putValueIfAbsent(std::string_view ns, std::string_view key,
                          std::string_view value) override {
        return afterWrite([&] { return inner().putValueIfAbsent(ns, key, value); },
                          [&] { forget(ns, key); });
    }
    bool compareAndSetValue(std::string_view ns, std::string_view key, std::string_view expected,
                            std::string_view value) override {
        return afterWrite([&] { return inner().compareAndSetValue(ns, key, expected, value); },
                          [&] { forget(ns, key); });
    }
    bool deleteValue(std::string_view ns, std::string_view key) override {
        return afterWrite([&] { return inner().deleteValue(ns, key); }, [&] { forget(ns, key); });
    }
    std::vector<std::pair<std::string, std::string>> listValues(std::string_view ns,
                                                                std::string_view prefix) override {
        return inner().listValues(ns, prefix);
    }

private:
    void forget(std::string_view ns, std::string_view key) {
        caches_.values.erase(valueKey(ns, key));
    }

    KeyValues& inner() {
        mayBlock();
        return inner_;
    }

    KeyValues& inner_;
    Caches& caches_;
};

/// Makes `wrapper` around the driver's `Facet` when the driver has it.
template <class Facet, class Wrapper>
void wrap(Plugin& driver, Caches& caches, std::optional<Wrapper>& wrapper) {
    if (auto* inner = provided<Facet>(driver)) wrapper.emplace(*inner, caches);
}

} // namespace

struct CachedStorage::Impl {
    Impl(Plugin& inner, const CacheSettings& settings, const MonotonicMicros& now)
        : driver(inner), refresher(kRefreshQueue),
          caches(settings, now,
                 [this](std::function<void()> job) { return refresher.submit(std::move(job)); }) {
        wrap<Instances>(inner, caches, instances);
        wrap<ApiKeys>(inner, caches, apiKeys);
        wrap<Users>(inner, caches, users);
        wrap<UserStates>(inner, caches, userStates);
        wrap<Classes>(inner, caches, classes);
        wrap<Groups>(inner, caches, groups);
        wrap<Sessions>(inner, caches, sessions);
        wrap<KeyValues>(inner, caches, values);
    }

    /// Refreshes waiting at most: more than the rereads of a second at any rate measured so far;
    /// beyond it lookups read for themselves.
    static constexpr std::size_t kRefreshQueue = 4096;

    Plugin& driver;
    BackgroundRefresher refresher; ///< Stopped before anything its jobs use goes.
    Caches caches;
    std::optional<CachedInstances> instances;
    std::optional<CachedApiKeys> apiKeys;
    std::optional<CachedUsers> users;
    std::optional<CachedUserStates> userStates;
    std::optional<CachedClasses> classes;
    std::optional<CachedGroups> groups;
    std::optional<CachedSessions> sessions;
    std::optional<CachedKeyValues> values;
};

CachedStorage::CachedStorage(Plugin& driver, CacheSettings settings, const MonotonicMicros& now)
    : impl_(std::make_unique<Impl>(driver, settings, now)) {}

CachedStorage::~CachedStorage() {
    stopRefreshing();
}

void CachedStorage::stopRefreshing() {
    impl_->refresher.stop();
}

namespace {

/// `wrapper` as the facet `Facet` when `id`/`version` ask for it.
template <class Facet, class Wrapper>
bool answers(std::string_view id, std::uint32_t version, std::optional<Wrapper>& wrapper,
             void*& out) {
    if (id != Facet::kInterfaceId || version != Facet::kInterfaceVersion || !wrapper) return false;
    out = static_cast<Facet*>(&*wrapper);
    return true;
}

} // namespace

void* CachedStorage::provide(std::string_view id, std::uint32_t version) noexcept {
    void* out = nullptr;
    Impl& i = *impl_;
    if (answers<Instances>(id, version, i.instances, out) ||
        answers<ApiKeys>(id, version, i.apiKeys, out) ||
        answers<Users>(id, version, i.users, out) ||
        answers<UserStates>(id, version, i.userStates, out) ||
        answers<Classes>(id, version, i.classes, out) ||
        answers<Groups>(id, version, i.groups, out) ||
        answers<Sessions>(id, version, i.sessions, out) ||
        answers<KeyValues>(id, version, i.values, out)) {
        return out;
    }
    return impl_->driver.provide(id, version);
}

StorageCacheStats CachedStorage::stats() const {
    const Caches& c = impl_->caches;
    return {c.instances.stats(),  c.apiKeys.stats(), c.users.stats(),    c.usersById.stats(),
            c.userStates.stats(), c.classes.stats(), c.sessions.stats(), c.values.stats()};
}

} // namespace latchkey::core
