// The login-token flow's small text rules: addresses, names, hashes, tokens, mail templates.
#include "text.hpp"

#include <latchkey/support/text.hpp>

#include <sodium.h>

#include <algorithm>
#include <vector>

namespace latchkey::plugins::buzz {

bool isEmail(const std::string& email) {
    const auto at = email.find('@');
    // The address is the user's username: at most what every driver keeps (64 characters).
    if (utf8Characters(email) > kMaxUsernameLength || at == std::string::npos || at == 0 ||
        at + 1 == email.size() || email.find('@', at + 1) != std::string::npos) {
        return false;
    }
    return std::ranges::none_of(email, [](char c) {
        return static_cast<unsigned char>(c) <= 32 || c == ',' || c == ';' || c == '<' ||
               c == '>' || c == '"' || c == '\\' || c == 127;
    });
}

std::string hashHex(std::string_view text) {
    unsigned char hash[32];
    crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(text.data()),
                       text.size(), nullptr, 0);
    char hex[sizeof hash * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
    return hex;
}

std::string randomToken(Random& random, std::size_t bytes) {
    std::vector<unsigned char> raw(bytes);
    random.fill(raw.data(), raw.size());
    std::string out(sodium_base64_encoded_len(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                    '\0');
    sodium_bin2base64(out.data(), out.size(), raw.data(), raw.size(),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    out.resize(out.find('\0'));
    return out;
}

std::string htmlEscape(const std::string& text) {
    std::string out;
    for (const char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
        }
    }
    return out;
}

std::string fill(const std::string& text, const std::map<std::string, std::string>& values) {
    std::string out;
    std::size_t at = 0;
    while (at < text.size()) {
        const auto open = text.find("{{", at);
        const auto close = open == std::string::npos ? open : text.find("}}", open + 2);
        if (close == std::string::npos) break;
        out.append(text, at, open - at);
        const auto value = values.find(text.substr(open + 2, close - open - 2));
        if (value != values.end()) {
            out += value->second;
        } else {
            out.append(text, open, close + 2 - open);
        }
        at = close + 2;
    }
    out.append(text, std::min(at, text.size()));
    return out;
}

bool hasControl(const std::string& text, bool allowLines) {
    return std::ranges::any_of(text, [allowLines](char c) {
        const auto u = static_cast<unsigned char>(c);
        if (allowLines && (c == '\n' || c == '\r' || c == '\t')) return false;
        return u < 32 || u == 127;
    });
}

void checkName(Body& body, const char* field, const std::string& value) {
    if (value.size() > 128) body.fail(field, "may be at most 128 characters");
    if (hasControl(value, false)) body.fail(field, "may not contain control characters");
}

} // namespace latchkey::plugins::buzz
