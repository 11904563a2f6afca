// Fake Facebook, Google, Twitter and LinkedIn for tests: tests/support/fake_providers.py run as a
// child process.
#include "support/fake_providers.hpp"

#include "support/http_client.hpp"

#include <stdexcept>
#include <vector>

namespace latchkey::test {

namespace {
std::vector<std::string> arguments(const TempDir& dir, const std::string& certFile,
                                   const std::string& keyFile) {
    std::vector<std::string> args{"--dir", dir.file("providers")};
    if (!certFile.empty()) args.insert(args.end(), {"--cert", certFile, "--key", keyFile});
    return args;
}
} // namespace

FakeProviders::FakeProviders(const std::string& certFile, const std::string& keyFile)
    : script_("the fake providers", "tests/support/fake_providers.py",
              arguments(dir_, certFile, keyFile), dir_.file("providers.log")) {
    const std::string& line = script_.firstLine();
    port_ = static_cast<std::uint16_t>(std::stoi(line.substr(5)));
    if (const auto tls = line.find(" tls "); tls != std::string::npos) {
        tlsPort_ = static_cast<std::uint16_t>(std::stoi(line.substr(tls + 5)));
    }
}

std::string FakeProviders::baseUrl() const {
    return "http://127.0.0.1:" + std::to_string(port_);
}

std::string FakeProviders::tlsBaseUrl() const {
    if (tlsPort_ == 0) throw std::logic_error("the fake providers were started without TLS");
    return "https://127.0.0.1:" + std::to_string(tlsPort_);
}

std::string FakeProviders::control(const std::string& path, const std::string& json) const {
    const HttpResult result = HttpClient(baseUrl()).post("/_control/" + path, json);
    if (result.status != 200) {
        throw std::runtime_error("fake providers: /_control/" + path + " answered " +
                                 std::to_string(result.status) + ": " + result.body);
    }
    return result.body;
}

std::string FakeProviders::requests() const {
    const HttpResult result = HttpClient(baseUrl()).get("/_control/requests");
    if (result.status != 200) {
        throw std::runtime_error("fake providers: /_control/requests answered " +
                                 std::to_string(result.status) + ": " + result.body);
    }
    return result.body;
}

} // namespace latchkey::test
