// OAuth 1.0a (RFC 5849) request signing with HMAC-SHA1: the signature base string and the
// Authorization header, for backends whose provider still speaks it (twitter).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace latchkey::social {

/// What one signed OAuth 1.0a request is made of. Every text is as it is, not yet encoded.
struct OAuth1Request {
    std::string method; ///< "GET", "POST": uppercase, as sent.
    /// The URL without its query (RFC 5849 3.4.1.2 drops it anyway); throws
    /// std::invalid_argument from the functions below when it is not an absolute http(s) URL.
    std::string url;
    std::vector<std::pair<std::string, std::string>> query; ///< The query's parameters, decoded.
    std::string consumerKey;                                ///< This app's key.
    std::string consumerSecret;                             ///< This app's secret.
    std::string token;                                      ///< The user's access token.
    std::string tokenSecret;                                ///< The user's token secret.
    std::string nonce;       ///< Unique per request: from the caller's CSPRNG.
    long long timestamp = 0; ///< Seconds since the epoch.
};

/// The signature base string of RFC 5849 3.4.1: the method, the base string URI (lowercase
/// scheme and host, the port only when not the scheme's default, the path) and every query and
/// oauth_ parameter, each encoded, sorted by name then value, joined.
std::string oauth1BaseString(const OAuth1Request& request);

/// The Authorization header's value (RFC 5849 3.5.1): `OAuth name="value", ...` with the
/// oauth_ parameters and the HMAC-SHA1 oauth_signature over oauth1BaseString(), keyed with the
/// encoded consumer secret and token secret. Every value is percent-encoded, so the header
/// never holds a quote, a comma or a line break from its inputs.
std::string oauth1Authorization(const OAuth1Request& request);

} // namespace latchkey::social
