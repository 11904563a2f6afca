// ABI: the mailer plugin kind, which sends one message.
#pragma once

#include <cstdint>
#include <latchkey/errors.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey {

/// A message to send. `from` may be empty: the mailer then uses its configured sender.
struct MailMessage {
    std::string from;            ///< "Name <address>" or empty.
    std::string to;              ///< One recipient address.
    std::string subject;         ///< Plain text subject.
    std::string text;            ///< Plain text body.
    std::string html;            ///< HTML body, or empty for text only.
    std::vector<Header> headers; ///< Extra headers.
};

/// Sends mail. Thread-safe: called from many request threads at once.
class Mailer {
public:
    /// The name Plugin::provide is asked with.
    static constexpr const char* kInterfaceId = "latchkey.mailer";
    /// The version Plugin::provide is asked with.
    static constexpr std::uint32_t kInterfaceVersion = 1;

    virtual ~Mailer() = default;
    /// Sends `message`, or throws (Unavailable when the server cannot be reached).
    virtual void send(const MailMessage& message) = 0;
};

} // namespace latchkey
