// OAuth 1.0a (RFC 5849) request signing with HMAC-SHA1.
#include "latchkey_social/oauth1.hpp"

#include "latchkey_social/provider.hpp"

#include <latchkey/support/text.hpp>

#include <Poco/Exception.h>
#include <Poco/URI.h>

#include <algorithm>
#include <stdexcept>

namespace latchkey::social {

namespace {

using Parameters = std::vector<std::pair<std::string, std::string>>;

/// The base string URI of RFC 5849 3.4.1.2.
std::string baseStringUri(const std::string& url) {
    Poco::URI uri;
    try {
        uri = Poco::URI(url);
    } catch (const Poco::Exception&) {
        throw std::invalid_argument("oauth1: not a URL");
    }
    const std::string scheme = asciiLower(uri.getScheme());
    const std::string host = asciiLower(uri.getHost());
    if ((scheme != "http" && scheme != "https") || host.empty()) {
        throw std::invalid_argument("oauth1: not an absolute http(s) URL");
    }
    const bool defaultPort =
        (scheme == "http" && uri.getPort() == 80) || (scheme == "https" && uri.getPort() == 443);
    std::string out = scheme + "://" + host;
    if (!defaultPort) out += ":" + std::to_string(uri.getPort());
    return out + uri.getPath();
}

/// The oauth_ protocol parameters of `request`, in the order they are sent, without the
/// signature.
Parameters protocolParameters(const OAuth1Request& request) {
    return {{"oauth_consumer_key", request.consumerKey},
            {"oauth_nonce", request.nonce},
            {"oauth_signature_method", "HMAC-SHA1"},
            {"oauth_timestamp", std::to_string(request.timestamp)},
            {"oauth_token", request.token},
            {"oauth_version", "1.0"}};
}

std::string baseString(const OAuth1Request& request, const Parameters& oauth) {
    Parameters encoded;
    for (const auto* list : {&request.query, &oauth}) {
        for (const auto& [name, value] : *list)
            encoded.emplace_back(percentEncode(name), percentEncode(value));
    }
    std::sort(encoded.begin(), encoded.end());
    std::string parameters;
    for (const auto& [name, value] : encoded)
        parameters += (parameters.empty() ? "" : "&") + name + "=" + value;
    return request.method + "&" + percentEncode(baseStringUri(request.url)) + "&" +
           percentEncode(parameters);
}

} // namespace

std::string oauth1BaseString(const OAuth1Request& request) {
    return baseString(request, protocolParameters(request));
}

std::string oauth1Authorization(const OAuth1Request& request) {
    auto oauth = protocolParameters(request);
    const std::string key =
        percentEncode(request.consumerSecret) + "&" + percentEncode(request.tokenSecret);
    oauth.emplace_back("oauth_signature", hmacSha1Base64(key, baseString(request, oauth)));
    std::string header = "OAuth ";
    for (std::size_t i = 0; i < oauth.size(); ++i) {
        header += (i ? ", " : "") + percentEncode(oauth[i].first) + "=\"" +
                  percentEncode(oauth[i].second) + "\"";
    }
    return header;
}

} // namespace latchkey::social
