// The identity core: accounts, instances, API keys and users over the Store, served as the
// Syncano v1.1 API.
#pragma once

#include "core/core_services.hpp"

#include <latchkey/router.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace latchkey::core {

/// Owns nothing but references: the runtime keeps the store, hasher and vault alive longer.
class IdentityCore {
public:
    explicit IdentityCore(CoreServices services);

    /// Makes sure the keys in the store were sealed with this host's secret: the first start
    /// records a fingerprint of the secret; later starts with another secret fail here instead
    /// of failing every key check.
    void checkSecret();

    /// Creates the administrator account `email` with `password` unless it exists. An existing
    /// account is left as it is (its password may have been changed since). Throws
    /// std::runtime_error if the password breaks the password policy.
    void bootstrapAdmin(const std::string& email, const std::string& password);

    /// `latchkey admin create-admin`: creates the administrator account `email` with
    /// `password` and returns its account key in plain text, or nullopt when the account
    /// exists (it is left as it is). Throws std::runtime_error if the password breaks the
    /// password policy.
    std::optional<std::string> createAdmin(const std::string& email, const std::string& password);

    /// `latchkey admin reset-key`: a new account key for the account `email`, in plain text; the
    /// old key stops working at once, on every host. Throws std::runtime_error naming the
    /// problem (no such account, a driver that cannot change credentials).
    std::string resetAccountKey(const std::string& email);

    /// `latchkey admin set-password`: sets the password of the account `email` (the hasher's
    /// policy applies) and gives it a new account key, as the API's password change does;
    /// returns the key in plain text. Throws std::runtime_error naming the problem.
    std::string setAccountPassword(const std::string& email, const std::string& password);

    /// `latchkey admin list-instances`: every instance the account `email` owns, in id order.
    /// Throws std::runtime_error for an unknown account.
    std::vector<InstanceRecord> instancesOf(const std::string& email) const;

    /// Mounts the v1.1 routes.
    void mount(Router& router);

    /// The routes mount() adds whose handlers only read what the per-host caches hold (and
    /// call nothing that waits without core::mayBlock()): they may be tried on a network
    /// thread first. As (method, pattern).
    static std::vector<std::pair<std::string, std::string>> inlineRoutes();

private:
    /// rotateAccountCredentials for the operator, retried when a change came in between.
    std::string rotateFor(const std::string& email, const std::optional<std::string>& passwordHash,
                          std::string_view event);

    CoreServices core_;
};

} // namespace latchkey::core
