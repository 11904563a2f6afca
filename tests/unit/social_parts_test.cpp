// The social backends' shared pieces, checked against published examples: OAuth 1.0a signing
// (the worked example of Twitter's "Creating a signature" guide) and the ID token and key set
// readers of google-oauth2.
#include <latchkey_social/jose.hpp>
#include <latchkey_social/oauth1.hpp>

#include <catch2/catch.hpp>

#include <stdexcept>

using latchkey::social::OAuth1Request;

namespace {

OAuth1Request guideExample() {
    return {.method = "POST",
            .url = "https://api.twitter.com/1/statuses/update.json",
            .query = {{"include_entities", "true"},
                      {"status", "Hello Ladies + Gentlemen, a signed OAuth request!"}},
            .consumerKey = "xvz1evFS4wEEPTGEFPHBog",
            .consumerSecret = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
            .token = "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
            .tokenSecret = "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
            .nonce = "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg",
            .timestamp = 1318622958};
}

} // namespace

TEST_CASE("OAuth 1.0a signing gives the published example's base string and signature",
          "[social]") {
    const auto request = guideExample();
    CHECK(latchkey::social::oauth1BaseString(request) ==
          "POST&https%3A%2F%2Fapi.twitter.com%2F1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue"
          "%26oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3u"
          "YSQ2pTgmZeNu2VS4cg%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958"
          "%26oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26oauth_version%3D1"
          ".0%26status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth"
          "%2520request%2521");
    const auto header = latchkey::social::oauth1Authorization(request);
    CHECK(header.rfind("OAuth oauth_consumer_key=\"xvz1evFS4wEEPTGEFPHBog\", ", 0) == 0);
    CHECK_THAT(header, Catch::Contains("oauth_signature=\"tnnArxj06cWHq44gCs1OSKk%2FjLY%3D\""));
}

TEST_CASE("OAuth 1.0a base string URIs drop default ports and lowercase scheme and host",
          "[social]") {
    auto request = guideExample();
    const auto base = latchkey::social::oauth1BaseString(request);
    request.url = "HTTPS://API.Twitter.com:443/1/statuses/update.json";
    CHECK(latchkey::social::oauth1BaseString(request) == base);
    request.url = "https://api.twitter.com:8443/1/statuses/update.json";
    CHECK_THAT(latchkey::social::oauth1BaseString(request),
               Catch::StartsWith("POST&https%3A%2F%2Fapi.twitter.com%3A8443%2F1%2F"));
    for (const char* bad : {"", "not a url", "/relative/path", "ftp://example.com/x", "http://"}) {
        request.url = bad;
        INFO(bad);
        CHECK_THROWS_AS(latchkey::social::oauth1Authorization(request), std::invalid_argument);
    }
}

TEST_CASE("OAuth 1.0a headers encode quotes, commas and line breaks in every value", "[social]") {
    auto request = guideExample();
    request.token = "a\", oauth_token=\"b\r\nX-Injected: 1";
    const auto header = latchkey::social::oauth1Authorization(request);
    CHECK(header.find_first_of("\r\n") == std::string::npos);
    CHECK_THAT(header, Catch::Contains("oauth_token=\"a%22%2C%20oauth_token%3D%22b%0D%0AX-"
                                       "Injected%3A%201\""));
}

TEST_CASE("JWS compact tokens are read only when they are three base64url parts with JSON "
          "objects",
          "[social]") {
    // {"alg":"RS256","kid":"k1"} . {"sub":"1"} . "sig"
    const std::string header = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0";
    const std::string claims = "eyJzdWIiOiIxIn0";
    const auto jws = latchkey::social::readCompactJws(header + "." + claims + ".c2ln");
    REQUIRE(jws);
    CHECK(jws->header->getValue<std::string>("kid") == "k1");
    CHECK(jws->claims->getValue<std::string>("sub") == "1");
    CHECK(jws->signingInput == header + "." + claims);
    CHECK(jws->signature == "sig");
    for (const std::string& bad :
         {std::string(), header, header + "." + claims, header + "." + claims + ".c2ln.x",
          header + "." + claims + ".c2l=n", "W10." + claims + ".c2ln", // a header that is a list
          header + ".bm90IGpzb24.c2ln",                                // a payload not JSON
          header + "." + claims + ".*"}) {
        INFO(bad);
        CHECK_FALSE(latchkey::social::readCompactJws(bad));
    }
}

TEST_CASE("JWK Sets give their RS256 signing keys and skip what cannot be one", "[social]") {
    std::vector<std::string> skipped;
    CHECK_FALSE(latchkey::social::readRsaJwks("", skipped));
    CHECK_FALSE(latchkey::social::readRsaJwks("[]", skipped));
    CHECK_FALSE(latchkey::social::readRsaJwks(R"({"keys": {}})", skipped));
    const auto keys = latchkey::social::readRsaJwks(
        R"({"keys": [{"kty": "EC", "kid": "ec"}, {"kty": "RSA", "kid": "enc", "use": "enc"},
                     {"kty": "RSA", "kid": "hs", "alg": "HS256"},
                     {"kty": "RSA", "kid": "small", "n": "AQAB", "e": "AQAB"},
                     {"kty": "RSA", "kid": "junk", "n": "***", "e": "AQAB"}, 7]})",
        skipped);
    REQUIRE(keys);
    CHECK(keys->empty());
    CHECK(skipped.size() == 2);
}
