// What the host hands a plugin when it creates it: config, logging, services, other plugins.
#pragma once

#include <latchkey/clock.hpp>
#include <latchkey/config.hpp>
#include <latchkey/logger.hpp>
#include <latchkey/random.hpp>
#include <latchkey/store.hpp>

#include <string>
#include <string_view>

namespace latchkey {

class Mailer;
class OutboundHttp;
class PasswordHasher;

/// The host's services for one plugin. Valid for the plugin's whole life; thread-safe.
/// Plugins are created in this order: storage, mailer, credential (password first), social,
/// so a plugin sees the ones created before it.
class PluginContext {
public:
    virtual ~PluginContext() = default;

    /// This plugin's own config node, already validated by its ValidateFn.
    virtual const ConfigValue& config() const = 0;
    /// A logger named after this plugin.
    virtual Logger& logger() = 0;
    /// The clock.
    virtual const Clock& clock() const = 0;
    /// The CSPRNG.
    virtual Random& random() = 0;
    /// The identity core's store; nullptr while the storage plugin itself is being created.
    virtual Store* store() = 0;
    /// The mailer; nullptr before it is created.
    virtual Mailer* mailer() = 0;
    /// The password hasher; nullptr before the plugin providing it is created.
    virtual PasswordHasher* passwordHasher() = 0;
    /// The server's public base URL ("https://auth.example.com"), for links in mail.
    virtual std::string publicUrl() const = 0;
    /// `path` made absolute: relative paths are taken from the config file's directory.
    virtual std::string resolvePath(std::string_view path) const = 0;
    /// The instance called `name`, created (owned by the configured administrator account) if
    /// it does not exist. Throws std::runtime_error when it does not exist and there is no
    /// administrator to own it. Available from CredentialPlugin::mount() on.
    virtual InstanceRecord ensureInstance(std::string_view name) = 0;
    /// A fresh user key in the form the store keeps, for a user this plugin creates or whose
    /// password it changes (a new password gives a new key, as in the v1.1 API).
    virtual SealedKey newUserKey() = 0;
    /// The host's HTTP client for calls to other servers (social providers).
    virtual OutboundHttp& http() = 0;
};

} // namespace latchkey
