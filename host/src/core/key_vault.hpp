// Keeps API keys, user keys and account keys at rest without storing them in the clear.
//
// The wire API must show a key again (API key listings, `user_key` on every login), so a
// one-way hash alone is not enough. Each key is stored as (a) a keyed BLAKE2b hash under a
// subkey of the host secret, unique and indexed, which finds the row from a presented key, and
// (b) the key sealed with XChaCha20-Poly1305 under another subkey, bound to its purpose and
// lookup hash. A stolen database file without the host secret yields neither usable keys nor a
// way to test guesses offline.
#pragma once

#include <latchkey/random.hpp>
#include <latchkey/storage/records/types.hpp>

#include <array>
#include <string>
#include <string_view>
#include <utility>

namespace latchkey::core {

/// `data` as lowercase hex.
std::string toHex(const unsigned char* data, std::size_t size);

/// What a sealed key is for; part of the authenticated data, so keys cannot be swapped between
/// kinds of record.
enum class KeyPurpose { ApiKey, UserKey, AccountKey };

/// The host's secret key and the operations built on it. Immutable and thread-safe.
class KeyVault {
public:
    /// 32 bytes of secret.
    using Secret = std::array<unsigned char, 32>;

    explicit KeyVault(const Secret& secret);
    ~KeyVault();
    KeyVault(const KeyVault&) = delete;
    KeyVault& operator=(const KeyVault&) = delete;

    /// Parses 64 hex characters; throws std::invalid_argument otherwise.
    static Secret parseSecret(std::string_view hex);
    /// Reads the secret from `path`, or creates the file (mode 0600) with a fresh secret.
    static Secret loadOrCreateSecretFile(const std::string& path, Random& random);

    /// A new key: 160 bits from the CSPRNG as 40 lowercase hex characters (Syncano's format).
    static std::string generateKey(Random& random);

    /// The keyed hash that finds a record by the key a client presents.
    std::string lookup(std::string_view key) const;
    /// The key in the form the store keeps.
    SealedKey seal(std::string_view key, KeyPurpose purpose, Random& random) const;
    /// A fresh key (generateKey) and its sealed form: the first is shown to the client once,
    /// the second is what the store keeps.
    std::pair<std::string, SealedKey> issue(KeyPurpose purpose, Random& random) const;
    /// The key back from the store's form; throws std::runtime_error if it does not open
    /// (a different secret, or a tampered row).
    std::string open(const SealedKey& sealed, KeyPurpose purpose) const;

private:
    std::array<unsigned char, 32> lookupKey_{};
    std::array<unsigned char, 32> sealKey_{};
};

} // namespace latchkey::core
