// Counters that limit the login-token flow's abuse: wrong tokens per address, and one
// lost-password mail per address per cooldown.
#pragma once

#include "settings.hpp"

#include <latchkey/clock.hpp>
#include <latchkey/key_value_area.hpp>
#include <latchkey/storage/records/types.hpp>

#include <string>

namespace latchkey::plugins::buzz {

/// The two failure counters of wrong tokens for one address.
struct FailureKeys {
    std::string client;  ///< This address from this client IP.
    std::string account; ///< This address, from every client together.
};

/// Wrong-token lockouts and lost-password cooldowns, in the flow's key/value area (shared by
/// every host on the store) under `fails/<instance>/...` and `cooldown/<instance>/...`.
/// Addresses are hashed: the store keeps no list of addresses people tried. Thread-safe.
class Lockout {
public:
    /// `settings` must outlive this object.
    Lockout(KeyValueArea& values, const Settings& settings, Id instanceId, const Clock& clock);

    /// The counters for `email` asked from `remoteAddress` ("ip:port").
    FailureKeys keys(const std::string& email, const std::string& remoteAddress) const;
    /// 429 with Retry-After when either counter reached its limit within `token_lockout`.
    void check(const FailureKeys& keys);
    /// Counts one wrong token on both counters.
    void recordFailure(const FailureKeys& keys);
    /// A right token clears this client's counter (the address's runs out by itself).
    void clearClient(const FailureKeys& keys);
    /// True (and the cooldown starts) when `email` may be sent a lost-password mail now.
    bool resetDue(const std::string& email);
    /// Deletes the counters and cooldowns whose window has passed at `at`.
    void sweep(Micros at);
    /// Deletes every counter and cooldown of the instance (it was deleted).
    void removeAll();

private:
    void count(const std::string& key);
    Micros now() const;

    KeyValueArea& values_;
    const Settings& settings_;
    Id instanceId_;
    const Clock& clock_;
};

} // namespace latchkey::plugins::buzz
