// Fake Facebook, Google, Twitter and LinkedIn for tests: tests/support/fake_providers.py run as a
// child process.
#pragma once

#include "support/python_helper.hpp"
#include "support/temp_dir.hpp"

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace latchkey::test {

/// The four social login providers on one free loopback port until destroyed. Their endpoints
/// live under baseUrl() + "/facebook", "/google", "/twitter" and "/linkedin"; tests set them up
/// through control() (see the script's docstring and its control_* functions for the calls).
class FakeProviders {
public:
    /// Starts the script and waits (up to 15 s) for its port; throws with its log otherwise.
    /// With a certificate and key (PEM files) the providers are also served over HTTPS.
    explicit FakeProviders(const std::string& certFile = "", const std::string& keyFile = "");
    FakeProviders(const FakeProviders&) = delete;
    FakeProviders& operator=(const FakeProviders&) = delete;

    std::uint16_t port() const { return port_; }
    /// "http://127.0.0.1:PORT".
    std::string baseUrl() const;
    /// "https://127.0.0.1:PORT" of the HTTPS listener (only with a certificate).
    std::string tlsBaseUrl() const;
    /// POSTs `json` to /_control/`path` ("apps", "tokens", "id_token", "rotate_key", "reset")
    /// and returns the answer's body; throws std::runtime_error with the body unless it is 200.
    std::string control(const std::string& path, const std::string& json) const;
    /// The provider requests recorded so far: the raw body of GET /_control/requests,
    /// {"requests": [{"method", "path", "query", "headers"}...], "jwks_fetches": N}.
    std::string requests() const;

private:
    TempDir dir_;
    PythonHelper script_;
    std::uint16_t port_ = 0;
    std::uint16_t tlsPort_ = 0;
};

} // namespace latchkey::test
