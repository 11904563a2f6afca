// Cookie sessions of the login-token flow: issue, check (idle and absolute expiry), end, sweep.
#pragma once

#include "settings.hpp"

#include <latchkey/clock.hpp>
#include <latchkey/random.hpp>
#include <latchkey/request.hpp>
#include <latchkey/response.hpp>
#include <latchkey/storage/sessions.hpp>

#include <optional>
#include <string>

namespace latchkey::plugins::buzz {

/// Sessions of one instance, stored as hashes of their ids (the Sessions facet) and carried in
/// an HttpOnly, SameSite=Lax cookie scoped to the mount path (Secure behind https). Thread-safe.
class CookieSessions {
public:
    /// `settings` must outlive this object.
    CookieSessions(Sessions& store, const Settings& settings, Id instanceId, bool secure,
                   const Clock& clock, Random& random);

    /// The session id the request's cookie carries (at most 128 bytes), if any.
    std::optional<std::string> presented(const Request& request) const;
    /// The live session the request presents. One past its absolute or idle expiry is deleted;
    /// activity is recorded at most once a minute (a write per request would be a write per
    /// request).
    std::optional<SessionRecord> check(const Request& request);
    /// Starts a session for `userId` (`remember`: the long lifetime, a persistent cookie);
    /// returns the Set-Cookie header, for `path` (the mount the request came through).
    Header start(Id userId, bool remember, const std::string& path);
    /// start() for the first mount.
    Header start(Id userId, bool remember) { return start(userId, remember, settings_.mount); }
    /// Ends the session with this id hash.
    void end(const std::string& idHash);
    /// Ends the session the request presents, if any.
    void endPresented(const Request& request);
    /// Ends every session of the user.
    void endAll(Id userId);
    /// The Set-Cookie header that removes the cookie of `path`.
    Header clearCookie(const std::string& path) const;
    /// clearCookie() for the first mount.
    Header clearCookie() const { return clearCookie(settings_.mount); }
    /// Deletes the sessions past their expiry at `at`.
    void sweep(Micros at);

private:
    Micros now() const;

    Sessions& store_;
    const Settings& settings_;
    Id instanceId_;
    bool secure_;
    const Clock& clock_;
    Random& random_;
};

} // namespace latchkey::plugins::buzz
