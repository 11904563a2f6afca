// Response bytes and request-target decoding: what the wire gets, and what handlers see.
#include "runtime/http_message.hpp"

#include <catch2/catch.hpp>

using namespace latchkey;
using namespace latchkey::runtime;

namespace {

std::string bytesOf(const Response& response, const ResponseFraming& framing = {}) {
    std::string out;
    appendResponse(out, response, framing);
    return out;
}

} // namespace

TEST_CASE("An answer carries the security headers, its length and its framing", "[http]") {
    Response response = Response::json(201, "{}");
    response.headers = {{"Location", "/x"}, {"Set-Cookie", "a=1"}, {"Set-Cookie", "b=2"}};
    const std::string bytes = bytesOf(response);
    CHECK_THAT(bytes, Catch::StartsWith("HTTP/1.1 201 Created\r\nDate: "));
    CHECK_THAT(bytes, Catch::Contains("\r\nCache-Control: no-store\r\n") &&
                          Catch::Contains("\r\nX-Content-Type-Options: nosniff\r\n") &&
                          Catch::Contains("\r\nLocation: /x\r\n") &&
                          Catch::Contains("\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n") &&
                          Catch::Contains("\r\nContent-Type: application/json\r\n") &&
                          Catch::Contains("\r\nContent-Length: 2\r\n"));
    CHECK_THAT(bytes, Catch::EndsWith("\r\n\r\n{}"));
    CHECK_THAT(bytes, !Catch::Contains("Connection:"));
    CHECK_THAT(bytesOf(response, {false, true, false}),
               Catch::Contains("\r\nConnection: close\r\n"));
    CHECK_THAT(bytesOf(response, {false, false, true}),
               Catch::Contains("\r\nConnection: keep-alive\r\n"));
    // HEAD: the same head, no body.
    CHECK_THAT(bytesOf(response, {true, false, false}),
               Catch::EndsWith("Content-Length: 2\r\n\r\n"));
}

TEST_CASE("A handler may replace Cache-Control but never the framing headers", "[http]") {
    Response response = Response::json(200, "abc");
    response.headers = {{"cache-control", "private, max-age=60"},
                        {"Content-Length", "999"},
                        {"Transfer-Encoding", "chunked"},
                        {"Connection", "upgrade"}};
    const std::string bytes = bytesOf(response);
    CHECK_THAT(bytes, Catch::Contains("\r\nCache-Control: private, max-age=60\r\n"));
    CHECK_THAT(bytes, !Catch::Contains("no-store") && !Catch::Contains("999") &&
                          !Catch::Contains("chunked") && !Catch::Contains("upgrade"));
    CHECK_THAT(bytes, Catch::Contains("\r\nContent-Length: 3\r\n"));
}

TEST_CASE("204 and 304 have neither a body nor a length", "[http]") {
    const std::string bytes = bytesOf(Response::noContent());
    CHECK_THAT(bytes, Catch::StartsWith("HTTP/1.1 204 No Content\r\n"));
    CHECK_THAT(bytes,
               !Catch::Contains("\r\nContent-Length:") && !Catch::Contains("\r\nContent-Type:"));
    CHECK_THAT(bytes, Catch::EndsWith("\r\n\r\n"));
}

TEST_CASE("Header values with line breaks are caught before sending", "[http]") {
    Response ok = Response::json(200, "{}");
    ok.headers = {{"X-A", "b"}};
    CHECK(headersAreSafe(ok));
    Response injected = ok;
    injected.headers = {{"X-A", "b\r\nSet-Cookie: evil=1"}};
    CHECK_FALSE(headersAreSafe(injected));
    Response badName = ok;
    badName.headers = {{"X A", "b"}};
    CHECK_FALSE(headersAreSafe(badName));
    Response badType = ok;
    badType.contentType = "text/html\nX: y";
    CHECK_FALSE(headersAreSafe(badType));
}

TEST_CASE("Targets decode segment by segment, an encoded slash stays in its segment", "[http]") {
    std::string path;
    std::string query;
    splitTarget("/a%2Fb/c%20d/?page_size=5&x=%41", path, query);
    CHECK(path == "/a%2Fb/c%20d/");
    CHECK(query == "page_size=5&x=%41");
    Request request;
    REQUIRE(decodeTarget(path, query, request));
    CHECK(request.path == "/a%2Fb/c d/");
    REQUIRE(request.query.size() == 2);
    CHECK(request.query[1] == std::pair<std::string, std::string>{"x", "A"});
    CHECK_FALSE(decodeTarget("http://other/", "", request));
    CHECK_FALSE(decodeTarget("*", "", request));
    CHECK_FALSE(decodeTarget("/bad%zz", "", request));
}

TEST_CASE("The logged query keeps only harmless values", "[http]") {
    CHECK(redactQuery("api_key=secret&page_size=5&user_key=k&ordering=desc&flag") ==
          "api_key=***&page_size=5&user_key=***&ordering=desc&***");
    CHECK(redactQuery("").empty());
}

TEST_CASE("The logged target hides capability tokens and escapes what is not printable", "[http]") {
    CHECK(loggableTarget("/files/Zm9vYmFyYmF6cXV4", "") == "/files/***");
    CHECK(loggableTarget("/files/", "") == "/files/");
    CHECK(loggableTarget("/v1.1/instances/x/users/", "api_key=k&page_size=5") ==
          "/v1.1/instances/x/users/?api_key=***&page_size=5");
    CHECK(loggableTarget("/a\x01"
                         "b\x7f\xc3\xa9",
                         "") == "/a\\x01b\\x7f\\xc3\\xa9");
    CHECK(loggableTarget("/a", "x\ny=1") == "/a?x\\x0ay=***");
    CHECK(loggableTarget("", "") == "-");
    CHECK(escapeForLog("a\\b") == "a\\x5cb"); // a backslash cannot fake an escape
}
