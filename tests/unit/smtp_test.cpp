// The smtp mailer against a real SMTP server (aiosmtpd on loopback): plain, AUTH, STARTTLS,
// retries, and clear failures when the server is wrong or gone.
#include "support/in_process.hpp"
#include "support/smtp_sink.hpp"

#include <latchkey/mailer.hpp>

#include <catch2/catch.hpp>

using namespace latchkey;
using latchkey::test::LoadedPlugin;
using latchkey::test::SmtpSink;

namespace {

MailMessage welcome() {
    MailMessage m;
    m.to = "gordon@example.com";
    m.subject = "Welcome";
    m.text = "Your token: abc123";
    m.html = "<p>Your token: <b>abc123</b></p>";
    return m;
}

std::string settings(std::uint16_t port, const std::string& extra,
                     const std::string& host = "127.0.0.1") {
    return "host: " + host + "\nport: " + std::to_string(port) +
           "\nfrom: Test <noreply@example.com>\ntimeout: 5s\nbackoff: 10ms\n" + extra;
}

} // namespace

TEST_CASE("smtp delivers to a plain server", "[smtp]") {
    SmtpSink sink;
    LoadedPlugin smtp("latchkey-smtp.so", settings(sink.port(), "security: none\n"));
    smtp.as<Mailer>().send(welcome());
    const auto messages = sink.waitForMessages(1);
    REQUIRE(messages.size() == 1);
    CHECK_THAT(messages[0], Catch::Contains("To: <gordon@example.com>") &&
                                Catch::Contains("From: Test <noreply@example.com>") &&
                                Catch::Contains("Your token: abc123") &&
                                Catch::Contains("multipart/alternative"));
}

TEST_CASE("smtp logs in with AUTH, and a wrong password fails after its retries", "[smtp]") {
    SmtpSink sink(SmtpSink::Options{"mailer", "s3cret", "", "", 0});
    LoadedPlugin good("latchkey-smtp.so",
                      settings(sink.port(), "security: none\nallow_plaintext_auth: true\n"
                                            "username: mailer\npassword: s3cret\n"));
    good.as<Mailer>().send(welcome());
    CHECK(sink.waitForMessages(1).size() == 1);

    LoadedPlugin bad("latchkey-smtp.so",
                     settings(sink.port(), "security: none\nallow_plaintext_auth: true\n"
                                           "username: mailer\npassword: wrong\nattempts: 2\n"));
    CHECK_THROWS_AS(bad.as<Mailer>().send(welcome()), Unavailable);
    CHECK(sink.messages().size() == 1);
}

TEST_CASE("smtp retries a temporary refusal with backoff", "[smtp]") {
    SmtpSink sink(SmtpSink::Options{"", "", "", "", 2});
    LoadedPlugin smtp("latchkey-smtp.so", settings(sink.port(), "security: none\nattempts: 3\n"));
    smtp.as<Mailer>().send(welcome());
    CHECK(sink.waitForMessages(1).size() == 1);
}

TEST_CASE("smtp uses STARTTLS and checks the certificate unless told not to", "[smtp]") {
    latchkey::test::TempDir dir;
    const auto [cert, key] = latchkey::test::selfSignedCertificate(dir);
    SmtpSink sink(SmtpSink::Options{"mailer", "s3cret", cert, key, 0});
    // The certificate is self-signed: verification refuses it...
    LoadedPlugin strict("latchkey-smtp.so",
                        settings(sink.port(), "username: mailer\npassword: s3cret\nattempts: 1\n"));
    CHECK_THROWS_AS(strict.as<Mailer>().send(welcome()), Unavailable);
    // ...unless it is given as the trusted CA, or verification is off.
    LoadedPlugin trusting(
        "latchkey-smtp.so",
        settings(sink.port(), "username: mailer\npassword: s3cret\nca_file: " + cert + "\n"));
    trusting.as<Mailer>().send(welcome());
    LoadedPlugin lax("latchkey-smtp.so",
                     settings(sink.port(), "username: mailer\n"
                                           "password: s3cret\nverify_tls: false\n"));
    lax.as<Mailer>().send(welcome());
    CHECK(sink.waitForMessages(2).size() == 2);
}

TEST_CASE("smtp checks the server's certificate against smtp.host, over STARTTLS and over TLS",
          "[smtp]") {
    const bool implicitTls = GENERATE(false, true);
    const std::string security = implicitTls ? "security: tls\n" : "security: starttls\n";
    latchkey::test::TempDir dir;
    // Each certificate is its own trusted CA, so only the name decides.
    const auto sends = [&](const std::string& subjectAltName) {
        const auto [cert, key] = latchkey::test::selfSignedCertificate(dir, subjectAltName);
        SmtpSink sink(SmtpSink::Options{.user = "",
                                        .password = "",
                                        .cert = cert,
                                        .key = key,
                                        .failFirst = 0,
                                        .delaySeconds = 0,
                                        .implicitTls = implicitTls});
        LoadedPlugin smtp(
            "latchkey-smtp.so",
            settings(sink.port(), security + "attempts: 1\nca_file: " + cert + "\n", "localhost"));
        try {
            smtp.as<Mailer>().send(welcome());
        } catch (const Unavailable& e) {
            INFO(e.what());
            CHECK(sink.messages().empty());
            return false;
        }
        return sink.waitForMessages(1).size() == 1;
    };
    INFO(security);
    CHECK(sends("DNS:localhost"));
    CHECK_FALSE(sends("DNS:mail.other.test"));
    // The address the name resolved to is not the name: Poco's own STARTTLS, on a session made
    // from a connected socket, checked this one against the peer's IP and let it through.
    CHECK_FALSE(sends("IP:127.0.0.1"));
}

TEST_CASE("smtp fails fast and clearly when nothing listens", "[smtp]") {
    std::uint16_t closedPort = 0;
    {
        SmtpSink gone;
        closedPort = gone.port();
    }
    LoadedPlugin smtp("latchkey-smtp.so", settings(closedPort, "security: none\nattempts: 2\n"));
    const auto started = std::chrono::steady_clock::now();
    CHECK_THROWS_WITH(smtp.as<Mailer>().send(welcome()),
                      Catch::Contains("could not send after 2 attempts"));
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
}

TEST_CASE("smtp refuses to send a password in the clear unless told", "[smtp]") {
    latchkey::ConfigErrors errors;
    CHECK_THROWS(LoadedPlugin("latchkey-smtp.so",
                              "host: 127.0.0.1\nsecurity: none\nusername: u\npassword: p\n"));
}
