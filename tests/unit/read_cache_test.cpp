// The per-host caches: the generic ReadCache (time-to-live from the read, byte budget, reads
// racing invalidations), the render memo, and the cached store's inline attempts on a real
// SQLite store.
#include "core/cached_storage.hpp"
#include "core/inline_attempt.hpp"
#include "core/render_memo.hpp"
#include "support/in_process.hpp"
#include "support/temp_dir.hpp"

#include <latchkey/storage.hpp>
#include <latchkey/support/storage_facets.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <functional>
#include <stdexcept>
#include <thread>

using namespace latchkey;
using namespace latchkey::core;

namespace {

using Cache = ReadCache<std::string, std::string>;

/// A monotonic clock the test moves.
struct TestTime {
    std::int64_t now = 1'000'000;
    MonotonicMicros source() {
        return [this] { return now; };
    }
};

std::shared_ptr<const std::string> text(const std::string& value) {
    return std::make_shared<const std::string>(value);
}

} // namespace

TEST_CASE("A cache entry lives for the time-to-live counted from before its read", "[cache]") {
    TestTime time;
    Cache cache(CacheLimits{std::chrono::seconds(1), 1 << 20}, time.source());
    const auto ticket = cache.ticket("k"); // the read begins
    time.now += 300'000;                   // and takes 300 ms
    cache.put("k", text("v"), 1, ticket);
    REQUIRE(cache.find("k"));
    CHECK(*cache.find("k") == "v");
    time.now += 449'999; // 749.999 ms after the read began
    CHECK(cache.find("k"));
    time.now += 250'000; // 999.999 ms: old enough to be read again by one lookup (see below)
    CHECK_FALSE(cache.find("k"));
    CHECK(cache.find("k")); // ... while the others keep it
    time.now += 1;          // one second after the read: gone
    CHECK_FALSE(cache.find("k"));
    const CacheStats stats = cache.stats();
    CHECK(stats.hits == 4);
    CHECK(stats.misses == 1);
    CHECK(stats.refreshes == 1);
    CHECK(stats.entries == 0);
}

TEST_CASE("A read that overlapped an invalidation is not kept", "[cache]") {
    TestTime time;
    Cache cache(CacheLimits{std::chrono::seconds(60), 1 << 20}, time.source());
    SECTION("erase") {
        const auto ticket = cache.ticket("k");
        cache.erase("k"); // a write on this host, committed while the read ran
        cache.put("k", text("old"), 1, ticket);
        CHECK_FALSE(cache.find("k"));
    }
    SECTION("eraseTagged, eraseIf, clear") {
        const auto beforeA = cache.ticket("a");
        cache.put("a", text("1"), 1, beforeA, Id{7});
        cache.put("b", text("2"), 1, cache.ticket("b"), Id{8});
        cache.put("c", text("3"), 1, cache.ticket("c"));
        cache.eraseTagged(7);
        CHECK_FALSE(cache.find("a"));
        CHECK(cache.find("b"));
        cache.put("a", text("stale"), 1, beforeA, Id{7});
        CHECK_FALSE(cache.find("a"));
        cache.eraseIf([](const std::string&, const std::string& v) { return v == "2"; });
        CHECK_FALSE(cache.find("b"));
        CHECK(cache.find("c"));
        cache.clear();
        CHECK_FALSE(cache.find("c"));
    }
    SECTION("erasing one key refuses the reads of that key's shard only") {
        const auto ticketA = cache.ticket("a");
        std::string other = "b";
        for (int i = 0; std::hash<std::string>{}(other) % 16 == std::hash<std::string>{}("a") % 16;
             ++i)
            other = "b" + std::to_string(i);
        const auto ticketOther = cache.ticket(other);
        cache.erase("a");
        cache.put("a", text("stale"), 1, ticketA);
        cache.put(other, text("fine"), 1, ticketOther);
        CHECK_FALSE(cache.find("a"));
        CHECK(cache.find(other));
    }
    SECTION("a ticket taken after the invalidation is kept") {
        cache.erase("k");
        const auto ticket = cache.ticket("k");
        cache.put("k", text("new"), 1, ticket);
        CHECK(cache.find("k"));
    }
}

