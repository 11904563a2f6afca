// The `google-oauth2` social backend. An access token is checked with tokeninfo (its audience
// must be one of this app's client ids) and read with userinfo; an ID token is verified
// offline: RS256 against Google's published keys (cached, fetched again for an unknown key
// id), with issuer, audience and expiry checked.
#include <latchkey_social/jose.hpp>
#include <latchkey_social/provider.hpp>

#include <latchkey/context.hpp>
#include <latchkey/plugin.hpp>
#include <latchkey/social.hpp>
#include <latchkey/support/config_reader.hpp>

#include <Poco/JSON/Array.h>

#include <algorithm>
#include <charconv>
#include <memory>
#include <mutex>

namespace latchkey::plugins::google {

namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

struct Settings {
    std::vector<std::string> clientIds;
    std::string userinfoUrl = "https://www.googleapis.com/oauth2/v3/userinfo";
    std::string tokeninfoUrl = "https://oauth2.googleapis.com/tokeninfo";
    std::string jwksUrl = "https://www.googleapis.com/oauth2/v3/certs";
    std::vector<std::string> issuers{"accounts.google.com", "https://accounts.google.com"};
    std::chrono::milliseconds clockSkew = 60s;
    std::chrono::milliseconds jwksRefetch = 30s; ///< Least time between unknown-kid fetches.
    std::chrono::milliseconds jwksMaxAge = 24h;  ///< Longest the keys are kept.
    social::CommonSettings common;
};

Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
    ConfigReader r(node, errors);
    Settings s;
    s.clientIds = r.strings("client_ids");
    if (s.clientIds.empty()) {
        errors.addUnder(node, "client_ids",
                        "is required: the OAuth client ids this app's tokens are issued to");
    }
    s.userinfoUrl = social::readUrl(r, "userinfo_url", s.userinfoUrl);
    s.tokeninfoUrl = social::readUrl(r, "tokeninfo_url", s.tokeninfoUrl);
    s.jwksUrl = social::readUrl(r, "jwks_url", s.jwksUrl);
    if (r.child("issuers")) s.issuers = r.strings("issuers");
    s.clockSkew = r.duration("clock_skew", s.clockSkew, 0ms, 5min);
    s.jwksRefetch = r.duration("jwks_refetch", s.jwksRefetch, 0ms, 1h);
    s.jwksMaxAge = r.duration("jwks_max_age", s.jwksMaxAge, 1s, 7 * 24h);
    s.common = social::readCommon(r);
    r.finish();
    return s;
}

bool contains(const std::vector<std::string>& list, const std::string& value) {
    return !value.empty() && std::find(list.begin(), list.end(), value) != list.end();
}

/// `max-age` of a Cache-Control header, if any.
std::optional<std::chrono::seconds> maxAge(std::string_view header) {
    const auto at = header.find("max-age=");
    if (at == std::string_view::npos) return std::nullopt;
    long long seconds = 0;
    const char* begin = header.data() + at + 8;
    const auto [end, ec] = std::from_chars(begin, header.data() + header.size(), seconds);
    if (ec != std::errc() || end == begin || seconds < 0) return std::nullopt;
    return std::chrono::seconds(seconds);
}

/// A number claim (seconds since the epoch); nullopt when absent or not a number.
std::optional<long long> seconds(const Poco::JSON::Object::Ptr& claims, const std::string& key) {
    if (!claims->has(key) || claims->isNull(key)) return std::nullopt;
    try {
        const auto value = claims->get(key);
        if (value.isNumeric() && !value.isBoolean()) return value.convert<long long>();
    } catch (const Poco::Exception&) {}
    return std::nullopt;
}

class GoogleBackend final : public Provides<SocialBackend> {
public:
    using Settings = google::Settings;

    static Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
        return google::readSettings(node, errors);
    }

    GoogleBackend(PluginContext& context, Settings settings)
        : settings_(std::move(settings)),
          provider_(context, "google-oauth2", settings_.common.timeout) {}

    std::vector<std::string> credentialFields() const override {
        return {"access_token", "id_token"};
    }

    SocialIdentity verify(const std::map<std::string, std::string>& credentials) override {
        const bool access = credentials.contains("access_token");
        const bool id = credentials.contains("id_token");
        if (access == id) {
            throw HttpError::invalid(
                {{"access_token", {"Give either access_token or id_token (not both)."}}});
        }
        return access ? fromAccessToken(credentials.at("access_token"))
                      : fromIdToken(credentials.at("id_token"));
    }

    bool linksVerifiedEmail() const noexcept override { return settings_.common.linkVerifiedEmail; }

