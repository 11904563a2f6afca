// libFuzzer target for the client behind trusted proxies: any address blocks, any peer and any
// Forwarded / X-Forwarded-For values must give the peer or an address the host formatted
// ("ip:0"), never a crash, a leak or undefined behaviour. Input: blocks, peer and header
// values separated by newlines; the first byte chooses the header the proxies write.
#include "runtime/client_address.hpp"

#include <Poco/Net/SocketAddress.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using namespace latchkey;
using namespace latchkey::runtime;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const auto header =
        data[0] % 2 == 0 ? ForwardedHeader::XForwardedFor : ForwardedHeader::Forwarded;
    std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    std::vector<std::string_view> lines;
    while (!rest.empty() && lines.size() < 8) {
        const auto nl = rest.find('\n');
        lines.push_back(rest.substr(0, nl));
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    }
    if (lines.size() < 2) return 0;
    std::vector<Network> networks;
    for (std::string_view block : {lines[0]}) {
        std::string why;
        if (auto network = Network::parse(block, why)) networks.push_back(*network);
    }
    networks.push_back(*[] {
        std::string why;
        return Network::parse("127.0.0.0/8", why);
    }());
    const TrustedProxies proxies(std::move(networks), header);
    std::vector<Header> headers;
    for (std::size_t i = 2; i < lines.size(); ++i) {
        headers.emplace_back(i % 2 == 0 ? "X-Forwarded-For" : "Forwarded", std::string(lines[i]));
    }
    const std::string peer(lines[1]);
    const std::string client = proxies.clientOf(peer, headers);
    if (client != peer) {
        // Something a proxy forwarded: always an address the host can read back, port 0.
        const Poco::Net::SocketAddress address(client);
        if (address.port() != 0) std::abort();
    }
    return 0;
}
