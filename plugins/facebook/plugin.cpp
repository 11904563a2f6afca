// The `facebook` social backend: a Facebook user access token, checked with the Graph API as
// issued to this app (debug_token) and used with appsecret_proof, gives the user's id.
#include <latchkey_social/provider.hpp>

#include <latchkey/context.hpp>
#include <latchkey/plugin.hpp>
#include <latchkey/social.hpp>
#include <latchkey/support/config_reader.hpp>

#include <Poco/JSON/Parser.h>

#include <Poco/JSON/Object.h>

namespace latchkey::plugins::facebook {

namespace {

struct Settings {
    std::string appId;
    std::string appSecret;
    std::string graphUrl = "https://graph.facebook.com/v19.0";
    bool debugToken = true;
    social::CommonSettings common;
};

Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
    ConfigReader r(node, errors);
    Settings s;
    s.appId = r.requiredString("app_id");
    s.appSecret = r.requiredString("app_secret");
    s.graphUrl = social::readUrl(r, "graph_url", s.graphUrl);
    s.debugToken = r.boolean("debug_token", true);
    s.common = social::readCommon(r);
    r.finish();
    return s;
}

class FacebookBackend final : public Provides<SocialBackend> {
public:
    using Settings = facebook::Settings;

    static Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
        return facebook::readSettings(node, errors);
    }

    FacebookBackend(PluginContext& context, Settings settings)
        : settings_(std::move(settings)), provider_(context, "facebook", settings_.common.timeout) {
    }

    SocialIdentity verify(const std::map<std::string, std::string>& credentials) override {
        const std::string& token = social::requireCredential(credentials, "access_token");
        std::string tokenUser;
        if (settings_.debugToken) tokenUser = checkIssuedToThisApp(token);

        // appsecret_proof binds the call to this app's secret: a token stolen from another
        // app's users is refused by Facebook itself.
        OutboundRequest me;
        me.url = settings_.graphUrl + "/me?fields=id,name,email,first_name,last_name" +
                 "&access_token=" + social::percentEncode(token) +
                 "&appsecret_proof=" + social::hmacSha256Hex(settings_.appSecret, token);
        const auto user = provider_.expectObject(throttled(provider_.call(me)), "/me");
        SocialIdentity identity;
        identity.uid = social::text(user, "id");
        if (identity.uid.empty()) provider_.badAnswer("/me has no id");
        if (settings_.debugToken && identity.uid != tokenUser) {
            provider_.rejected("debug_token: the token is not this user's");
        }
        identity.email = social::text(user, "email");
        // Facebook does not say whether the address was verified: it never counts as such.
        identity.emailVerified = false;
        identity.name = social::text(user, "name");
        identity.firstName = social::text(user, "first_name");
        identity.lastName = social::text(user, "last_name");
        return identity;
    }

    bool linksVerifiedEmail() const noexcept override { return settings_.common.linkVerifiedEmail; }

private:
    /// Graph API errors 4, 17, 32 and 613 are rate limits, and `is_transient` errors are
    /// Facebook's own trouble: both come as HTTP 400 but say nothing about the token.
    static const OutboundResponse& throttled(const OutboundResponse& response) {
        if (response.status < 400 || response.status >= 500) return response;
        try {
            Poco::JSON::Parser parser;
            parser.setDepth(8);
            const auto parsed = parser.parse(response.body);
            if (parsed.type() != typeid(Poco::JSON::Object::Ptr)) return response;
            const auto error = parsed.extract<Poco::JSON::Object::Ptr>()->getObject("error");
            if (!error) return response;
            const std::string code = social::text(error, "code");
            if (code == "4" || code == "17" || code == "32" || code == "613" ||
                social::isTrue(error, "is_transient")) {
                throw Unavailable("facebook: Graph API error " + code +
                                  " (rate limit or transient)");
            }
        } catch (const Poco::Exception&) {}
        return response;
    }

    /// debug_token: the token must be a valid user token issued to this app. Returns the id of
    /// the user it belongs to.
    std::string checkIssuedToThisApp(const std::string& token) {
        OutboundRequest debug;
        debug.url =
            settings_.graphUrl + "/debug_token?input_token=" + social::percentEncode(token) +
            "&access_token=" + social::percentEncode(settings_.appId + "|" + settings_.appSecret);
        const auto answer =
            provider_.expectObject(throttled(provider_.call(debug)), "/debug_token");
        const auto data = answer->getObject("data");
        if (!data) provider_.badAnswer("/debug_token has no data");
        if (!social::isTrue(data, "is_valid")) provider_.rejected("debug_token: not valid");
        if (social::text(data, "app_id") != settings_.appId) {
            provider_.rejected("debug_token: issued to another app");
        }
        // A Page or app token of this app is not a person logging in.
        if (const auto type = social::text(data, "type"); !type.empty() && type != "USER") {
            provider_.rejected("debug_token: a " + type + " token, not a user's");
        }
        std::string user = social::text(data, "user_id");
        if (user.empty()) provider_.badAnswer("/debug_token has no user_id");
        return user;
    }

    Settings settings_;
    social::Provider provider_;
};

} // namespace

} // namespace latchkey::plugins::facebook

LATCHKEY_PLUGIN(latchkey::plugins::facebook::FacebookBackend, "facebook", Social, "1.0.0",
                "Facebook login: Graph API /me with appsecret_proof, debug_token app check",
                "stable; identities keyed by the app-scoped Facebook user id")
