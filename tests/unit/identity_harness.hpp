// An identity service in-process over a real SQLite file and the real password plugin, with a
// clock the test moves and a record of what the service announced: for tests of the service
// and of the plugin parts built on it.
#pragma once

#include "core/identity_service.hpp"
#include "runtime/services.hpp"
#include "support/in_process.hpp"
#include "support/temp_dir.hpp"

#include <latchkey/clock.hpp>
#include <latchkey/password_hasher.hpp>
#include <latchkey/support/storage_facets.hpp>
#include <latchkey/user_events.hpp>

#include <spdlog/sinks/null_sink.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace latchkey::test {

/// A clock that stands still until the test moves it.
class ManualClock final : public Clock {
public:
    std::chrono::system_clock::time_point now() const override {
        return std::chrono::system_clock::time_point(std::chrono::microseconds(micros_.load()));
    }
    /// Moves the clock forward.
    void advance(std::chrono::microseconds by) { micros_ += by.count(); }

private:
    std::atomic<long long> micros_{1'800'000'000'000'000}; // 2027-01-15
};

/// The service, its store and what it announced.
struct IdentityHarness {
    TempDir dir;
    ManualClock clock;
    runtime::SodiumRandom random;
    LoadedPlugin storePlugin{"latchkey-sqlite.so", "path: " + dir.file("identities.db") + "\n"};
    LoadedPlugin passwordPlugin{"latchkey-password.so", "argon2: {memory: 1MiB, iterations: 1}\n"};
    StorageFacets store{storePlugin.plugin()};
    PasswordHasher& hasher = passwordPlugin.as<PasswordHasher>();
    core::KeyVault vault{core::KeyVault::Secret{}};
    std::mutex mutex;
    std::vector<UserEvent> events;   ///< Every announcement, in order.
    std::optional<std::string> veto; ///< What the guard answers.
    int guarded = 0;                 ///< Times the guard was asked.
    int finished = 0;                ///< Times it was told a change it let through finished.
    core::IdentityService identities{core::IdentityParts{
        store, hasher, vault, clock, random,
        std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>()),
        [this](const UserEvent& e) {
            const std::scoped_lock lock(mutex);
            events.push_back(e);
        },
        [this](const UserEvent&) {
            const std::scoped_lock lock(mutex);
            ++guarded;
            return veto;
        },
        [this](const UserEvent&) {
            const std::scoped_lock lock(mutex);
            ++finished;
        },
        [this](std::string_view name) -> InstanceRecord {
            if (auto found = store.instances().findInstance(name)) return *found;
            InstanceRecord wanted;
            wanted.name = std::string(name);
            wanted.ownerId = owner;
            return store.instances().createInstance(wanted);
        }}};
    Id owner = 0;
    InstanceRecord instance;

    IdentityHarness() {
        AccountRecord account;
        account.email = "owner@example.com";
        account.passwordHash = "$argon2id$unused";
        account.key = {"lk-owner", "v1:sealed"};
        owner = store.accounts().createAccount(account).id;
        instance = identities.ensureInstance("app");
    }

    /// The kinds announced so far.
    std::vector<UserEventKind> kinds() {
        const std::scoped_lock lock(mutex);
        std::vector<UserEventKind> out;
        for (const auto& e : events)
            out.push_back(e.kind);
        return out;
    }

    /// A user of the instance with `password` (none: no usable password).
    UserRecord addUser(const std::string& username, std::optional<std::string> password,
                       bool active = true) {
        NewUser wanted;
        wanted.instanceId = instance.id;
        wanted.username = username;
        wanted.password = std::move(password);
        wanted.active = active;
        return identities.createUser(wanted);
    }
};

/// A plugin's key/value area on the harness's store (`ns` its namespace), counting its reads so
/// tests can tell a list from N lookups, and a whole listing from pages.
class CountingArea final : public KeyValueArea {
public:
    explicit CountingArea(IdentityHarness& h, std::string ns = "login-token")
        : inner_(std::move(ns), [&h]() -> const StorageFacets* { return &h.store; }) {}
    std::optional<std::string> get(std::string_view key) override {
        ++gets;
        return inner_.get(key);
    }
    void put(std::string_view key, std::string_view value) override { inner_.put(key, value); }
    bool putIfAbsent(std::string_view key, std::string_view value) override {
        return inner_.putIfAbsent(key, value);
    }
    bool compareAndSet(std::string_view key, std::string_view expected,
                       std::string_view value) override {
        return inner_.compareAndSet(key, expected, value);
    }
    bool remove(std::string_view key) override { return inner_.remove(key); }
    std::vector<std::pair<std::string, std::string>> list(std::string_view prefix) override {
        ++lists;
        return inner_.list(prefix);
    }
    std::vector<std::pair<std::string, std::string>>
    listAfter(std::string_view prefix, std::string_view after, std::size_t limit) override {
        ++pages;
        return inner_.listAfter(prefix, after, limit);
    }
    /// Everything under `prefix`, not counted (for the test's own checks).
    std::vector<std::pair<std::string, std::string>> all(std::string_view prefix = "") {
        return inner_.list(prefix);
    }
    std::atomic<int> gets{0}, lists{0}, pages{0};

private:
    runtime::BoundKeyValues inner_;
};

} // namespace latchkey::test
