// The ceiling for the serving benchmarks: a bare Poco HTTPServer answering a small JSON hello on
// every path, with keep-alive, as many threads as asked. Prints its URL, serves until killed.
// Usage: latchkey_hello_server [threads, default 128]
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>

#include <csignal>
#include <cstdlib>
#include <iostream>

namespace {

class Hello final : public Poco::Net::HTTPRequestHandler {
public:
    void handleRequest(Poco::Net::HTTPServerRequest& request,
                       Poco::Net::HTTPServerResponse& response) override {
        // Read any body, as a real handler would.
        request.stream().ignore(1 << 20);
        static const std::string body = R"({"hello": "world"})";
        response.setContentType("application/json");
        response.setContentLength(static_cast<std::streamsize>(body.size()));
        response.send() << body;
    }
};

class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
public:
    Poco::Net::HTTPRequestHandler*
    createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
        return new Hello;
    }
};

} // namespace

int main(int argc, char** argv) {
    const int threads = argc > 1 ? static_cast<int>(std::strtol(argv[1], nullptr, 10)) : 128;
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0), 1024);
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(threads);
    params->setMaxQueued(1024);
    params->setKeepAlive(true);
    Poco::ThreadPool pool(2, threads);
    Poco::Net::HTTPServer server(new Factory, pool, socket, params);
    server.start();
    std::cout << "hello listening on http://127.0.0.1:" << socket.address().port() << std::endl;
    int received = 0;
    sigwait(&signals, &received);
    server.stopAll(true);
    return 0;
}
