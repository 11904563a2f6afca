// libFuzzer target for what Google sign-in reads from outside: ID tokens (JWS compact, RFC 7515)
// and key sets (JWK Set, RFC 7517). Any bytes as a token and as a key set must be read or
// refused, and any readable token checked against any readable key, without a crash, a leak or
// undefined behaviour. Input: the key set, a newline, the token.
#include <latchkey_social/jose.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto nl = input.find('\n');
    const std::string_view keySet = input.substr(0, nl);
    const std::string_view token = nl == std::string_view::npos ? input : input.substr(nl + 1);
    std::vector<std::string> skipped;
    const auto keys = latchkey::social::readRsaJwks(keySet, skipped);
    const auto jws = latchkey::social::readCompactJws(token);
    if (jws) {
        if (!jws->header || !jws->claims) std::abort();
        if (token.substr(0, jws->signingInput.size()) != jws->signingInput) std::abort();
        if (keys) {
            for (const auto& [kid, key] : *keys) {
                if (key->verifySha256(jws->signingInput, jws->signature)) std::abort();
            }
        }
    }
    return 0;
}
