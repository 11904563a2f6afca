// Who the client is: the peer, or, when the peer is a trusted proxy, the address it forwarded
// (`server.trusted_proxies`).
#pragma once

#include <latchkey/errors.hpp>
#include <latchkey/request.hpp>

#include <Poco/Net/IPAddress.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::runtime {

/// An address block: "10.0.0.0/8", "2001:db8::/32", or one address ("192.0.2.7").
struct Network {
    Poco::Net::IPAddress base; ///< With the bits past `prefix` cleared.
    unsigned prefix = 0;       ///< Leading bits that must match.

    /// The block written as `text`, or nullopt when it is not one (with the reason in `why`).
    static std::optional<Network> parse(std::string_view text, std::string& why);
    /// Whether `candidate` is in the block (an IPv4-mapped IPv6 address counts as its IPv4
    /// one).
    bool contains(const Poco::Net::IPAddress& candidate) const;
};

/// Which header the trusted proxies write (`server.forwarded_header`). Only that one is read:
/// a proxy passes the other through as the client sent it.
enum class ForwardedHeader {
    XForwardedFor, ///< `X-Forwarded-For: client, proxy1` (nginx, HAProxy, AWS ALB by default).
    Forwarded,     ///< RFC 7239 `Forwarded: for=client, for=proxy1`.
};

/// The proxies whose forwarding header is believed. Only a request whose peer is one of them
/// has that header read, from the right: each trusted hop is skipped, and the first address
/// that is not trusted is the client. A hop that cannot be read ("unknown", an obfuscated name,
/// garbage) ends the walk at the trusted proxy that added it. Thread-safe (immutable).
class TrustedProxies {
public:
    TrustedProxies() = default;
    TrustedProxies(std::vector<Network> networks, ForwardedHeader header);

    /// True when no proxy is trusted: the peer is always the client.
    bool empty() const noexcept { return networks_.empty(); }
    /// Whether `ip` is a trusted proxy.
    bool trusts(const Poco::Net::IPAddress& ip) const;
    /// The client a trusted proxy forwarded a request from `peer` ("ip:port", "[ipv6]:port")
    /// for, or nullopt when the peer itself is the client (not trusted, or nothing readable
    /// forwarded).
    std::optional<Poco::Net::IPAddress> forwardedClient(const std::string& peer,
                                                        const std::vector<Header>& headers) const;
    /// The client in the peer's form: the forwarded one with port 0, or the peer.
    std::string clientOf(const std::string& peer, const std::vector<Header>& headers) const;

private:
    std::vector<Network> networks_;
    ForwardedHeader header_ = ForwardedHeader::XForwardedFor;
};

} // namespace latchkey::runtime
