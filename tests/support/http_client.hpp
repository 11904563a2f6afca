// A small blocking HTTP client for tests, over Poco.
#pragma once

#include <Poco/JSON/Object.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace latchkey::test {

/// Request or answer headers: (name, value) pairs, in order.
using Headers = std::vector<std::pair<std::string, std::string>>;

/// One answer.
struct HttpResult {
    int status = 0;
    Headers headers;
    std::string body;

    /// The first header called `name` (case-insensitive), or "".
    std::string header(const std::string& name) const;
    /// The body parsed as a JSON object; throws if it is not one.
    Poco::JSON::Object::Ptr json() const;
    /// json()->getValue<std::string>(key).
    std::string str(const std::string& key) const;
};

/// Talks to one server.
class HttpClient {
public:
    /// `baseUrl` like "http://127.0.0.1:12345". With `sourceIp` (another loopback address such
    /// as 127.0.0.2) the requests come from there: a second client, as the server sees it.
    explicit HttpClient(std::string baseUrl, std::string sourceIp = "");

    /// Sends a request; `headers` are added as given.
    HttpResult request(const std::string& method, const std::string& path,
                       const std::string& body = "", const Headers& headers = {},
                       const std::string& contentType = "application/json") const;

    HttpResult get(const std::string& path, const Headers& headers = {}) const {
        return request("GET", path, "", headers);
    }
    HttpResult post(const std::string& path, const std::string& body,
                    const Headers& headers = {}) const {
        return request("POST", path, body, headers);
    }

    const std::string& baseUrl() const { return baseUrl_; }

private:
    std::string baseUrl_;
    std::string host_;
    unsigned short port_ = 0;
    std::string sourceIp_;
};

} // namespace latchkey::test
