// The cryptography the social backends need, over OpenSSL: HMAC-SHA256 (Facebook's
// appsecret_proof), HMAC-SHA1 (Twitter's OAuth 1.0a signature), and RS256 verification with a
// JWK (Google's ID tokens).
#include "latchkey_social/provider.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>

#include <memory>
#include <stdexcept>

namespace latchkey::social {

namespace {

std::string hmac(const EVP_MD* md, std::string_view key, std::string_view message) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (!HMAC(md, key.data(), static_cast<int>(key.size()),
              reinterpret_cast<const unsigned char*>(message.data()), message.size(), out, &size)) {
        throw std::runtime_error("HMAC failed");
    }
    return std::string(reinterpret_cast<const char*>(out), size);
}

struct BnFree {
    void operator()(BIGNUM* bn) const { BN_free(bn); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;

Bn bignum(std::string_view base64url) {
    const auto bytes = base64UrlDecode(base64url);
    if (!bytes || bytes->empty()) throw std::invalid_argument("not base64url");
    Bn bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes->data()),
                    static_cast<int>(bytes->size()), nullptr));
    if (!bn) throw std::invalid_argument("not a number");
    return bn;
}

} // namespace

std::string hmacSha256Hex(std::string_view key, std::string_view message) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (const char c : hmac(EVP_sha256(), key, message)) {
        const auto u = static_cast<unsigned char>(c);
        out += kHex[u >> 4];
        out += kHex[u & 15];
    }
    return out;
}

std::string hmacSha1Base64(std::string_view key, std::string_view message) {
    const std::string digest = hmac(EVP_sha1(), key, message);
    std::string out(4 * ((digest.size() + 2) / 3) + 1, '\0');
    const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                        reinterpret_cast<const unsigned char*>(digest.data()),
                                        static_cast<int>(digest.size()));
    out.resize(static_cast<std::size_t>(written));
    return out;
}

std::optional<std::string> base64UrlDecode(std::string_view text) {
    while (!text.empty() && text.back() == '=')
        text.remove_suffix(1);
    if (text.size() % 4 == 1) return std::nullopt;
    std::string out;
    out.reserve(text.size() * 3 / 4);
    unsigned buffer = 0;
    int bits = 0;
    for (const char c : text) {
        int value;
        if (c >= 'A' && c <= 'Z') {
            value = c - 'A';
        } else if (c >= 'a' && c <= 'z') {
            value = c - 'a' + 26;
        } else if (c >= '0' && c <= '9') {
            value = c - '0' + 52;
        } else if (c == '-') {
            value = 62;
        } else if (c == '_') {
            value = 63;
        } else {
            return std::nullopt;
        }
        buffer = (buffer << 6) | static_cast<unsigned>(value);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((buffer >> bits) & 0xFF);
        }
    }
    return out;
}

RsaPublicKey::RsaPublicKey(std::string_view n, std::string_view e) {
    const Bn modulus = bignum(n);
    const Bn exponent = bignum(e);
    std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> build(OSSL_PARAM_BLD_new(),
                                                                          OSSL_PARAM_BLD_free);
    if (!build || !OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_N, modulus.get()) ||
        !OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_E, exponent.get())) {
        throw std::invalid_argument("cannot build RSA parameters");
    }
    std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(
        OSSL_PARAM_BLD_to_param(build.get()), OSSL_PARAM_free);
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> context(
        EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr), EVP_PKEY_CTX_free);
    EVP_PKEY* key = nullptr;
    if (!params || !context || EVP_PKEY_fromdata_init(context.get()) <= 0 ||
        EVP_PKEY_fromdata(context.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) {
        throw std::invalid_argument("not an RSA public key");
    }
    if (EVP_PKEY_get_bits(key) < 2048) {
        EVP_PKEY_free(key);
        throw std::invalid_argument("RSA key shorter than 2048 bits");
    }
    key_ = key;
}

RsaPublicKey::~RsaPublicKey() {
    EVP_PKEY_free(static_cast<EVP_PKEY*>(key_));
}

RsaPublicKey::RsaPublicKey(RsaPublicKey&& other) noexcept : key_(other.key_) {
    other.key_ = nullptr;
}

RsaPublicKey& RsaPublicKey::operator=(RsaPublicKey&& other) noexcept {
    std::swap(key_, other.key_);
    return *this;
}

bool RsaPublicKey::verifySha256(std::string_view message, std::string_view signature) const {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                    EVP_MD_CTX_free);
    if (!context || EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr,
                                         static_cast<EVP_PKEY*>(key_)) != 1) {
        return false;
    }
    return EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                            signature.size(),
                            reinterpret_cast<const unsigned char*>(message.data()),
                            message.size()) == 1;
}

} // namespace latchkey::social
