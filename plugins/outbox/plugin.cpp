// The `outbox` mailer plugin: writes each message as an .eml file into a folder (the default for
// development and tests; point a mail client or a script at the folder to read them).
#include "latchkey_mail/compose.hpp"

#include <latchkey/context.hpp>
#include <latchkey/mailer.hpp>
#include <latchkey/plugin.hpp>
#include <latchkey/support/config_reader.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
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

std::string hex(const unsigned char* data, std::size_t size) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < size; ++i) {
        out += digits[data[i] >> 4];
        out += digits[data[i] & 0xF];
    }
    return out;
}

class OutboxMailer final : public Provides<Mailer> {
public:
    using Settings = plugins::Settings;

    static Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
        return plugins::readSettings(node, errors);
    }

    OutboxMailer(PluginContext& context, Settings settings)
        : context_(context), settings_(std::move(settings)) {
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

    void send(const MailMessage& message) override {
        writeFile(mail::render(*mail::compose(message, settings_.from)));
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
