// The storage contract, facet by facet, run against every driver a runner names. A storage
// plugin passes it before it is trusted with an identity core. Uses only the installed SDK and
// Catch2: the same file runs in this tree (in_tree_runner.cpp) and, installed, against a
// driver built out of tree (installed_runner.cpp, `latchkey_add_storage_conformance()`).
#include "storage_conformance.hpp"

#include <latchkey/support/storage_facets.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <random>
#include <thread>

using namespace latchkey;

namespace {

AccountRecord account(const std::string& email, const std::string& keyLookup) {
    AccountRecord a;
    a.email = email;
    a.passwordHash = "$argon2id$stub";
    a.key = {keyLookup, "v1:sealed-" + keyLookup};
    a.createdAt = 1'700'000'000'000'000;
    a.updatedAt = a.createdAt;
    return a;
}

InstanceRecord instance(const std::string& name, Id owner) {
    InstanceRecord i;
    i.name = name;
    i.ownerId = owner;
    i.createdAt = i.updatedAt = 1'700'000'000'000'001;
    return i;
}

UserRecord user(Id instanceId, const std::string& username, const std::string& keyLookup) {
    UserRecord u;
    u.instanceId = instanceId;
    u.username = username;
    u.passwordHash = "$argon2id$hash-of-" + username;
    u.key = {keyLookup, "v1:sealed"};
    u.createdAt = u.updatedAt = 1'700'000'000'123'456;
    u.profile.createdAt = u.profile.updatedAt = u.createdAt;
    return u;
}

ApiKeyRecord apiKey(Id instanceId, const std::string& lookup) {
    ApiKeyRecord k;
    k.instanceId = instanceId;
    k.key = {lookup, "v1:sealed"};
    k.allowUserCreate = true;
    k.createdAt = 5;
    return k;
}

/// A directory for one store, removed afterwards.
class ScratchDir {
public:
    ScratchDir() {
        std::random_device seed;
        path_ = std::filesystem::temp_directory_path() /
                ("latchkey-conformance-" + std::to_string(seed()) + std::to_string(seed()));
        std::filesystem::create_directories(path_);
    }
    ~ScratchDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    std::string path() const { return path_.string(); }

private:
    std::filesystem::path path_;
};

/// True when the driver has every facet in `ids`; otherwise says which section it skips.
bool has(const StorageFacets& store, std::initializer_list<const char*> ids) {
    for (const char* id : ids) {
        if (!store.has(id)) {
            WARN("skipped: the driver has no " << id);
            return false;
        }
    }
    return true;
}

const char* const kAccounts = Accounts::kInterfaceId;
const char* const kInstances = Instances::kInterfaceId;
const char* const kApiKeys = ApiKeys::kInterfaceId;
const char* const kUsers = Users::kInterfaceId;

} // namespace

TEST_CASE("A driver provides the storage facets it is expected to", "[conformance]") {
    const auto driver = GENERATE(from_range(latchkey::conformance::driversUnderTest()));
    INFO("driver " << driver.name);
    ScratchDir dir;
    const auto plugin = driver.open(dir.path());
    REQUIRE(plugin);
    const StorageFacets store(*plugin);
    CHECK(store.missing(driver.expectedFacets).empty());
    REQUIRE(store.has(StorageDriver::kInterfaceId));
    CHECK_NOTHROW(store.driver().ping());
}

