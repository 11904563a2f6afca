// The `twitter` social backend: the user's OAuth 1.0a access token and secret, used in an
// HMAC-SHA1-signed call to verify_credentials with this app's consumer key and secret, give the
// user's id. A token issued to another app cannot be signed for with this app's secret.
#include <latchkey_social/oauth1.hpp>
#include <latchkey_social/provider.hpp>

#include <latchkey/context.hpp>
#include <latchkey/plugin.hpp>
#include <latchkey/social.hpp>
#include <latchkey/support/config_reader.hpp>

#include <Poco/URI.h>

#include <chrono>
#include <utility>
#include <vector>

namespace latchkey::plugins::twitter {

namespace {

struct Settings {
    std::string consumerKey;
    std::string consumerSecret;
    std::string apiUrl = "https://api.twitter.com";
    social::CommonSettings common;
};

Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
    ConfigReader r(node, errors);
    Settings s;
    s.consumerKey = r.requiredString("consumer_key");
    s.consumerSecret = r.requiredString("consumer_secret");
    s.apiUrl = social::readUrl(r, "api_url", s.apiUrl);
    s.common = social::readCommon(r);
    r.finish();
    return s;
}

/// The user's token and secret, from `access_token` + `access_token_secret`, or from
/// `access_token` alone as "oauth_token=..&oauth_token_secret=.." or "token:secret".
std::pair<std::string, std::string>
userToken(const std::map<std::string, std::string>& credentials) {
    const std::string& given = social::requireCredential(credentials, "access_token");
    if (const auto secret = credentials.find("access_token_secret"); secret != credentials.end()) {
        return {given, secret->second};
    }
    std::string token;
    std::string secret;
    if (given.find("oauth_token=") != std::string::npos) {
        try {
            for (const auto& [name, value] : Poco::URI("/?" + given).getQueryParameters()) {
                if (name == "oauth_token") token = value;
                if (name == "oauth_token_secret") secret = value;
            }
        } catch (const Poco::Exception&) {}
    } else if (const auto colon = given.find(':'); colon != std::string::npos) {
        token = given.substr(0, colon);
        secret = given.substr(colon + 1);
    }
    if (token.empty() || secret.empty()) {
        throw HttpError::invalid(
            {{"access_token",
              {"Give the token secret too: \"oauth_token=..&oauth_token_secret=..\", "
               "\"token:secret\", or access_token_secret."}}});
    }
    return {token, secret};
}

class TwitterBackend final : public Provides<SocialBackend> {
public:
    using Settings = twitter::Settings;

    static Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
        return twitter::readSettings(node, errors);
    }

    TwitterBackend(PluginContext& context, Settings settings)
        : settings_(std::move(settings)), provider_(context, "twitter", settings_.common.timeout) {}

    std::vector<std::string> credentialFields() const override {
        return {"access_token", "access_token_secret"};
    }

    SocialIdentity verify(const std::map<std::string, std::string>& credentials) override {
        const auto [token, tokenSecret] = userToken(credentials);
        const std::string path = settings_.apiUrl + "/1.1/account/verify_credentials.json";
        const std::vector<std::pair<std::string, std::string>> query{{"include_email", "true"}};

        OutboundRequest request;
        request.url = path + "?include_email=true";
        request.headers.emplace_back("Authorization",
                                     authorization("GET", path, query, token, tokenSecret));
        const auto user = provider_.expectObject(provider_.call(request), "verify_credentials");
        SocialIdentity identity;
        identity.uid = social::text(user, "id_str");
        if (identity.uid.empty()) identity.uid = social::text(user, "id");
        if (identity.uid.empty()) provider_.badAnswer("verify_credentials has no id");
        identity.email = social::text(user, "email");
        // Twitter does not say whether the address was verified: it never counts as such.
        identity.emailVerified = false;
        identity.name = social::text(user, "name");
        return identity;
    }

    bool linksVerifiedEmail() const noexcept override { return settings_.common.linkVerifiedEmail; }

private:
    /// The OAuth 1.0a Authorization header (RFC 5849 3.5.1) for one request.
    std::string authorization(const std::string& method, const std::string& url,
                              const std::vector<std::pair<std::string, std::string>>& query,
                              const std::string& token, const std::string& tokenSecret) {
        unsigned char raw[16];
        provider_.context().random().fill(raw, sizeof raw);
        std::string nonce;
        for (const unsigned char b : raw) {
            static constexpr char kHex[] = "0123456789abcdef";
            nonce += kHex[b >> 4];
            nonce += kHex[b & 15];
        }
        return social::oauth1Authorization(
            {.method = method,
             .url = url,
             .query = query,
             .consumerKey = settings_.consumerKey,
             .consumerSecret = settings_.consumerSecret,
             .token = token,
             .tokenSecret = tokenSecret,
             .nonce = nonce,
             .timestamp = std::chrono::duration_cast<std::chrono::seconds>(
                              provider_.context().clock().now().time_since_epoch())
                              .count()});
    }

    Settings settings_;
    social::Provider provider_;
};

} // namespace

} // namespace latchkey::plugins::twitter

LATCHKEY_PLUGIN(latchkey::plugins::twitter::TwitterBackend, "twitter", Social, "1.0.0",
                "Twitter login: OAuth 1.0a signed verify_credentials",
                "stable; identities keyed by id_str")
