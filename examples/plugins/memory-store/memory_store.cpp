// `memory-store`: a storage driver that keeps everything in the host's memory, and only the
// facets the v1.1 API needs (key/values, accounts, instances, API keys, users, groups, classes,
// files). It shows what a driver implements and that a driver need not implement every facet:
// a configuration that needs another one (`login-token` needs sessions and login tokens, a social
// backend needs social identities) is refused at start, naming the facet.
//
//   storage:
//     driver: memory-store
//     max_users: 10000        # optional: a bound on the memory it takes
//
// Everything is lost when the host stops, and several hosts cannot share it: for trying the
// API, tests and demos, not production.
#include <latchkey/context.hpp>
#include <latchkey/plugin.hpp>
#include <latchkey/storage.hpp>
#include <latchkey/support/config_reader.hpp>

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace example {

using namespace latchkey;

namespace {

/// One page of `rows` (ordered by id): those beyond `page.after` in the scan direction.
template <class Record, class Keep>
std::vector<Record> pageOf(const std::map<Id, Record>& rows, const PageRequest& page, Keep keep) {
    std::vector<Record> out;
    const auto take = [&](const Record& row) {
        if (out.size() >= page.limit) return false;
        if (keep(row)) out.push_back(row);
        return true;
    };
    if (page.ascending) {
        for (auto it = page.after ? rows.upper_bound(*page.after) : rows.begin();
             it != rows.end() && take(it->second); ++it) {}
    } else {
        auto it = page.after ? rows.lower_bound(*page.after) : rows.end();
        while (it != rows.begin() && take(std::prev(it)->second))
            --it;
    }
    return out;
}

} // namespace

class MemoryStore final : public Provides<StorageDriver, KeyValues, Accounts, Instances, ApiKeys,
                                          Users, Groups, Classes, Files> {
public:
    struct Settings {
        std::size_t maxUsers = 10000;
    };

    static Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
        ConfigReader r(node, errors);
        Settings s;
        s.maxUsers = static_cast<std::size_t>(r.integer("max_users", 10000, 1, 10000000));
        r.finish();
        return s;
    }

    MemoryStore(PluginContext& context, Settings settings) : settings_(settings) {
        context.logger().warn("memory-store keeps everything in memory: it is lost when the "
                              "host stops");
    }

    // --- StorageDriver ----------------------------------------------------------------------

    void ping() override {}

    // --- KeyValues --------------------------------------------------------------------------

    std::optional<std::string> getValue(std::string_view ns, std::string_view key) override {
        std::lock_guard lock(mutex_);
        const auto it = values_.find({std::string(ns), std::string(key)});
        if (it == values_.end()) return std::nullopt;
        return it->second;
    }
    void putValue(std::string_view ns, std::string_view key, std::string_view value) override {
        std::lock_guard lock(mutex_);
        values_[{std::string(ns), std::string(key)}] = std::string(value);
    }
    bool putValueIfAbsent(std::string_view ns, std::string_view key,
                          std::string_view value) override {
        std::lock_guard lock(mutex_);
        return values_.emplace(std::pair{std::string(ns), std::string(key)}, std::string(value))
            .second;
    }
    bool compareAndSetValue(std::string_view ns, std::string_view key, std::string_view expected,
                            std::string_view value) override {
        std::lock_guard lock(mutex_);
        const auto it = values_.find({std::string(ns), std::string(key)});
        if (it == values_.end() || it->second != expected) return false;
        it->second = std::string(value);
        return true;
    }
    bool deleteValue(std::string_view ns, std::string_view key) override {
        std::lock_guard lock(mutex_);
        return values_.erase({std::string(ns), std::string(key)}) > 0;
    }
    std::vector<std::pair<std::string, std::string>> listValues(std::string_view ns,
                                                                std::string_view prefix) override {
        std::lock_guard lock(mutex_);
        std::vector<std::pair<std::string, std::string>> out;
        // std::string orders bytes as unsigned, as the facet asks.
        for (auto it = values_.lower_bound({std::string(ns), std::string(prefix)});
             it != values_.end() && it->first.first == ns &&
             it->first.second.compare(0, prefix.size(), prefix) == 0;
             ++it) {
            out.emplace_back(it->first.second, it->second);
        }
        return out;
    }

    // --- Accounts ---------------------------------------------------------------------------

    AccountRecord createAccount(const AccountRecord& account) override {
        std::lock_guard lock(mutex_);
        for (const auto& [id, a] : accounts_) {
            if (a.email == account.email) throw Conflict("email");
            if (a.key.lookup == account.key.lookup) throw Conflict("key");
        }
        AccountRecord out = account;
        out.id = ++lastId_;
        accounts_[out.id] = out;
        return out;
    }
    std::optional<AccountRecord> findAccountById(Id id) override {
        std::lock_guard lock(mutex_);
        return find(accounts_, id);
    }
    std::optional<AccountRecord> findAccountByEmail(std::string_view email) override {
        std::lock_guard lock(mutex_);
        return findIf(accounts_, [&](const AccountRecord& a) { return a.email == email; });
    }
    std::optional<AccountRecord> findAccountByKey(std::string_view lookup) override {
        std::lock_guard lock(mutex_);
        return findIf(accounts_, [&](const AccountRecord& a) { return a.key.lookup == lookup; });
    }
    bool updateAccountPasswordHash(Id id, std::string_view expectedHash,
                                   std::string_view passwordHash) override {
        std::lock_guard lock(mutex_);
        const auto it = accounts_.find(id);
        if (it == accounts_.end() || it->second.passwordHash != expectedHash) return false;
        it->second.passwordHash = std::string(passwordHash);
        return true;
    }

    // --- Instances --------------------------------------------------------------------------

    InstanceRecord createInstance(const InstanceRecord& instance) override {
        std::lock_guard lock(mutex_);
        if (findIf(instances_, [&](const InstanceRecord& i) { return i.name == instance.name; })) {
            throw Conflict("name");
        }
        InstanceRecord out = instance;
        out.id = ++lastId_;
        instances_[out.id] = out;
        return out;
    }
    std::optional<InstanceRecord> findInstance(std::string_view name) override {
        std::lock_guard lock(mutex_);
        return findIf(instances_, [&](const InstanceRecord& i) { return i.name == name; });
    }
    std::vector<InstanceRecord> listInstances(Id ownerId, const PageRequest& page) override {
        std::lock_guard lock(mutex_);
        return pageOf(instances_, page,
                      [&](const InstanceRecord& i) { return i.ownerId == ownerId; });
    }
    void updateInstance(const InstanceRecord& instance) override {
        std::lock_guard lock(mutex_);
        const auto it = instances_.find(instance.id);
        if (it == instances_.end()) return;
        it->second.description = instance.description;
        it->second.metadata = instance.metadata;
        it->second.updatedAt = instance.updatedAt;
    }
    bool deleteInstance(Id id) override {
        std::lock_guard lock(mutex_);
        if (instances_.erase(id) == 0) return false;
        // Everything in it goes with it, of every facet.
        std::erase_if(apiKeys_, [&](const auto& row) { return row.second.instanceId == id; });
        std::vector<Id> users;
        for (const auto& [userId, u] : users_) {
            if (u.instanceId == id) users.push_back(userId);
        }
        for (const Id userId : users)
            eraseUser(userId);
        std::vector<Id> groups;
        for (const auto& [groupId, g] : groups_) {
            if (g.instanceId == id) groups.push_back(groupId);
        }
        for (const Id groupId : groups)
            eraseGroup(groupId);
        std::erase_if(classes_, [&](const auto& row) { return std::get<0>(row.first) == id; });
        std::erase_if(files_, [&](const auto& row) { return row.second.instanceId == id; });
        return true;
    }

    // --- ApiKeys ----------------------------------------------------------------------------

    ApiKeyRecord createApiKey(const ApiKeyRecord& key) override {
        std::lock_guard lock(mutex_);
        if (lookupTaken(apiKeys_, key.key.lookup)) throw Conflict("key");
        ApiKeyRecord out = key;
        out.id = ++lastId_;
        apiKeys_[out.id] = out;
        return out;
    }
    std::optional<ApiKeyRecord> findApiKey(Id instanceId, Id id) override {
        std::lock_guard lock(mutex_);
        auto found = find(apiKeys_, id);
        if (found && found->instanceId != instanceId) return std::nullopt;
        return found;
    }
    std::optional<ApiKeyRecord> findApiKeyByKey(std::string_view lookup) override {
        std::lock_guard lock(mutex_);
        return findIf(apiKeys_, [&](const ApiKeyRecord& k) { return k.key.lookup == lookup; });
    }
    std::vector<ApiKeyRecord> listApiKeys(Id instanceId, const PageRequest& page) override {
        std::lock_guard lock(mutex_);
        return pageOf(apiKeys_, page,
                      [&](const ApiKeyRecord& k) { return k.instanceId == instanceId; });
    }
    bool updateApiKey(const ApiKeyRecord& key, std::string_view expectedLookup) override {
        std::lock_guard lock(mutex_);
        const auto it = apiKeys_.find(key.id);
        if (it == apiKeys_.end() || it->second.key.lookup != expectedLookup) return false;
        if (key.key.lookup != expectedLookup && lookupTaken(apiKeys_, key.key.lookup)) {
            throw Conflict("key");
        }
        const Id instanceId = it->second.instanceId;
        const Micros createdAt = it->second.createdAt;
        it->second = key;
        it->second.instanceId = instanceId;
        it->second.createdAt = createdAt;
        return true;
    }
    bool deleteApiKey(Id instanceId, Id id) override {
        std::lock_guard lock(mutex_);
        const auto it = apiKeys_.find(id);
        if (it == apiKeys_.end() || it->second.instanceId != instanceId) return false;
        apiKeys_.erase(it);
        return true;
    }

    // --- Users ------------------------------------------------------------------------------

    UserRecord createUser(const UserRecord& user) override {
        std::lock_guard lock(mutex_);
        if (users_.size() >= settings_.maxUsers) {
            // Not an outage (Unavailable): a limit the operator set, answered as such.
            throw HttpError(507, "The store is full (memory-store max_users).");
        }
        if (usernameTaken(user.instanceId, user.username, 0)) throw Conflict("username");
        if (lookupTaken(users_, user.key.lookup)) throw Conflict("key");
        UserRecord out = user;
        out.id = ++lastId_;
        out.profile.id = ++lastId_;
        out.groups.clear();
        users_[out.id] = out;
        return out;
    }
    std::optional<UserRecord> findUserById(Id instanceId, Id id) override {
        std::lock_guard lock(mutex_);
        return userWhere([&](const UserRecord& u) { return u.id == id; }, instanceId);
    }
    std::optional<UserRecord> findUserByUsername(Id instanceId,
                                                 std::string_view username) override {
        std::lock_guard lock(mutex_);
        return userWhere([&](const UserRecord& u) { return u.username == username; }, instanceId);
    }
    std::optional<UserRecord> findUserByKey(Id instanceId, std::string_view lookup) override {
        std::lock_guard lock(mutex_);
        return userWhere([&](const UserRecord& u) { return u.key.lookup == lookup; }, instanceId);
    }
    std::optional<UserRecord> findUserByProfile(Id instanceId, Id profileId) override {
        std::lock_guard lock(mutex_);
        return userWhere([&](const UserRecord& u) { return u.profile.id == profileId; },
                         instanceId);
    }
    bool updateUserPasswordHash(Id userId, std::string_view expectedHash,
                                std::string_view passwordHash) override {
        std::lock_guard lock(mutex_);
        const auto it = users_.find(userId);
        if (it == users_.end() || it->second.passwordHash != expectedHash) return false;
        it->second.passwordHash = std::string(passwordHash);
        it->second.updatedAt += 1; // a copy read before the rehash fails updateUser()
        return true;
    }
    std::vector<UserRecord> listUsers(Id instanceId, const PageRequest& page) override {
        std::lock_guard lock(mutex_);
        return withGroups(
            pageOf(users_, page, [&](const UserRecord& u) { return u.instanceId == instanceId; }));
    }
    bool updateUser(const UserRecord& user, Micros expectedUpdatedAt) override {
        std::lock_guard lock(mutex_);
        const auto it = users_.find(user.id);
        if (it == users_.end() || it->second.updatedAt != expectedUpdatedAt) return false;
        if (usernameTaken(it->second.instanceId, user.username, user.id)) {
            throw Conflict("username");
        }
        if (user.key.lookup != it->second.key.lookup && lookupTaken(users_, user.key.lookup)) {
            throw Conflict("key");
        }
        it->second.username = user.username;
        it->second.passwordHash = user.passwordHash;
        it->second.key = user.key;
        it->second.updatedAt = user.updatedAt;
        return true;
    }
    bool updateProfile(Id userId, const ProfileRecord& profile,
                       std::int64_t expectedRevision) override {
        std::lock_guard lock(mutex_);
        const auto it = users_.find(userId);
        if (it == users_.end() || it->second.profile.revision != expectedRevision) return false;
        ProfileRecord& stored = it->second.profile;
        stored.ownerPermissions = profile.ownerPermissions;
        stored.groupId = profile.groupId;
        stored.groupPermissions = profile.groupPermissions;
        stored.otherPermissions = profile.otherPermissions;
        stored.data = profile.data;
        stored.updatedAt = profile.updatedAt;
        stored.revision = expectedRevision + 1;
        return true;
    }
    bool deleteUser(Id instanceId, Id id) override {
        std::lock_guard lock(mutex_);
        const auto it = users_.find(id);
        if (it == users_.end() || it->second.instanceId != instanceId) return false;
        eraseUser(id);
        return true;
    }

    // --- Groups -----------------------------------------------------------------------------

    GroupRecord createGroup(const GroupRecord& group) override {
        std::lock_guard lock(mutex_);
        GroupRecord out = group;
        out.id = ++lastId_;
        groups_[out.id] = out;
        return out;
    }
    std::optional<GroupRecord> findGroup(Id instanceId, Id id) override {
        std::lock_guard lock(mutex_);
        auto found = find(groups_, id);
        if (found && found->instanceId != instanceId) return std::nullopt;
        return found;
    }
    std::vector<GroupRecord> listGroups(Id instanceId, const PageRequest& page) override {
        std::lock_guard lock(mutex_);
        return pageOf(groups_, page,
                      [&](const GroupRecord& g) { return g.instanceId == instanceId; });
    }
    void updateGroup(const GroupRecord& group) override {
        std::lock_guard lock(mutex_);
        const auto it = groups_.find(group.id);
        if (it == groups_.end()) return;
        it->second.label = group.label;
        it->second.description = group.description;
        it->second.updatedAt = group.updatedAt;
    }
    bool deleteGroup(Id instanceId, Id id) override {
        std::lock_guard lock(mutex_);
        const auto it = groups_.find(id);
        if (it == groups_.end() || it->second.instanceId != instanceId) return false;
        eraseGroup(id);
        return true;
    }
    MembershipResult addMembership(Id userId, Id groupId, std::size_t maxGroupsPerUser) override {
        std::lock_guard lock(mutex_);
        if (users_.count(userId) == 0 || groups_.count(groupId) == 0) {
            return MembershipResult::NotFound;
        }
        if (memberships_.count({userId, groupId}) > 0) return MembershipResult::AlreadyMember;
        std::size_t count = 0;
        for (auto it = memberships_.lower_bound({userId, 0});
             it != memberships_.end() && it->first == userId; ++it) {
            ++count;
        }
        if (count >= maxGroupsPerUser) return MembershipResult::LimitReached;
        memberships_.insert({userId, groupId});
        return MembershipResult::Added;
    }
    bool removeMembership(Id userId, Id groupId) override {
        std::lock_guard lock(mutex_);
        return memberships_.erase({userId, groupId}) > 0;
    }
    std::vector<UserRecord> listGroupMembers(Id groupId, const PageRequest& page) override {
        std::lock_guard lock(mutex_);
        return withGroups(pageOf(users_, page, [&](const UserRecord& u) {
            return memberships_.count({u.id, groupId}) > 0;
        }));
    }

    // --- Classes ----------------------------------------------------------------------------

    std::optional<ClassRecord> findClass(Id instanceId, std::string_view name) override {
        std::lock_guard lock(mutex_);
        const auto it = classes_.find({instanceId, std::string(name)});
        if (it == classes_.end()) return std::nullopt;
        return it->second;
    }
    std::optional<ClassRecord> saveClass(const ClassRecord& record,
                                         std::int64_t expectedRevision) override {
        std::lock_guard lock(mutex_);
        const auto key = std::make_tuple(record.instanceId, record.name);
        const auto it = classes_.find(key);
        if (record.id == 0 || expectedRevision == 0) {
            if (it != classes_.end()) return std::nullopt; // inserted by someone else first
            ClassRecord out = record;
            out.id = ++lastId_;
            out.revision = 1;
            classes_[key] = out;
            return out;
        }
        if (it == classes_.end() || it->second.revision != expectedRevision) return std::nullopt;
        it->second.description = record.description;
        it->second.schema = record.schema;
        it->second.metadata = record.metadata;
        it->second.updatedAt = record.updatedAt;
        it->second.revision = expectedRevision + 1;
        return it->second;
    }

    // --- Files ------------------------------------------------------------------------------

    FileRecord createFile(const FileRecord& file) override {
        std::lock_guard lock(mutex_);
        for (const auto& [id, f] : files_) {
            if (f.token == file.token) throw Conflict("token");
        }
        FileRecord out = file;
        out.id = ++lastId_;
        files_[out.id] = out;
        return out;
    }
    std::optional<FileRecord> findFile(std::string_view token) override {
        std::lock_guard lock(mutex_);
        return findIf(files_, [&](const FileRecord& f) { return f.token == token; });
    }
    bool deleteFile(std::string_view token, Id ownerUserId) override {
        std::lock_guard lock(mutex_);
        return std::erase_if(files_, [&](const auto& row) {
                   return row.second.token == token && row.second.ownerUserId == ownerUserId;
               }) > 0;
    }
    std::size_t deleteFieldFiles(Id instanceId, std::string_view field) override {
        std::lock_guard lock(mutex_);
        return std::erase_if(files_, [&](const auto& row) {
            return row.second.instanceId == instanceId && row.second.field == field;
        });
    }

private:
    template <class Record>
    static std::optional<Record> find(const std::map<Id, Record>& rows, Id id) {
        const auto it = rows.find(id);
        if (it == rows.end()) return std::nullopt;
        return it->second;
    }
    template <class Record, class Match>
    static std::optional<Record> findIf(const std::map<Id, Record>& rows, Match match) {
        for (const auto& [id, row] : rows) {
            if (match(row)) return row;
        }
        return std::nullopt;
    }

    /// Whether a row of `rows` has the key lookup hash `lookup` (unique per kind of key).
    template <class Record>
    static bool lookupTaken(const std::map<Id, Record>& rows, const std::string& lookup) {
        for (const auto& [id, row] : rows) {
            if (row.key.lookup == lookup) return true;
        }
        return false;
    }
    bool usernameTaken(Id instanceId, const std::string& username, Id except) const {
        for (const auto& [id, u] : users_) {
            if (id != except && u.instanceId == instanceId && u.username == username) return true;
        }
        return false;
    }
    template <class Match>
    std::optional<UserRecord> userWhere(Match match, Id instanceId) const {
        for (const auto& [id, u] : users_) {
            if (u.instanceId == instanceId && match(u)) return withGroups({u}).front();
        }
        return std::nullopt;
    }
    /// The users with their groups filled in, in group id order.
    std::vector<UserRecord> withGroups(std::vector<UserRecord> users) const {
        for (auto& user : users) {
            user.groups.clear();
            for (auto it = memberships_.lower_bound({user.id, 0});
                 it != memberships_.end() && it->first == user.id; ++it) {
                if (const auto group = groups_.find(it->second); group != groups_.end()) {
                    user.groups.push_back(group->second);
                }
            }
        }
        return users;
    }
    void eraseUser(Id userId) {
        users_.erase(userId);
        std::erase_if(memberships_, [&](const auto& m) { return m.first == userId; });
        std::erase_if(files_, [&](const auto& row) { return row.second.ownerUserId == userId; });
    }
    void eraseGroup(Id groupId) {
        groups_.erase(groupId);
        std::erase_if(memberships_, [&](const auto& m) { return m.second == groupId; });
    }

    Settings settings_;
    std::mutex mutex_; ///< One lock for everything: each method is atomic.
    Id lastId_ = 0;    ///< One id sequence for every record.
    std::map<std::pair<std::string, std::string>, std::string> values_;
    std::map<Id, AccountRecord> accounts_;
    std::map<Id, InstanceRecord> instances_;
    std::map<Id, ApiKeyRecord> apiKeys_;
    std::map<Id, UserRecord> users_;
    std::map<Id, GroupRecord> groups_;
    std::set<std::pair<Id, Id>> memberships_; ///< (user, group)
    std::map<std::tuple<Id, std::string>, ClassRecord> classes_;
    std::map<Id, FileRecord> files_;
};

} // namespace example

LATCHKEY_PLUGIN(example::MemoryStore, "memory-store", Storage, "1.0.0",
                "Example: the v1.1 API's facets in the host's memory (lost at exit)",
                "example; not for production: one host only, nothing survives a restart")
