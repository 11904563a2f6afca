// Cookie sessions of the login-token flow: issue, check (idle and absolute expiry), end, sweep.
#include "cookie_sessions.hpp"

#include "cookie_header.hpp"
#include "text.hpp"

#include <latchkey/support/time.hpp>

namespace latchkey::plugins::buzz {

namespace {

/// Sessions are touched at most this often.
constexpr Micros kTouchEvery = 60'000'000;

} // namespace

CookieSessions::CookieSessions(Sessions& store, const Settings& settings, Id instanceId,
                               bool secure, const Clock& clock, Random& random)
    : store_(store), settings_(settings), instanceId_(instanceId), secure_(secure), clock_(clock),
      random_(random) {}

Micros CookieSessions::now() const {
    return nowMicros(clock_);
}

std::optional<std::string> CookieSessions::presented(const Request& request) const {
    const auto cookies = request.header("Cookie");
    if (!cookies) return std::nullopt;
    return cookieValue(*cookies, settings_.cookieName, 128);
}

std::optional<SessionRecord> CookieSessions::check(const Request& request) {
    const auto id = presented(request);
    if (!id) return std::nullopt;
    const std::string hash = hashHex(*id);
    auto session = store_.findSession(hash);
    const Micros t = now();
    if (!session || session->instanceId != instanceId_) return std::nullopt;
    if (session->expiresAt <= t || t - session->lastSeenAt > toMicros(settings_.sessionIdle)) {
        store_.deleteSession(hash);
        return std::nullopt;
    }
    if (t - session->lastSeenAt > kTouchEvery) store_.touchSession(hash, t);
    return session;
}

Header CookieSessions::start(Id userId, bool remember, const std::string& path) {
    const std::string id = randomToken(random_, 32);
    SessionRecord session;
    session.idHash = hashHex(id);
    session.instanceId = instanceId_;
    session.userId = userId;
    session.createdAt = session.lastSeenAt = now();
    session.expiresAt = session.createdAt +
                        toMicros(remember ? settings_.sessionRemember : settings_.sessionAbsolute);
    store_.createSession(session);
    std::string cookie =
        settings_.cookieName + "=" + id + "; Path=" + path + "; HttpOnly; SameSite=Lax";
    if (secure_) cookie += "; Secure";
    if (remember) {
        cookie += "; Max-Age=" + std::to_string(settings_.sessionRemember.count() / 1000);
    }
    return {"Set-Cookie", cookie};
}

void CookieSessions::end(const std::string& idHash) {
    store_.deleteSession(idHash);
}

void CookieSessions::endPresented(const Request& request) {
    if (const auto id = presented(request)) store_.deleteSession(hashHex(*id));
}

void CookieSessions::endAll(Id userId) {
    store_.deleteUserSessions(userId);
}

Header CookieSessions::clearCookie(const std::string& path) const {
    std::string cookie =
        settings_.cookieName + "=; Path=" + path + "; HttpOnly; SameSite=Lax; Max-Age=0";
    if (secure_) cookie += "; Secure";
    return {"Set-Cookie", cookie};
}

void CookieSessions::sweep(Micros at) {
    store_.deleteStaleSessions(at, at - toMicros(settings_.sessionIdle));
}

} // namespace latchkey::plugins::buzz
