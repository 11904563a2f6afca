// The connection layer against the real host: slow and idle clients hold no worker, caps refuse
// at once, HTTP/1.1 framing (pipelining, chunked, 100-continue, HTTP/1.0, bad framing), and the
// lanes: a flood of expensive requests is shed with 503 while cheap ones keep being answered.
#include "support/host_process.hpp"
#include "support/raw_connection.hpp"

#include <catch2/catch.hpp>

#include <future>
#include <thread>

using namespace latchkey::test;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

namespace {

/// testConfig() with `lines` added to its `server:` section and the fixture plugin loaded.
std::string serverConfig(const TempDir& dir, const std::string& lines,
                         const std::string& passwordSettings = "") {
    std::string config = testConfig(dir, passwordSettings,
                                    "  fixture-good: {trace_file: " + dir.file("trace") + "}\n", "",
                                    {fixtureDir("good")});
    const std::string section = "server:\n";
    // testConfig() sets threads; a test that sets them replaces that line.
    const std::string threads = "  threads: 16\n";
    if (lines.find("  threads:") != std::string::npos)
        config.erase(config.find(threads), threads.size());
    config.insert(config.find(section) + section.size(), lines);
    return config;
}

/// Milliseconds since `start`.
long long msSince(Clock::time_point start) {
    return std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
}

/// A GET on a fresh connection, and how long its answer took.
std::pair<int, long long> timedGet(const std::string& baseUrl, const std::string& path) {
    const auto start = Clock::now();
    RawConnection c(baseUrl);
    c.send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
    const auto answer = c.read(seconds(10));
    return {answer ? answer->status : 0, msSince(start)};
}

} // namespace

TEST_CASE("Slow heads hold no worker, and get 408 after header_timeout", "[server][connections]") {
    TempDir dir;
    HostProcess host(dir.write("latchkey.yaml", serverConfig(dir, "  header_timeout: 1s\n"
                                                                  "  threads: 2\n")));
    // Far more unfinished heads than workers; each stops before the blank line.
    std::vector<std::unique_ptr<RawConnection>> slow;
    for (int i = 0; i < 100; ++i) {
        slow.push_back(std::make_unique<RawConnection>(host.baseUrl()));
        slow.back()->send("GET /healthz HTTP/1.1\r\nHost: x\r\n");
    }
    // A new client is answered at once: the slow ones cost no thread.
    const auto [status, took] = timedGet(host.baseUrl(), "/healthz");
    CHECK(status == 200);
    CHECK(took < 1000);
    // After the deadline every slow one is told so and closed.
    for (auto& c : slow) {
        const auto answer = c->read(seconds(5));
        REQUIRE(answer);
        CHECK(answer->status == 408);
        CHECK(answer->header("Connection") == "close");
        CHECK(answer->body == R"({"detail": "Request timeout."})");
        CHECK(c->closedWithin(seconds(5)));
    }
}

