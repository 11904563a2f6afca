// A small blocking HTTP client for tests, over Poco.
#include "support/http_client.hpp"

#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <strings.h>

#include <optional>
#include <sstream>
#include <stdexcept>

namespace latchkey::test {

std::string HttpResult::header(const std::string& name) const {
    for (const auto& [key, value] : headers) {
        if (strcasecmp(key.c_str(), name.c_str()) == 0) return value;
    }
    return "";
}

Poco::JSON::Object::Ptr HttpResult::json() const {
    Poco::JSON::Parser parser;
    auto value = parser.parse(body);
    if (value.type() != typeid(Poco::JSON::Object::Ptr)) {
        throw std::runtime_error("not a JSON object: " + body);
    }
    return value.extract<Poco::JSON::Object::Ptr>();
}

std::string HttpResult::str(const std::string& key) const {
    return json()->getValue<std::string>(key);
}

HttpClient::HttpClient(std::string baseUrl, std::string sourceIp)
    : baseUrl_(std::move(baseUrl)), sourceIp_(std::move(sourceIp)) {
    Poco::URI uri(baseUrl_);
    host_ = uri.getHost();
    port_ = uri.getPort();
}

HttpResult HttpClient::request(const std::string& method, const std::string& path,
                               const std::string& body,
                               const std::vector<std::pair<std::string, std::string>>& headers,
                               const std::string& contentType) const {
    std::optional<Poco::Net::HTTPClientSession> connection;
    if (sourceIp_.empty()) {
        connection.emplace(host_, port_);
    } else {
        Poco::Net::StreamSocket socket(Poco::Net::IPAddress::IPv4);
        socket.impl()->bind(Poco::Net::SocketAddress(sourceIp_, 0));
        socket.connect(Poco::Net::SocketAddress(host_, port_));
        connection.emplace(socket); // connected already: the Host header is set below
    }
    Poco::Net::HTTPClientSession& session = *connection;
    session.setTimeout(Poco::Timespan(30, 0));
    Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    request.setHost(host_, port_);
    for (const auto& [name, value] : headers)
        request.set(name, value);
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
        request.setContentType(contentType);
        request.setContentLength64(static_cast<Poco::Int64>(body.size()));
    }
    session.sendRequest(request) << body;
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    HttpResult result;
    result.status = static_cast<int>(response.getStatus());
    for (const auto& [name, value] : response)
        result.headers.emplace_back(name, value);
    std::ostringstream text;
    Poco::StreamCopier::copyStream(in, text);
    result.body = text.str();
    return result;
}

} // namespace latchkey::test
