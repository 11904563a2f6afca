// argon2id password hashing (libsodium) with the password policy, run in a HashingPool.
#pragma once

#include "hashing_pool.hpp"

#include <latchkey/password_hasher.hpp>

#include <cstdint>
#include <string>

namespace latchkey::plugins {

/// The policy and cost parameters.
struct PasswordPolicy {
    std::size_t minLength = 8;   ///< In characters.
    std::size_t maxLength = 128; ///< In characters; longer passwords are refused, never cut.
    /// Passwords that zxcvbn estimates fewer than 2^minGuessBits guesses find are refused
    /// (common and breached passwords, words, names, keyboard walks, sequences, repeats,
    /// dates); 0 turns the check off.
    double minGuessBits = 20;
    std::uint64_t memoryBytes = 19ULL << 20; ///< OWASP: argon2id m=19 MiB, t=2, p=1.
    std::uint64_t iterations = 2;
};

/// log2 of the guesses zxcvbn estimates an attacker needs for `password`.
double guessBits(std::string_view password);

/// Hashes with argon2id; verifies any libsodium argon2id/argon2i string; flags hashes made with
/// other parameters for rehashing.
class Argon2Hasher final : public PasswordHasher {
public:
    /// `nice`: the hashing threads' niceness (see HashingPool).
    Argon2Hasher(PasswordPolicy policy, std::size_t workers, std::size_t queueCapacity,
                 int nice = 0);

    std::vector<std::string> checkPolicy(std::string_view password) const override;
    std::string hash(std::string_view password) override;
    PasswordCheck verify(std::string_view password, std::string_view stored) override;

    /// Hashes and checks waiting for a worker now.
    std::size_t waiting() const { return pool_.waiting(); }

private:
    std::string hashNow(std::string_view password) const;

    PasswordPolicy policy_;
    HashingPool pool_;
    std::string dummyHash_; ///< Verified against when there is no real hash, to spend equal time.
};

} // namespace latchkey::plugins
