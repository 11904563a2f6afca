// libFuzzer target for the OAuth 1.0a Authorization header (RFC 5849) the twitter backend
// sends: any URL, token, secret and query must give a header of `name="value"` pairs whose
// values decode back to exactly what went in, with no byte that could end the header or the
// value, or an std::invalid_argument for a URL that cannot be signed. Never a crash, a leak or
// undefined behaviour. Input: URL, token, token secret, then query names and values, separated
// by newlines.
#include <latchkey_social/oauth1.hpp>

#include <Poco/URI.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

std::map<std::string, std::string> readHeader(std::string_view header) {
    if (header.substr(0, 6) != "OAuth ") std::abort();
    header.remove_prefix(6);
    std::map<std::string, std::string> out;
    while (!header.empty()) {
        const auto eq = header.find("=\"");
        const auto close = header.find('"', eq + 2);
        if (eq == std::string_view::npos || close == std::string_view::npos) std::abort();
        std::string value;
        Poco::URI::decode(std::string(header.substr(eq + 2, close - eq - 2)), value);
        out[std::string(header.substr(0, eq))] = value;
        header.remove_prefix(close + 1);
        if (header.empty()) break;
        if (header.substr(0, 2) != ", ") std::abort();
        header.remove_prefix(2);
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view rest(reinterpret_cast<const char*>(data), size);
    std::vector<std::string> lines;
    while (!rest.empty() && lines.size() < 16) {
        const auto nl = rest.find('\n');
        lines.emplace_back(rest.substr(0, nl));
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    }
    if (lines.size() < 3) return 0;
    latchkey::social::OAuth1Request request{.method = "GET",
                                            .url = lines[0],
                                            .query = {},
                                            .consumerKey = "consumer key",
                                            .consumerSecret = "consumer secret",
                                            .token = lines[1],
                                            .tokenSecret = lines[2],
                                            .nonce = "0123456789abcdef",
                                            .timestamp = 1318622958};
    for (std::size_t i = 3; i + 1 < lines.size(); i += 2)
        request.query.emplace_back(lines[i], lines[i + 1]);
    std::string header;
    try {
        header = latchkey::social::oauth1Authorization(request);
    } catch (const std::invalid_argument&) {
        return 0;
    }
    for (const char c : header) {
        if (c == '\r' || c == '\n' || c == '\0') std::abort();
    }
    const auto fields = readHeader(header);
    if (fields.size() != 7 || fields.at("oauth_token") != request.token ||
        fields.at("oauth_consumer_key") != request.consumerKey ||
        fields.at("oauth_signature").size() != 28) {
        std::abort();
    }
    return 0;
}