TEST_CASE("A cache stays within its byte budget, least recently used out first", "[cache]") {
    TestTime time;
    // 16 shards of 1 KiB: an entry costs its bytes plus 160 of bookkeeping.
    Cache cache(CacheLimits{std::chrono::seconds(60), std::size_t{16} * 1024}, time.source());
    for (int i = 0; i < 1000; ++i) {
        const std::string key = "key" + std::to_string(i);
        cache.put(key, text("v"), 200, cache.ticket(key));
    }
    const CacheStats stats = cache.stats();
    CHECK(stats.bytes <= std::size_t{16} * 1024);
    CHECK(stats.entries <= std::size_t{16} * (1024 / 360));
    CHECK(stats.entries >= 16); // each shard holds some
    // The last one put is there; the first ones are gone.
    CHECK(cache.find("key999"));
    CHECK_FALSE(cache.find("key0"));
    // Larger than a shard's share: never kept.
    cache.put("huge", text("v"), 4096, cache.ticket("huge"));
    CHECK_FALSE(cache.find("huge"));
}

TEST_CASE("An old entry is read again by one lookup on a worker, never by an inline one",
          "[cache]") {
    TestTime time;
    Cache cache(CacheLimits{std::chrono::seconds(1), 1 << 20}, time.source());
    cache.put("k", text("v"), 1, cache.ticket("k"));
    time.now += 800'000;
    {
        const InlineAttempt attempt;  // a network thread: it cannot read ...
        CHECK_FALSE(cache.find("k")); // ... so the first is sent to a worker
        CHECK(cache.find("k"));       // and the others keep the entry
        CHECK(cache.find("k"));
    }
    CHECK_FALSE(cache.find("k")); // the worker's lookup reads it again
    CHECK(cache.find("k"));       // and the others keep the entry meanwhile
    {
        const InlineAttempt attempt;
        CHECK(cache.find("k"));
    }
    cache.put("k", text("w"), 1, cache.ticket("k"));
    CHECK(*cache.find("k") == "w");
    CHECK(cache.stats().refreshes == 1);
}

TEST_CASE("A cache with a time-to-live of zero keeps nothing", "[cache]") {
    TestTime time;
    Cache cache(CacheLimits{std::chrono::seconds(0), 1 << 20}, time.source());
    CHECK_FALSE(cache.enabled());
    cache.put("k", text("v"), 1, cache.ticket("k"));
    CHECK_FALSE(cache.find("k"));
}

TEST_CASE("Readers and invalidators on many threads: an erased value never comes back", "[cache]") {
    Cache cache(CacheLimits{std::chrono::seconds(60), 1 << 20}, steadyMicros);
    // The "store": a version that writers bump and then invalidate; readers read through.
    std::atomic<int> stored{0};
    std::atomic<bool> stop{false};
    std::atomic<int> staleAfterWrite{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 3; ++t) {
        readers.emplace_back([&] {
            while (!stop) {
                if (!cache.find("k")) {
                    const auto ticket = cache.ticket("k");
                    const int read = stored.load();
                    cache.put("k", text(std::to_string(read)), 1, ticket);
                }
            }
        });
    }
    for (int write = 1; write <= 2000; ++write) {
        stored.store(write); // committed
        cache.erase("k");    // then invalidated
        // From here on, every read sees this write or a later one.
        if (const auto hit = cache.find("k"); hit && std::stoi(*hit) < write) ++staleAfterWrite;
    }
    stop = true;
    for (auto& r : readers)
        r.join();
    CHECK(staleAfterWrite == 0);
}

TEST_CASE("A refresh that finds the record gone forgets it, and an older read never replaces "
          "a newer one",
          "[cache]") {
    TestTime time;
    Cache cache(CacheLimits{std::chrono::seconds(1), 1 << 20}, time.source());
    const auto none = [](const std::string&) { return std::shared_ptr<const std::string>(); };
    const auto weigh = [](const std::string&, const std::string& v) { return v.size(); };

    SECTION("gone from the store") {
        CHECK(*cache.getOrRead(
                  "k", [](const std::string&) { return text("v"); }, weigh) == "v");
        time.now += 800'000;
        // The refreshing read finds nothing: the old entry goes, not kept to its last moment.
        CHECK_FALSE(cache.getOrRead("k", none, weigh));
        CHECK_FALSE(cache.find("k"));
        CHECK(cache.stats().entries == 0);
    }
    SECTION("an older read's value and an older read's absence lose to a newer read") {
        const auto older = cache.ticket("k");
        time.now += 10;
        cache.put("k", text("new"), 1, cache.ticket("k"));
        cache.put("k", text("old"), 1, older);
        CHECK(*cache.find("k") == "new");
        cache.drop("k", older);
        CHECK(*cache.find("k") == "new");
    }
}

