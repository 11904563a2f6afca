// What the social backend plugins share: their common settings, calls to the provider through
// the host's HTTP client, and reading the provider's answers into the errors the SDK promises
// (401 for a rejected token, 502 for an unreadable answer, Unavailable when it cannot be
// reached).
#pragma once

#include <latchkey/context.hpp>
#include <latchkey/outbound_http.hpp>
#include <latchkey/social.hpp>
#include <latchkey/support/config_reader.hpp>

#include <Poco/JSON/Object.h>

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::social {

/// Settings every backend has.
struct CommonSettings {
    std::chrono::milliseconds timeout{5000}; ///< Per call to the provider.
    bool linkVerifiedEmail = false;          ///< See SocialBackend::linksVerifiedEmail().
};

/// Reads `timeout` and `link_verified_email`.
CommonSettings readCommon(ConfigReader& r);

/// An http(s) base URL setting without a trailing slash; a problem is recorded otherwise.
std::string readUrl(ConfigReader& r, std::string_view key, std::string fallback);

/// One provider, as seen from a backend plugin.
class Provider {
public:
    Provider(PluginContext& context, std::string name, std::chrono::milliseconds timeout);

    /// Sends `request` with this provider's timeout. Unavailable passes through.
    OutboundResponse call(OutboundRequest request) const;

    /// The answer as a JSON object: 2xx with an object; 429 is Unavailable (the provider limits
    /// this app); any other 4xx means the token was refused (rejected()); anything else is
    /// badAnswer().
    Poco::JSON::Object::Ptr expectObject(const OutboundResponse& response,
                                         std::string_view what) const;

    /// Logs why (never the token) and throws HttpError 401 "Invalid authorization token.".
    [[noreturn]] void rejected(std::string_view why) const;
    /// Logs why and throws HttpError 502 naming the provider.
    [[noreturn]] void badAnswer(std::string_view why) const;

    const std::string& name() const noexcept { return name_; }
    PluginContext& context() const noexcept { return context_; }

private:
    PluginContext& context_;
    std::string name_;
    std::chrono::milliseconds timeout_;
};

/// `json` as a JSON object nested at most `depth` deep; null when it is not JSON, too deep, or
/// not an object. Never throws a Poco exception for any input.
Poco::JSON::Object::Ptr jsonObject(const std::string& json, std::size_t depth);

/// `key` of `object` as text: strings as they are, whole numbers in decimal; "" otherwise.
std::string text(const Poco::JSON::Object::Ptr& object, const std::string& key);
/// `key` of `object` is true, or the string "true" (Google sends both).
bool isTrue(const Poco::JSON::Object::Ptr& object, const std::string& key);

/// Who OpenID Connect standard claims (an ID token's, a userinfo answer) say the user is:
/// `sub`, `email` (verified only when `email_verified` says so), `name`, `given_name`,
/// `family_name`. `uid` is empty when there is no `sub`: the caller decides what that means.
SocialIdentity openIdIdentity(const Poco::JSON::Object::Ptr& claims);

/// The credential `field`, or HttpError 400 "This field is required." under its name.
const std::string& requireCredential(const std::map<std::string, std::string>& credentials,
                                     const std::string& field);

/// Percent-encoding of RFC 3986: unreserved characters stay, everything else is %XX.
std::string percentEncode(std::string_view text);

/// Lowercase hex of HMAC-SHA256(key, message).
std::string hmacSha256Hex(std::string_view key, std::string_view message);
/// Base64 of HMAC-SHA1(key, message).
std::string hmacSha1Base64(std::string_view key, std::string_view message);
/// Decodes base64url (padding optional); nullopt when it is not base64url.
std::optional<std::string> base64UrlDecode(std::string_view text);

/// An RSA public key from a JWK's base64url `n` and `e`.
class RsaPublicKey {
public:
    /// Throws std::invalid_argument when n or e cannot be read or the key is under 2048 bits.
    RsaPublicKey(std::string_view n, std::string_view e);
    ~RsaPublicKey();
    RsaPublicKey(RsaPublicKey&& other) noexcept;
    RsaPublicKey& operator=(RsaPublicKey&& other) noexcept;
    RsaPublicKey(const RsaPublicKey&) = delete;
    RsaPublicKey& operator=(const RsaPublicKey&) = delete;

    /// True when `signature` is an RSASSA-PKCS1-v1_5 SHA-256 signature of `message`.
    bool verifySha256(std::string_view message, std::string_view signature) const;

private:
    void* key_ = nullptr; ///< EVP_PKEY*, kept opaque so OpenSSL stays out of this header.
};

} // namespace latchkey::social
