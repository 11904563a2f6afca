// Reading JOSE: JWS compact tokens (RFC 7515) such as OpenID Connect ID tokens, and the RS256
// signing keys of a JWK Set (RFC 7517). Reading only: checking the signature, the issuer, the
// audience and the times is the backend's, with what these return.
#pragma once

#include "latchkey_social/provider.hpp"

#include <Poco/JSON/Object.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::social {

/// A JWS compact token split and decoded, not yet verified.
struct CompactJws {
    Poco::JSON::Object::Ptr header; ///< The protected header (alg, kid, ...).
    Poco::JSON::Object::Ptr claims; ///< The payload, a JSON object.
    std::string signingInput;       ///< "header.payload" as sent: what the signature covers.
    std::string signature;          ///< The signature's bytes.
};

/// `token` as three base64url parts of which the first two are JSON objects (nesting at most 16
/// deep, read by jsonObject()); nullopt otherwise. Never throws for any input (the jose fuzz
/// target holds it to that).
std::optional<CompactJws> readCompactJws(std::string_view token);

/// The RS256 keys of a JWK Set by `kid`: the members of `keys` with kty RSA, alg RS256 (or
/// none) and use sig (or none). A member whose `n` or `e` cannot be read, or whose key is under
/// 2048 bits, is skipped with the reason added to `skipped`. nullopt when `body` is not a JSON
/// object with a `keys` array. Never throws for any input.
std::optional<std::map<std::string, std::shared_ptr<const RsaPublicKey>>>
readRsaJwks(std::string_view body, std::vector<std::string>& skipped);

} // namespace latchkey::social