TEST_CASE("With a background runner an old entry is read again off the request path, inline "
          "lookups included",
          "[cache]") {
    TestTime time;
    std::vector<std::function<void()>> queued;
    bool accepting = true;
    Cache cache(CacheLimits{std::chrono::seconds(1), 1 << 20}, time.source(),
                [&](std::function<void()> job) {
                    if (!accepting) return false;
                    queued.push_back(std::move(job));
                    return true;
                });
    std::string stored = "v";
    int reads = 0;
    const auto read = [&](const std::string&) {
        ++reads;
        if (stored == "down") throw std::runtime_error("the database is down");
        return stored.empty() ? nullptr : text(stored);
    };
    const auto weigh = [](const std::string&, const std::string& v) { return v.size(); };
    const auto lookup = [&] { return cache.getOrRead("k", read, weigh); };

    REQUIRE(*lookup() == "v");
    REQUIRE(reads == 1);
    stored = "w";
    time.now += 800'000;
    {
        const InlineAttempt attempt; // a network thread: it gets the entry and waits for nothing
        CHECK(*lookup() == "v");
        CHECK(*lookup() == "v");
    }
    CHECK(reads == 1);
    REQUIRE(queued.size() == 1); // one refresh, however many lookups saw the entry old
    queued.front()();
    queued.clear();
    CHECK(reads == 2);
    CHECK(*cache.find("k") == "w");
    time.now += 500'000; // 1.3 s after the first read: alive, since the refresh read it again
    CHECK(*lookup() == "w");
    CHECK(queued.empty());

    SECTION("a refused refresh is tried again by a later lookup") {
        accepting = false;
        time.now += 300'000;
        CHECK(*lookup() == "w");
        CHECK(queued.empty());
        accepting = true;
        CHECK(*lookup() == "w");
        CHECK(queued.size() == 1);
    }
    SECTION("a refresh that fails is tried again by a later lookup") {
        time.now += 300'000;
        CHECK(*lookup() == "w");
        REQUIRE(queued.size() == 1);
        stored = "down";
        CHECK_THROWS(queued.front()());
        queued.clear();
        CHECK(*lookup() == "w"); // still within its time-to-live
        CHECK(queued.size() == 1);
    }
    SECTION("a refresh that finds the record gone forgets it") {
        time.now += 300'000;
        CHECK(*lookup() == "w");
        stored.clear();
        REQUIRE(queued.size() == 1);
        queued.front()();
        CHECK_FALSE(cache.find("k"));
    }
}

TEST_CASE("Tagged reads racing eraseTagged on many threads: a forgotten entry never comes back",
          "[cache]") {
    Cache cache(CacheLimits{std::chrono::seconds(60), 1 << 20}, steadyMicros);
    std::atomic<int> stored{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> readers;
    for (int t = 0; t < 3; ++t) {
        readers.emplace_back([&, t] {
            const std::string key = "k" + std::to_string(t);
            while (!stop) {
                if (!cache.find(key)) {
                    const auto ticket = cache.ticket(key);
                    const int read = stored.load();
                    cache.put(key, text(std::to_string(read)), 1, ticket, Id{7});
                }
            }
        });
    }
    int stale = 0;
    for (int write = 1; write <= 5000; ++write) {
        stored.store(write);  // committed
        cache.eraseTagged(7); // then every key of user 7 forgotten
        for (int t = 0; t < 3; ++t) {
            const auto hit = cache.find("k" + std::to_string(t));
            if (hit && std::stoi(*hit) < write) ++stale;
        }
    }
    stop = true;
    for (auto& r : readers)
        r.join();
    CHECK(stale == 0);
}

TEST_CASE("The render memo gives what rendering gives, and new text gives a new answer",
          "[cache]") {
    RenderMemo memo(1 << 20);
    const std::string stored = R"([{"name": "nick", "type": "string"}])";
    const auto schema = memo.schema(stored);
    CHECK(memo.schema(stored) == schema); // parsed once
    REQUIRE(schema->fields().size() == 1);
    const auto first = memo.profileFields(R"({"nick": "freeman"})", *schema, "http://x");
    CHECK(*first == renderedProfileFields(R"({"nick": "freeman"})", *schema, "http://x"));
    CHECK(memo.profileFields(R"({"nick": "freeman"})", *schema, "http://x") == first);
    const auto changed = memo.profileFields(R"({"nick": "gordon"})", *schema, "http://x");
    REQUIRE(changed->size() == 1);
    CHECK(changed->front().second == "\"gordon\"");
    const auto wider = memo.schema(R"([{"name": "nick", "type": "string"},
                                       {"name": "age", "type": "integer"}])");
    CHECK(memo.profileFields(R"({"nick": "gordon"})", *wider, "http://x")->size() == 2);
}

