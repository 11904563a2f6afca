// Turns the SDK's MailMessage into an RFC 5322 message, refusing anything that could inject
// headers or recipients.
#include "latchkey_mail/compose.hpp"

#include <latchkey/support/text.hpp>

#include <Poco/Net/MailRecipient.h>
#include <Poco/Net/MultipartWriter.h>
#include <Poco/Net/PartSource.h>
#include <Poco/Net/StringPartSource.h>
#include <Poco/Timestamp.h>

#include <cctype>
#include <sstream>
#include <stdexcept>

namespace latchkey::mail {

namespace {

/// Refuses header injection: a value with a line break could add headers.
void checkHeaderValue(const std::string& name, const std::string& value) {
    if (value.find_first_of("\r\n") != std::string::npos) {
        throw std::invalid_argument("mail " + name + " contains a line break");
    }
}

/// One bare address: no display name, no list, nothing a mail server could read as two.
void checkRecipient(const std::string& address) {
    const auto at = address.find('@');
    if (address.empty() || at == std::string::npos || at == 0 || at + 1 == address.size() ||
        address.find('@', at + 1) != std::string::npos ||
        address.find_first_of(",;<>()\"\\ \t\r\n") != std::string::npos) {
        throw std::invalid_argument("mail recipient must be one plain address");
    }
}

/// Extra headers may not replace the ones the mailer writes, and names must be RFC 5322 names.
void checkExtraHeaderName(const std::string& name) {
    static const char* const reserved[] = {"from",
                                           "to",
                                           "cc",
                                           "bcc",
                                           "sender",
                                           "subject",
                                           "date",
                                           "mime-version",
                                           "content-type",
                                           "content-transfer-encoding",
                                           "content-disposition"};
    if (name.empty()) throw std::invalid_argument("mail header without a name");
    for (const char c : name) {
        // Printable ASCII except ':' (RFC 5322 ftext).
        if (c < 33 || c > 126 || c == ':') {
            throw std::invalid_argument("mail header name is not a valid field name");
        }
    }
    const std::string lower = asciiLower(name);
    for (const char* r : reserved) {
        if (lower == r)
            throw std::invalid_argument("mail header " + name + " is set by the mailer");
    }
}

} // namespace

std::unique_ptr<Poco::Net::MailMessage> compose(const MailMessage& message,
                                                const std::string& defaultFrom) {
    const std::string from = message.from.empty() ? defaultFrom : message.from;
    checkHeaderValue("sender", from);
    checkRecipient(message.to);
    checkHeaderValue("subject", message.subject);

    auto mail = std::make_unique<Poco::Net::MailMessage>();
    mail->setSender(from);
    mail->addRecipient(
        Poco::Net::MailRecipient(Poco::Net::MailRecipient::PRIMARY_RECIPIENT, message.to));
    mail->setSubject(Poco::Net::MailMessage::encodeWord(message.subject, "UTF-8"));
    mail->setDate(Poco::Timestamp());
    for (const auto& [name, value] : message.headers) {
        checkExtraHeaderName(name);
        checkHeaderValue(name, value);
        mail->set(name, value);
    }
    if (message.html.empty()) {
        mail->set("MIME-Version", "1.0");
        mail->setContentType("text/plain; charset=UTF-8");
        mail->setContent(message.text, Poco::Net::MailMessage::ENCODING_QUOTED_PRINTABLE);
    } else {
        auto* alternative = new Poco::Net::MultipartSource("multipart/alternative");
        alternative->addPart(
            "", new Poco::Net::StringPartSource(message.text, "text/plain; charset=UTF-8"),
            Poco::Net::MailMessage::CONTENT_INLINE,
            Poco::Net::MailMessage::ENCODING_QUOTED_PRINTABLE);
        alternative->addPart(
            "", new Poco::Net::StringPartSource(message.html, "text/html; charset=UTF-8"),
            Poco::Net::MailMessage::CONTENT_INLINE,
            Poco::Net::MailMessage::ENCODING_QUOTED_PRINTABLE);
        mail->addContent(alternative, Poco::Net::MailMessage::ENCODING_8BIT);
    }
    return mail;
}

std::string render(const Poco::Net::MailMessage& message) {
    std::ostringstream text;
    message.write(text);
    return text.str();
}

} // namespace latchkey::mail
