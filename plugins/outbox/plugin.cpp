// The `outbox` mailer plugin: writes each message as an .eml file into a folder (the default for
// development and tests; point a mail client or a script at the folder to read them).
#include <latchkey/context.hpp>
#include <latchkey/mailer.hpp>

#include <Poco/Net/MailMessage.h>
#include <Poco/Net/MailRecipient.h>
#include <Poco/Net/MultipartWriter.h>
#include <Poco/Net/PartSource.h>
#include <Poco/Net/StringPartSource.h>
#include <Poco/Timestamp.h>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace latchkey::plugins {

namespace {

namespace fs = std::filesystem;

struct Settings {
    std::string dir;
    std::string from;
};

Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
    ConfigReader r(node, errors);
    Settings s;
    s.dir = r.requiredString("dir");
    s.from = r.string("from", "Latchkey <no-reply@localhost>");
    r.finish();
    return s;
}

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
    std::string lower;
    for (const char c : name) {
        // Printable ASCII except ':' (RFC 5322 ftext).
        if (c < 33 || c > 126 || c == ':') {
            throw std::invalid_argument("mail header name is not a valid field name");
        }
        lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    for (const char* r : reserved) {
        if (lower == r)
            throw std::invalid_argument("mail header " + name + " is set by the mailer");
    }
}

std::string hex(const unsigned char* data, std::size_t size) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < size; ++i) {
        out += digits[data[i] >> 4];
        out += digits[data[i] & 0xF];
    }
    return out;
}

class OutboxMailer final : public Mailer {
public:
    explicit OutboxMailer(PluginContext& context) : context_(context) {
        ConfigErrors errors;
        settings_ = readSettings(context.config(), errors);
        settings_.dir = context.resolvePath(settings_.dir);
        std::error_code ec;
        fs::create_directories(settings_.dir, ec);
        if (ec) {
            throw std::runtime_error("cannot create the outbox folder " + settings_.dir + ": " +
                                     ec.message());
        }
        // The messages carry login tokens: only the server's user may read them.
        fs::permissions(settings_.dir, fs::perms::owner_all, ec);
        if (::access(settings_.dir.c_str(), W_OK) != 0) {
            throw std::runtime_error("cannot write to the outbox folder " + settings_.dir);
        }
        context.logger().info("mail goes to files in " + settings_.dir);
    }

    static void validate(const ConfigValue& node, ConfigErrors& errors) {
        readSettings(node, errors);
    }

    void send(const MailMessage& message) override {
        const std::string from = message.from.empty() ? settings_.from : message.from;
        checkHeaderValue("sender", from);
        checkRecipient(message.to);
        checkHeaderValue("subject", message.subject);

        Poco::Net::MailMessage mail;
        mail.setSender(from);
        mail.addRecipient(
            Poco::Net::MailRecipient(Poco::Net::MailRecipient::PRIMARY_RECIPIENT, message.to));
        mail.setSubject(Poco::Net::MailMessage::encodeWord(message.subject, "UTF-8"));
        mail.setDate(Poco::Timestamp());
        for (const auto& [name, value] : message.headers) {
            checkExtraHeaderName(name);
            checkHeaderValue(name, value);
            mail.set(name, value);
        }
        if (message.html.empty()) {
            mail.set("MIME-Version", "1.0");
            mail.setContentType("text/plain; charset=UTF-8");
            mail.setContent(message.text, Poco::Net::MailMessage::ENCODING_QUOTED_PRINTABLE);
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
            mail.addContent(alternative, Poco::Net::MailMessage::ENCODING_8BIT);
        }
        std::ostringstream text;
        mail.write(text);
        writeFile(text.str());
    }

private:
    /// Writes under a temporary name, syncs, then renames: a reader never sees half a message.
    void writeFile(const std::string& content) {
        unsigned char id[8];
        context_.random().fill(id, sizeof id);
        const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(
                                context_.clock().now().time_since_epoch())
                                .count();
        const std::string name = std::to_string(millis) + "-" + hex(id, sizeof id) + ".eml";
        const fs::path temporary = fs::path(settings_.dir) / ("." + name + ".tmp");
        const fs::path final = fs::path(settings_.dir) / name;
        const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            throw std::runtime_error("cannot create " + temporary.string() + ": " +
                                     std::generic_category().message(errno));
        }
        std::size_t written = 0;
        while (written < content.size()) {
            const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
            if (n < 0) {
                if (errno == EINTR) continue;
                const int error = errno;
                ::close(fd);
                ::unlink(temporary.c_str());
                throw std::runtime_error("cannot write " + temporary.string() + ": " +
                                         std::generic_category().message(error));
            }
            written += static_cast<std::size_t>(n);
        }
        ::fsync(fd);
        ::close(fd);
        std::error_code ec;
        fs::rename(temporary, final, ec);
        if (ec)
            throw std::runtime_error("cannot rename " + temporary.string() + ": " + ec.message());
    }

    PluginContext& context_;
    Settings settings_;
};

} // namespace

} // namespace latchkey::plugins

LATCHKEY_PLUGIN(latchkey::plugins::OutboxMailer, "outbox", Mailer, "1.0.0",
                "Writes each message as an .eml file into a folder (development default)",
                "stable; messages hold login tokens: the folder is created 0700")
