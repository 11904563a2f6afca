// Password guessing throttled on every host sharing the store: a backoff per (account, client),
// a ceiling per account and one per client across accounts (docs/security.md, "Login
// throttling").
#pragma once

#include "core/auth_events.hpp"
#include "core/background_refresher.hpp"

#include <latchkey/clock.hpp>
#include <latchkey/key_value_area.hpp>
#include <latchkey/support/time.hpp>

#include <spdlog/logger.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace latchkey::core {

/// `login_throttle:` in the config (docs/configuration.md).
struct ThrottleSettings {
    /// Failures of one client at one account before it has to wait.
    std::int64_t freeFailures = 5;
    /// The wait after the first failure past the free ones; it doubles with each further one...
    std::chrono::milliseconds firstDelay{1000};
    /// ...up to this.
    std::chrono::milliseconds maxDelay{std::chrono::minutes(15)};
    /// Consecutive failures at one account, from every client together, after which the account
    /// is protected (NIST SP 800-63B 5.2.2: at most 100)...
    std::int64_t accountLimit = 50;
    /// ...and then takes one attempt per this long from clients it does not know. With the
    /// defaults, strangers get at most 50 + 30 guesses in an hour (ASVS 4.0.3 2.2.1: at most
    /// 100), then 30 an hour.
    std::chrono::milliseconds accountInterval{std::chrono::minutes(2)};
    /// Failures from one client (an IPv4 address, an IPv6 /64) at any accounts...
    std::int64_t clientLimit = 100;
    /// ...within this window, after which the client waits for the window's end.
    std::chrono::milliseconds clientWindow{std::chrono::minutes(15)};
    /// A failure counter is forgotten this long after its last failure.
    std::chrono::milliseconds forget{std::chrono::hours(24)};
    /// A client that logged in to an account is known to it this long: the account's ceiling
    /// does not apply to it (its own backoff does).
    std::chrono::milliseconds knownFor{std::chrono::hours(24 * 30)};
    /// Counters kept at most (as the last sweep counted them, plus what this host made since);
    /// past it, accounts and clients without a counter are counted in 1024 shared overflow
    /// counters per kind, pairs without one are not counted, a sweep starts and a warning is
    /// logged.
    std::size_t maxEntries = 200000;
    /// How often a host sweeps the counters that ran out (off the request path).
    std::chrono::milliseconds sweepEvery{std::chrono::minutes(5)};
};

/// Who is being tried, and by whom. Both are names, never secrets: `account` is the account's
/// stable name ("u/<instance>/<user id>" for a user, "n/<instance>/<username>" for an unknown
/// username, "a/<email>" for an administrator account), `client` the client's network (see
/// clientNetwork; empty for a check that has no client, which then skips the per-client parts).
struct LoginSubject {
    std::string account;
    std::string client;
};

/// The network a client is counted as: its IPv4 address, or the /64 of its IPv6 address (one
/// host usually has a whole /64). `remoteAddress` is Request::remoteAddress ("ip:port",
/// "[ipv6]:port"); what cannot be read is counted as itself.
std::string clientNetwork(std::string_view remoteAddress);

/// The throttle. Every attempt is counted at the account and the client before the password is
/// checked (so that concurrent guesses cannot slip past those ceilings) and a success takes it
/// back; the client's backoff at the account counts failures only. The counters are
/// in the host's key/value area `latchkey.throttle` of the configured store, under hashes of the
/// names, so every host on one database shares them and the store keeps no list of addresses.
/// The same reads and writes happen whether the account exists or not. Thread-safe.
class LoginThrottle {
public:
    /// `values` and `clock` must outlive the throttle; `log` hears when the counters are full.
    LoginThrottle(KeyValueArea& values, ThrottleSettings settings, const Clock& clock,
                  std::shared_ptr<spdlog::logger> log);

    /// Counts an attempt, or throws HttpError 429 with Retry-After (seconds) when the subject
    /// must wait: its client's backoff at this account, the account's ceiling (unless this
    /// client is known to it) or the client's ceiling across accounts.
    void begin(const LoginSubject& subject);
    /// The attempt begun failed (a wrong password, an unknown or inactive account): counts it
    /// on the client's backoff at this account.
    void failed(const LoginSubject& subject);
    /// The attempt succeeded: the client's failures at this account and the account's
    /// consecutive failures are cleared, the client is known to the account, and the attempt
    /// is taken back from the client's count across accounts (its earlier failures stay:
    /// logging in to one's own account does not buy guesses at others).
    void succeeded(const LoginSubject& subject);
    /// The attempt begun was never decided (the hasher was full: 503): begin()'s count at the
    /// account and at the client is taken back, so that retrying through an overload does not
    /// use up the owner's own attempts. Nothing else changes.
    void abandoned(const LoginSubject& subject);
    /// Deletes the counters that have run out at `at`, reading the area in pages; returns how
    /// many are kept. begin() has one run in the background every `sweep_every`.
    std::size_t sweep(Micros at);
    /// Waits for a sweep in progress; no more start. Call before the store goes.
    void stop() { sweeper_.stop(); }

    /// The settings in use.
    const ThrottleSettings& settings() const noexcept { return settings_; }

private:
    struct Keys {
        std::string pair, account, client;
    };
    static Keys keysOf(const LoginSubject& subject);
    Micros now() const;
    /// Read, `next`, compare-and-set on the counter under `key` (retried), made when absent if
    /// `mayCreate`; false when it never settled.
    template <class Next>
    bool changeCounter(const std::string& key, bool mayCreate, Micros t, Next&& next);
    /// Logs, once a minute at most, that the counters are full.
    void warnFull(Micros t);
    /// Takes one attempt back from the counter at `key` if it still counts one (within
    /// `window` of its start, when `window` is not 0).
    void takeBack(const std::string& key, Micros t, Micros window);
    /// Starts a sweep now unless one started within the last minute (the counters are full).
    void sweepSoon(Micros t);
    /// Has the background thread sweep.
    void startSweep();

    KeyValueArea& values_;
    ThrottleSettings settings_;
    const Clock& clock_;
    std::shared_ptr<spdlog::logger> log_;
    /// Counters created since the last sweep, plus the ones it kept.
    std::atomic<std::size_t> entries_{0};
    std::atomic<Micros> lastCapWarning_{0};
    std::atomic<Micros> lastSweep_{0};
    BackgroundRefresher sweeper_{1}; ///< Last: its thread may use everything above.
};

/// A password check under `throttle` (nullptr: none) that writes its auth event (`event`, whose
/// outcome and reason it fills in, to `log` and `observe`): begin() (a refusal is logged as
/// "refused"/"throttled", then thrown), `check` (the reason code of a failure, or empty for a
/// success; an Overloaded it throws, the hasher's pool being full, is logged as "shed" and
/// passed on), then failed() or succeeded(). True when the check succeeded.
bool throttledCheck(LoginThrottle* throttle, const LoginSubject& subject, spdlog::logger& log,
                    const AuthEventObserver& observe, AuthEvent event,
                    const std::function<std::string_view()>& check);

} // namespace latchkey::core
