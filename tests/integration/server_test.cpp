// The HTTP server: health, body limit, errors from plugins, the access log, overload, and
// shutdown (drain in-flight requests, then destroy plugins, then unload them).
#include "support/host_process.hpp"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>
#include <catch2/catch.hpp>

#include <future>
#include <sstream>
#include <thread>

using namespace latchkey::test;

namespace {

std::string goodPluginConfig(const TempDir& dir, const std::string& trace) {
    return testConfig(dir, "", "  fixture-good: {trace_file: " + trace + "}\n", "",
                      {fixtureDir("good")});
}

} // namespace

TEST_CASE("healthz and readyz answer", "[server]") {
    TempDir dir;
    HostProcess host(dir.write("latchkey.yaml", testConfig(dir)));
    const HttpClient http = host.client();
    CHECK(http.get("/healthz").body == R"({"status": "ok"})");
    const auto ready = http.get("/readyz");
    CHECK(ready.status == 200);
    CHECK(ready.body == R"({"status": "ready"})");
    CHECK(ready.header("Cache-Control") == "no-store");
}

TEST_CASE("Bodies over the limit get 413, whether sized or chunked", "[server]") {
    TempDir dir;
    HostProcess host(dir.write("latchkey.yaml", testConfig(dir) + "" /* default limit: 1 MiB */));
    const HttpClient http = host.client();
    const std::string big(2 << 20, 'x');
    const auto sized = http.post("/v1.1/instances/", big);
    CHECK(sized.status == 413);
    CHECK(sized.body == R"({"detail": "Request body too large (limit 1048576 bytes)."})");

    Poco::URI uri(host.baseUrl());
    Poco::Net::HTTPClientSession session(uri.getHost(), uri.getPort());
    Poco::Net::HTTPRequest request("POST", "/v1.1/instances/", "HTTP/1.1");
    request.setChunkedTransferEncoding(true);
    std::ostream& body = session.sendRequest(request);
    try {
        for (int i = 0; i < 40; ++i)
            body << std::string(64 << 10, 'y');
    } catch (...) {
        // The server may close the connection as soon as the limit is passed.
    }
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    std::ostringstream text;
    Poco::StreamCopier::copyStream(in, text);
    CHECK(response.getStatus() == 413);
    // And the server is fine afterwards.
    CHECK(http.get("/healthz").status == 200);
}

TEST_CASE("A plugin that throws inside a request gives a 500 and the host keeps serving",
          "[server]") {
    TempDir dir;
    HostProcess host(dir.write("latchkey.yaml", goodPluginConfig(dir, dir.file("trace"))));
    const HttpClient http = host.client();
    const auto failed = http.get("/fixture/throw");
    CHECK(failed.status == 500);
    CHECK(failed.body == R"({"detail": "Internal server error."})");
    CHECK(http.get("/fixture/hello").body == R"({"hello": "world"})");
    CHECK(http.get("/fixture/teapot").body == R"({"detail": "I am a teapot."})");
    CHECK_THAT(host.log(), Catch::Contains("GET /fixture/throw: unhandled error: fixture failure "
                                           "inside a request"));
}

TEST_CASE("Path segments are decoded one by one", "[server]") {
    TempDir dir;
    HostProcess host(dir.write("latchkey.yaml", goodPluginConfig(dir, dir.file("trace"))));
    const auto r = host.client().get("/fixture/params/a%2Fb/c%20d/");
    CHECK(r.body == R"({"first": "a%2Fb", "second": "c d"})");
}

