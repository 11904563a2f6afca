// Reading JWS compact tokens and JWK Sets.
#include "latchkey_social/jose.hpp"

#include <stdexcept>

namespace latchkey::social {

std::optional<CompactJws> readCompactJws(std::string_view token) {
    const auto firstDot = token.find('.');
    const auto secondDot =
        firstDot == std::string_view::npos ? firstDot : token.find('.', firstDot + 1);
    if (secondDot == std::string_view::npos ||
        token.find('.', secondDot + 1) != std::string_view::npos) {
        return std::nullopt;
    }
    const auto header = base64UrlDecode(token.substr(0, firstDot));
    const auto claims = base64UrlDecode(token.substr(firstDot + 1, secondDot - firstDot - 1));
    auto signature = base64UrlDecode(token.substr(secondDot + 1));
    if (!header || !claims || !signature) return std::nullopt;
    CompactJws out{.header = jsonObject(*header, 16),
                   .claims = jsonObject(*claims, 16),
                   .signingInput = std::string(token.substr(0, secondDot)),
                   .signature = std::move(*signature)};
    if (!out.header || !out.claims) return std::nullopt;
    return out;
}

std::optional<std::map<std::string, std::shared_ptr<const RsaPublicKey>>>
readRsaJwks(std::string_view body, std::vector<std::string>& skipped) {
    const auto jwks = jsonObject(std::string(body), 32);
    const auto list = jwks ? jwks->getArray("keys") : nullptr;
    if (!list) return std::nullopt;
    std::map<std::string, std::shared_ptr<const RsaPublicKey>> keys;
    for (std::size_t i = 0; i < list->size(); ++i) {
        const auto jwk = list->getObject(static_cast<unsigned>(i));
        if (!jwk || text(jwk, "kty") != "RSA") continue;
        if (const auto alg = text(jwk, "alg"); !alg.empty() && alg != "RS256") continue;
        if (const auto use = text(jwk, "use"); !use.empty() && use != "sig") continue;
        try {
            keys[text(jwk, "kid")] = std::make_shared<RsaPublicKey>(text(jwk, "n"), text(jwk, "e"));
        } catch (const std::invalid_argument& e) {
            skipped.emplace_back(e.what());
        }
    }
    return keys;
}

} // namespace latchkey::social
