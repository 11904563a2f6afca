// The hashing pool (bounded queue) and the argon2id hasher (policy, verify, rehash).
#include "argon2_hasher.hpp"
#include "hashing_pool.hpp"
#include "support/in_process.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>

using namespace latchkey;
using namespace latchkey::plugins;

namespace {

PasswordPolicy cheapPolicy() {
    PasswordPolicy policy;
    policy.memoryBytes = 1 << 20;
    policy.iterations = 1;
    return policy;
}

/// Holds every worker until released, to fill the queue deterministically.
struct Gate {
    std::mutex mutex;
    std::condition_variable cv;
    bool open = false;
    void wait() {
        std::unique_lock lock(mutex);
        cv.wait(lock, [this] { return open; });
    }
    void release() {
        {
            std::lock_guard lock(mutex);
            open = true;
        }
        cv.notify_all();
    }
};

} // namespace

TEST_CASE("The pool runs jobs and passes back results and exceptions", "[password]") {
    HashingPool pool(2, 4);
    CHECK(pool.run([] { return 6 * 7; }) == 42);
    CHECK_THROWS_WITH(pool.run([]() -> int { throw std::runtime_error("inside"); }), "inside");
}

TEST_CASE("A full queue answers Overloaded at once instead of waiting", "[password]") {
    HashingPool pool(1, 2);
    Gate gate;
    std::atomic<int> started{0};
    auto blocker = std::async(std::launch::async, [&] {
        return pool.run([&] {
            ++started;
            gate.wait();
            return 1;
        });
    });
    while (started == 0)
        std::this_thread::yield();
    // The worker is busy: two jobs may wait, the third is refused.
    auto queued1 = std::async(std::launch::async, [&] { return pool.run([] { return 2; }); });
    auto queued2 = std::async(std::launch::async, [&] { return pool.run([] { return 3; }); });
    while (pool.waiting() < 2)
        std::this_thread::yield();
    CHECK_THROWS_AS(pool.run([] { return 4; }), Overloaded);
    gate.release();
    CHECK(blocker.get() + queued1.get() + queued2.get() == 6);
    CHECK(pool.run([] { return 5; }) == 5);
}

TEST_CASE("The policy counts characters and bounds the length", "[password]") {
    PasswordPolicy policy = cheapPolicy();
    policy.minLength = 8;
    policy.maxLength = 16;
    Argon2Hasher hasher(policy, 1, 4);
    CHECK(hasher.checkPolicy("k7Qm2xZp").empty());
    CHECK(hasher.checkPolicy("k7Qm2xZ").size() == 1);
    // Eight characters, sixteen bytes.
    CHECK(hasher.checkPolicy("\xc5\xbc\xc3\xb3\xc5\x82\xc4\x87\xc4\x99\xc5\x9b\xc4\x85\xc5\x84")
              .empty());
    CHECK(hasher.checkPolicy(std::string(17, 'a')).front().find("no more than 16") !=
          std::string::npos);
    // Policy is for new passwords; hashing one set before a policy change still works.
    CHECK_NOTHROW(hasher.hash("short"));
    CHECK_THROWS_AS(hasher.hash(std::string(65, 'a')), std::invalid_argument);
}

TEST_CASE("The password plugin's defaults: 8 to 128 characters, argon2id at OWASP's parameters",
          "[password]") {
    latchkey::test::LoadedPlugin plugin("latchkey-password.so", "{}");
    auto& hasher = plugin.as<PasswordHasher>();
    // ASVS 2.1.2: 64 characters allowed, more than 128 refused.
    std::string long128;
    for (int i = 0; i < 16; ++i)
        long128 += "k7Qm2xZ" + std::string(1, static_cast<char>('a' + i));
    CHECK(hasher.checkPolicy(long128).empty());
    CHECK(hasher.checkPolicy(long128 + "x").size() == 1);
    CHECK(hasher.checkPolicy("k7Qm2xZ").size() == 1);
    CHECK(hasher.checkPolicy("k7Qm2xZp").empty());
    // ASVS 2.1.7: common passwords are refused (min_guess_bits 20).
    CHECK(hasher.checkPolicy("12345678") ==
          std::vector<std::string>{"This password is too common or too easy to guess."});
    // ASVS 2.4.5: m=19 MiB, t=2, p=1 (libsodium's argon2id is single-lane).
    CHECK(hasher.hash("correct horse").rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0) == 0);
    // A max_length under 64 is a config error.
    CHECK_THROWS(latchkey::test::LoadedPlugin("latchkey-password.so", "{max_length: 63}"));
}