private:
    SocialIdentity fromAccessToken(const std::string& token) {
        // The audience first: a token minted for another app must not log anyone in here.
        OutboundRequest tokeninfo;
        tokeninfo.url = settings_.tokeninfoUrl + "?access_token=" + social::percentEncode(token);
        const auto info = provider_.expectObject(provider_.call(tokeninfo), "tokeninfo");
        if (!contains(settings_.clientIds, social::text(info, "aud")) &&
            !contains(settings_.clientIds, social::text(info, "azp"))) {
            provider_.rejected("tokeninfo: issued to another client");
        }
        if (const std::string left = social::text(info, "expires_in"); !left.empty()) {
            long long n = 0;
            const auto [end, ec] = std::from_chars(left.data(), left.data() + left.size(), n);
            if (ec != std::errc() || n <= 0) provider_.rejected("tokeninfo: expired");
        }

        OutboundRequest userinfo;
        userinfo.url = settings_.userinfoUrl;
        userinfo.headers.emplace_back("Authorization", "Bearer " + token);
        const auto user = provider_.expectObject(provider_.call(userinfo), "userinfo");
        SocialIdentity identity = social::openIdIdentity(user);
        if (identity.uid.empty()) provider_.badAnswer("userinfo has no sub");
        const std::string infoSub = social::text(info, "sub");
        if (!infoSub.empty() && infoSub != identity.uid) {
            provider_.badAnswer("tokeninfo and userinfo name different users");
        }
        return identity;
    }

    SocialIdentity fromIdToken(const std::string& token) {
        const auto jws = social::readCompactJws(token);
        if (!jws) provider_.rejected("id_token: not a readable JWS compact token");
        const auto& claims = jws->claims;
        // Only RS256: "none" and HMAC algorithms (keyed with the public key) are refused.
        if (social::text(jws->header, "alg") != "RS256")
            provider_.rejected("id_token: alg not RS256");
        const auto key = keyFor(social::text(jws->header, "kid"));
        if (!key) provider_.rejected("id_token: unknown key id");
        if (!key->verifySha256(jws->signingInput, jws->signature)) {
            provider_.rejected("id_token: bad signature");
        }

        if (!contains(settings_.issuers, social::text(claims, "iss"))) {
            provider_.rejected("id_token: wrong issuer");
        }
        if (!audienceIsThisApp(claims)) provider_.rejected("id_token: issued to another client");
        const long long now = std::chrono::duration_cast<std::chrono::seconds>(
                                  provider_.context().clock().now().time_since_epoch())
                                  .count();
        const long long skew =
            std::chrono::duration_cast<std::chrono::seconds>(settings_.clockSkew).count();
        const auto exp = seconds(claims, "exp");
        if (!exp || *exp + skew <= now) provider_.rejected("id_token: expired");
        if (const auto iat = seconds(claims, "iat"); iat && *iat > now + skew) {
            provider_.rejected("id_token: issued in the future");
        }
        if (const auto nbf = seconds(claims, "nbf"); nbf && *nbf > now + skew) {
            provider_.rejected("id_token: not valid yet");
        }
        SocialIdentity identity = social::openIdIdentity(claims);
        if (identity.uid.empty()) provider_.rejected("id_token: no sub");
        return identity;
    }

    /// `aud` is one of the client ids (a string, or a list whose `azp` is one of them).
    bool audienceIsThisApp(const Poco::JSON::Object::Ptr& claims) const {
        if (const auto list = claims->getArray("aud")) {
            bool found = false;
            for (std::size_t i = 0; i < list->size(); ++i) {
                found = found || (list->get(i).isString() &&
                                  contains(settings_.clientIds, list->getElement<std::string>(i)));
            }
            return found && (list->size() == 1 ||
                             contains(settings_.clientIds, social::text(claims, "azp")));
        }
        return contains(settings_.clientIds, social::text(claims, "aud"));
    }

    /// The signing key `kid`, from the cache, or fetched: when the cache has expired, or when
    /// the kid is unknown (keys rotate). Fetches, failed ones included, are at least
    /// jwks_refetch apart, so tokens with made-up kids cannot make this host hammer the
    /// provider, and a provider that is down costs one timeout per jwks_refetch, not one per
    /// login. Until a fetch succeeds, expired keys stay in use for up to jwks_max_age.
    std::shared_ptr<const social::RsaPublicKey> keyFor(const std::string& kid) {
        if (kid.empty()) return nullptr;
        Cached cached = lookup(kid);
        if (!cached.fetchDue) return cached.key;
        std::unique_lock fetching(fetchMutex_, std::try_to_lock);
        if (!fetching.owns_lock()) {
            // Another login is fetching: wait for it, then use what it got.
            fetching.lock();
            return lookup(kid).key;
        }
        cached = lookup(kid);
        if (!cached.fetchDue) return cached.key;
        {
            std::lock_guard lock(cacheMutex_);
            lastAttempt_ = Steady::now();
        }
        try {
            fetchKeys();
        } catch (...) {
            if (cached.key) return cached.key; // the provider is down: keep going on old keys
            throw;
        }
        return lookup(kid).key;
    }

    struct Cached {
        std::shared_ptr<const social::RsaPublicKey> key; ///< Fresh, or expired but usable.
        bool fetchDue = false; ///< Not fresh, and the last attempt is jwks_refetch ago.
    };

    Cached lookup(const std::string& kid) {
        std::lock_guard lock(cacheMutex_);
        const auto now = Steady::now();
        Cached out;
        const auto found = keys_.find(kid);
        const bool fresh = fetchedAt_ && now < expiresAt_;
        if (found != keys_.end() && fresh) {
            out.key = found->second;
            return out;
        }
        if (found != keys_.end() && now - *fetchedAt_ < settings_.jwksMaxAge) {
            out.key = found->second;
        }
        out.fetchDue = !lastAttempt_ || now - *lastAttempt_ >= settings_.jwksRefetch;
        return out;
    }

    void fetchKeys() {
        OutboundRequest request;
        request.url = settings_.jwksUrl;
        const OutboundResponse response = provider_.call(request);
        if (response.status != 200) {
            provider_.badAnswer("the key set answered " + std::to_string(response.status));
        }
        std::vector<std::string> skipped;
        auto keys = social::readRsaJwks(response.body, skipped);
        if (!keys) provider_.badAnswer("the key set is not a JWKS");
        for (const auto& reason : skipped)
            provider_.context().logger().warn("google-oauth2: key skipped: " + reason);
        const auto now = Steady::now();
        std::chrono::milliseconds keep = 1h;
        if (const auto header = response.header("Cache-Control")) {
            if (const auto age = maxAge(*header)) keep = *age;
        }
        // Never kept for less than jwks_refetch: `max-age=0` must not mean a fetch per login.
        keep = std::max(
            keep, std::chrono::duration_cast<std::chrono::milliseconds>(settings_.jwksRefetch));
        std::lock_guard lock(cacheMutex_);
        keys_ = std::move(*keys);
        fetchedAt_ = now;
        expiresAt_ = now + std::min(keep, settings_.jwksMaxAge);
    }

    Settings settings_;
    social::Provider provider_;
    std::mutex fetchMutex_; ///< One fetch at a time; logins that need it wait for its result.
    std::mutex cacheMutex_;
    std::map<std::string, std::shared_ptr<const social::RsaPublicKey>> keys_;
    std::optional<Steady::time_point> fetchedAt_;
    std::optional<Steady::time_point> lastAttempt_; ///< Of the last fetch, failed or not.
    Steady::time_point expiresAt_{};
};

} // namespace

} // namespace latchkey::plugins::google

LATCHKEY_PLUGIN(latchkey::plugins::google::GoogleBackend, "google-oauth2", Social, "1.0.0",
                "Google login: access tokens (tokeninfo audience + userinfo) or ID tokens "
                "(RS256, JWKS)",
                "stable; identities keyed by sub")
