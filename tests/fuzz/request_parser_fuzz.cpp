// libFuzzer target for request framing: any bytes, split into any pieces, must parse to the same
// requests (or the same failure) as when fed whole, within the limits, without a crash, a leak
// or undefined behaviour. The first input byte chooses how the rest is split.
#include "runtime/request_parser.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using latchkey::runtime::ParserLimits;
using latchkey::runtime::RequestParser;

namespace {

/// What one request on the stream came to.
struct Outcome {
    RequestParser::State state;
    int status = 0;
    std::string method;
    std::string target;
    std::string body;
    std::size_t headers = 0;
    /// A request that parsed must be the same whatever the split, and a failure must stay a
    /// failure; which failure may differ when a head never ends (with all bytes at once Beast
    /// parses the lines it has and may hit a limit, 431; in pieces it waits for the end: 400).
    bool operator==(const Outcome& other) const {
        if (state != other.state) return false;
        if (state == RequestParser::State::Failed) return true;
        return method == other.method && target == other.target && body == other.body &&
               headers == other.headers;
    }
};

void check(bool condition) {
    if (!condition) std::abort();
}

/// Parses the stream as the network thread does: requests one after another, pieces of `step`
/// bytes (0: all at once), unconsumed bytes presented again with the next piece.
std::vector<Outcome> parseStream(std::string_view stream, std::size_t step,
                                 const ParserLimits& limits) {
    std::vector<Outcome> outcomes;
    std::string held;
    std::size_t at = 0;
    auto parser = std::make_unique<RequestParser>(limits);
    while (true) {
        if (at < stream.size()) {
            const std::size_t n =
                step == 0 ? stream.size() - at : std::min(step, stream.size() - at);
            held.append(stream.substr(at, n));
            at += n;
        }
        const std::size_t presented = held.size();
        const std::size_t used = parser->feed(held);
        check(used <= presented);
        held.erase(0, used);
        const auto state = parser->state();
        if (state == RequestParser::State::Done || state == RequestParser::State::Failed) {
            Outcome o{state,
                      state == RequestParser::State::Failed ? parser->failure().status : 0,
                      parser->head().method,
                      parser->head().target,
                      parser->body(),
                      parser->head().headers.size()};
            check(o.body.size() <= limits.maxBody);
            check(o.headers <= limits.maxHeaders);
            if (state == RequestParser::State::Failed) {
                check(o.status >= 400 && o.status < 600);
                check(!parser->failure().message.empty());
                outcomes.push_back(std::move(o));
                return outcomes; // the connection closes after a failure
            }
            outcomes.push_back(std::move(o));
            parser = std::make_unique<RequestParser>(limits);
            continue;
        }
        if (at >= stream.size()) break;
    }
    // End of stream: what is left is cut short, or nothing.
    parser->finish();
    if (parser->state() == RequestParser::State::Failed) {
        outcomes.push_back(Outcome{parser->state(), parser->failure().status, parser->head().method,
                                   parser->head().target, parser->body(),
                                   parser->head().headers.size()});
    }
    return outcomes;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t step = data[0] % 17; // 0: whole
    const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
    ParserLimits limits;
    limits.maxHeadBytes = 2048;
    limits.maxHeaders = 16;
    limits.maxBody = 4096;
    const auto whole = parseStream(stream, 0, limits);
    const auto pieces = parseStream(stream, step == 0 ? 1 : step, limits);
    // Splitting must not change what the requests are, nor how and where the stream fails.
    check(whole == pieces);
    return 0;
}