namespace {

/// A driver whose key/value writes are stored and then fail (a connection lost after the
/// commit); every other facet is the real store's.
class FailsAfterCommit final : public Plugin, public KeyValues {
public:
    explicit FailsAfterCommit(Plugin& real) : real_(real), values_(*provided<KeyValues>(real)) {}

    void* provide(std::string_view id, std::uint32_t version) noexcept override {
        if (id == KeyValues::kInterfaceId && version == KeyValues::kInterfaceVersion)
            return static_cast<KeyValues*>(this);
        return real_.provide(id, version);
    }
    std::optional<std::string> getValue(std::string_view ns, std::string_view key) override {
        return values_.getValue(ns, key);
    }
    void putValue(std::string_view ns, std::string_view key, std::string_view value) override {
        values_.putValue(ns, key, value);
        throw Unavailable("the connection was lost after the commit");
    }
    bool putValueIfAbsent(std::string_view ns, std::string_view key,
                          std::string_view value) override {
        return values_.putValueIfAbsent(ns, key, value);
    }
    bool compareAndSetValue(std::string_view ns, std::string_view key, std::string_view expected,
                            std::string_view value) override {
        return values_.compareAndSetValue(ns, key, expected, value);
    }
    bool deleteValue(std::string_view ns, std::string_view key) override {
        return values_.deleteValue(ns, key);
    }
    std::vector<std::pair<std::string, std::string>> listValues(std::string_view ns,
                                                                std::string_view prefix) override {
        return values_.listValues(ns, prefix);
    }

private:
    Plugin& real_;
    KeyValues& values_;
};

} // namespace

TEST_CASE("A write that fails after it was stored still forgets what it changed", "[cache]") {
    test::TempDir dir;
    auto loaded = test::openStore("sqlite", dir.path().string());
    FailsAfterCommit driver(loaded->plugin());
    CachedStorage cached(driver, CacheSettings{std::chrono::seconds(60), 1 << 20});
    KeyValues& values = *provided<KeyValues>(cached);
    REQUIRE(values.putValueIfAbsent("test", "k", "1"));
    CHECK(values.getValue("test", "k") == "1"); // now cached
    CHECK_THROWS_AS(values.putValue("test", "k", "2"), Unavailable);
    CHECK(values.getValue("test", "k") == "2");
}

TEST_CASE("On a network thread the cached store answers what it holds and refuses to wait",
          "[cache]") {
    test::TempDir dir;
    auto loaded = test::openStore("sqlite", dir.path().string());
    CachedStorage cached(loaded->plugin(), CacheSettings{std::chrono::seconds(60), 1 << 20});
    const StorageFacets store(cached);

    AccountRecord owner;
    owner.email = "owner@example.com";
    owner.passwordHash = "x";
    owner.key = SealedKey{"account-lookup", "sealed"};
    owner = store.accounts().createAccount(owner);
    InstanceRecord instance;
    instance.name = "inline";
    instance.ownerId = owner.id;
    instance = store.instances().createInstance(instance);
    UserRecord user;
    user.instanceId = instance.id;
    user.username = "gordon";
    user.passwordHash = "x";
    user.key = SealedKey{"lookup-1", "sealed"};
    user = store.users().createUser(user);

    // Not read yet: an inline attempt must not go to the database.
    {
        const InlineAttempt attempt;
        CHECK_THROWS_AS(store.users().findUserByKey(instance.id, "lookup-1"), WouldBlock);
        CHECK_THROWS_AS(store.instances().findInstance("inline"), WouldBlock);
        CHECK_THROWS_AS(store.users().findUserById(instance.id, user.id), WouldBlock);
    }
    REQUIRE(store.users().findUserByKey(instance.id, "lookup-1"));
    REQUIRE(store.instances().findInstance("inline"));
    {
        const InlineAttempt attempt;
        const auto hit = store.users().findUserByKey(instance.id, "lookup-1");
        REQUIRE(hit);
        CHECK(hit->username == "gordon");
        CHECK(store.instances().findInstance("inline")->id == instance.id);
        // Another instance's lookup of the same key is another entry.
        CHECK_THROWS_AS(store.users().findUserByKey(instance.id + 1, "lookup-1"), WouldBlock);
    }
    // A new key through this store: the old one is gone at once.
    UserRecord changed = *store.users().findUserById(instance.id, user.id);
    const Micros expected = changed.updatedAt;
    changed.key = SealedKey{"lookup-2", "sealed"};
    changed.updatedAt += 1;
    REQUIRE(store.users().updateUser(changed, expected));
    CHECK_FALSE(store.users().findUserByKey(instance.id, "lookup-1"));
    CHECK(store.users().findUserByKey(instance.id, "lookup-2"));
    CHECK(cached.stats().users.hits >= 1);
}
