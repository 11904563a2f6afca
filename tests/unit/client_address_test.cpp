// server.trusted_proxies: whose forwarding headers are believed, and which hop is the client.
#include "runtime/client_address.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using latchkey::Header;
using latchkey::runtime::ForwardedHeader;
using latchkey::runtime::Network;
using latchkey::runtime::TrustedProxies;

namespace {

TrustedProxies trusting(const std::vector<std::string>& blocks,
                        ForwardedHeader header = ForwardedHeader::XForwardedFor) {
    std::vector<Network> networks;
    for (const auto& block : blocks) {
        std::string why;
        auto network = Network::parse(block, why);
        REQUIRE(network);
        networks.push_back(*network);
    }
    return TrustedProxies(std::move(networks), header);
}

} // namespace

TEST_CASE("Address blocks parse, and a wrong one says why", "[proxies]") {
    std::string why;
    CHECK(Network::parse("10.0.0.0/8", why));
    CHECK(Network::parse("2001:db8::/32", why));
    CHECK(Network::parse("192.0.2.7", why));
    CHECK_FALSE(Network::parse("10.0.0.1/8", why));
    CHECK(why == "\"10.0.0.1/8\" has bits set past its prefix (did you mean 10.0.0.0/8?)");
    CHECK_FALSE(Network::parse("10.0.0.0/33", why));
    CHECK(why == "\"10.0.0.0/33\": the prefix length must be 0-32");
    CHECK_FALSE(Network::parse("proxy.internal", why));
    CHECK(why == "\"proxy.internal\" is not an IP address or block (\"10.0.0.0/8\")");
}

TEST_CASE("Without trusted proxies, or from an untrusted peer, the peer is the client",
          "[proxies]") {
    const std::vector<Header> forged{{"X-Forwarded-For", "198.51.100.1"},
                                     {"Forwarded", "for=198.51.100.2"}};
    CHECK(TrustedProxies().clientOf("203.0.113.9:4711", forged) == "203.0.113.9:4711");
    CHECK(trusting({"10.0.0.0/8"}).clientOf("203.0.113.9:4711", forged) == "203.0.113.9:4711");
}

TEST_CASE("From a trusted proxy the first untrusted hop from the right is the client",
          "[proxies]") {
    const TrustedProxies proxies = trusting({"10.0.0.0/8", "2001:db8:ff::/48"});
    // A client may send its own X-Forwarded-For: the proxy appends, so the left part is forged.
    CHECK(proxies.clientOf("10.0.0.5:80", {{"X-Forwarded-For", "1.2.3.4, 198.51.100.7"}}) ==
          "198.51.100.7:0");
    // Two proxies in a row.
    CHECK(proxies.clientOf("10.0.0.5:80", {{"X-Forwarded-For", "198.51.100.7, 10.1.1.1"}}) ==
          "198.51.100.7:0");
    // Several header lines are one list, in order.
    CHECK(proxies.clientOf("10.0.0.5:80",
                           {{"X-Forwarded-For", "1.2.3.4"}, {"x-forwarded-for", "198.51.100.8"}}) ==
          "198.51.100.8:0");
    // A proxy that writes X-Forwarded-For passes a client's own Forwarded through: not read.
    CHECK(proxies.clientOf("10.0.0.5:80", {{"Forwarded", "for=192.0.2.99"},
                                           {"X-Forwarded-For", "198.51.100.7"}}) ==
          "198.51.100.7:0");
    // X-Forwarded-For has no quoting: a client's stray quote does not hide the proxy's hop.
    CHECK(proxies.clientOf("10.0.0.5:80", {{"X-Forwarded-For", "\"1.2.3.4, 198.51.100.7"}}) ==
          "198.51.100.7:0");
    CHECK(proxies.clientOf("10.0.0.5:80", {{"X-Forwarded-For", "198.51.100.1, 10.2.2.2, junk"}}) ==
          "10.0.0.5:80");
    CHECK(proxies.clientOf("10.0.0.5:80", {{"X-Forwarded-For", "198.51.100.1, junk, 10.2.2.2"}}) ==
          "10.2.2.2:0");
    // Only trusted hops: the leftmost is as far as anyone can tell.
    CHECK(proxies.clientOf("10.0.0.5:80", {{"X-Forwarded-For", "10.9.9.9, 10.2.2.2"}}) ==
          "10.9.9.9:0");
    // No header: the proxy itself.
    CHECK(proxies.clientOf("10.0.0.5:80", {}) == "10.0.0.5:80");
    // An IPv4-mapped peer is its IPv4 address.
    CHECK(proxies.clientOf("[::ffff:10.0.0.5]:80", {{"X-Forwarded-For", "198.51.100.9"}}) ==
          "198.51.100.9:0");
}

TEST_CASE("With forwarded_header: forwarded, only RFC 7239's header is read", "[proxies]") {
    const TrustedProxies proxies =
        trusting({"10.0.0.0/8", "2001:db8:ff::/48"}, ForwardedHeader::Forwarded);
    // IPv6 in brackets, with a port; parameters and case as RFC 7239 allows.
    CHECK(proxies.clientOf("[2001:db8:ff::1]:80",
                           {{"X-Forwarded-For", "192.0.2.1"},
                            {"Forwarded", "for=192.0.2.60;proto=https, "
                                          "For=\"[2001:db8:cafe::17]:4711\""}}) ==
          "[2001:db8:cafe::17]:0");
    // A client's X-Forwarded-For is not read.
    CHECK(proxies.clientOf("10.0.0.5:80", {{"X-Forwarded-For", "192.0.2.1"}}) == "10.0.0.5:80");
    // An unreadable hop ends the walk at the proxy that wrote it.
    CHECK(proxies.clientOf("10.0.0.5:80", {{"Forwarded", "for=198.51.100.1, for=unknown"}}) ==
          "10.0.0.5:80");
}
