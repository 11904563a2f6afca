// libFuzzer target for the router's path matching: any method and path against the patterns of
// both APIs must give the route's answer, a 404 or a 405 with Allow, in the shape of the API the
// path belongs to, with every path parameter one whole, non-empty segment of the path. Never a
// crash, a leak or undefined behaviour. Input: the method, a newline, the path.
#include "runtime/host_router.hpp"

#include <spdlog/sinks/null_sink.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace latchkey;
using namespace latchkey::runtime;

namespace {

const HostRouter& router() {
    static const HostRouter* const instance = [] {
        auto* r = new HostRouter(std::make_shared<spdlog::logger>(
            "fuzz", std::make_shared<spdlog::sinks::null_sink_mt>()));
        const auto echo = [](const Request&) { return Response::json(200, "{}"); };
        for (const char* pattern :
             {"/v1.1/account/", "/v1.1/account/auth/", "/v1.1/account/reset_key/",
              "/v1.1/instances/", "/v1.1/instances/{instance}/",
              "/v1.1/instances/{instance}/users/", "/v1.1/instances/{instance}/users/{id}/",
              "/v1.1/instances/{instance}/users/{id}/groups/",
              "/v1.1/instances/{instance}/users/{id}/groups/{group}/",
              "/v1.1/instances/{instance}/user/auth/{backend}/", "/rest/user", "/rest/authenticate",
              "/rest/files/{token}", "/buzz/rest/user"}) {
            r->add("GET", pattern, echo);
            r->add("POST", pattern, echo);
        }
        r->add("DELETE", "/v1.1/instances/{instance}/users/{id}/", echo);
        r->setErrorRenderer("/rest", [](const HttpError& e) {
            Response response = Response::json(e.status(), R"({"status": "error"})");
            response.headers = e.headers();
            return response;
        });
        return r;
    }();
    return *instance;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto nl = input.find('\n');
    if (nl == std::string_view::npos) return 0;
    Request request;
    request.method = std::string(input.substr(0, nl));
    request.path = std::string(input.substr(nl + 1));
    const auto match = router().match(request);
    for (const auto& [name, value] : request.params) {
        // One whole segment: never empty, never more than one, always from the path.
        if (value.empty() || value.find('/') != std::string::npos ||
            request.path.find(value) == std::string::npos) {
            std::abort();
        }
    }
    const Response response = router().dispatch(request, match);
    const bool allow = std::any_of(response.headers.begin(), response.headers.end(),
                                   [](const Header& h) { return h.first == "Allow"; });
    const bool rest = request.path.rfind("/rest", 0) == 0;
    if (response.status == 200) {
        if (match.pattern().empty() || allow) std::abort();
    } else if (response.status == 404 || response.status == 405) {
        if (!match.pattern().empty() || allow != (response.status == 405)) std::abort();
        if (rest != (response.body == R"({"status": "error"})")) std::abort();
    } else {
        std::abort();
    }
    return 0;
}
