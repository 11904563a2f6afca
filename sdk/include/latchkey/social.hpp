// The social plugin kind: turns a provider's access token into a verified provider identity.
#pragma once

#include <latchkey/plugin.hpp>

#include <map>
#include <string>

namespace latchkey {

/// Who the provider says the token belongs to.
struct SocialIdentity {
    std::string uid;            ///< The provider's stable user id (`sub`, `id`, `id_str`).
    std::string email;          ///< May be empty.
    bool emailVerified = false; ///< Only true when the provider says so.
    std::string name;           ///< Display name, may be empty.
    std::string firstName;      ///< May be empty.
    std::string lastName;       ///< May be empty.
};

/// Verifies tokens with one provider. The plugin's name is the backend name in
/// `user/auth/<backend>/`. Thread-safe.
class SocialBackend : public Plugin {
public:
    SocialBackend* asSocial() noexcept final { return this; }

    /// Verifies the credentials the client posted (`access_token`, and whatever else the
    /// provider needs) and that the token was issued to this app. Throws HttpError(401) when the
    /// provider rejects the token, Unavailable when the provider cannot be reached.
    virtual SocialIdentity verify(const std::map<std::string, std::string>& credentials) = 0;
};

} // namespace latchkey
