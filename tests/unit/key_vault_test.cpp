// Keys at rest: lookup hashes, sealing and opening, and the secret file.
#include "core/key_vault.hpp"
#include "runtime/services.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <regex>

using namespace latchkey;
using namespace latchkey::core;
using namespace latchkey::runtime;

namespace {
KeyVault::Secret secretOf(unsigned char fill) {
    KeyVault::Secret s{};
    s.fill(fill);
    return s;
}
} // namespace

TEST_CASE("Generated keys are 160 random bits as 40 hex characters", "[vault]") {
    SodiumRandom random;
    const std::string a = KeyVault::generateKey(random);
    const std::string b = KeyVault::generateKey(random);
    CHECK(std::regex_match(a, std::regex("[0-9a-f]{40}")));
    CHECK(a != b);
}

TEST_CASE("The lookup hash is keyed: same key and secret, same hash - other secret, other hash",
          "[vault]") {
    const KeyVault one(secretOf(1));
    const KeyVault two(secretOf(2));
    CHECK(one.lookup("abc") == one.lookup("abc"));
    CHECK(one.lookup("abc") != one.lookup("abd"));
    CHECK(one.lookup("abc") != two.lookup("abc"));
    CHECK(one.lookup("abc").size() == 64);
}

TEST_CASE("A sealed key opens only with its secret, its purpose and its lookup", "[vault]") {
    SodiumRandom random;
    const KeyVault vault(secretOf(7));
    const SealedKey sealed = vault.seal("0123456789abcdef", KeyPurpose::UserKey, random);
    CHECK(sealed.sealed.find("0123456789abcdef") == std::string::npos);
    CHECK(sealed.lookup == vault.lookup("0123456789abcdef"));
    CHECK(vault.open(sealed, KeyPurpose::UserKey) == "0123456789abcdef");
    // Two seals of one key differ (fresh nonce) but open the same.
    CHECK(vault.seal("0123456789abcdef", KeyPurpose::UserKey, random).sealed != sealed.sealed);

    CHECK_THROWS(vault.open(sealed, KeyPurpose::ApiKey));
    CHECK_THROWS(KeyVault(secretOf(8)).open(sealed, KeyPurpose::UserKey));
    SealedKey moved = sealed;
    moved.lookup = vault.lookup("another key");
    CHECK_THROWS(vault.open(moved, KeyPurpose::UserKey));
    SealedKey tampered = sealed;
    tampered.sealed[tampered.sealed.size() - 2] ^= 1;
    CHECK_THROWS(vault.open(tampered, KeyPurpose::UserKey));
    CHECK_THROWS(vault.open(SealedKey{sealed.lookup, "plain text"}, KeyPurpose::UserKey));
}

TEST_CASE("The secret file is created once with mode 0600 and read back", "[vault]") {
    SodiumRandom random;
    latchkey::test::TempDir dir;
    const std::string path = dir.file("nested/secret.key");
    const auto first = KeyVault::loadOrCreateSecretFile(path, random);
    struct stat info {};
    REQUIRE(::stat(path.c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0600);
    CHECK(KeyVault::loadOrCreateSecretFile(path, random) == first);

    ::chmod(path.c_str(), 0644);
    CHECK_THROWS_WITH(KeyVault::loadOrCreateSecretFile(path, random),
                      Catch::Contains("readable by group or others"));
    const std::string bad = dir.write("bad.key", "not hex\n");
    ::chmod(bad.c_str(), 0600);
    CHECK_THROWS_WITH(KeyVault::loadOrCreateSecretFile(bad, random),
                      Catch::Contains("64 hex characters"));
    CHECK_THROWS_AS(KeyVault::parseSecret("abcd"), std::invalid_argument);
    CHECK_NOTHROW(KeyVault::parseSecret(std::string(64, 'f')));
}
