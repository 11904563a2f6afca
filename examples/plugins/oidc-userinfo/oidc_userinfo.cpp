// `oidc-userinfo`: a social backend for any OpenID Connect provider that has a userinfo
// endpoint, and optionally RFC 7662 token introspection to check that a token was issued to
// this app. Logins arrive at POST /v1.1/instances/<i>/user/auth/oidc-userinfo/.
//
//   auth:
//     social:
//       oidc-userinfo:
//         userinfo_url: https://id.example.com/oauth2/userinfo
//         introspection_url: https://id.example.com/oauth2/introspect
//         client_id: my-app
//         client_secret: ${OIDC_CLIENT_SECRET}
//         timeout: 5s
//         link_verified_email: false
// The calls, answers and errors go through the installed social-provider support library
// (Latchkey::social), which the built-in backends use too.
#include <latchkey_social/provider.hpp>

#include <latchkey/context.hpp>
#include <latchkey/errors.hpp>
#include <latchkey/outbound_http.hpp>
#include <latchkey/plugin.hpp>
#include <latchkey/social.hpp>
#include <latchkey/support/config_reader.hpp>

#include <Poco/JSON/Object.h>

#include <chrono>
#include <string>

namespace example {

using namespace latchkey;

struct Settings {
    std::string userinfoUrl;
    bool introspect = true; ///< false: tokens are not checked to be this app's.
    std::string introspectionUrl;
    std::string clientId;
    std::string clientSecret;
    social::CommonSettings common; ///< `timeout`, `link_verified_email`.
};

/// An http(s) URL with a host. `secret`: only https (it will carry the client secret), unless
/// the host is loopback.
bool isGoodUrl(const std::string& url, bool secret) {
    const bool https = url.rfind("https://", 0) == 0;
    const bool http = url.rfind("http://", 0) == 0;
    if (!https && !http) return false;
    const std::string rest = url.substr(https ? 8 : 7);
    if (rest.empty() || rest.front() == '/' || rest.front() == ':') return false;
    const bool loopback = rest.rfind("127.", 0) == 0 || rest.rfind("localhost", 0) == 0 ||
                          rest.rfind("[::1]", 0) == 0;
    return https || !secret || loopback;
}

/// Reads and checks the plugin's settings; every problem goes to `errors` with its position.
Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
    ConfigReader r(node, errors);
    Settings s;
    s.userinfoUrl = r.requiredString("userinfo_url");
    if (!s.userinfoUrl.empty() && !isGoodUrl(s.userinfoUrl, false)) {
        errors.add(*r.child("userinfo_url"), "must be an http(s) URL with a host");
    }
    // Secure by default: a token some other client of the provider obtained must not log in
    // here, and only introspection can tell whose a token is. Turning it off is explicit.
    s.introspect = r.boolean("introspect", true);
    if (s.introspect) {
        s.introspectionUrl = r.requiredString("introspection_url");
        if (!s.introspectionUrl.empty() && !isGoodUrl(s.introspectionUrl, true)) {
            errors.add(*r.child("introspection_url"),
                       "must be an https URL (it carries the client secret)");
        }
        s.clientId = r.requiredString("client_id");
        s.clientSecret = r.requiredString("client_secret");
    }
    s.common = social::readCommon(r);
    if (s.common.linkVerifiedEmail && !s.introspect) {
        errors.add(*r.child("link_verified_email"),
                   "needs introspection: a token of another app could link otherwise");
    }
    r.finish();
    return s;
}

class OidcUserinfoBackend final : public Provides<SocialBackend> {
public:
    using Settings = example::Settings;

    static Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
        return example::readSettings(node, errors);
    }

    OidcUserinfoBackend(PluginContext& context, Settings settings)
        : settings_(std::move(settings)),
          provider_(context, "oidc-userinfo", settings_.common.timeout) {}

    SocialIdentity verify(const std::map<std::string, std::string>& credentials) override {
        const std::string& token = social::requireCredential(credentials, "access_token");
        // Tokens are printable; a line break would end up in a header of the call.
        for (const char c : token) {
            if (static_cast<unsigned char>(c) < 0x21 || c == 0x7f) {
                provider_.rejected("token has controls");
            }
        }
        if (settings_.introspect) checkIssuedToThisApp(token);

        OutboundRequest request;
        request.url = settings_.userinfoUrl;
        request.headers.emplace_back("Authorization", "Bearer " + token);
        const auto user = provider_.expectObject(provider_.call(request), "userinfo");
        SocialIdentity identity = social::openIdIdentity(user);
        if (identity.uid.empty()) provider_.badAnswer("userinfo has no sub");
        return identity;
    }

    bool linksVerifiedEmail() const noexcept override { return settings_.common.linkVerifiedEmail; }

private:
    /// RFC 7662 with client_secret_post: the token must be active and this client's.
    void checkIssuedToThisApp(const std::string& token) {
        OutboundRequest request;
        request.method = "POST";
        request.url = settings_.introspectionUrl;
        request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
        // RFC 3986 percent-encoding is a valid form encoding (no '+' for spaces needed).
        request.body = "token=" + social::percentEncode(token) +
                       "&client_id=" + social::percentEncode(settings_.clientId) +
                       "&client_secret=" + social::percentEncode(settings_.clientSecret);
        const auto answer = provider_.expectObject(provider_.call(request), "introspection");
        if (!social::isTrue(answer, "active")) provider_.rejected("introspection: not active");
        // settings_.clientId is never empty: an answer without client_id is refused too.
        if (social::text(answer, "client_id") != settings_.clientId) {
            provider_.rejected("introspection: issued to another client");
        }
    }

    Settings settings_;
    social::Provider provider_; ///< Calls through the host's client; maps answers to errors.
};

} // namespace example

LATCHKEY_PLUGIN(example::OidcUserinfoBackend, "oidc-userinfo", Social, "1.0.0",
                "OpenID Connect login through any provider's userinfo endpoint",
                "example; tokens checked to be this client's by introspection (unless "
                "introspect: false)")
