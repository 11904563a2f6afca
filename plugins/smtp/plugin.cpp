// The `smtp` mailer plugin: sends through an SMTP server (Poco's SMTP client) with STARTTLS or
// implicit TLS, AUTH, timeouts, and retries with backoff.
#include "latchkey_mail/compose.hpp"

#include <latchkey/context.hpp>
#include <latchkey/mailer.hpp>
#include <latchkey/plugin.hpp>
#include <latchkey/support/config_reader.hpp>

#include <Poco/Net/Context.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SMTPClientSession.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace latchkey::plugins {

namespace {

enum class Security { None, StartTls, Tls };

/// An SMTP session whose STARTTLS checks the server's certificate against the configured host
/// name. Poco's SecureSMTPClientSession, built from an already connected socket (the only way to
/// bound the connect with a timeout), has no host name and checks the certificate against the
/// peer's IP address instead: a certificate for 127.0.0.1 would pass for `smtp.example.com`.
class StartTlsSession final : public Poco::Net::SMTPClientSession {
public:
    using SMTPClientSession::SMTPClientSession;

    /// Sends STARTTLS and, if the server agrees, continues over TLS with `context`, checking the
    /// certificate for `hostName`. False if the server does not offer STARTTLS.
    bool startTls(const Poco::Net::Context::Ptr& context, const std::string& hostName) {
        std::string response;
        if (!isPositiveCompletion(sendCommand("STARTTLS", response))) return false;
        auto secure = Poco::Net::SecureStreamSocket::attach(socket(), hostName, context);
        secure.completeHandshake();
        socket() = secure;
        return true;
    }
};

struct Settings {
    std::string host;
    std::uint16_t port = 587;
    Security security = Security::StartTls;
    std::string username;
    std::string password;
    bool allowPlaintextAuth = false;
    std::string authMethod = "plain";
    std::string from = "Latchkey <no-reply@localhost>";
    std::string helo;
    std::chrono::milliseconds timeout{10000};
    int attempts = 3;
    std::chrono::milliseconds backoff{1000};
    bool verifyTls = true;
    std::string caFile;
};

Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
    ConfigReader r(node, errors);
    Settings s;
    s.host = r.requiredString("host");
    const std::string security = r.string("security", "starttls");
    if (security == "none")
        s.security = Security::None;
    else if (security == "starttls")
        s.security = Security::StartTls;
    else if (security == "tls")
        s.security = Security::Tls;
    else
        errors.add(*r.child("security"), "must be starttls, tls or none");
    s.port = static_cast<std::uint16_t>(
        r.integer("port", s.security == Security::Tls ? 465 : 587, 1, 65535));
    s.username = r.string("username");
    s.password = r.string("password");
    s.allowPlaintextAuth = r.boolean("allow_plaintext_auth", false);
    s.authMethod = r.string("auth_method", s.authMethod);
    if (s.authMethod != "login" && s.authMethod != "plain") {
        errors.add(*r.child("auth_method"), "must be login or plain");
    }
    s.from = r.string("from", s.from);
    s.helo = r.string("helo");
    s.timeout =
        r.duration("timeout", s.timeout, std::chrono::milliseconds(100), std::chrono::minutes(5));
    s.attempts = static_cast<int>(r.integer("attempts", s.attempts, 1, 10));
    s.backoff =
        r.duration("backoff", s.backoff, std::chrono::milliseconds(0), std::chrono::minutes(5));
    s.verifyTls = r.boolean("verify_tls", true);
    s.caFile = r.string("ca_file");
    r.finish();
    if (!s.username.empty() && s.password.empty()) {
        errors.addUnder(node, "password", "is required with username");
    }
    // Secure by default: a password is never sent in the clear unless the operator says so.
    if (!s.username.empty() && s.security == Security::None && !s.allowPlaintextAuth) {
        errors.addUnder(node, "security",
                        "is none, so AUTH would send the password unencrypted; use starttls or "
                        "tls, or set allow_plaintext_auth: true");
    }
    return s;
}

class SmtpMailer final : public Provides<Mailer> {
public:
    using Settings = plugins::Settings;

