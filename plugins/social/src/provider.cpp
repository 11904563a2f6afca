// Calls to a social provider and reading its answers.
#include "latchkey_social/provider.hpp"

#include <latchkey/errors.hpp>
#include <latchkey/support/config_reader.hpp>

#include <Poco/JSON/Parser.h>

#include <cctype>

namespace latchkey::social {

CommonSettings readCommon(ConfigReader& r) {
    CommonSettings s;
    s.timeout =
        r.duration("timeout", s.timeout, std::chrono::milliseconds(100), std::chrono::minutes(1));
    s.linkVerifiedEmail = r.boolean("link_verified_email", false);
    return s;
}

std::string readUrl(ConfigReader& r, std::string_view key, std::string fallback) {
    std::string url = r.string(key, std::move(fallback));
    while (!url.empty() && url.back() == '/')
        url.pop_back();
    const bool scheme = url.rfind("https://", 0) == 0 || url.rfind("http://", 0) == 0;
    const auto host = url.find("://") + 3;
    if (!scheme || host >= url.size() || url.find_first_of(" \t\r\n?#") != std::string::npos) {
        if (const ConfigValue* value = r.child(key)) {
            r.errors().add(*value, "must be an http(s) URL without a query");
        } else {
            r.errors().addUnder(r.node(), key, "must be an http(s) URL without a query");
        }
    }
    return url;
}

Provider::Provider(PluginContext& context, std::string name, std::chrono::milliseconds timeout)
    : context_(context), name_(std::move(name)), timeout_(timeout) {}

OutboundResponse Provider::call(OutboundRequest request) const {
    request.timeout = timeout_;
    return context_.http().send(request);
}

Poco::JSON::Object::Ptr Provider::expectObject(const OutboundResponse& response,
                                               std::string_view what) const {
    const int status = response.status;
    if (status == 429) {
        // The provider limits this app: nothing wrong with the token, and nothing to read.
        throw Unavailable(name_ + ": " + std::string(what) + " answered 429 (rate limited)");
    }
    if (status >= 400 && status < 500) {
        // Any other 4xx refuses the token (the issue's rule). A 404 or 405 more likely means a
        // wrong URL in the config, so say so where the operator looks.
        if (status != 400 && status != 401 && status != 403) {
            context_.logger().warn(name_ + ": " + std::string(what) + " answered " +
                                   std::to_string(status) + "; check the configured URL");
        }
        rejected(std::string(what) + " answered " + std::to_string(status));
    }
    if (status < 200 || status >= 300) {
        badAnswer(std::string(what) + " answered " + std::to_string(status));
    }
    if (auto object = jsonObject(response.body, 32)) return object;
    badAnswer(std::string(what) + " answered something that is not a JSON object");
}

void Provider::rejected(std::string_view why) const {
    context_.logger().info(name_ + ": token refused: " + std::string(why));
    throw HttpError(401, "Invalid authorization token.");
}

void Provider::badAnswer(std::string_view why) const {
    context_.logger().error(name_ + ": unusable answer: " + std::string(why));
    throw HttpError(502, "The " + name_ + " provider gave an answer that could not be used.");
}

Poco::JSON::Object::Ptr jsonObject(const std::string& json, std::size_t depth) {
    try {
        Poco::JSON::Parser parser;
        parser.setDepth(depth);
        const auto parsed = parser.parse(json);
        if (parsed.type() == typeid(Poco::JSON::Object::Ptr)) {
            return parsed.extract<Poco::JSON::Object::Ptr>();
        }
    } catch (const Poco::Exception&) {
        // Not JSON, or too deep: null.
    }
    return nullptr;
}

std::string text(const Poco::JSON::Object::Ptr& object, const std::string& key) {
    if (!object || !object->has(key) || object->isNull(key)) return {};
    const auto value = object->get(key);
    try {
        if (value.isString()) return value.extract<std::string>();
        if (value.isInteger() && !value.isBoolean()) return value.convert<std::string>();
    } catch (const Poco::Exception&) {}
    return {};
}

bool isTrue(const Poco::JSON::Object::Ptr& object, const std::string& key) {
    if (!object || !object->has(key) || object->isNull(key)) return false;
    const auto value = object->get(key);
    try {
        if (value.isBoolean()) return value.extract<bool>();
        if (value.isString()) return value.extract<std::string>() == "true";
    } catch (const Poco::Exception&) {}
    return false;
}

SocialIdentity openIdIdentity(const Poco::JSON::Object::Ptr& claims) {
    SocialIdentity identity;
    identity.uid = text(claims, "sub");
    identity.email = text(claims, "email");
    identity.emailVerified = !identity.email.empty() && isTrue(claims, "email_verified");
    identity.name = text(claims, "name");
    identity.firstName = text(claims, "given_name");
    identity.lastName = text(claims, "family_name");
    return identity;
}

const std::string& requireCredential(const std::map<std::string, std::string>& credentials,
                                     const std::string& field) {
    const auto found = credentials.find(field);
    if (found == credentials.end() || found->second.empty()) {
        throw HttpError::invalid({{field, {"This field is required."}}});
    }
    return found->second;
}

std::string percentEncode(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        // RFC 3986 unreserved characters, tested as ASCII ranges (std::isalnum would follow the
        // locale and could pass bytes over 0x7F).
        const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                                c == '~';
        if (unreserved) {
            out += c;
        } else {
            out += '%';
            out += kHex[u >> 4];
            out += kHex[u & 15];
        }
    }
    return out;
}

} // namespace latchkey::social