TEST_CASE("The access log has a line per request and no keys, passwords or tokens", "[server]") {
    TempDir dir;
    HostProcess host(dir.write("latchkey.yaml", testConfig(dir)));
    const HttpClient http = host.client();
    const std::string accountKey = adminAccountKey(http);
    const std::string apiKey = createInstanceWithApiKey(http, accountKey, "logged");
    const std::string password = "Sup3r-Secret-Passphrase";
    const std::string userKey =
        http.post("/v1.1/instances/logged/users/",
                  R"({"username": "gordon", "password": ")" + password + "\"}",
                  {{"X-API-KEY", apiKey}})
            .str("user_key");
    REQUIRE(http.get("/v1.1/instances/logged/user/?api_key=" + apiKey + "&user_key=" + userKey +
                     "&page_size=5")
                .status == 200);
    // A file's capability token, and a login that fails and one that succeeds.
    const std::string fileToken = "c2VjcmV0LWZpbGUtdG9rZW4tMTIz";
    CHECK(http.get("/files/" + fileToken).status == 404);
    CHECK(http.post("/v1.1/instances/logged/user/auth/",
                    R"({"username": "gordon", "password": "Wrong-Guess-Passphrase"})",
                    {{"X-API-KEY", apiKey}})
              .status == 401);
    CHECK(http.post("/v1.1/instances/logged/user/auth/",
                    R"({"username": "gordon", "password": ")" + password + "\"}",
                    {{"X-API-KEY", apiKey}})
              .status == 200);
    const std::string log = host.log();
    CHECK_THAT(log, Catch::Contains("GET /files/*** 404"));
    CHECK_THAT(log, !Catch::Contains(fileToken));
    CHECK_THAT(log, Catch::Contains("auth event=login instance=") &&
                        Catch::Contains("client=127.0.0.1:") &&
                        Catch::Contains("outcome=failure reason=wrong_password") &&
                        Catch::Contains("outcome=success reason=-"));
    CHECK_THAT(log, !Catch::Contains("Wrong-Guess-Passphrase"));
    CHECK_THAT(log, Catch::Contains("POST /v1.1/instances/logged/users/ 201"));
    CHECK_THAT(log, Catch::Contains("GET /v1.1/instances/logged/user/?api_key=***&user_key=***&"
                                    "page_size=5 200"));
    CHECK_THAT(log, !Catch::Contains(accountKey));
    CHECK_THAT(log, !Catch::Contains(apiKey));
    CHECK_THAT(log, !Catch::Contains(userKey));
    CHECK_THAT(log, !Catch::Contains(password));
    CHECK_THAT(log, !Catch::Contains(kAdminPassword));
}

TEST_CASE("SIGTERM drains the in-flight request, then destroys plugins, then unloads them",
          "[server]") {
    TempDir dir;
    const std::string trace = dir.file("trace");
    HostProcess host(dir.write("latchkey.yaml", goodPluginConfig(dir, trace)));
    const HttpClient http = host.client();
    auto slow = std::async(std::launch::async, [&] { return http.get("/fixture/slow?ms=700"); });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK(host.stop(SIGTERM) == 0);
    const auto answer = slow.get();
    CHECK(answer.status == 200);
    CHECK(answer.body == R"({"slept": 700})");
    CHECK(readFile(trace) == "created\nrequest done\ndestroyed\nunloaded\n");
}

TEST_CASE("SIGINT stops the host with exit 0", "[server]") {
    TempDir dir;
    HostProcess host(dir.write("latchkey.yaml", testConfig(dir)));
    CHECK(host.client().get("/healthz").status == 200);
    CHECK(host.stop(SIGINT) == 0);
    CHECK_THAT(host.log(), Catch::Contains("received SIGINT") && Catch::Contains("stopped"));
}

TEST_CASE("A full hashing queue answers 503 with Retry-After, not a pile-up", "[server]") {
    TempDir dir;
    // One worker, one waiting slot, and a hash slow enough that concurrent logins overlap.
    HostProcess host(
        dir.write("latchkey.yaml",
                  testConfig(dir, "{workers: 1, queue: 1, argon2: {memory: 64MiB, iterations: 3}}",
                             "", kFloodThrottle)));
    const HttpClient http = host.client();
    const std::string accountKey = adminAccountKey(http);
    const std::string apiKey = createInstanceWithApiKey(http, accountKey, "flood", "{}");
    std::vector<std::future<HttpResult>> logins;
    for (int i = 0; i < 8; ++i) {
        logins.push_back(std::async(std::launch::async, [&] {
            return http.post("/v1.1/instances/flood/user/auth/",
                             R"({"username": "nobody", "password": "whatever-it-is"})",
                             {{"X-API-KEY", apiKey}});
        }));
    }
    int busy = 0;
    int refused = 0;
    for (auto& login : logins) {
        const HttpResult r = login.get();
        if (r.status == 503) {
            ++busy;
            CHECK(r.header("Retry-After") == "1");
            CHECK(r.body == R"({"detail": "The server is busy; retry shortly."})");
        } else {
            CHECK(r.status == 401);
            ++refused;
        }
    }
    CHECK(busy >= 1);
    // At least one login ran (whether a second one found the queue slot free depends on timing).
    CHECK(refused >= 1);
    CHECK(busy + refused == 8);
    // Key-authenticated traffic is not stuck behind the hashing.
    CHECK(http.get("/v1.1/instances/flood/", {{"X-API-KEY", accountKey}}).status == 200);
}