TEST_CASE("Common passwords, words and simple patterns are refused, by zxcvbn's estimate",
          "[password]") {
    PasswordPolicy policy = cheapPolicy();
    Argon2Hasher hasher(policy, 1, 4);
    const std::vector<std::string> tooEasy{"This password is too common or too easy to guess."};
    // The most common passwords, a dictionary word with a digit, keyboard walks, sequences,
    // repeats, l33t, a date: each would fall to fewer than 2^20 guesses.
    for (const char* weak :
         {"password", "12345678", "iloveyou1", "qwertyuiop", "1q2w3e4r", "zaq12wsx", "aaaaaaaa",
          "abcdefgh", "Passw0rd!", "football1", "letmein123", "12345678901234567890123456789012"}) {
        INFO(weak);
        CHECK(guessBits(weak) < 20);
        CHECK(hasher.checkPolicy(weak) == tooEasy);
    }
    // Passphrases and random text pass however they are written: no composition rules
    // (ASVS 2.1.9).
    for (const char* fine :
         {"Black Mesa 1998", "correct horse battery staple", "k7Qm2xZp",
          "za\xc5\xbc\xc3\xb3\xc5\x82\xc4\x87g\xc4\x99", "city seventeen rebels"}) {
        INFO(fine);
        CHECK(hasher.checkPolicy(fine).empty());
    }
    // A length problem is the only one reported: the estimate is not made for it.
    CHECK(hasher.checkPolicy("1234567").size() == 1);
    // A NUL ends what is judged: weak before it is weak.
    CHECK(hasher.checkPolicy(std::string("password\0k7Qm2xZp#Tb9", 21)) == tooEasy);
    // 0 turns the check off, a higher bar refuses more.
    policy.minGuessBits = 0;
    CHECK(Argon2Hasher(policy, 1, 4).checkPolicy("12345678").empty());
    policy.minGuessBits = 45;
    CHECK(Argon2Hasher(policy, 1, 4).checkPolicy("Black Mesa 1998") == tooEasy);
    CHECK_THROWS(latchkey::test::LoadedPlugin("latchkey-password.so", "{min_guess_bits: 65}"));
    latchkey::test::LoadedPlugin off("latchkey-password.so", "{min_guess_bits: 0}");
    CHECK(off.as<PasswordHasher>().checkPolicy("12345678").empty());
}

TEST_CASE("Hashes are argon2id, salted, and verify only the right password", "[password]") {
    Argon2Hasher hasher(cheapPolicy(), 2, 8);
    const std::string a = hasher.hash("correct horse");
    const std::string b = hasher.hash("correct horse");
    CHECK(a.rfind("$argon2id$", 0) == 0);
    CHECK(a != b);
    CHECK(hasher.verify("correct horse", a).ok);
    CHECK_FALSE(hasher.verify("correct horsf", a).ok);
    CHECK_FALSE(hasher.verify("correct horse", "").ok);
    CHECK_FALSE(hasher.verify("correct horse", "sha256:1000:salt:hash").ok);
    CHECK_FALSE(hasher.verify(std::string(1 << 20, 'x'), a).ok);
    CHECK_FALSE(hasher.verify("correct horse", a).needsRehash);
}

TEST_CASE("A hash made with other parameters still verifies and asks for a rehash", "[password]") {
    Argon2Hasher old(cheapPolicy(), 1, 4);
    const std::string stored = old.hash("correct horse");
    PasswordPolicy stronger = cheapPolicy();
    stronger.memoryBytes = 2 << 20;
    stronger.iterations = 2;
    Argon2Hasher current(stronger, 1, 4);
    const PasswordCheck check = current.verify("correct horse", stored);
    CHECK(check.ok);
    CHECK(check.needsRehash);
    CHECK_FALSE(current.verify("correct horse", current.hash("correct horse")).needsRehash);
}
