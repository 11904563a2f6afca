// ABI: the storage facet of administrator accounts.
#pragma once

#include <latchkey/errors.hpp>
#include <latchkey/storage/records/account.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace latchkey {

/// Administrator accounts.
/// Every method is atomic and thread-safe; a write that breaks a uniqueness rule throws Conflict
/// naming the field; an unreachable database throws Unavailable.
class Accounts {
public:
    /// The name Plugin::provide is asked with.
    static constexpr const char* kInterfaceId = "latchkey.storage.accounts";
    /// The version Plugin::provide is asked with.
    static constexpr std::uint32_t kInterfaceVersion = 1;

    virtual ~Accounts() = default;

    /// Inserts an account (Conflict "email"); returns it with its id.
    virtual AccountRecord createAccount(const AccountRecord& account) = 0;
    /// The account with this id.
    virtual std::optional<AccountRecord> findAccountById(Id id) = 0;
    /// The account with this (lowercase) email.
    virtual std::optional<AccountRecord> findAccountByEmail(std::string_view email) = 0;
    /// The account whose key has this lookup hash.
    virtual std::optional<AccountRecord> findAccountByKey(std::string_view lookup) = 0;
    /// Replaces the password hash if it is still `expectedHash` (a rehash after login must not
    /// undo a password change that happened meanwhile); true when replaced.
    virtual bool updateAccountPasswordHash(Id id, std::string_view expectedHash,
                                           std::string_view passwordHash) = 0;
};

/// Rotating an administrator account's credentials (since SDK 2.3): the account key's reset and
/// the password's change. A driver without this facet serves everything but those two routes
/// (they answer 501). Atomic and thread-safe like Accounts.
class AccountCredentials {
public:
    /// The name Plugin::provide is asked with.
    static constexpr const char* kInterfaceId = "latchkey.storage.account-credentials";
    /// The version Plugin::provide is asked with.
    static constexpr std::uint32_t kInterfaceVersion = 1;

    virtual ~AccountCredentials() = default;

    /// Replaces the account's key with `key` and, when `passwordHash` is given, its password
    /// hash, in one write, only if its key's lookup is still `expectedLookup` (two resets at
    /// once: one wins, the other is told); true when replaced.
    virtual bool replaceAccountCredentials(Id id, std::string_view expectedLookup,
                                           const SealedKey& key,
                                           std::optional<std::string_view> passwordHash) = 0;
};

} // namespace latchkey
