// Keeps API keys, user keys and account keys at rest without storing them in the clear.
#include "core/key_vault.hpp"

#include <sodium.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace latchkey::core {

namespace {

constexpr const char* kSealPrefix = "v1:";

const char* purposeName(KeyPurpose purpose) {
    switch (purpose) {
    case KeyPurpose::ApiKey: return "api_key";
    case KeyPurpose::UserKey: return "user_key";
    case KeyPurpose::AccountKey: return "account_key";
    }
    return "unknown";
}

std::string associatedData(KeyPurpose purpose, const std::string& lookup) {
    return std::string(purposeName(purpose)) + ":" + lookup;
}

} // namespace

std::string toHex(const unsigned char* data, std::size_t size) {
    std::string out(size * 2 + 1, '\0');
    sodium_bin2hex(out.data(), out.size(), data, size);
    out.pop_back();
    return out;
}

KeyVault::KeyVault(const Secret& secret) {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
    static constexpr char context[crypto_kdf_CONTEXTBYTES] = {'l', 'a', 't', 'c',
                                                              'h', 'k', 'e', 'y'};
    crypto_kdf_derive_from_key(lookupKey_.data(), lookupKey_.size(), 1, context, secret.data());
    crypto_kdf_derive_from_key(sealKey_.data(), sealKey_.size(), 2, context, secret.data());
}

KeyVault::~KeyVault() {
    sodium_memzero(lookupKey_.data(), lookupKey_.size());
    sodium_memzero(sealKey_.data(), sealKey_.size());
}

KeyVault::Secret KeyVault::parseSecret(std::string_view hex) {
    Secret secret{};
    std::size_t length = 0;
    const char* end = nullptr;
    if (hex.size() != 64 ||
        sodium_hex2bin(secret.data(), secret.size(), hex.data(), hex.size(), nullptr, &length,
                       &end) != 0 ||
        length != secret.size() || end != hex.data() + hex.size()) {
        throw std::invalid_argument("the secret key must be 64 hex characters (32 bytes)");
    }
    return secret;
}

KeyVault::Secret KeyVault::loadOrCreateSecretFile(const std::string& path, Random& random) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        const fs::path parent = fs::path(path).parent_path();
        if (!parent.empty()) fs::create_directories(parent, ec);
        Secret secret{};
        random.fill(secret.data(), secret.size());
        const std::string text = toHex(secret.data(), secret.size()) + "\n";
        // O_EXCL: two hosts starting at once must not both write a different secret.
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            const bool ok =
                ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
            const bool synced = ::fsync(fd) == 0;
            ::close(fd);
            if (!ok || !synced) {
                throw std::runtime_error("cannot write the secret key file " + path + ": " +
                                         std::generic_category().message(errno));
            }
            return secret;
        }
        if (errno != EEXIST) {
            throw std::runtime_error("cannot create the secret key file " + path + ": " +
                                     std::generic_category().message(errno));
        }
    }
    struct stat info {};
    if (::stat(path.c_str(), &info) == 0 && (info.st_mode & 0077) != 0) {
        throw std::runtime_error("the secret key file " + path +
                                 " is readable by group or others; chmod 600 it");
    }
    std::ifstream in(path);
    std::string text;
    if (!in || !std::getline(in, text)) {
        throw std::runtime_error("cannot read the secret key file " + path);
    }
    while (!text.empty() && (text.back() == '\r' || text.back() == ' '))
        text.pop_back();
    try {
        return parseSecret(text);
    } catch (const std::invalid_argument&) {
        throw std::runtime_error("the secret key file " + path +
                                 " must hold 64 hex characters (32 bytes)");
    }
}

std::string KeyVault::generateKey(Random& random) {
    unsigned char bytes[20];
    random.fill(bytes, sizeof bytes);
    std::string key = toHex(bytes, sizeof bytes);
    sodium_memzero(bytes, sizeof bytes);
    return key;
}

std::string KeyVault::lookup(std::string_view key) const {
    unsigned char hash[32];
    crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(key.data()),
                       key.size(), lookupKey_.data(), lookupKey_.size());
    return toHex(hash, sizeof hash);
}

SealedKey KeyVault::seal(std::string_view key, KeyPurpose purpose, Random& random) const {
    SealedKey out;
    out.lookup = lookup(key);
    const std::string ad = associatedData(purpose, out.lookup);
    std::vector<unsigned char> blob(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + key.size() +
                                    crypto_aead_xchacha20poly1305_ietf_ABYTES);
    unsigned char* nonce = blob.data();
    random.fill(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    unsigned long long cipherLength = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &cipherLength,
        reinterpret_cast<const unsigned char*>(key.data()), key.size(),
        reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nullptr, nonce,
        sealKey_.data());
    const std::size_t used = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + cipherLength;
    std::string encoded(sodium_base64_encoded_len(used, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                        '\0');
    sodium_bin2base64(encoded.data(), encoded.size(), blob.data(), used,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    encoded.resize(std::strlen(encoded.c_str()));
    out.sealed = kSealPrefix + encoded;
    return out;
}

std::pair<std::string, SealedKey> KeyVault::issue(KeyPurpose purpose, Random& random) const {
    std::string plain = generateKey(random);
    SealedKey sealed = seal(plain, purpose, random);
    return {std::move(plain), std::move(sealed)};
}

std::string KeyVault::open(const SealedKey& sealed, KeyPurpose purpose) const {
    const std::string& text = sealed.sealed;
    if (text.rfind(kSealPrefix, 0) != 0) throw std::runtime_error("unknown sealed key format");
    const std::string encoded = text.substr(std::strlen(kSealPrefix));
    std::vector<unsigned char> blob(encoded.size());
    std::size_t length = 0;
    if (sodium_base642bin(blob.data(), blob.size(), encoded.data(), encoded.size(), nullptr,
                          &length, nullptr, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        length < crypto_aead_xchacha20poly1305_ietf_NPUBBYTES +
                     crypto_aead_xchacha20poly1305_ietf_ABYTES) {
        throw std::runtime_error("sealed key is malformed");
    }
    const std::string ad = associatedData(purpose, sealed.lookup);
    const unsigned char* nonce = blob.data();
    const std::size_t cipherLength = length - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
    std::string key(cipherLength - crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
    unsigned long long keyLength = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            reinterpret_cast<unsigned char*>(key.data()), &keyLength, nullptr,
            nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, cipherLength,
            reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nonce,
            sealKey_.data()) != 0) {
        throw std::runtime_error("sealed key does not open: the host secret differs from the "
                                 "one it was sealed with, or the row was altered");
    }
    key.resize(keyLength);
    return key;
}

} // namespace latchkey::core