    static Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
        return plugins::readSettings(node, errors);
    }

    SmtpMailer(PluginContext& context, Settings settings)
        : context_(context), settings_(std::move(settings)) {
        if (settings_.security != Security::None) {
            static std::once_flag ssl;
            std::call_once(ssl, [] { Poco::Net::initializeSSL(); });
            // VERIFY_STRICT, not RELAXED: under RELAXED Poco skips the host name check whenever
            // the name resolves to a loopback address (a relay on localhost would pass with
            // anyone's certificate). A client is always shown a certificate, so STRICT only adds
            // that check.
            const auto verification = settings_.verifyTls ? Poco::Net::Context::VERIFY_STRICT
                                                          : Poco::Net::Context::VERIFY_NONE;
            tls_ =
                new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", settings_.caFile,
                                       verification, 9, settings_.caFile.empty());
            if (!settings_.verifyTls) {
                context.logger().warn("smtp: verify_tls is false; the server's certificate is "
                                      "not checked");
            }
        }
        context.logger().info("mail goes to " + settings_.host + ":" +
                              std::to_string(settings_.port));
    }

    void send(const MailMessage& message) override {
        const auto mail = mail::compose(message, settings_.from);
        std::string lastError;
        auto wait = settings_.backoff;
        for (int attempt = 1; attempt <= settings_.attempts; ++attempt) {
            try {
                deliver(*mail);
                return;
            } catch (const Poco::Exception& e) {
                lastError = e.displayText();
            } catch (const std::exception& e) {
                lastError = e.what();
            }
            // The recipient's address is not logged: it is personal data, not needed here.
            context_.logger().warn("smtp: attempt " + std::to_string(attempt) + " of " +
                                   std::to_string(settings_.attempts) + " failed: " + lastError);
            if (attempt < settings_.attempts) {
                std::this_thread::sleep_for(wait);
                wait *= 2;
            }
        }
        throw Unavailable("smtp: could not send after " + std::to_string(settings_.attempts) +
                          " attempts: " + lastError);
    }

private:
    void deliver(const Poco::Net::MailMessage& mail) {
        const Poco::Timespan timeout(settings_.timeout.count() * 1000);
        const Poco::Net::SocketAddress address(settings_.host, settings_.port);
        std::unique_ptr<Poco::Net::SMTPClientSession> session;
        if (settings_.security == Security::Tls) {
            Poco::Net::SecureStreamSocket socket(tls_);
            socket.setPeerHostName(settings_.host);
            socket.connect(address, timeout);
            session = std::make_unique<Poco::Net::SMTPClientSession>(socket);
        } else {
            Poco::Net::StreamSocket socket;
            socket.connect(address, timeout);
            if (settings_.security == Security::StartTls) {
                session = std::make_unique<StartTlsSession>(socket);
            } else {
                session = std::make_unique<Poco::Net::SMTPClientSession>(socket);
            }
        }
        session->setTimeout(timeout);
        const std::string helo = settings_.helo.empty() ? "localhost" : settings_.helo;
        if (settings_.security == Security::StartTls) {
            auto& secure = dynamic_cast<StartTlsSession&>(*session);
            secure.login(helo);
            if (!secure.startTls(tls_, settings_.host)) {
                throw Poco::Net::SMTPException("the server does not offer STARTTLS");
            }
        }
        if (settings_.username.empty()) {
            session->login(helo);
        } else {
            session->login(helo,
                           settings_.authMethod == "plain"
                               ? Poco::Net::SMTPClientSession::AUTH_PLAIN
                               : Poco::Net::SMTPClientSession::AUTH_LOGIN,
                           settings_.username, settings_.password);
        }
        session->sendMessage(mail);
        session->close();
    }

    PluginContext& context_;
    Settings settings_;
    Poco::Net::Context::Ptr tls_;
};

} // namespace

} // namespace latchkey::plugins

LATCHKEY_PLUGIN(latchkey::plugins::SmtpMailer, "smtp", Mailer, "1.0.0",
                "Sends mail through an SMTP server (STARTTLS or TLS, AUTH, retries)",
                "stable; trusts the SMTP server and the CAs that sign its certificate")
