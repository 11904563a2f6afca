// Request framing: any split of the bytes gives the same request; limits and RFC 9112's framing
// rules give the right status; pipelined bytes are left for the next request.
#include "runtime/request_parser.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace latchkey;
using namespace latchkey::runtime;

namespace {

/// Feeds `bytes` in pieces of `step` the way the network thread does: what the parser leaves
/// unconsumed is presented again with the next piece. Returns the unconsumed rest.
std::string feedInSteps(RequestParser& parser, const std::string& bytes, std::size_t step) {
    std::string held;
    for (std::size_t at = 0; at < bytes.size(); at += step) {
        held += bytes.substr(at, step);
        const std::size_t used = parser.feed(held);
        held.erase(0, used);
        if (parser.state() == RequestParser::State::Done ||
            parser.state() == RequestParser::State::Failed) {
            return held + bytes.substr(std::min(bytes.size(), at + step));
        }
    }
    return held;
}

RequestParser::State parseAll(RequestParser& parser, const std::string& bytes) {
    feedInSteps(parser, bytes, bytes.size());
    return parser.state();
}

int failureOf(const std::string& bytes, const ParserLimits& limits = {}) {
    RequestParser parser(limits);
    if (parseAll(parser, bytes) != RequestParser::State::Failed) return 0;
    return parser.failure().status;
}

} // namespace

TEST_CASE("A request parses the same whatever pieces it arrives in", "[parser]") {
    const std::string request = "POST /v1.1/x/?a=1 HTTP/1.1\r\nHost: example\r\n"
                                "Content-Type: application/json\r\nContent-Length: 11\r\n\r\n"
                                "{\"k\": \"v\"}\n";
    for (const std::size_t step :
         {std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{64}, request.size()}) {
        RequestParser parser{ParserLimits{}};
        const std::string rest = feedInSteps(parser, request, step);
        INFO("step " << step);
        REQUIRE(parser.state() == RequestParser::State::Done);
        CHECK(rest.empty());
        CHECK(parser.head().method == "POST");
        CHECK(parser.head().target == "/v1.1/x/?a=1");
        CHECK(parser.head().version == 11);
        CHECK(parser.head().keepAlive);
        REQUIRE(parser.head().headers.size() == 3);
        CHECK(parser.head().headers[1] == Header{"Content-Type", "application/json"});
        CHECK(parser.body() == "{\"k\": \"v\"}\n");
    }
}

