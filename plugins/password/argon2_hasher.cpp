// argon2id password hashing (libsodium) with the password policy, run in a HashingPool.
#include "argon2_hasher.hpp"

#include <sodium.h>
#include <zxcvbn.h>

#include <stdexcept>

namespace latchkey::plugins {

namespace {

std::size_t countCharacters(std::string_view text) {
    std::size_t count = 0;
    for (const char c : text) {
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
    }
    return count;
}

bool isArgon2Hash(std::string_view stored) {
    return stored.rfind("$argon2id$", 0) == 0 || stored.rfind("$argon2i$", 0) == 0;
}

} // namespace

Argon2Hasher::Argon2Hasher(PasswordPolicy policy, std::size_t workers, std::size_t queueCapacity,
                           int nice)
    : policy_(policy), pool_(workers, queueCapacity, nice) {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
    unsigned char secret[32];
    randombytes_buf(secret, sizeof secret);
    dummyHash_ = hashNow(std::string_view(reinterpret_cast<const char*>(secret), sizeof secret));
}

double guessBits(std::string_view password) {
    // A NUL ends the text zxcvbn reads: what comes before it is all it can judge, and a
    // password that is weak up to a NUL is refused (no client sends NULs in passwords).
    const std::string text(password.substr(0, password.find('\0')));
    return ZxcvbnMatch(text.c_str(), nullptr, nullptr);
}

std::vector<std::string> Argon2Hasher::checkPolicy(std::string_view password) const {
    std::vector<std::string> problems;
    const std::size_t length = countCharacters(password);
    if (length < policy_.minLength) {
        problems.push_back("Ensure this field has at least " + std::to_string(policy_.minLength) +
                           " characters.");
    }
    // Bytes as well as characters: four bytes per character at most in UTF-8.
    if (length > policy_.maxLength || password.size() > policy_.maxLength * 4) {
        problems.push_back("Ensure this field has no more than " +
                           std::to_string(policy_.maxLength) + " characters.");
    }
    // Only for a password of an allowed length: the estimate's cost grows with it. zxcvbn-c
    // keeps no state between calls (its dictionaries are read-only), so any thread may ask.
    if (problems.empty() && policy_.minGuessBits > 0 &&
        guessBits(password) < policy_.minGuessBits) {
        problems.emplace_back("This password is too common or too easy to guess.");
    }
    return problems;
}

std::string Argon2Hasher::hashNow(std::string_view password) const {
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(out, password.data(), password.size(), policy_.iterations,
                              static_cast<std::size_t>(policy_.memoryBytes),
                              crypto_pwhash_ALG_ARGON2ID13) != 0) {
        throw std::runtime_error("argon2id ran out of memory");
    }
    return out;
}

std::string Argon2Hasher::hash(std::string_view password) {
    // The policy is for new passwords (callers check it); a rehash after a successful login
    // must work for a password from before a policy change. Only the hard bound stays.
    if (password.size() > policy_.maxLength * 4) {
        throw std::invalid_argument("password longer than the maximum length");
    }
    const std::string copy(password);
    return pool_.run([this, &copy] { return hashNow(copy); });
}

PasswordCheck Argon2Hasher::verify(std::string_view password, std::string_view stored) {
    // Equal work in every case: a missing or unusable hash, or an over-long password (which is
    // never hashed at its full length), is checked against the dummy hash instead.
    const bool usable = isArgon2Hash(stored) && password.size() <= policy_.maxLength * 4;
    const std::string hash(usable ? stored : std::string_view(dummyHash_));
    const std::string candidate(usable ? password : std::string_view("x"));
    const bool matches = pool_.run([&hash, &candidate] {
        return crypto_pwhash_str_verify(hash.c_str(), candidate.data(), candidate.size()) == 0;
    });
    PasswordCheck check;
    check.ok = usable && matches;
    if (check.ok) {
        check.needsRehash =
            crypto_pwhash_str_needs_rehash(hash.c_str(), policy_.iterations,
                                           static_cast<std::size_t>(policy_.memoryBytes)) != 0;
    }
    return check;
}

} // namespace latchkey::plugins
