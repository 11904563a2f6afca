// Turns the SDK's MailMessage into an RFC 5322 message, refusing anything that could inject
// headers or recipients. Shared by the mailer plugins (outbox, smtp).
#pragma once

#include <latchkey/mailer.hpp>

#include <Poco/Net/MailMessage.h>

#include <memory>
#include <string>

namespace latchkey::mail {

/// The message to send: `message.from`, or `defaultFrom` when that is empty. Throws
/// std::invalid_argument for a recipient that is not one plain address, a line break in any
/// header, an extra header that is not a field name or that would replace one the mailer sets.
std::unique_ptr<Poco::Net::MailMessage> compose(const MailMessage& message,
                                                const std::string& defaultFrom);

/// The message as text, headers and body, CRLF line ends.
std::string render(const Poco::Net::MailMessage& message);

} // namespace latchkey::mail
