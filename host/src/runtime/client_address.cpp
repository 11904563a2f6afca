// Who the client is, behind trusted proxies.
#include "runtime/client_address.hpp"

#include <Poco/Net/SocketAddress.h>

#include <algorithm>
#include <charconv>

namespace latchkey::runtime {

namespace {

using Poco::Net::IPAddress;

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

/// `ip` as IPv4 when it is an IPv4-mapped IPv6 address.
IPAddress unmapped(const IPAddress& ip) {
    if (ip.family() == IPAddress::IPv6 && ip.isIPv4Mapped()) {
        return IPAddress(ip.toString().substr(7)); // "::ffff:a.b.c.d"
    }
    return ip;
}

/// An address as a hop names it: "192.0.2.1", "192.0.2.1:4711", "[2001:db8::1]:4711",
/// "2001:db8::1" (X-Forwarded-For writes IPv6 bare). nullopt for anything else.
std::optional<IPAddress> hopAddress(std::string_view hop) {
    hop = trim(hop);
    if (hop.size() >= 2 && hop.front() == '"' && hop.back() == '"') {
        hop = hop.substr(1, hop.size() - 2);
    }
    if (hop.empty() || hop.size() > 64) return std::nullopt;
    std::string host;
    if (hop.front() == '[') {
        const auto close = hop.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        host = hop.substr(1, close - 1);
    } else if (std::count(hop.begin(), hop.end(), ':') == 1) {
        host = hop.substr(0, hop.find(':')); // IPv4 with a port
    } else {
        host = hop;
    }
    IPAddress ip;
    if (!IPAddress::tryParse(host, ip)) return std::nullopt;
    return unmapped(ip);
}

/// Splits on `sep`, outside double quotes when `quoting` (Forwarded has quoted strings;
/// X-Forwarded-For does not, and a quote a client put there must not hide a later hop).
std::vector<std::string_view> split(std::string_view text, char sep, bool quoting) {
    std::vector<std::string_view> out;
    bool quoted = false;
    std::size_t start = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (quoting && text[i] == '"') quoted = !quoted;
        if (text[i] == sep && !quoted) {
            out.push_back(text.substr(start, i - start));
            start = i + 1;
        }
    }
    out.push_back(text.substr(start));
    return out;
}

/// The `for=` values of every Forwarded element, in order ("" for an element without one).
std::vector<std::string_view> forwardedFor(const std::vector<Header>& headers) {
    std::vector<std::string_view> hops;
    for (const auto& [name, value] : headers) {
        if (!equalsIgnoreCase(name, "Forwarded")) continue;
        for (std::string_view element : split(value, ',', true)) {
            std::string_view found;
            for (std::string_view pair : split(element, ';', true)) {
                pair = trim(pair);
                if (pair.size() > 4 && equalsIgnoreCase(pair.substr(0, 4), "for=")) {
                    found = pair.substr(4);
                }
            }
            hops.push_back(found);
        }
    }
    return hops;
}

std::vector<std::string_view> xForwardedFor(const std::vector<Header>& headers) {
    std::vector<std::string_view> hops;
    for (const auto& [name, value] : headers) {
        if (!equalsIgnoreCase(name, "X-Forwarded-For")) continue;
        for (std::string_view hop : split(value, ',', false))
            hops.push_back(hop);
    }
    return hops;
}

} // namespace

std::optional<Network> Network::parse(std::string_view text, std::string& why) {
    text = trim(text);
    const auto slash = text.find('/');
    IPAddress ip;
    if (!IPAddress::tryParse(std::string(text.substr(0, slash)), ip)) {
        why = "\"" + std::string(text) + "\" is not an IP address or block (\"10.0.0.0/8\")";
        return std::nullopt;
    }
    ip = unmapped(ip);
    const unsigned bits = ip.family() == IPAddress::IPv4 ? 32 : 128;
    unsigned prefix = bits;
    if (slash != std::string_view::npos) {
        const std::string_view digits = text.substr(slash + 1);
        const auto [end, ec] =
            std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
        if (ec != std::errc() || end != digits.data() + digits.size() || prefix > bits) {
            why = "\"" + std::string(text) + "\": the prefix length must be 0-" +
                  std::to_string(bits);
            return std::nullopt;
        }
    }
    const IPAddress mask(prefix, ip.family());
    if ((ip & mask) != ip) {
        why = "\"" + std::string(text) + "\" has bits set past its prefix (did you mean " +
              (ip & mask).toString() + "/" + std::to_string(prefix) + "?)";
        return std::nullopt;
    }
    return Network{ip, prefix};
}

bool Network::contains(const IPAddress& candidate) const {
    const IPAddress ip = unmapped(candidate);
    if (ip.family() != base.family()) return false;
    return (ip & IPAddress(prefix, base.family())) == base;
}

TrustedProxies::TrustedProxies(std::vector<Network> networks, ForwardedHeader header)
    : networks_(std::move(networks)), header_(header) {}

bool TrustedProxies::trusts(const IPAddress& ip) const {
    return std::any_of(networks_.begin(), networks_.end(),
                       [&](const Network& n) { return n.contains(ip); });
}

std::optional<IPAddress> TrustedProxies::forwardedClient(const std::string& peer,
                                                         const std::vector<Header>& headers) const {
    if (networks_.empty()) return std::nullopt;
    const std::optional<IPAddress> peerIp = hopAddress(peer);
    if (!peerIp || !trusts(*peerIp)) return std::nullopt;
    const std::vector<std::string_view> hops =
        header_ == ForwardedHeader::Forwarded ? forwardedFor(headers) : xForwardedFor(headers);
    std::optional<IPAddress> client; // the last hop believed so far
    // From the right (clang-tidy's clang 14 cannot read libstdc++ 12's views::reverse).
    for (std::size_t i = hops.size(); i-- > 0;) {
        const std::optional<IPAddress> ip = hopAddress(hops[i]);
        if (!ip) break; // unreadable: the proxy that added it is the client as far as we know
        client = ip;
        if (!trusts(*ip)) break;
    }
    return client;
}

std::string TrustedProxies::clientOf(const std::string& peer,
                                     const std::vector<Header>& headers) const {
    const std::optional<IPAddress> client = forwardedClient(peer, headers);
    return client ? Poco::Net::SocketAddress(*client, 0).toString() : peer;
}

} // namespace latchkey::runtime
