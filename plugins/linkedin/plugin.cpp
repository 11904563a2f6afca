// The `linkedin` social backend: a LinkedIn OpenID Connect access token is first checked with
// token introspection (active, issued to this app's client id), then read with the userinfo
// endpoint, which gives the member's `sub`.
#include <latchkey_social/provider.hpp>

#include <latchkey/context.hpp>
#include <latchkey/plugin.hpp>
#include <latchkey/social.hpp>
#include <latchkey/support/config_reader.hpp>

namespace latchkey::plugins::linkedin {

namespace {

struct Settings {
    std::string userinfoUrl = "https://api.linkedin.com/v2/userinfo";
    std::string introspectUrl = "https://www.linkedin.com/oauth/v2/introspectToken";
    bool introspect = true;
    std::string clientId;
    std::string clientSecret;
    social::CommonSettings common;
};

Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
    ConfigReader r(node, errors);
    Settings s;
    s.userinfoUrl = social::readUrl(r, "userinfo_url", s.userinfoUrl);
    s.introspectUrl = social::readUrl(r, "introspect_url", s.introspectUrl);
    s.introspect = r.boolean("introspect", true);
    if (s.introspect) {
        s.clientId = r.requiredString("client_id");
        s.clientSecret = r.requiredString("client_secret");
    } else {
        s.clientId = r.string("client_id");
        s.clientSecret = r.string("client_secret");
    }
    s.common = social::readCommon(r);
    if (!s.introspect && s.common.linkVerifiedEmail) {
        // Without introspection a token of any LinkedIn app logs in here; letting such a token
        // also take over an existing user by email would be too much.
        errors.addUnder(node, "link_verified_email",
                        "needs `introspect: true` (a token of another app could link otherwise)");
    }
    r.finish();
    return s;
}

class LinkedInBackend final : public Provides<SocialBackend> {
public:
    using Settings = linkedin::Settings;

    static Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
        return linkedin::readSettings(node, errors);
    }

    LinkedInBackend(PluginContext& context, Settings settings)
        : settings_(std::move(settings)), provider_(context, "linkedin", settings_.common.timeout) {
    }

    SocialIdentity verify(const std::map<std::string, std::string>& credentials) override {
        const std::string& token = social::requireCredential(credentials, "access_token");
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
    /// POST introspectToken with this app's client credentials: the token must be active and
    /// issued to this client id, so a token another LinkedIn app obtained cannot log in here.
    void checkIssuedToThisApp(const std::string& token) {
        OutboundRequest request;
        request.method = "POST";
        request.url = settings_.introspectUrl;
        request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
        request.body = "client_id=" + social::percentEncode(settings_.clientId) +
                       "&client_secret=" + social::percentEncode(settings_.clientSecret) +
                       "&token=" + social::percentEncode(token);
        const OutboundResponse response = provider_.call(request);
        if (response.status == 401) {
            // The endpoint answers 200 {"active": false} for a bad token; 401 is for this app.
            provider_.badAnswer("introspectToken refused client_id/client_secret");
        }
        const auto answer = provider_.expectObject(response, "introspectToken");
        if (!answer->has("active")) provider_.badAnswer("introspectToken has no `active`");
        if (!social::isTrue(answer, "active")) provider_.rejected("introspectToken: not active");
        if (social::text(answer, "client_id") != settings_.clientId) {
            provider_.rejected("introspectToken: issued to another app");
        }
    }

    Settings settings_;
    social::Provider provider_;
};

} // namespace

} // namespace latchkey::plugins::linkedin

LATCHKEY_PLUGIN(latchkey::plugins::linkedin::LinkedInBackend, "linkedin", Social, "1.0.0",
                "LinkedIn login: token introspection, then OpenID Connect userinfo",
                "stable; tokens checked to be issued to this client id (unless introspect: false)")
