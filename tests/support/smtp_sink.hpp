// A real SMTP server for tests: tests/support/smtp_sink.py (aiosmtpd) run as a child process.
#pragma once

#include "support/python_helper.hpp"
#include "support/temp_dir.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace latchkey::test {

/// Listens on a free loopback port until destroyed; keeps every accepted message.
class SmtpSink {
public:
    struct Options {
        std::string user; ///< With password: AUTH required.
        std::string password;
        std::string cert; ///< With key: STARTTLS offered (and required).
        std::string key;
        int failFirst = 0;        ///< Refuse this many messages with 451 first.
        double delaySeconds = 0;  ///< Take this long over each message.
        bool implicitTls = false; ///< With cert: TLS from the first byte instead of STARTTLS.
    };

    explicit SmtpSink(const Options& options);
    SmtpSink() : SmtpSink(Options{}) {}
    SmtpSink(const SmtpSink&) = delete;
    SmtpSink& operator=(const SmtpSink&) = delete;

    std::uint16_t port() const { return port_; }
    /// The messages received so far, oldest first, each as its raw RFC 5322 text.
    std::vector<std::string> messages() const;
    /// Waits until at least `count` messages arrived (or `timeout` passed) and returns them.
    std::vector<std::string>
    waitForMessages(std::size_t count,
                    std::chrono::seconds timeout = std::chrono::seconds(15)) const;

private:
    TempDir dir_;
    PythonHelper script_;
    std::uint16_t port_ = 0;
};

/// A self-signed certificate and key in `dir` (openssl) for `subjectAltName` (openssl's syntax:
/// "IP:127.0.0.1", "DNS:localhost"); returns {cert, key}. Its common name matches nothing.
std::pair<std::string, std::string>
selfSignedCertificate(const TempDir& dir, const std::string& subjectAltName = "IP:127.0.0.1");

} // namespace latchkey::test
