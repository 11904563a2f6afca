// Route matching, 404/405, and how handler failures become API-shaped errors.
#include "runtime/host_router.hpp"

#include <catch2/catch.hpp>
#include <spdlog/sinks/null_sink.h>

using namespace latchkey;
using namespace latchkey::runtime;

namespace {

std::shared_ptr<spdlog::logger> quietLog() {
    return std::make_shared<spdlog::logger>("test",
                                            std::make_shared<spdlog::sinks::null_sink_mt>());
}

Response call(const HostRouter& router, std::string method, std::string path) {
    Request request;
    request.method = std::move(method);
    request.path = std::move(path);
    return router.dispatch(request);
}

} // namespace

TEST_CASE("Patterns match whole segments, with or without the trailing slash", "[router]") {
    HostRouter router(quietLog());
    router.add("GET", "/v1.1/instances/{instance}/users/{id}/", [](const Request& r) {
        return Response::json(200, r.param("instance") + "/" + r.param("id"));
    });
    CHECK(call(router, "GET", "/v1.1/instances/app/users/7/").body == "app/7");
    CHECK(call(router, "GET", "/v1.1/instances/app/users/7").body == "app/7");
    CHECK(call(router, "GET", "/v1.1/instances/app/users/").status == 404);
    CHECK(call(router, "GET", "/v1.1/instances/app/users/7/x/").status == 404);
}

TEST_CASE("A wrong method is 405 with Allow - an unknown path 404 in the detail shape",
          "[router]") {
    HostRouter router(quietLog());
    router.add("GET", "/things/", [](const Request&) { return Response::json(200, "[]"); });
    router.add("POST", "/things/", [](const Request&) { return Response::json(201, "{}"); });
    const Response wrong = call(router, "DELETE", "/things/");
    CHECK(wrong.status == 405);
    CHECK(wrong.body == "{\"detail\": \"Method \\\"DELETE\\\" not allowed.\"}");
    REQUIRE(wrong.headers.size() == 1);
    CHECK(wrong.headers[0] == Header{"Allow", "GET, POST"});
    const Response missing = call(router, "GET", "/nothing");
    CHECK(missing.status == 404);
    CHECK(missing.body == "{\"detail\": \"Not found.\"}");
}

TEST_CASE("Registering a route twice is refused", "[router]") {
    HostRouter router(quietLog());
    router.add("GET", "/a/{x}/", [](const Request&) { return Response{}; });
    CHECK_THROWS_AS(router.add("GET", "/a/{y}/", [](const Request&) { return Response{}; }),
                    std::logic_error);
    CHECK_NOTHROW(router.add("POST", "/a/{y}/", [](const Request&) { return Response{}; }));
}

TEST_CASE("Handler failures become 4xx/503/500 in the error shape of their prefix", "[router]") {
    HostRouter router(quietLog());
    router.add("GET", "/v1.1/fields/", [](const Request&) -> Response {
        throw HttpError::invalid({{"username", {"This field is required."}}});
    });
    router.add("GET", "/v1.1/busy/",
               [](const Request&) -> Response { throw Overloaded("queue full", 3); });
    router.add("GET", "/v1.1/down/",
               [](const Request&) -> Response { throw Unavailable("db gone"); });
    router.add("GET", "/v1.1/bug/",
               [](const Request&) -> Response { throw std::runtime_error("secret internals"); });
    router.add("GET", "/rest/thing",
               [](const Request&) -> Response { throw HttpError(403, "nope"); });
    router.setErrorRenderer("/rest", [](const HttpError& e) {
        return Response::json(e.status(),
                              "{\"success\": false, \"errors\": [\"" + e.detail() + "\"]}");
    });

    const Response fields = call(router, "GET", "/v1.1/fields/");
    CHECK(fields.status == 400);
    CHECK(fields.body == "{\"username\": [\"This field is required.\"]}");

    const Response busy = call(router, "GET", "/v1.1/busy/");
    CHECK(busy.status == 503);
    REQUIRE(busy.headers.size() == 1);
    CHECK(busy.headers[0] == Header{"Retry-After", "3"});

    CHECK(call(router, "GET", "/v1.1/down/").status == 503);

    const Response bug = call(router, "GET", "/v1.1/bug/");
    CHECK(bug.status == 500);
    CHECK(bug.body == "{\"detail\": \"Internal server error.\"}");

    const Response buzz = call(router, "GET", "/rest/thing");
    CHECK(buzz.status == 403);
    CHECK(buzz.body == "{\"success\": false, \"errors\": [\"nope\"]}");
    CHECK(call(router, "GET", "/rest/missing").body ==
          "{\"success\": false, \"errors\": [\"Not found.\"]}");
}

TEST_CASE("HEAD runs the GET route unless a route says otherwise", "[router]") {
    HostRouter router(quietLog());
    router.add("GET", "/thing/", [](const Request& r) { return Response::json(200, r.method); });
    CHECK(call(router, "HEAD", "/thing/").body == "HEAD");
    router.add("HEAD", "/other/", [](const Request&) { return Response::json(204, ""); });
    router.add("GET", "/other/", [](const Request&) { return Response::json(200, "get"); });
    CHECK(call(router, "HEAD", "/other/").status == 204);
    CHECK(call(router, "HEAD", "/nothing/").status == 404);
}

TEST_CASE("Each route's lane comes from its selector, unmatched requests are standard",
          "[router]") {
    HostRouter router(quietLog());
    router.addInLane("POST", "/login/", inLane(Lane::Hashing),
                     [](const Request&) { return Response::json(200, "{}"); });
    router.addInLane("PATCH", "/me/", hashingIfPasswordMayBeSet,
                     [](const Request&) { return Response::json(200, "{}"); });
    const auto laneFor = [&](std::string method, std::string path, std::string body) {
        Request request;
        request.method = std::move(method);
        request.path = std::move(path);
        request.body = std::move(body);
        return HostRouter::laneOf(router.match(request), request);
    };
    CHECK(laneFor("POST", "/login/", "") == Lane::Hashing);
    CHECK(laneFor("PATCH", "/me/", R"({"first_name": "Gordon"})") == Lane::Standard);
    CHECK(laneFor("PATCH", "/me/", R"({"password": "x"})") == Lane::Hashing);
    // Anything that could spell it in an escape counts too.
    CHECK(laneFor("PATCH", "/me/", R"({"pass\u0077ord": "x"})") == Lane::Hashing);
    CHECK(laneFor("PATCH", "/me/", "pass%77ord=x") == Lane::Hashing);
    CHECK(laneFor("GET", "/nothing/", "") == Lane::Standard);
    CHECK(laneFor("GET", "/login/", "") == Lane::Standard); // a 405
}