TEST_CASE("A chunked body cut off mid-chunk is a 400, not a 500", "[server]") {
    TempDir dir;
    HostProcess host(dir.write("latchkey.yaml", testConfig(dir)));
    Poco::URI uri(host.baseUrl());
    Poco::Net::StreamSocket socket(Poco::Net::SocketAddress(uri.getHost(), uri.getPort()));
    const std::string raw = "POST /v1.1/instances/ HTTP/1.1\r\nHost: x\r\n"
                            "Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
                            "ff\r\nonly a few bytes of the promised 255";
    socket.sendBytes(raw.data(), static_cast<int>(raw.size()));
    // The client stops sending in the middle of the chunk.
    socket.shutdownSend();
    char buffer[1024] = {};
    const int got = socket.receiveBytes(buffer, sizeof buffer - 1);
    const std::string answer(buffer, got > 0 ? static_cast<std::size_t>(got) : 0);
    // Poco ends the body at the cut; what is left is not JSON.
    CHECK_THAT(answer, Catch::StartsWith("HTTP/1.1 400") && Catch::Contains(R"({"detail": )"));
    CHECK(host.client().get("/healthz").status == 200);
}

namespace {

/// Sends raw bytes on a fresh connection and returns whatever comes back before the server
/// closes it or `wait` passes.
std::string exchange(const std::string& baseUrl, const std::string& raw, bool closeSending,
                     const Poco::Timespan& wait = Poco::Timespan(5, 0)) {
    Poco::URI uri(baseUrl);
    Poco::Net::StreamSocket socket(Poco::Net::SocketAddress(uri.getHost(), uri.getPort()));
    socket.setReceiveTimeout(wait);
    socket.sendBytes(raw.data(), static_cast<int>(raw.size()));
    if (closeSending) socket.shutdownSend();
    std::string answer;
    char buffer[4096];
    try {
        for (int got; (got = socket.receiveBytes(buffer, sizeof buffer)) > 0;) {
            answer.append(buffer, static_cast<std::size_t>(got));
        }
    } catch (const Poco::TimeoutException&) {
        // Whatever arrived is the answer.
    }
    return answer;
}

} // namespace

TEST_CASE("A body shorter than its Content-Length is a 400, never processed", "[server]") {
    TempDir dir;
    HostProcess host(dir.write("latchkey.yaml", testConfig(dir)));
    const std::string answer =
        exchange(host.baseUrl(),
                 "POST /v1.1/account/auth/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
                 "Content-Type: application/x-www-form-urlencoded\r\n\r\nemail=a%40b.c&password=pa",
                 true);
    CHECK_THAT(answer, Catch::StartsWith("HTTP/1.1 400") &&
                           Catch::Contains(R"({"detail": "Incomplete request body."})"));
}

TEST_CASE("A request without Content-Length has no body and does not wait for one", "[server]") {
    TempDir dir;
    HostProcess host(dir.write("latchkey.yaml", testConfig(dir)));
    // Two requests on one connection: the first must not swallow the second as its body.
    const auto started = std::chrono::steady_clock::now();
    const std::string answer =
        exchange(host.baseUrl(),
                 "POST /v1.1/account/auth/ HTTP/1.1\r\nHost: x\r\n\r\n"
                 "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                 false);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(4));
    CHECK_THAT(answer, Catch::StartsWith("HTTP/1.1 400") &&
                           Catch::Contains(R"({"email": ["This field is required."])") &&
                           Catch::Contains(R"({"status": "ok"})"));
}

TEST_CASE("After drain_timeout a stalled request is cut off and the host still exits 0",
          "[server]") {
    TempDir dir;
    std::string config = testConfig(dir);
    config.replace(config.find("drain_timeout: 10s"), 18, "drain_timeout: 1s");
    HostProcess host(dir.write("latchkey.yaml", config));
    // A client that promises a body and never sends it holds its request open.
    auto stalled = std::async(std::launch::async, [&] {
        return exchange(
            host.baseUrl(),
            "POST /v1.1/account/auth/ HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{", false,
            Poco::Timespan(20, 0));
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const auto stopping = std::chrono::steady_clock::now();
    CHECK(host.stop(SIGTERM) == 0);
    CHECK(std::chrono::steady_clock::now() - stopping < std::chrono::seconds(5));
    stalled.get();
    CHECK_THAT(host.log(), Catch::Contains("still busy after the drain timeout"));
}
