// ABI: the storage facet of single-use login tokens (for flows that mail them).
#pragma once

#include <latchkey/errors.hpp>
#include <latchkey/storage/records/login_token.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace latchkey {

/// Single-use login tokens, kept as hashes; for flow plugins that declare it.
/// Every method is atomic and thread-safe; a write that breaks a uniqueness rule throws Conflict
/// naming the field; an unreachable database throws Unavailable.
class LoginTokens {
public:
    /// The name Plugin::provide is asked with.
    static constexpr const char* kInterfaceId = "latchkey.storage.login-tokens";
    /// The version Plugin::provide is asked with.
    static constexpr std::uint32_t kInterfaceVersion = 1;

    virtual ~LoginTokens() = default;

    /// Stores a new token for its user and voids every older one of that user, atomically.
    virtual void replaceLoginToken(const LoginTokenRecord& token) = 0;
    /// Uses up the user's token with this hash if it exists and has not expired at `now`, and
    /// returns its purpose: a value exactly once per token, whatever the concurrency.
    virtual std::optional<std::string> consumeLoginToken(Id userId, std::string_view tokenHash,
                                                         Micros now) = 0;
    /// Voids every token of the user; returns how many.
    virtual std::size_t revokeLoginTokens(Id userId) = 0;
};

} // namespace latchkey
