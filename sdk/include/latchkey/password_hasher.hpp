// ABI: the hasher plugin kind, password hashing and the password policy (`password`).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey {

/// The result of checking a password against a stored hash.
struct PasswordCheck {
    bool ok = false;          ///< The password matches.
    bool needsRehash = false; ///< It matches, but the hash uses old parameters: store a new one.
};

/// Hashes and verifies passwords. Thread-safe. The work is slow on purpose and runs in a
/// bounded pool: calls block until done and throw Overloaded when the pool's queue is full.
/// Never call it while holding a database transaction.
class PasswordHasher {
public:
    /// The name Plugin::provide is asked with.
    static constexpr const char* kInterfaceId = "latchkey.hasher";
    /// The version Plugin::provide is asked with.
    static constexpr std::uint32_t kInterfaceVersion = 1;

    virtual ~PasswordHasher() = default;

    /// What is wrong with `password` as a new password (too short, too long); empty if fine.
    virtual std::vector<std::string> checkPolicy(std::string_view password) const = 0;

    /// A hash of `password` to store. Check new passwords with checkPolicy first; hash itself
    /// only refuses (std::invalid_argument) a password over the maximum length, so a rehash
    /// works for passwords set before a policy change.
    virtual std::string hash(std::string_view password) = 0;

    /// Checks `password` against `stored`. When `stored` is empty or not a usable hash (an
    /// unknown user, a user without a password) it does the same work against a dummy hash and
    /// answers no, so callers take the same time whether or not the account exists.
    virtual PasswordCheck verify(std::string_view password, std::string_view stored) = 0;
};

} // namespace latchkey
