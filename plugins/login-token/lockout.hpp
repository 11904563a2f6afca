// Counters that limit the login-token flow's abuse: wrong tokens per address, and one
// lost-password mail per address per cooldown.
#pragma once

#include "settings.hpp"

#include <latchkey/clock.hpp>
#include <latchkey/key_value_area.hpp>
#include <latchkey/logger.hpp>
#include <latchkey/storage/records/types.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>

namespace latchkey::plugins::buzz {

/// The failure counters of wrong tokens for one address.
struct FailureKeys {
    std::string client;  ///< This address from this client.
    std::string account; ///< This address, from every client together.
    std::string network; ///< This client (IPv4 address, IPv6 /64), for every address together.
};

/// Wrong-token lockouts and lost-password cooldowns, in the flow's key/value area (shared by
/// every host on the store) under `fails/<instance>/...` and `cooldown/<instance>/...`.
/// Addresses are hashed: the store keeps no list of addresses people tried. Thread-safe.
class Lockout {
public:
    /// `settings` and `log` must outlive this object.
    Lockout(KeyValueArea& values, const Settings& settings, Id instanceId, const Clock& clock,
            Logger& log);

    /// The counters for `email` asked from `remoteAddress` ("ip:port").
    FailureKeys keys(const std::string& email, const std::string& remoteAddress) const;
    /// Before a token is tried: 429 with Retry-After when this client's counter for the
    /// address reached `token_attempts`, or its counter for all addresses
    /// `token_client_attempts`, within `token_lockout`.
    void checkClient(const FailureKeys& keys);
    /// After a wrong token: 429 with Retry-After when the address's counter over all clients
    /// reached `token_account_attempts`. Never checked before the token: the right token always
    /// works, so no one but the holder of a link can block its use.
    void checkAddress(const FailureKeys& keys);
    /// Counts one wrong token on both counters.
    void recordFailure(const FailureKeys& keys);
    /// A right token clears this client's counter (the address's runs out by itself).
    void clearClient(const FailureKeys& keys);
    /// True (and the cooldown starts) when `email` may be sent a lost-password mail now. False
    /// also when the cooldowns are full (kMaxCounters): no cooldown, no mail (logged). Each
    /// request counts on the client's counter for all addresses (`network` of `keys(email,
    /// remoteAddress)`): 429 past `token_client_attempts`.
    bool resetDue(const std::string& email, const std::string& remoteAddress);
    /// Deletes the counters and cooldowns whose window has passed at `at`, reading them in
    /// pages; returns how many are kept (the count the cap starts from again).
    std::size_t sweep(Micros at);
    /// Deletes every counter and cooldown of the instance (it was deleted).
    void removeAll();

    /// At most this many counters, and as many cooldowns, are made between sweeps (plus the
    /// ones the last sweep kept): unauthenticated requests cannot grow the store without
    /// bound. Past it, wrong tokens for addresses without a counter are not counted (a 192-bit
    /// token is not guessed either way; the client's own counters still are) and lost-password
    /// mail to new addresses waits for the sweep. One client makes at most
    /// `token_client_attempts` of either per `token_lockout`.
    static constexpr std::size_t kMaxCounters = 100000;

private:
    struct Counts;
    /// Whether a new counter may be made now under `counts` (counts it when so; warns when
    /// not).
    bool mayCreate(Counts& counts, const char* what);
    void checkOne(const std::string& key, std::int64_t limit);
    void count(const std::string& key);
    Micros now() const;

    KeyValueArea& values_;
    const Settings& settings_;
    Id instanceId_;
    const Clock& clock_;
    Logger& log_;
    /// For the cap: counters made since the last sweep plus the ones it kept, and when the cap
    /// was last logged. (Held apart so that the lockout moves.)
    struct Counts {
        std::atomic<std::size_t> entries{0};
        std::atomic<Micros> lastWarning{0};
    };
    std::unique_ptr<Counts> fails_ = std::make_unique<Counts>();     ///< Wrong-token counters.
    std::unique_ptr<Counts> cooldowns_ = std::make_unique<Counts>(); ///< Lost-password ones.
};

} // namespace latchkey::plugins::buzz
