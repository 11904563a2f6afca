// `logging.format: json` on the real host: every line it writes is one JSON object, the access
// log and the authentication events with their fields, under the same redaction as the text.
#include "support/host_process.hpp"
#include "support/raw_connection.hpp"

#include <Poco/JSON/Parser.h>

#include <catch2/catch.hpp>

#include <sstream>
#include <thread>
#include <vector>

using namespace latchkey::test;

namespace {

/// How the access log writes the target `/a"b\c` followed by the byte 0xff.
constexpr const char* kOddTarget = "/a\"b\\x5cc\\xff";

/// Every line of `log` parsed; fails the test on a line that is not one JSON object.
std::vector<Poco::JSON::Object::Ptr> jsonLines(const std::string& log) {
    std::vector<Poco::JSON::Object::Ptr> lines;
    std::istringstream in(log);
    for (std::string line; std::getline(in, line);) {
        INFO(line);
        Poco::JSON::Object::Ptr object;
        REQUIRE_NOTHROW(object =
                            Poco::JSON::Parser().parse(line).extract<Poco::JSON::Object::Ptr>());
        REQUIRE(object);
        for (const char* member : {"time", "level", "logger", "message"})
            CHECK(object->has(member));
        lines.push_back(object);
    }
    return lines;
}

/// The first line of `logger` whose `field` is `value`, or null.
Poco::JSON::Object::Ptr find(const std::vector<Poco::JSON::Object::Ptr>& lines,
                             const std::string& logger, const std::string& field,
                             const std::string& value) {
    for (const auto& line : lines) {
        if (line->getValue<std::string>("logger") == logger && line->has(field) &&
            line->get(field).toString() == value)
            return line;
    }
    return nullptr;
}

} // namespace

TEST_CASE("logging.format json writes one JSON object per line, with the same redaction",
          "[logging]") {
    TempDir dir;
    HostProcess host(
        dir.write("latchkey.yaml", testConfig(dir, "", "", "logging:\n  format: json\n")));
    HttpClient http(host.baseUrl());
    REQUIRE(http.get("/files/capability-token-123?api_key=key-in-the-query").status == 404);
    REQUIRE(http.post("/v1.1/account/auth/",
                      R"({"email": "admin@example.com", "password": "a wrong password"})")
                .status == 401);
    {
        // A quote, a backslash and a byte that is not UTF-8 in the target: escaped as in the
        // text format (\xNN), then as JSON, so none ends a string or breaks the line.
        RawConnection raw(host.baseUrl());
        raw.send("GET /a\"b\\c\xff HTTP/1.1\r\nHost: x\r\n\r\n");
        REQUIRE(raw.read());
    }
    // The access line is written after the answer: give the last one a moment.
    std::vector<Poco::JSON::Object::Ptr> lines;
    for (int i = 0; i < 50; ++i) {
        lines = jsonLines(host.log());
        if (find(lines, "access", "target", kOddTarget)) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const std::string log = host.log();

    // The host's own lines and the plugins' are objects too.
    CHECK(find(lines, "latchkey", "message", "latchkey 1.0.0 listening on " + host.baseUrl()) !=
          nullptr);
    CHECK(find(lines, testStorageDriver(), "level", "info") != nullptr); // the storage plugin's

    const auto files = find(lines, "access", "target", "/files/***?api_key=***");
    REQUIRE(files);
    CHECK(files->getValue<std::string>("message") == "request");
    CHECK(files->getValue<std::string>("method") == "GET");
    CHECK(files->getValue<int>("status") == 404);
    CHECK(files->getValue<std::string>("client") == "127.0.0.1");
    CHECK(files->has("bytes"));
    CHECK(files->has("ms"));

    const auto login = find(lines, "latchkey", "event", "account_login");
    REQUIRE(login);
    CHECK(login->getValue<std::string>("message") == "auth");
    CHECK(login->getValue<std::string>("outcome") == "failure");
    CHECK(login->getValue<std::string>("reason") == "wrong_password");
    CHECK(login->getValue<int>("user") == 1);
    CHECK(login->getValue<std::string>("instance") == "-");
    CHECK(login->getValue<std::string>("level") == "warning");

    CHECK(find(lines, "access", "target", kOddTarget) != nullptr);

    for (const char* secret : {"capability-token-123", "key-in-the-query", "a wrong password"})
        CHECK(log.find(secret) == std::string::npos);
}

TEST_CASE("logging.format accepts text or json only", "[logging]") {
    TempDir dir;
    const auto result = runLatchkey(
        {"check-config", "-c",
         dir.write("latchkey.yaml", testConfig(dir, "", "", "logging:\n  format: yaml\n"))});
    CHECK(result.exitCode != 0);
    CHECK_THAT(result.err + result.out, Catch::Contains("logging.format: must be text or json"));
}
