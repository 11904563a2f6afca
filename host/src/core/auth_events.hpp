// The authentication event log: one line per login, refusal, lockout, key reset, password and
// address change, with who and from where, never a secret.
#pragma once

#include <latchkey/storage/records/types.hpp>

#include <spdlog/logger.h>

#include <functional>
#include <optional>
#include <string_view>

namespace latchkey::core {

/// One authentication event, as `logAuthEvent` writes it.
struct AuthEvent {
    std::string_view event;       ///< "login", "account_login", "password_change", ...
    std::optional<Id> instanceId; ///< The instance, when the event is a user's.
    std::optional<Id> userId;     ///< The user or account; nullopt: "unknown".
    std::string_view client;      ///< Request::remoteAddress; empty: "-" (no request).
    std::string_view outcome;     ///< "success", "failure", "refused".
    std::string_view reason = {}; ///< A code ("wrong_password", "throttled"); empty: none.
};

/// Who else is told of each authentication event (the host's metrics). Called on the request's
/// thread after the log line; must not block and should not throw.
using AuthEventObserver = std::function<void(const AuthEvent&)>;

/// Writes `auth event=... instance=... user=... client=... outcome=... reason=...` at info
/// (failures and refusals at warn) to `log`, then tells `observe` (when set; what it throws is
/// logged, not passed on). Every value is a number or a code, or a client address the host
/// formatted: nothing from the request body, never a password, key or token.
void logAuthEvent(spdlog::logger& log, const AuthEventObserver& observe, const AuthEvent& event);

} // namespace latchkey::core