TEST_CASE("Hundreds of idle keep-alive connections hold no worker", "[server][connections]") {
    TempDir dir;
    HostProcess host(dir.write("latchkey.yaml", serverConfig(dir, "  threads: 2\n")));
    std::vector<std::unique_ptr<RawConnection>> idle;
    for (int i = 0; i < 200; ++i) {
        idle.push_back(std::make_unique<RawConnection>(host.baseUrl()));
        idle.back()->send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    for (auto& c : idle) {
        const auto answer = c->read();
        REQUIRE(answer);
        CHECK(answer->status == 200);
    }
    // All 200 stay open and idle; two workers still serve everyone, old and new.
    CHECK(timedGet(host.baseUrl(), "/healthz").first == 200);
    for (auto& c : idle) {
        c->send("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
        const auto answer = c->read();
        REQUIRE(answer);
        CHECK(answer->status == 200);
    }
}

TEST_CASE("keep_alive_timeout closes an idle connection", "[server][connections]") {
    TempDir dir;
    HostProcess host(
        dir.write("latchkey.yaml", serverConfig(dir, "  keep_alive_timeout: 500ms\n")));
    RawConnection c(host.baseUrl());
    c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(c.read());
    const auto start = Clock::now();
    CHECK(c.closedWithin(seconds(5)));
    CHECK(msSince(start) >= 300);
    // A connection that never sends anything is closed the same way.
    RawConnection silent(host.baseUrl());
    CHECK(silent.closedWithin(seconds(5)));
}

TEST_CASE("A client over the per-address cap is refused at once, another address is served",
          "[server][connections]") {
    TempDir dir;
    HostProcess host(
        dir.write("latchkey.yaml", serverConfig(dir, "  max_connections_per_ip: 3\n")));
    std::vector<std::unique_ptr<RawConnection>> held;
    for (int i = 0; i < 3; ++i) {
        held.push_back(std::make_unique<RawConnection>(host.baseUrl()));
        held.back()->send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        REQUIRE(held.back()->read());
    }
    // The fourth from 127.0.0.1 is closed without an answer.
    RawConnection over(host.baseUrl());
    try {
        over.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    } catch (const std::exception&) {
        // Already closed: that is the point.
    }
    CHECK_FALSE(over.read(seconds(2)));
    CHECK(over.closedWithin(seconds(2)));
    // 127.0.0.2 is another client.
    RawConnection other(host.baseUrl(), "127.0.0.2");
    other.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    const auto answer = other.read();
    REQUIRE(answer);
    CHECK(answer->status == 200);
    // Once one of the three goes, 127.0.0.1 may connect again.
    held.pop_back();
    std::this_thread::sleep_for(milliseconds(300));
    CHECK(timedGet(host.baseUrl(), "/healthz").first == 200);
    CHECK_THAT(host.log(), Catch::Contains("3 per client address"));
}

TEST_CASE("Pipelined requests are answered in order", "[server][connections]") {
    TempDir dir;
    HostProcess host(dir.write("latchkey.yaml", serverConfig(dir, "")));
    RawConnection c(host.baseUrl());
    // Three requests in one write; the slow one first, so a reordering would show.
    c.send("GET /fixture/slow?ms=300 HTTP/1.1\r\nHost: x\r\n\r\n"
           "POST /fixture/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\ntwo"
           "GET /nothing-here HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const auto first = c.read();
    const auto second = c.read();
    const auto third = c.read();
    REQUIRE(first);
    REQUIRE(second);
    REQUIRE(third);
    CHECK(first->body == R"({"slept": 300})");
    CHECK(second->body == "two");
    CHECK(third->status == 404);
    CHECK(third->header("Connection") == "close");
    CHECK(c.closedWithin(seconds(5)));
}

TEST_CASE("Chunked bodies and Expect: 100-continue", "[server][connections]") {
    TempDir dir;
    HostProcess host(dir.write("latchkey.yaml", serverConfig(dir, "")));

    SECTION("a chunked body in pieces, with an extension and a trailer that is not a header") {
        RawConnection c(host.baseUrl());
        c.send(
            "POST /fixture/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
        std::this_thread::sleep_for(milliseconds(100));
        c.send("lo\r\n6;name=value\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
        const auto answer = c.read();
        REQUIRE(answer);
        CHECK(answer->status == 200);
        CHECK(answer->body == "hello world");
    }
    SECTION("100 Continue before the body, then the answer") {
        RawConnection c(host.baseUrl());
        c.send("POST /fixture/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
               "Expect: 100-continue\r\n\r\n");
        const auto go = c.read();
        REQUIRE(go);
        CHECK(go->statusLine == "HTTP/1.1 100 Continue");
        c.send("body");
        const auto answer = c.read();
        REQUIRE(answer);
        CHECK(answer->status == 200);
        CHECK(answer->body == "body");
    }
    SECTION("a body over max_body is refused before it is sent, without 100 Continue") {
        RawConnection c(host.baseUrl());
        c.send("POST /fixture/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n"
               "Expect: 100-continue\r\n\r\n");
        const auto answer = c.read();
        REQUIRE(answer);
        CHECK(answer->status == 413);
        CHECK(answer->header("Connection") == "close");
    }
    SECTION("an expectation other than 100-continue is 417") {
        RawConnection c(host.baseUrl());
        c.send("POST /fixture/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
               "Expect: something-else\r\n\r\nx");
        const auto answer = c.read();
        REQUIRE(answer);
        CHECK(answer->status == 417);
    }
}

TEST_CASE("HTTP/1.0 clients are closed after the answer unless they ask to keep alive",
          "[server][connections]") {
    TempDir dir;
    HostProcess host(dir.write("latchkey.yaml", serverConfig(dir, "")));
    RawConnection plain(host.baseUrl());
    plain.send("GET /healthz HTTP/1.0\r\n\r\n");
    const auto answer = plain.read();
    REQUIRE(answer);
    CHECK(answer->status == 200);
    CHECK(answer->header("Connection") == "close");
    CHECK(plain.closedWithin(seconds(5)));

    RawConnection kept(host.baseUrl());
    kept.send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    const auto first = kept.read();
    REQUIRE(first);
    CHECK(first->header("Connection") == "keep-alive");
    kept.send("GET /readyz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    const auto second = kept.read();
    REQUIRE(second);
    CHECK(second->body == R"({"status": "ready"})");
}

TEST_CASE("Bad framing is a 400 or 431 and is never processed", "[server][connections]") {
    TempDir dir;
    HostProcess host(dir.write("latchkey.yaml", serverConfig(dir, "")));
    const std::string accountKey = adminAccountKey(host.client());
    const auto attempt = [&](const std::string& name, const std::string& framing) {
        const std::string body = R"({"name": ")" + name + R"("})";
        RawConnection c(host.baseUrl());
        c.send("POST /v1.1/instances/ HTTP/1.1\r\nHost: x\r\nX-API-KEY: " + accountKey +
               "\r\nContent-Type: application/json\r\n" + framing + "\r\n" + body);
        const auto answer = c.read();
        REQUIRE(answer);
        CHECK(answer->header("Connection") == "close");
        // Never processed: the instance does not exist.
        CHECK(host.client()
                  .get("/v1.1/instances/" + name + "/", {{"X-API-KEY", accountKey}})
                  .status == 404);
        return answer->status;
    };
    const std::string length = std::to_string(std::string(R"({"name": "xxxxxx"})").size());
    CHECK(attempt("twocl1", "Content-Length: " + length + "\r\nContent-Length: 3\r\n") == 400);
    CHECK(attempt("clchu1", "Content-Length: " + length + "\r\nTransfer-Encoding: chunked\r\n") ==
          400);
    CHECK(attempt("teonly", "Transfer-Encoding: gzip\r\n") == 400);
    std::string many;
    for (int i = 0; i < 120; ++i)
        many += "X-Filler-" + std::to_string(i) + ": x\r\n";
    CHECK(attempt("manyhd", "Content-Length: " + length + "\r\n" + many) == 431);
    CHECK(attempt("bighdr", "Content-Length: " + length + "\r\nX-Big: " + std::string(20000, 'a') +
                                "\r\n") == 431);
    // No Host header on HTTP/1.1.
    RawConnection c(host.baseUrl());
    c.send("GET /healthz HTTP/1.1\r\n\r\n");
    const auto answer = c.read();
    REQUIRE(answer);
    CHECK(answer->status == 400);
}

TEST_CASE("A body that trickles below body_min_rate gets 408", "[server][connections]") {
    TempDir dir;
    HostProcess host(dir.write("latchkey.yaml", serverConfig(dir, "  header_timeout: 500ms\n"
                                                                  "  body_min_rate: 1000\n")));
    RawConnection c(host.baseUrl());
    c.send("POST /fixture/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
    const auto start = Clock::now();
    std::optional<RawAnswer> answer;
    // Ten bytes every 200 ms is 50 bytes/s, far below the minimum.
    while (!answer && msSince(start) < 10000) {
        try {
            c.send(std::string(10, 'z'));
        } catch (const std::exception&) {
            // The server may have closed already; the answer is waiting.
        }
        answer = c.read(milliseconds(200));
    }
    REQUIRE(answer);
    CHECK(answer->status == 408);
    CHECK(msSince(start) < 5000);
}

TEST_CASE("A client that never reads a large answer holds no worker, and is dropped",
          "[server][connections]") {
    TempDir dir;
    HostProcess host(
        dir.write("latchkey.yaml", serverConfig(dir, "  threads: 2\n  write_timeout: 1s\n")));
    // Each answer is far larger than the socket buffers; nobody reads them.
    constexpr std::size_t kBig = 64 << 20;
    std::vector<std::unique_ptr<RawConnection>> stuck;
    for (int i = 0; i < 6; ++i) {
        stuck.push_back(std::make_unique<RawConnection>(host.baseUrl()));
        stuck.back()->send("GET /fixture/big?bytes=" + std::to_string(kBig) +
                           " HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    std::this_thread::sleep_for(milliseconds(500));
    const auto [status, took] = timedGet(host.baseUrl(), "/healthz");
    CHECK(status == 200);
    CHECK(took < 1000);
    // Past write_timeout the server gives up on them: what arrives ends short of the answer.
    std::this_thread::sleep_for(milliseconds(2000));
    for (auto& c : stuck) {
        const std::string got = c->readAll(seconds(10));
        CHECK(got.size() < kBig);
    }
}

TEST_CASE("A full lane is shed with 503 at once while the standard lane keeps answering",
          "[server][connections]") {
    TempDir dir;
    HostProcess host(dir.write("latchkey.yaml",
                               serverConfig(dir, "  threads: 2\n"
                                                 "  lanes: {hashing: {threads: 1, queue: 1}}\n")));
    // Four slow requests in the hashing lane: one runs, one waits, two are shed.
    std::vector<std::future<std::pair<int, long long>>> slow;
    for (int i = 0; i < 4; ++i) {
        slow.push_back(std::async(std::launch::async, [&] {
            return timedGet(host.baseUrl(), "/fixture/hashing-lane?ms=1500");
        }));
        std::this_thread::sleep_for(milliseconds(50));
    }
    // Cheap requests are not behind them.
    for (int i = 0; i < 5; ++i) {
        const auto [status, took] = timedGet(host.baseUrl(), "/healthz");
        CHECK(status == 200);
        CHECK(took < 1000);
    }
    int ok = 0;
    int shed = 0;
    for (auto& f : slow) {
        const auto [status, took] = f.get();
        if (status == 503) {
            ++shed;
            CHECK(took < 1000); // shed at once, not after the others
        } else {
            CHECK(status == 200);
            ++ok;
        }
    }
    CHECK(ok == 2);
    CHECK(shed == 2);
    RawConnection c(host.baseUrl());
    c.send("GET /fixture/hashing-lane?ms=10 HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(c.read());
}

TEST_CASE("A login flood is answered 503 with Retry-After while GET user/ keeps answering",
          "[server][connections]") {
    TempDir dir;
    // One hashing worker with one waiting slot, and a hash slow enough that logins overlap.
    HostProcess host(
        dir.write("latchkey.yaml", serverConfig(dir, "  lanes: {hashing: {threads: 1, queue: 1}}\n",
                                                "{argon2: {memory: 32MiB, iterations: 3}}") +
                                       kFloodThrottle));
    const HttpClient http = host.client();
    const std::string accountKey = adminAccountKey(http);
    const std::string apiKey = createInstanceWithApiKey(http, accountKey, "flood");
    const auto created =
        http.post("/v1.1/instances/flood/users/",
                  R"({"username": "gordon", "password": "crowbar-1998"})", {{"X-API-KEY", apiKey}});
    REQUIRE(created.status == 201);
    const std::string userKey = created.str("user_key");

    std::atomic<bool> stop{false};
    std::atomic<int> logins503{0};
    std::atomic<int> logins401{0};
    std::atomic<int> other{0};
    // Keep-alive clients that retry at once, as a flood does (and as wrk does).
    std::vector<std::thread> flood;
    const std::string login = R"({"username": "gordon", "password": "wrong-guess"})";
    const std::string request = "POST /v1.1/instances/flood/user/auth/ HTTP/1.1\r\nHost: x\r\n"
                                "X-API-KEY: " +
                                apiKey + "\r\nContent-Type: application/json\r\nContent-Length: " +
                                std::to_string(login.size()) + "\r\n\r\n" + login;
    for (int i = 0; i < 8; ++i) {
        flood.emplace_back([&] {
            auto c = std::make_unique<RawConnection>(host.baseUrl());
            while (!stop) {
                std::optional<RawAnswer> r;
                try {
                    c->send(request);
                    r = c->read(seconds(10));
                } catch (const std::exception&) {
                    // Counted below as "other": a keep-alive connection must stay open.
                }
                if (!r) {
                    ++other;
                    c = std::make_unique<RawConnection>(host.baseUrl());
                } else if (r->status == 503 && r->header("Retry-After") == "1") {
                    ++logins503;
                } else if (r->status == 401) {
                    ++logins401;
                } else {
                    ++other;
                }
            }
        });
    }
    // The signed-in user is served throughout.
    int reads = 0;
    long long slowest = 0;
    const auto start = Clock::now();
    while (msSince(start) < 2000) {
        const auto begun = Clock::now();
        const auto r = http.get("/v1.1/instances/flood/user/",
                                {{"X-API-KEY", apiKey}, {"X-USER-KEY", userKey}});
        CHECK(r.status == 200);
        slowest = std::max(slowest, msSince(begun));
        ++reads;
    }
    stop = true;
    for (auto& t : flood)
        t.join();
    INFO("reads " << reads << ", slowest " << slowest << " ms; logins 401 " << logins401 << ", 503 "
                  << logins503 << ", other " << other);
    // Several answers (on MariaDB each read takes a few hundred ms: its connector is slow), ...
    CHECK(reads >= 3);
    // ... each answered, not stuck behind the hashing (before the lanes: none at all in 9 s).
    CHECK(slowest < 2000);
    CHECK(logins401 > 0);
    CHECK(logins503 > 0);
    CHECK(other == 0);
}

TEST_CASE("A connection whose request was shed waits shed_pause before it is read again",
          "[server][connections]") {
    TempDir dir;
    HostProcess host(dir.write("latchkey.yaml",
                               serverConfig(dir, "  shed_pause: 700ms\n"
                                                 "  lanes: {hashing: {threads: 1, queue: 1}}\n")));
    // Fill the hashing lane: one running, one waiting.
    std::vector<std::future<std::pair<int, long long>>> busy;
    for (int i = 0; i < 2; ++i) {
        busy.push_back(std::async(std::launch::async, [&] {
            return timedGet(host.baseUrl(), "/fixture/hashing-lane?ms=3000");
        }));
    }
    std::this_thread::sleep_for(milliseconds(300));
    // Two requests in one write: the first is shed at once, the second only after the pause.
    RawConnection c(host.baseUrl());
    const auto start = Clock::now();
    c.send("GET /fixture/hashing-lane HTTP/1.1\r\nHost: x\r\n\r\n"
           "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    const auto shed = c.read();
    const long long shedAt = msSince(start);
    const auto next = c.read();
    const long long nextAt = msSince(start);
    REQUIRE(shed);
    REQUIRE(next);
    CHECK(shed->status == 503);
    CHECK(shed->header("Retry-After") == "1");
    CHECK(shedAt < 500);
    CHECK(next->status == 200);
    CHECK(nextAt >= 600);
    // Other connections are not paused.
    CHECK(timedGet(host.baseUrl(), "/healthz").second < 500);
    for (auto& f : busy)
        CHECK(f.get().first == 200);
}

TEST_CASE("A long pipeline answered without a worker comes back whole and in order",
          "[server][connections]") {
    TempDir dir;
    HostProcess host(dir.write("latchkey.yaml", serverConfig(dir, "")));
    // A request-target that is not a path is answered by the network thread itself. (Fewer
    // than max_keep_alive_requests, 1000 by default, after which the connection closes.)
    std::string burst;
    for (int i = 0; i < 900; ++i)
        burst += "GET no-slash-" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
    burst += "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    RawConnection c(host.baseUrl());
    c.send(burst);
    for (int i = 0; i < 900; ++i) {
        const auto answer = c.read();
        REQUIRE(answer);
        REQUIRE(answer->status == 400);
    }
    const auto last = c.read();
    REQUIRE(last);
    CHECK(last->body == R"({"status": "ok"})");
    CHECK(c.closedWithin(seconds(5)));
}

TEST_CASE("A pipelined request behind a large answer is read once the answer has gone",
          "[server][connections]") {
    TempDir dir;
    HostProcess host(dir.write("latchkey.yaml", serverConfig(dir, "  header_timeout: 5s\n")));
    RawConnection c(host.baseUrl());
    // The second request is cut in half: only the network thread reading again completes it.
    constexpr std::size_t kBig = 8 << 20;
    c.send("GET /fixture/big?bytes=" + std::to_string(kBig) +
           " HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\n");
    const auto big = c.read(seconds(20));
    REQUIRE(big);
    CHECK(big->body.size() == kBig);
    const auto sent = Clock::now();
    c.send("Host: x\r\n\r\n");
    const auto answer = c.read(seconds(10));
    REQUIRE(answer);
    CHECK(answer->body == R"({"status": "ok"})");
    CHECK(msSince(sent) < 3000); // not the 408 of header_timeout
}

TEST_CASE("Bodies held at once are bounded by max_body_memory", "[server][connections]") {
    TempDir dir;
    HostProcess host(dir.write("latchkey.yaml", serverConfig(dir, "  max_body: 1MiB\n"
                                                                  "  max_body_memory: 1MiB\n")));
    const std::string head =
        "POST /fixture/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 700000\r\n\r\n";
    // One upload holds 600 KB of the budget while it is still arriving...
    RawConnection first(host.baseUrl());
    first.send(head + std::string(600000, 'a'));
    std::this_thread::sleep_for(milliseconds(300));
    // ... so another one that would pass 1 MiB is refused, and its connection closed.
    RawConnection second(host.baseUrl());
    try {
        second.send(head + std::string(600000, 'b'));
    } catch (const std::exception&) {
        // The server may close before all of it is sent; the answer is waiting.
    }
    const auto refused = second.read();
    REQUIRE(refused);
    CHECK(refused->status == 503);
    CHECK(refused->header("Retry-After") == "1");
    // The first completes, and once it is answered its share is free again.
    first.send(std::string(100000, 'a'));
    const auto echoed = first.read();
    REQUIRE(echoed);
    CHECK(echoed->body.size() == 700000);
    RawConnection third(host.baseUrl());
    third.send(head + std::string(700000, 'c'));
    const auto accepted = third.read();
    REQUIRE(accepted);
    CHECK(accepted->status == 200);
}

TEST_CASE("HEAD is GET without the body, and empty lines before a request are ignored",
          "[server][connections]") {
    TempDir dir;
    HostProcess host(dir.write("latchkey.yaml", serverConfig(dir, "")));
    RawConnection c(host.baseUrl());
    c.send("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    const auto head = c.read(seconds(5), true);
    REQUIRE(head);
    CHECK(head->status == 200);
    CHECK(head->header("Content-Length") == "16");
    // No body came: the next bytes are the next answer's.
    c.send("\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
    const auto next = c.read();
    REQUIRE(next);
    CHECK(next->status == 200);
    CHECK(next->body == R"({"status": "ready"})");
}