TEST_CASE("A request without Content-Length or chunked has no body", "[parser]") {
    RequestParser parser{ParserLimits{}};
    const std::string two = "POST /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n";
    const std::string rest = feedInSteps(parser, two, two.size());
    REQUIRE(parser.state() == RequestParser::State::Done);
    CHECK(parser.body().empty());
    CHECK_FALSE(parser.head().hasBody);
    // The pipelined request is left alone, whole.
    CHECK(rest == "GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
}

TEST_CASE("Chunked bodies: sizes, extensions and trailers, in any pieces", "[parser]") {
    const std::string request = "POST /e HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n";
    for (const std::size_t step : {std::size_t{1}, std::size_t{3}, request.size()}) {
        RequestParser parser{ParserLimits{}};
        feedInSteps(parser, request, step);
        INFO("step " << step);
        REQUIRE(parser.state() == RequestParser::State::Done);
        CHECK(parser.body() == "hello world");
        CHECK(parser.head().hasBody);
        // A trailer is not a header: it arrived after the request was judged.
        for (const auto& [name, value] : parser.head().headers)
            CHECK(name != "X-Trailer");
    }
}

TEST_CASE("Framing that could be read two ways is refused", "[parser]") {
    // RFC 9112 6.3: differing lengths, a length with chunked, chunked not last.
    CHECK(failureOf("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"
                    "abcd") == 400);
    CHECK(failureOf("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n") == 400);
    CHECK(failureOf("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                    "Content-Length: 3\r\n\r\n0\r\n\r\n") == 400);
    CHECK(failureOf("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n") ==
          400);
    CHECK(failureOf("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n") == 400);
    CHECK(failureOf("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n") ==
          501);
    CHECK(failureOf("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") == 400);
    CHECK(failureOf("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n") == 400);
    CHECK(failureOf("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n") == 400);
    CHECK(failureOf("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n") ==
          400);
    // The same length twice is one length.
    CHECK(failureOf("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n"
                    "a") == 0);
}

TEST_CASE("Host, version and Expect follow RFC 9112 and 9110", "[parser]") {
    CHECK(failureOf("GET / HTTP/1.1\r\n\r\n") == 400);
    CHECK(failureOf("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == 400);
    CHECK(failureOf("GET / HTTP/1.0\r\n\r\n") == 0);
    // Only HTTP/1.0 and 1.1 request lines parse.
    CHECK(failureOf("GET / HTTP/1.2\r\nHost: a\r\n\r\n") == 400);
    CHECK(failureOf("GET / HTTP/2.0\r\nHost: a\r\n\r\n") == 400);
    CHECK(failureOf("GET / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n") == 417);
    CHECK(failureOf("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n") == 400);
    CHECK(failureOf("GET / HTTP/1.1\r\nHost : a\r\n\r\n") == 400);

    RequestParser expecting{ParserLimits{}};
    expecting.feed(
        "PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n");
    REQUIRE(expecting.state() == RequestParser::State::Body);
    CHECK(expecting.head().expectContinue);
    CHECK(expecting.feed("ok") == 2);
    CHECK(expecting.state() == RequestParser::State::Done);
}

TEST_CASE("Keep-alive follows the version and the Connection header", "[parser]") {
    const auto keepAlive = [](const std::string& request) {
        RequestParser parser{ParserLimits{}};
        parser.feed(request);
        REQUIRE(parser.state() == RequestParser::State::Done);
        return parser.head().keepAlive;
    };
    CHECK(keepAlive("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
    CHECK_FALSE(keepAlive("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
    CHECK_FALSE(keepAlive("GET / HTTP/1.0\r\n\r\n"));
    CHECK(keepAlive("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
}

TEST_CASE("Heads over the size or field limit are 431, bodies over max_body 413", "[parser]") {
    ParserLimits limits;
    limits.maxHeadBytes = 1024;
    limits.maxHeaders = 10;
    limits.maxBody = 100;
    std::string many = "GET / HTTP/1.1\r\nHost: a\r\n";
    for (int i = 0; i < 10; ++i)
        many += "X-" + std::to_string(i) + ": v\r\n";
    CHECK(failureOf(many + "\r\n", limits) == 431);
    CHECK(failureOf("GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(2000, 'v') + "\r\n\r\n",
                    limits) == 431);
    // A head that never ends fails once it is too large, not when it ends.
    RequestParser endless(limits);
    feedInSteps(endless, "GET / HTTP/1.1\r\nX: " + std::string(5000, 'v'), 100);
    CHECK(endless.state() == RequestParser::State::Failed);
    CHECK(endless.failure().status == 431);
    // Declared too large: refused at the head, before any body byte.
    RequestParser declared(limits);
    declared.feed("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n");
    CHECK(declared.state() == RequestParser::State::Failed);
    CHECK(declared.failure().status == 413);
    CHECK(declared.failure().message == "Request body too large (limit 100 bytes).");
    // Chunked: refused once the chunks pass the limit.
    CHECK(failureOf("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n" +
                        std::string(100, 'x') + "\r\n1\r\nx\r\n0\r\n\r\n",
                    limits) == 413);
    // A chunk-size line or trailer section that never ends cannot grow without bound.
    RequestParser trailer(limits);
    feedInSteps(trailer,
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: " +
                    std::string(10000, 't'),
                100);
    CHECK(trailer.state() == RequestParser::State::Failed);
}

TEST_CASE("The end of the stream before the end of the request is an incomplete body", "[parser]") {
    RequestParser idle{ParserLimits{}};
    idle.finish();
    CHECK(idle.state() == RequestParser::State::Head);
    CHECK_FALSE(idle.started());

    RequestParser cut{ParserLimits{}};
    cut.feed("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
    REQUIRE(cut.state() == RequestParser::State::Body);
    CHECK(cut.bodyBytes() == 3);
    cut.finish();
    CHECK(cut.state() == RequestParser::State::Failed);
    CHECK(cut.failure().status == 400);
    CHECK(cut.failure().message == "Incomplete request body.");
}
