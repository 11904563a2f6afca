// The identity core: accounts, instances, API keys and users over the Store, served as the
// Syncano v1.1 API.
#include "core/identity_core.hpp"

#include "core/account_routes.hpp"
#include "core/routes.hpp"
#include "core/user_routes.hpp"

#include <algorithm>
#include <iterator>
#include <stdexcept>

namespace latchkey::core {

namespace {
constexpr const char* kNamespace = "latchkey.core";
constexpr const char* kSecretCheckKey = "secret_fingerprint";
constexpr const char* kSecretCheckInput = "latchkey secret fingerprint v1";
} // namespace

IdentityCore::IdentityCore(CoreServices services) : core_(std::move(services)) {}

void IdentityCore::checkSecret() {
    const std::string fingerprint = core_.vault.lookup(kSecretCheckInput);
    if (core_.store.keyValues().putValueIfAbsent(kNamespace, kSecretCheckKey, fingerprint)) return;
    const auto stored = core_.store.keyValues().getValue(kNamespace, kSecretCheckKey);
    if (stored != fingerprint) {
        throw std::runtime_error(
            "the secret key differs from the one this database was created with: keys stored "
            "in it cannot be checked or shown. Use the original secret (secrets.key or "
            "secrets.key_file)");
    }
}

void IdentityCore::bootstrapAdmin(const std::string& email, const std::string& password) {
    // The policy first, so that its message names the config key; an existing account is
    // left alone whatever admin.password says now.
    if (!core_.store.accounts().findAccountByEmail(asciiLower(email))) {
        const auto problems = core_.hasher.checkPolicy(password);
        if (!problems.empty()) throw std::runtime_error("admin.password: " + problems.front());
    }
    createAdmin(email, password);
}

std::optional<std::string> IdentityCore::createAdmin(const std::string& emailGiven,
                                                     const std::string& password) {
    const std::string email = asciiLower(emailGiven);
    if (core_.store.accounts().findAccountByEmail(email)) {
        core_.log->info("administrator account {} exists", email);
        return std::nullopt;
    }
    const auto problems = core_.hasher.checkPolicy(password);
    if (!problems.empty()) throw std::runtime_error(problems.front());
    AccountRecord account;
    account.email = email;
    account.passwordHash = core_.hasher.hash(password);
    auto [plainKey, sealedKey] = core_.newKey(KeyPurpose::AccountKey);
    account.key = std::move(sealedKey);
    account.createdAt = account.updatedAt = core_.now();
    try {
        core_.store.accounts().createAccount(account);
        core_.log->info("created administrator account {}", email);
    } catch (const Conflict&) {
        // Another host created it at the same moment.
        core_.log->info("administrator account {} exists", email);
        return std::nullopt;
    }
    return std::move(plainKey);
}

std::string IdentityCore::resetAccountKey(const std::string& email) {
    return rotateFor(email, std::nullopt, "account_key_reset");
}

std::string IdentityCore::setAccountPassword(const std::string& email,
                                             const std::string& password) {
    const auto problems = core_.hasher.checkPolicy(password);
    if (!problems.empty()) throw std::runtime_error("the password: " + problems.front());
    return rotateFor(email, core_.hasher.hash(password), "account_password_change");
}

std::vector<InstanceRecord> IdentityCore::instancesOf(const std::string& email) const {
    const std::string address = asciiLower(email);
    const auto account = core_.store.accounts().findAccountByEmail(address);
    if (!account) throw std::runtime_error("no account has the email " + address);
    std::vector<InstanceRecord> all;
    PageRequest page;
    page.limit = 500;
    for (;;) {
        auto batch = core_.store.instances().listInstances(account->id, page);
        if (batch.empty()) break;
        page.after = batch.back().id;
        const bool last = batch.size() < page.limit;
        std::move(batch.begin(), batch.end(), std::back_inserter(all));
        if (last) break;
    }
    return all;
}

std::string IdentityCore::rotateFor(const std::string& email,
                                    const std::optional<std::string>& passwordHash,
                                    std::string_view event) {
    const std::string address = asciiLower(email);
    for (int attempt = 0; attempt < 3; ++attempt) {
        const auto account = core_.store.accounts().findAccountByEmail(address);
        if (!account) throw std::runtime_error("no account has the email " + address);
        // HttpError (501: the driver cannot) is a std::runtime_error with its detail.
        if (auto saved = rotateAccountCredentials(core_, *account, passwordHash, event, "cli"))
            return std::move(saved->second);
    }
    throw std::runtime_error("the account " + address + " kept changing meanwhile; try again");
}

void IdentityCore::mount(Router& router) {
    mountAccountRoutes(router, core_);
    mountInstanceRoutes(router, core_);
    mountApiKeyRoutes(router, core_);
    mountUserRoutes(router, core_);
    mountSocialRoutes(router, core_);
    mountGroupRoutes(router, core_);
    mountProfileRoutes(router, core_);
}

std::vector<std::pair<std::string, std::string>> IdentityCore::inlineRoutes() {
    // user/: the API key, the instance, the user by key, its active state and the profile
    // class, all cached; the rest is CPU.
    return {{"GET", kCurrentUserPattern}};
}

} // namespace latchkey::core
