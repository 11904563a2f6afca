// What every part of the identity core's REST API shares: the store, hasher, vault, clock and
// randomness, and helpers over them.
#pragma once

#include "core/identity_service.hpp"
#include "core/key_vault.hpp"
#include "core/login_throttle.hpp"
#include "core/render_memo.hpp"

#include <latchkey/clock.hpp>
#include <latchkey/events.hpp>
#include <latchkey/password_hasher.hpp>
#include <latchkey/random.hpp>
#include <latchkey/social.hpp>
#include <latchkey/support/storage_facets.hpp>
#include <latchkey/support/time.hpp>
#include <latchkey/user_events.hpp>

#include <spdlog/logger.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace latchkey::core {

/// The social backends loaded, by name (`user/auth/<backend>/`): each with its host-wide
/// settings, and one more for every instance with settings of its own
/// (`auth.social.<backend>.instances.<name>`).
class SocialBackends {
public:
    /// Adds `backend` as `name` for `instance`, or for every other instance when it is "".
    void add(const std::string& name, const std::string& instance, SocialBackend& backend) {
        byName_[name][instance] = &backend;
    }
    /// The backend `name` as configured for `instance`: its own settings, else the host-wide
    /// ones; nullptr when it has neither.
    SocialBackend* find(std::string_view name, std::string_view instance) const {
        const auto backend = byName_.find(name);
        if (backend == byName_.end()) return nullptr;
        const auto& uses = backend->second;
        if (const auto own = uses.find(instance); own != uses.end()) return own->second;
        const auto hostWide = uses.find(std::string_view());
        return hostWide == uses.end() ? nullptr : hostWide->second;
    }
    void clear() noexcept { byName_.clear(); }

private:
    std::map<std::string, std::map<std::string, SocialBackend*, std::less<>>, std::less<>> byName_;
};

/// The identity core's dependencies, shared by its route handlers.
struct CoreServices {
    StorageFacets store;         ///< The facets the core uses were checked at start.
    IdentityService& identities; ///< The one place users are written.
    PasswordHasher& hasher;
    const KeyVault& vault;
    const Clock& clock;
    Random& random;
    std::shared_ptr<spdlog::logger> log;
    std::string publicUrl;               ///< For links to uploaded files.
    std::uint64_t maxFileSize = 1 << 20; ///< Largest file a profile field accepts.
    /// The social backends loaded.
    SocialBackends social;
    /// Tells the plugins that keep state per user what happened (after it is stored).
    std::function<void(const UserEvent&)> announce = [](const UserEvent&) {};
    /// Parsed schemas and rendered profiles, remembered by their stored text.
    std::shared_ptr<RenderMemo> memo = std::make_shared<RenderMemo>(std::size_t{4} << 20);
    /// Throttles password logins (the identity service's too); nullptr: none (unit tests).
    LoginThrottle* throttle = nullptr;
    /// Told of every authentication event after its log line (the host's metrics).
    AuthEventObserver observeAuthEvent = {};
    /// Hands an event to the event sinks (api_key.created, api_key.deleted).
    std::function<void(Event)> publish = [](const Event&) {};

    /// Now, in the store's time unit.
    Micros now() const { return nowMicros(clock); }

    /// rehashBestEffort with the core's hasher and log (account logins).
    void refreshHash(std::string_view password,
                     const std::function<void(const std::string&)>& save) const {
        rehashBestEffort(hasher, *log, password, save);
    }

    /// A fresh key (shown to the client) and its sealed form (kept by the store).
    std::pair<std::string, SealedKey> newKey(KeyPurpose purpose) const {
        return vault.issue(purpose, random);
    }
};

} // namespace latchkey::core
