// The credential/flow plugin kind: verifies a kind of credential and may mount routes.
#pragma once

#include <latchkey/http.hpp>
#include <latchkey/password_hasher.hpp>
#include <latchkey/plugin.hpp>

namespace latchkey {

/// A credential or login-flow plugin (password, login-token). Created after storage and mailer.
class CredentialPlugin : public Plugin {
public:
    CredentialPlugin* asCredential() noexcept final { return this; }

    /// Mounts this plugin's routes. Called once, after every plugin exists, before serving.
    virtual void mount(Router& router) { static_cast<void>(router); }

    /// The password hasher this plugin provides, or nullptr. At most one loaded plugin may
    /// provide one; the host hands it to everyone else through PluginContext::passwordHasher().
    virtual PasswordHasher* passwordHasher() noexcept { return nullptr; }
};

} // namespace latchkey
