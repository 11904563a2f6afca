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
#include <latchkey/context.hpp>
#include <latchkey/errors.hpp>
#include <latchkey/outbound_http.hpp>
#include <latchkey/plugin.hpp>
#include <latchkey/social.hpp>
#include <latchkey/support/config_reader.hpp>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

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
    std::chrono::milliseconds timeout{5000};
    bool linkVerifiedEmail = false;
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
    s.timeout =
        r.duration("timeout", s.timeout, std::chrono::milliseconds(100), std::chrono::minutes(1));
    s.linkVerifiedEmail = r.boolean("link_verified_email", false);
    if (s.linkVerifiedEmail && !s.introspect) {
        errors.add(*r.child("link_verified_email"),
                   "needs introspection: a token of another app could link otherwise");
    }
    r.finish();
    return s;
}

/// application/x-www-form-urlencoded value.
std::string formEncode(const std::string& text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (const unsigned char c : text) {
        const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
        if (plain) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

std::string text(const Poco::JSON::Object::Ptr& object, const std::string& key) {
    if (!object->has(key) || object->isNull(key)) return {};
    const auto value = object->get(key);
    return value.isString() ? value.extract<std::string>() : std::string();
}

bool isTrue(const Poco::JSON::Object::Ptr& object, const std::string& key) {
    if (!object->has(key)) return false;
    const auto value = object->get(key);
    return value.isBoolean() && value.extract<bool>();
}

class OidcUserinfoBackend final : public Provides<SocialBackend> {
public:
    using Settings = example::Settings;

    static Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
        return example::readSettings(node, errors);
    }

    OidcUserinfoBackend(PluginContext& context, Settings settings)
        : context_(context), settings_(std::move(settings)) {}

    SocialIdentity verify(const std::map<std::string, std::string>& credentials) override {
        const auto found = credentials.find("access_token");
        if (found == credentials.end() || found->second.empty()) {
            throw HttpError::invalid({{"access_token", {"This field is required."}}});
        }
        const std::string& token = found->second;
        // Tokens are printable; a line break would end up in a header of the call.
        for (const char c : token) {
            if (static_cast<unsigned char>(c) < 0x21 || c == 0x7f) refused("token has controls");
        }
        if (settings_.introspect) checkIssuedToThisApp(token);

        OutboundRequest request;
        request.url = settings_.userinfoUrl;
        request.headers.emplace_back("Authorization", "Bearer " + token);
        const auto user = call(request, "userinfo");
        SocialIdentity identity;
        identity.uid = text(user, "sub");
        if (identity.uid.empty()) unusable("userinfo has no sub");
        identity.email = text(user, "email");
        identity.emailVerified = !identity.email.empty() && isTrue(user, "email_verified");
        identity.name = text(user, "name");
        identity.firstName = text(user, "given_name");
        identity.lastName = text(user, "family_name");
        return identity;
    }

    bool linksVerifiedEmail() const noexcept override { return settings_.linkVerifiedEmail; }

private:
    /// RFC 7662 with client_secret_post: the token must be active and this client's.
    void checkIssuedToThisApp(const std::string& token) {
        OutboundRequest request;
        request.method = "POST";
        request.url = settings_.introspectionUrl;
        request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
        request.body = "token=" + formEncode(token) +
                       "&client_id=" + formEncode(settings_.clientId) +
                       "&client_secret=" + formEncode(settings_.clientSecret);
        const auto answer = call(request, "introspection");
        if (!isTrue(answer, "active")) refused("introspection: not active");
        // settings_.clientId is never empty: an answer without client_id is refused too.
        if (text(answer, "client_id") != settings_.clientId) {
            refused("introspection: issued to another client");
        }
    }

    /// Sends `request` with the configured timeout and returns its JSON object. Any 4xx means
    /// the token was refused (401); 5xx or something that is not a JSON object is the
    /// provider's fault (502). Unavailable (unreachable, too slow) passes through: the host
    /// answers 503.
    Poco::JSON::Object::Ptr call(OutboundRequest request, const std::string& what) {
        request.timeout = settings_.timeout;
        const OutboundResponse response = context_.http().send(request);
        if (response.status == 429) throw Unavailable("oidc-userinfo: " + what + " rate limited");
        if (response.status >= 400 && response.status < 500) {
            refused(what + " answered " + std::to_string(response.status));
        }
        if (response.status != 200) unusable(what + " answered " + std::to_string(response.status));
        try {
            Poco::JSON::Parser parser;
            parser.setDepth(32);
            const auto parsed = parser.parse(response.body);
            if (parsed.type() == typeid(Poco::JSON::Object::Ptr)) {
                return parsed.extract<Poco::JSON::Object::Ptr>();
            }
        } catch (const Poco::Exception&) {}
        unusable(what + " is not a JSON object");
    }

    [[noreturn]] void refused(const std::string& why) {
        context_.logger().info("token refused: " + why); // never the token itself
        throw HttpError(401, "Invalid authorization token.");
    }

    [[noreturn]] void unusable(const std::string& why) {
        context_.logger().error("unusable answer: " + why);
        throw HttpError(502, "The identity provider gave an answer that could not be used.");
    }

    PluginContext& context_;
    Settings settings_;
};

} // namespace example

LATCHKEY_PLUGIN(example::OidcUserinfoBackend, "oidc-userinfo", Social, "1.0.0",
                "OpenID Connect login through any provider's userinfo endpoint",
                "example; tokens checked to be this client's by introspection (unless "
                "introspect: false)")