TEST_CASE("Store conformance", "[conformance]") {
    const auto driver = GENERATE(from_range(latchkey::conformance::driversUnderTest()));
    INFO("driver " << driver.name);
    ScratchDir dir;
    const auto plugin = driver.open(dir.path());
    REQUIRE(plugin);
    const StorageFacets store(*plugin);
    REQUIRE_NOTHROW(store.driver().ping());

    SECTION("key/value area") {
        if (!has(store, {KeyValues::kInterfaceId})) return;
        CHECK_FALSE(store.keyValues().getValue("ns", "k"));
        CHECK(store.keyValues().putValueIfAbsent("ns", "k", "one"));
        CHECK_FALSE(store.keyValues().putValueIfAbsent("ns", "k", "two"));
        CHECK(store.keyValues().getValue("ns", "k") == "one");
        store.keyValues().putValue("ns", "k", "three");
        CHECK(store.keyValues().getValue("ns", "k") == "three");
        CHECK_FALSE(store.keyValues().getValue("other", "k"));
        CHECK(store.keyValues().deleteValue("ns", "k"));
        CHECK_FALSE(store.keyValues().deleteValue("ns", "k"));
        store.keyValues().putValue("ns", "user/1/2", "a");
        store.keyValues().putValue("ns", "user/1/10", "b");
        store.keyValues().putValue("ns", "user/10/1", "c");
        store.keyValues().putValue("ns", "user_/x", "d");
        store.keyValues().putValue("other", "user/1/3", "e");
        const auto listed = store.keyValues().listValues("ns", "user/1/");
        REQUIRE(listed.size() == 2);
        CHECK(listed[0] == std::make_pair(std::string("user/1/10"), std::string("b")));
        CHECK(listed[1].first == "user/1/2");
        CHECK(store.keyValues().listValues("ns", "user/").size() == 3);
        CHECK(store.keyValues().compareAndSetValue("ns", "user/1/2", "a", "a2"));
        CHECK_FALSE(store.keyValues().compareAndSetValue("ns", "user/1/2", "a", "a3")); // stale
        CHECK(store.keyValues().getValue("ns", "user/1/2") == "a2");
        CHECK_FALSE(store.keyValues().compareAndSetValue("ns", "absent", "", "x"));
        // Setting the value it already has succeeds (MySQL counts such an UPDATE as 0 rows).
        CHECK(store.keyValues().compareAndSetValue("ns", "user/1/2", "a2", "a2"));
        CHECK_FALSE(store.keyValues().compareAndSetValue("ns", "user/1/2", "stale", "stale"));
        // Byte order, whatever the database's locale: an ICU or glibc collation would ignore
        // punctuation and fold case, and this prefix would find "role-x" and "ROLE:1" too.
        store.keyValues().putValue("roles", "role:1", "a");
        store.keyValues().putValue("roles", "role:2", "b");
        store.keyValues().putValue("roles", "role-x", "c");
        store.keyValues().putValue("roles", "ROLE:1", "d");
        store.keyValues().putValue("roles", "role;", "e");
        const auto roles = store.keyValues().listValues("roles", "role:");
        REQUIRE(roles.size() == 2);
        CHECK(roles[0].first == "role:1");
        CHECK(roles[1].first == "role:2");
        CHECK(store.keyValues().listValues("roles", "").size() == 5);
    }

    SECTION("key/value area: concurrent writers of one new key all succeed") {
        if (!has(store, {KeyValues::kInterfaceId})) return;
        std::vector<std::thread> writers;
        std::atomic<int> failures{0};
        for (int t = 0; t < 8; ++t) {
            writers.emplace_back([&store, &failures, t] {
                try {
                    for (int i = 0; i < 10; ++i) {
                        store.keyValues().putValue("race", "key-" + std::to_string(i),
                                                   std::to_string(t));
                    }
                } catch (const std::exception&) {
                    ++failures;
                }
            });
        }
        for (auto& w : writers)
            w.join();
        CHECK(failures == 0);
        CHECK(store.keyValues().listValues("race", "key-").size() == 10);
    }

    SECTION("accounts: round trip, lookups, unique email") {
        if (!has(store, {kAccounts})) return;
        const AccountRecord created =
            store.accounts().createAccount(account("a@example.com", "lk-a"));
        CHECK(created.id > 0);
        const auto byEmail = store.accounts().findAccountByEmail("a@example.com");
        REQUIRE(byEmail);
        CHECK(byEmail->id == created.id);
        CHECK(byEmail->key.sealed == "v1:sealed-lk-a");
        CHECK(byEmail->createdAt == 1'700'000'000'000'000);
        CHECK(byEmail->active);
        CHECK(store.accounts().findAccountByKey("lk-a")->email == "a@example.com");
        CHECK(store.accounts().findAccountById(created.id)->email == "a@example.com");
        CHECK_FALSE(store.accounts().findAccountByKey("nope"));
        CHECK_THROWS_AS(store.accounts().createAccount(account("a@example.com", "lk-b")), Conflict);
        try {
            store.accounts().createAccount(account("a@example.com", "lk-c"));
            FAIL("a second account with one email");
        } catch (const Conflict& e) {
            CHECK(e.field() == "email"); // the core says which field is taken
        }
        // A rehash replaces only the hash it was computed from.
        CHECK(store.accounts().updateAccountPasswordHash(created.id, "$argon2id$stub",
                                                         "$argon2id$new"));
        CHECK_FALSE(store.accounts().updateAccountPasswordHash(created.id, "$argon2id$stub",
                                                               "$argon2id$x"));
        CHECK(store.accounts().findAccountById(created.id)->passwordHash == "$argon2id$new");
        CHECK(store.accounts().findAccountById(created.id)->key.lookup == "lk-a");
    }

    SECTION("instances: unique names, keyset pages, delete removes everything in them") {
        if (!has(store, {kAccounts, kInstances, kApiKeys, kUsers})) return;
        const Id owner = store.accounts().createAccount(account("o@example.com", "lk-o")).id;
        const Id other = store.accounts().createAccount(account("p@example.com", "lk-p")).id;
        std::vector<Id> ids;
        for (int i = 0; i < 5; ++i) {
            ids.push_back(
                store.instances().createInstance(instance("inst-" + std::to_string(i), owner)).id);
        }
        store.instances().createInstance(instance("not-mine", other));
        CHECK_THROWS_AS(store.instances().createInstance(instance("inst-0", other)), Conflict);
        try {
            store.instances().createInstance(instance("inst-1", other));
            FAIL("a second instance with one name");
        } catch (const Conflict& e) {
            CHECK(e.field() == "name");
        }

        PageRequest page;
        page.limit = 2;
        auto first = store.instances().listInstances(owner, page);
        REQUIRE(first.size() == 2);
        CHECK(first[0].id == ids[0]);
        page.after = first[1].id;
        auto second = store.instances().listInstances(owner, page);
        REQUIRE(second.size() == 2);
        CHECK(second[0].id == ids[2]);
        page.after = ids[4];
        page.ascending = false;
        page.limit = 10;
        auto down = store.instances().listInstances(owner, page);
        REQUIRE(down.size() == 4);
        CHECK(down[0].id == ids[3]);
        // Newest first from the top: no bound at all.
        PageRequest newest;
        newest.ascending = false;
        newest.limit = 2;
        const auto top = store.instances().listInstances(owner, newest);
        REQUIRE(top.size() == 2);
        CHECK(top[0].id == ids[4]);
        CHECK(top[1].id == ids[3]);

        const Id target = ids[0];
        const Id keyId = store.apiKeys().createApiKey(apiKey(target, "lk-key")).id;
        const Id u1 = store.users().createUser(user(target, "u1", "lk-u1")).id;
        // Whatever else the driver keeps of the instance goes with it too.
        std::optional<Id> groupId;
        if (store.has(Groups::kInterfaceId)) {
            GroupRecord g;
            g.instanceId = target;
            g.label = "doomed";
            groupId = store.groups().createGroup(g).id;
            CHECK(store.groups().addMembership(u1, *groupId, 2) == MembershipResult::Added);
        }
        if (store.has(Classes::kInterfaceId)) {
            ClassRecord c;
            c.instanceId = target;
            c.name = "user_profile";
            REQUIRE(store.classes().saveClass(c, 0));
        }
        const std::string fileToken(32, '7');
        if (store.has(Files::kInterfaceId)) {
            FileRecord f;
            f.instanceId = target;
            f.field = "avatar";
            f.token = fileToken;
            f.data = "bytes";
            store.files().createFile(f); // no owner: only the instance holds it
        }
        CHECK(store.instances().deleteInstance(target));
        CHECK_FALSE(store.instances().deleteInstance(target));
        CHECK_FALSE(store.instances().findInstance("inst-0"));
        CHECK_FALSE(store.apiKeys().findApiKey(target, keyId));
        CHECK_FALSE(store.apiKeys().findApiKeyByKey("lk-key"));
        CHECK_FALSE(store.users().findUserByKey(target, "lk-u1"));
        if (groupId) CHECK_FALSE(store.groups().findGroup(target, *groupId));
        if (store.has(Classes::kInterfaceId)) {
            CHECK_FALSE(store.classes().findClass(target, "user_profile"));
        }
        if (store.has(Files::kInterfaceId)) CHECK_FALSE(store.files().findFile(fileToken));
        // The name is free again, and nothing of the old instance shows in the new one.
        const Id again = store.instances().createInstance(instance("inst-0", owner)).id;
        CHECK(store.users().listUsers(again, PageRequest{}).empty());
        CHECK(store.apiKeys().listApiKeys(again, PageRequest{}).empty());
    }

    SECTION("API keys: flags round trip, lookup by key, pages per instance") {
        if (!has(store, {kAccounts, kInstances, kApiKeys})) return;
        const Id owner = store.accounts().createAccount(account("k@example.com", "lk-k")).id;
        const Id a = store.instances().createInstance(instance("keys-a", owner)).id;
        const Id b = store.instances().createInstance(instance("keys-b", owner)).id;
        ApiKeyRecord record = apiKey(a, "lk-1");
        record.ignoreAcl = true;
        record.description = "ci";
        const ApiKeyRecord created = store.apiKeys().createApiKey(record);
        store.apiKeys().createApiKey(apiKey(b, "lk-2"));
        const auto found = store.apiKeys().findApiKeyByKey("lk-1");
        REQUIRE(found);
        CHECK(found->instanceId == a);
        CHECK(found->ignoreAcl);
        CHECK(found->allowUserCreate);
        CHECK_FALSE(found->allowGroupCreate);
        CHECK(found->description == "ci");
        CHECK_FALSE(store.apiKeys().findApiKey(b, created.id));
        CHECK(store.apiKeys().listApiKeys(a, PageRequest{}).size() == 1);
    }

    SECTION("users: unique per instance, profile created with the user, lookups") {
        if (!has(store, {kAccounts, kInstances, kUsers})) return;
        const Id owner = store.accounts().createAccount(account("u@example.com", "lk-uo")).id;
        const Id a = store.instances().createInstance(instance("users-a", owner)).id;
        const Id b = store.instances().createInstance(instance("users-b", owner)).id;
        const UserRecord created = store.users().createUser(user(a, "gordon", "lk-g"));
        CHECK(created.id > 0);
        CHECK(created.profile.id > 0);
        CHECK_THROWS_AS(store.users().createUser(user(a, "gordon", "lk-g2")), Conflict);
        try {
            store.users().createUser(user(a, "gordon", "lk-g5"));
            FAIL("a second user with one name");
        } catch (const Conflict& e) {
            CHECK(e.field() == "username");
        }
        CHECK_NOTHROW(store.users().createUser(user(b, "gordon", "lk-g3")));
        // Exact names: another case is another user.
        CHECK_NOTHROW(store.users().createUser(user(a, "Gordon", "lk-g4")));

        const auto found = store.users().findUserByUsername(a, "gordon");
        REQUIRE(found);
        CHECK(found->id == created.id);
        CHECK(found->profile.id == created.profile.id);
        CHECK(found->profile.revision == 1);
        CHECK(found->profile.ownerPermissions == "full");
        CHECK_FALSE(found->profile.groupId);
        CHECK(found->profile.data == "{}");
        CHECK(found->createdAt == 1'700'000'000'123'456);
        CHECK(store.users().findUserByKey(a, "lk-g")->id == created.id);
        CHECK_FALSE(store.users().findUserByKey(b, "lk-g"));
        CHECK(store.users().findUserById(a, created.id)->username == "gordon");
        CHECK(store.users().findUserByProfile(a, created.profile.id)->id == created.id);
        CHECK_FALSE(store.users().findUserByProfile(b, created.profile.id));
        CHECK_FALSE(store.users().findUserById(b, created.id));

        CHECK(store.users().updateUserPasswordHash(created.id, "$argon2id$hash-of-gordon",
                                                   "$argon2id$rehashed"));
        CHECK_FALSE(store.users().updateUserPasswordHash(created.id, "$argon2id$hash-of-gordon",
                                                         "$argon2id$stale"));
        const auto after = store.users().findUserById(a, created.id);
        CHECK(after->passwordHash == "$argon2id$rehashed");
        CHECK(after->key.lookup == "lk-g");
        // A copy read before the rehash no longer matches: writing it back would undo it.
        CHECK(after->updatedAt > created.updatedAt);
        auto stale = *found;
        stale.username = "gordon-renamed";
        CHECK_FALSE(store.users().updateUser(stale, stale.updatedAt));
        CHECK(store.users().findUserById(a, created.id)->passwordHash == "$argon2id$rehashed");
    }

    SECTION("users: list pages, update, profile revisions, delete") {
        if (!has(store, {kAccounts, kInstances, kUsers})) return;
        const Id owner = store.accounts().createAccount(account("l@example.com", "lk-lo")).id;
        const Id inst = store.instances().createInstance(instance("listing", owner)).id;
        std::vector<Id> ids;
        for (int i = 0; i < 5; ++i) {
            ids.push_back(
                store.users()
                    .createUser(user(inst, "user-" + std::to_string(i), "lk-l" + std::to_string(i)))
                    .id);
        }
        PageRequest page;
        page.limit = 2;
        page.after = ids[1];
        const auto listed = store.users().listUsers(inst, page);
        REQUIRE(listed.size() == 2);
        CHECK(listed[0].id == ids[2]);
        CHECK(listed[1].username == "user-3");

        UserRecord changed = *store.users().findUserById(inst, ids[0]);
        const Micros before = changed.updatedAt;
        changed.username = "renamed";
        changed.key = {"lk-new", "v1:new"};
        changed.updatedAt = before + 1;
        CHECK(store.users().updateUser(changed, before));
        CHECK_FALSE(store.users().findUserByKey(inst, "lk-l0"));
        CHECK(store.users().findUserByKey(inst, "lk-new")->username == "renamed");
        // A write based on an old read loses instead of undoing the newer one.
        UserRecord stale = changed;
        stale.key = {"lk-stale", "v1:stale"};
        CHECK_FALSE(store.users().updateUser(stale, before));
        CHECK(store.users().findUserByKey(inst, "lk-new"));
        changed.username = "user-1";
        changed.updatedAt = before + 2;
        CHECK_THROWS_AS(store.users().updateUser(changed, before + 1), Conflict);

        ProfileRecord profile = store.users().findUserById(inst, ids[0])->profile;
        profile.data = R"({"nick": "g"})";
        CHECK(store.users().updateProfile(ids[0], profile, 1));
        CHECK_FALSE(store.users().updateProfile(ids[0], profile, 1)); // stale revision
        const auto reread = store.users().findUserById(inst, ids[0]);
        CHECK(reread->profile.revision == 2);
        CHECK(reread->profile.data == R"({"nick": "g"})");

        CHECK(store.users().deleteUser(inst, ids[0]));
        CHECK_FALSE(store.users().deleteUser(inst, ids[0]));
        CHECK_FALSE(store.users().findUserById(inst, ids[0]));
    }

    SECTION("groups: CRUD, membership both ways, the per-user limit") {
        if (!has(store, {kAccounts, kInstances, kUsers, Groups::kInterfaceId})) return;
        const Id owner = store.accounts().createAccount(account("g@example.com", "lk-go")).id;
        const Id inst = store.instances().createInstance(instance("grouped", owner)).id;
        const Id alice = store.users().createUser(user(inst, "alice", "lk-alice")).id;
        const Id bob = store.users().createUser(user(inst, "bob", "lk-bob")).id;
        GroupRecord g;
        g.instanceId = inst;
        g.label = "admins";
        const GroupRecord admins = store.groups().createGroup(g);
        g.label = "users";
        const GroupRecord users = store.groups().createGroup(g);
        g.label = "third";
        const GroupRecord third = store.groups().createGroup(g);

        CHECK(store.groups().addMembership(alice, admins.id, 2) == MembershipResult::Added);
        CHECK(store.groups().addMembership(alice, admins.id, 2) == MembershipResult::AlreadyMember);
        CHECK(store.groups().addMembership(alice, users.id, 2) == MembershipResult::Added);
        CHECK(store.groups().addMembership(alice, third.id, 2) == MembershipResult::LimitReached);
        CHECK(store.groups().addMembership(bob, users.id, 2) == MembershipResult::Added);
        CHECK(store.groups().addMembership(bob, 999999, 2) == MembershipResult::NotFound);
        CHECK(store.groups().addMembership(999999, users.id, 2) == MembershipResult::NotFound);

        const auto aliceRead = store.users().findUserById(inst, alice);
        REQUIRE(aliceRead->groups.size() == 2);
        CHECK(aliceRead->groups[0].label == "admins");
        CHECK(aliceRead->groups[1].label == "users");
        const auto members = store.groups().listGroupMembers(users.id, PageRequest{});
        REQUIRE(members.size() == 2);
        CHECK(members[0].username == "alice");
        CHECK(members[1].groups.size() == 1);

        GroupRecord renamed = admins;
        renamed.label = "root";
        store.groups().updateGroup(renamed);
        CHECK(store.groups().findGroup(inst, admins.id)->label == "root");
        CHECK(store.groups().listGroups(inst, PageRequest{}).size() == 3);

        CHECK(store.groups().removeMembership(alice, users.id));
        CHECK_FALSE(store.groups().removeMembership(alice, users.id));
        CHECK(store.groups().deleteGroup(inst, admins.id));
        CHECK_FALSE(store.groups().findGroup(inst, admins.id));
        CHECK(store.users().findUserById(inst, alice)->groups.empty());
        // Deleting a user removes its memberships.
        CHECK(store.users().deleteUser(inst, bob));
        CHECK(store.groups().listGroupMembers(users.id, PageRequest{}).empty());
    }

    SECTION("classes: insert once, then revision-checked updates") {
        if (!has(store, {kAccounts, kInstances, Classes::kInterfaceId})) return;
        const Id owner = store.accounts().createAccount(account("c@example.com", "lk-co")).id;
        const Id inst = store.instances().createInstance(instance("classy", owner)).id;
        CHECK_FALSE(store.classes().findClass(inst, "user_profile"));
        ClassRecord c;
        c.instanceId = inst;
        c.name = "user_profile";
        c.schema = R"([{"name": "nick", "type": "string"}])";
        const auto saved = store.classes().saveClass(c, 0);
        REQUIRE(saved);
        CHECK(saved->revision == 1);
        CHECK_FALSE(store.classes().saveClass(c, 0)); // a second insert loses
        ClassRecord next = *store.classes().findClass(inst, "user_profile");
        next.schema = "[]";
        CHECK(store.classes().saveClass(next, 1)->revision == 2);
        CHECK_FALSE(store.classes().saveClass(next, 1));
        CHECK(store.classes().findClass(inst, "user_profile")->schema == "[]");
    }

    SECTION("files: bytes round trip, found by token, deleted with their owner") {
        if (!has(store, {kAccounts, kInstances, kUsers, Files::kInterfaceId})) return;
        const Id owner = store.accounts().createAccount(account("f@example.com", "lk-fo")).id;
        const Id inst = store.instances().createInstance(instance("filed", owner)).id;
        const Id uid = store.users().createUser(user(inst, "uploader", "lk-up")).id;
        FileRecord f;
        f.instanceId = inst;
        f.ownerUserId = uid;
        f.field = "avatar";
        f.token = "0123456789abcdef0123456789abcdef";
        f.filename = "avatar.png";
        f.contentType = "image/png";
        f.data = std::string("\x89PNG\r\n\x1a\n\0\0binary", 16);
        store.files().createFile(f);
        const auto found = store.files().findFile(f.token);
        REQUIRE(found);
        CHECK(found->data == f.data);
        CHECK(found->ownerUserId == uid);
        CHECK(found->contentType == "image/png");
        CHECK(store.users().deleteUser(inst, uid));
        CHECK_FALSE(store.files().findFile(f.token));
        const Id other = store.users().createUser(user(inst, "other", "lk-other")).id;
        f.ownerUserId = other;
        store.files().createFile(f);
        CHECK_FALSE(store.files().deleteFile(f.token, uid + 1000)); // only its owner's file goes
        CHECK(store.files().deleteFile(f.token, other));
        CHECK_FALSE(store.files().deleteFile(f.token, other));
        f.token = "fedcba9876543210fedcba9876543210";
        store.files().createFile(f);
        f.token = "00000000000000000000000000000000";
        f.field = "cv";
        store.files().createFile(f);
        CHECK(store.files().deleteFieldFiles(inst, "avatar") == 1);
        CHECK_FALSE(store.files().findFile("fedcba9876543210fedcba9876543210"));
        CHECK(store.files().findFile("00000000000000000000000000000000")->field == "cv");
        // A file of the default largest size (1 MiB), every byte value included.
        std::string big(std::size_t{1} << 20, '\0');
        for (std::size_t i = 0; i < big.size(); ++i)
            big[i] = static_cast<char>(i * 7 % 256);
        f.token = "11111111111111111111111111111111";
        f.data = big;
        store.files().createFile(f);
        CHECK(store.files().findFile(f.token)->data == big);
    }

    SECTION("API keys and instances: update and delete") {
        if (!has(store, {kAccounts, kInstances, kApiKeys})) return;
        const Id owner = store.accounts().createAccount(account("a2@example.com", "lk-a2")).id;
        InstanceRecord inst = store.instances().createInstance(instance("updatable", owner));
        inst.description = "new words";
        inst.metadata = R"({"k": 1})";
        store.instances().updateInstance(inst);
        CHECK(store.instances().findInstance("updatable")->description == "new words");
        ApiKeyRecord key = store.apiKeys().createApiKey(apiKey(inst.id, "lk-old"));
        key.key = {"lk-reset", "v1:reset"};
        key.ignoreAcl = true;
        CHECK(store.apiKeys().updateApiKey(key, "lk-old"));
        CHECK_FALSE(store.apiKeys().updateApiKey(key, "lk-old")); // the key was reset meanwhile
        CHECK(store.apiKeys().updateApiKey(key, "lk-reset")); // no change at all is still a success
        CHECK_FALSE(store.apiKeys().findApiKeyByKey("lk-old"));
        CHECK(store.apiKeys().findApiKeyByKey("lk-reset")->ignoreAcl);
        CHECK(store.apiKeys().deleteApiKey(inst.id, key.id));
        CHECK_FALSE(store.apiKeys().deleteApiKey(inst.id, key.id));
    }

    SECTION("sessions: found by hash, touched, ended one by one, per user, or when stale") {
        if (!has(store, {kAccounts, kInstances, kUsers, Sessions::kInterfaceId})) return;
        const Id owner = store.accounts().createAccount(account("s@example.com", "lk-so")).id;
        const Id inst = store.instances().createInstance(instance("sessions", owner)).id;
        const Id uid = store.users().createUser(user(inst, "sam", "lk-sam")).id;
        SessionRecord s;
        s.idHash = std::string(64, 'a');
        s.instanceId = inst;
        s.userId = uid;
        s.createdAt = s.lastSeenAt = 1000;
        s.expiresAt = 5000;
        store.sessions().createSession(s);
        s.idHash = std::string(64, 'b');
        store.sessions().createSession(s);
        s.idHash = std::string(64, 'c');
        s.lastSeenAt = 100; // idle
        store.sessions().createSession(s);
        const auto found = store.sessions().findSession(std::string(64, 'a'));
        REQUIRE(found);
        CHECK(found->userId == uid);
        CHECK(found->expiresAt == 5000);
        store.sessions().touchSession(std::string(64, 'a'), 2000);
        CHECK(store.sessions().findSession(std::string(64, 'a'))->lastSeenAt == 2000);
        CHECK(store.sessions().deleteStaleSessions(3000, 500) == 1); // only the idle one
        CHECK(store.sessions().deleteSession(std::string(64, 'b')));
        CHECK_FALSE(store.sessions().deleteSession(std::string(64, 'b')));
        s.idHash = std::string(64, 'd');
        s.lastSeenAt = 2000;
        store.sessions().createSession(s);
        CHECK(store.sessions().deleteUserSessions(uid) == 2);
        CHECK_FALSE(store.sessions().findSession(std::string(64, 'a')));
        s.idHash = std::string(64, 'e');
        store.sessions().createSession(s);
        CHECK(store.sessions().deleteStaleSessions(5000, 0) == 1); // past its absolute limit
        // A user's sessions go with the user, and an instance's with the instance.
        s.idHash = std::string(64, 'f');
        store.sessions().createSession(s);
        CHECK(store.users().deleteUser(inst, uid));
        CHECK_FALSE(store.sessions().findSession(std::string(64, 'f')));
        const Id other = store.users().createUser(user(inst, "other", "lk-sam2")).id;
        s.idHash = std::string(64, 'g');
        s.userId = other;
        store.sessions().createSession(s);
        CHECK(store.instances().deleteInstance(inst));
        CHECK_FALSE(store.sessions().findSession(std::string(64, 'g')));
    }

    SECTION("login tokens: one live token per user, single use, expiring") {
        if (!has(store, {kAccounts, kInstances, kUsers, LoginTokens::kInterfaceId})) return;
        const Id owner = store.accounts().createAccount(account("t@example.com", "lk-to")).id;
        const Id inst = store.instances().createInstance(instance("tokens", owner)).id;
        const Id uid = store.users().createUser(user(inst, "tina", "lk-tina")).id;
        const Id other = store.users().createUser(user(inst, "otto", "lk-otto")).id;
        LoginTokenRecord t;
        t.userId = uid;
        t.purpose = "invite";
        t.createdAt = 1;
        t.expiresAt = 1000;
        t.tokenHash = std::string(64, '1');
        store.loginTokens().replaceLoginToken(t);
        t.tokenHash = std::string(64, '2');
        store.loginTokens().replaceLoginToken(t); // voids token 1
        CHECK_FALSE(store.loginTokens().consumeLoginToken(uid, std::string(64, '1'), 10));
        CHECK_FALSE(
            store.loginTokens().consumeLoginToken(other, std::string(64, '2'), 10)); // not theirs
        CHECK_FALSE(
            store.loginTokens().consumeLoginToken(uid, std::string(64, '2'), 1000)); // expired
        CHECK(store.loginTokens().consumeLoginToken(uid, std::string(64, '2'), 999) == "invite");
        CHECK_FALSE(store.loginTokens().consumeLoginToken(uid, std::string(64, '2'), 999)); // used
        // Racing uses of one token: exactly one wins.
        t.tokenHash = std::string(64, '3');
        store.loginTokens().replaceLoginToken(t);
        std::atomic<int> won{0};
        std::vector<std::thread> racers;
        for (int i = 0; i < 8; ++i) {
            racers.emplace_back([&] {
                if (store.loginTokens().consumeLoginToken(uid, std::string(64, '3'), 5)) ++won;
            });
        }
        for (auto& r : racers)
            r.join();
        CHECK(won == 1);
        t.tokenHash = std::string(64, '5');
        store.loginTokens().replaceLoginToken(t);
        CHECK(store.loginTokens().revokeLoginTokens(uid) == 1);
        CHECK_FALSE(store.loginTokens().consumeLoginToken(uid, std::string(64, '5'), 5));
        // Deleting the user removes its tokens and sessions.
        t.tokenHash = std::string(64, '4');
        store.loginTokens().replaceLoginToken(t);
        CHECK(store.users().deleteUser(inst, uid));
        CHECK_FALSE(store.loginTokens().consumeLoginToken(uid, std::string(64, '4'), 5));
    }

    SECTION("user states: inactive until activated, per instance, gone with the user") {
        if (!has(store, {kAccounts, kInstances, kUsers, UserStates::kInterfaceId})) return;
        const Id owner = store.accounts().createAccount(account("st@example.com", "lk-st")).id;
        const Id inst = store.instances().createInstance(instance("states", owner)).id;
        const Id elsewhere = store.instances().createInstance(instance("states-b", owner)).id;
        const Id ann = store.users().createUser(user(inst, "ann", "lk-ann")).id;
        const Id bob = store.users().createUser(user(inst, "bob", "lk-bob")).id;
        const Id cyd = store.users().createUser(user(elsewhere, "cyd", "lk-cyd")).id;
        UserStates& states = store.userStates();
        CHECK(states.isUserActive(ann)); // active unless recorded otherwise
        CHECK(states.listInactiveUsers(inst).empty());
        CHECK(states.setUserActive(inst, bob, false));
        CHECK(states.setUserActive(inst, bob, false)); // idempotent
        CHECK(states.setUserActive(inst, ann, false));
        CHECK(states.setUserActive(elsewhere, cyd, false));
        CHECK_FALSE(states.setUserActive(elsewhere, ann, false)); // not a user of that instance
        CHECK_FALSE(states.setUserActive(inst, 999'999, false));  // no such user
        CHECK_FALSE(states.isUserActive(bob));
        CHECK(states.listInactiveUsers(inst) == std::vector<Id>{ann, bob});
        CHECK(states.setUserActive(inst, ann, true));
        CHECK(states.setUserActive(inst, ann, true));
        CHECK(states.isUserActive(ann));
        CHECK(states.listInactiveUsers(inst) == std::vector<Id>{bob});
        // The state goes with its user, and with its instance.
        CHECK(store.users().deleteUser(inst, bob));
        CHECK(states.listInactiveUsers(inst).empty());
        CHECK(store.instances().deleteInstance(elsewhere));
        CHECK(states.listInactiveUsers(elsewhere).empty());
    }

    SECTION("social identities: unique per instance and backend, created with the user") {
        if (!has(store, {kAccounts, kInstances, kUsers, SocialIdentities::kInterfaceId})) return;
        const Id owner = store.accounts().createAccount(account("so@example.com", "lk-soc")).id;
        const Id inst = store.instances().createInstance(instance("social", owner)).id;
        const Id other = store.instances().createInstance(instance("social-2", owner)).id;
        SocialIdentityRecord id;
        id.instanceId = inst;
        id.backend = "facebook";
        id.uid = "10001";
        id.createdAt = 7;
        const UserRecord created =
            store.socialIdentities().createSocialUser(user(inst, "fb-user", "lk-fb"), id);
        CHECK(created.id > 0);
        CHECK(store.users().findUserById(inst, created.id)->username == "fb-user");
        CHECK(store.socialIdentities().findSocialIdentity(inst, "facebook", "10001") == created.id);
        CHECK_FALSE(store.socialIdentities().findSocialIdentity(inst, "google-oauth2", "10001"));
        CHECK_FALSE(store.socialIdentities().findSocialIdentity(other, "facebook", "10001"));
        // The same identity again: Conflict, and no user left behind.
        CHECK_THROWS_AS(
            store.socialIdentities().createSocialUser(user(inst, "fb-user-2", "lk-fb2"), id),
            Conflict);
        CHECK_FALSE(store.users().findUserByUsername(inst, "fb-user-2"));
        // A taken username: Conflict, and no identity left behind.
        SocialIdentityRecord google = id;
        google.backend = "google-oauth2";
        CHECK_THROWS_AS(
            store.socialIdentities().createSocialUser(user(inst, "fb-user", "lk-fb3"), google),
            Conflict);
        CHECK_FALSE(store.socialIdentities().findSocialIdentity(inst, "google-oauth2", "10001"));
        // Linking to an existing user, once.
        google.userId = created.id;
        store.socialIdentities().linkSocialIdentity(google);
        CHECK(store.socialIdentities().findSocialIdentity(inst, "google-oauth2", "10001") ==
              created.id);
        CHECK_THROWS_AS(store.socialIdentities().linkSocialIdentity(google), Conflict);
        // The same uid in another instance is another identity.
        const Id elsewhere = store.users().createUser(user(other, "x", "lk-x")).id;
        SocialIdentityRecord moved = id;
        moved.instanceId = other;
        moved.userId = elsewhere;
        store.socialIdentities().linkSocialIdentity(moved);
        CHECK(store.socialIdentities().findSocialIdentity(other, "facebook", "10001") == elsewhere);
        // Deleting the user or the instance removes its identities.
        CHECK(store.users().deleteUser(inst, created.id));
        CHECK_FALSE(store.socialIdentities().findSocialIdentity(inst, "facebook", "10001"));
        CHECK_FALSE(store.socialIdentities().findSocialIdentity(inst, "google-oauth2", "10001"));
        CHECK(store.instances().deleteInstance(other));
        CHECK_FALSE(store.socialIdentities().findSocialIdentity(other, "facebook", "10001"));
    }

    SECTION("racing writers: exactly one of eight threads wins each username") {
        if (!has(store, {kAccounts, kInstances, kUsers, kApiKeys})) return;
        const Id owner = store.accounts().createAccount(account("r@example.com", "lk-r")).id;
        const Id inst = store.instances().createInstance(instance("race", owner)).id;
        std::atomic<int> wins{0};
        std::atomic<int> conflicts{0};
        std::atomic<int> other{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < 8; ++t) {
            threads.emplace_back([&, t] {
                for (int n = 0; n < 10; ++n) {
                    try {
                        store.users().createUser(
                            user(inst, "name-" + std::to_string(n),
                                 "lk-" + std::to_string(t) + "-" + std::to_string(n)));
                        ++wins;
                    } catch (const Conflict&) {
                        ++conflicts;
                    } catch (...) {
                        ++other;
                    }
                }
            });
        }
        for (auto& thread : threads)
            thread.join();
        CHECK(wins == 10);
        CHECK(conflicts == 70);
        CHECK(other == 0);
        CHECK(store.apiKeys().listApiKeys(inst, PageRequest{}).empty());
    }
}
