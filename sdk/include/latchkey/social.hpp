// ABI: the social plugin kind, which turns a provider's token into a verified identity.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

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
class SocialBackend {
public:
    /// The name Plugin::provide is asked with.
    static constexpr const char* kInterfaceId = "latchkey.social";
    /// The version Plugin::provide is asked with.
    static constexpr std::uint32_t kInterfaceVersion = 1;

    virtual ~SocialBackend() = default;

    /// The body fields a login may carry (the host refuses any other with 400). Each is handed
    /// to verify() as text when present.
    virtual std::vector<std::string> credentialFields() const { return {"access_token"}; }

    /// Verifies the credentials the client posted and that they were issued to this app, and
    /// returns who they belong to. Throws:
    /// - HttpError 400 (field errors) for missing or malformed credentials;
    /// - HttpError 401 "Invalid authorization token." when the provider rejects the token, or
    ///   the token was issued to another app, or has expired;
    /// - HttpError 502 when the provider answers with an error or something unreadable;
    /// - Unavailable when the provider cannot be reached or does not answer in time.
    virtual SocialIdentity verify(const std::map<std::string, std::string>& credentials) = 0;

    /// Whether a first login may be linked to an existing user whose username is the
    /// identity's email, when the provider says that email is verified. Off unless the
    /// deployment turns it on.
    virtual bool linksVerifiedEmail() const noexcept { return false; }
};

} // namespace latchkey
